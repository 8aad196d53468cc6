"""Real HTTP servers on loopback for the ``http_request`` tests, served from a thread."""

from __future__ import annotations

import contextlib
import socketserver
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def serving[Server: socketserver.BaseServer](server: Server) -> Iterator[Server]:
    """``server`` answering from a thread until the block ends, then closed."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class _HangUp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.recv(65536)  # the request arrives; the connection closes without an answer


class HangUpServer(socketserver.ThreadingTCPServer):
    """Reads a request and closes the connection without answering."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _HangUp)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"
