"""A "custom domain" in front of the stacks deployed to the emulator: ``POST /{stack}/{path}`` is
forwarded to that stack's webhook API (``/_aws/execute-api/{ApiId}/{path}``: its ``$default``
stage), looked up when the request arrives.

On AWS the webhook derives the URL Twilio signed from the request; the emulator's domain name
has no port, so a stack deployed there needs ``PublicBaseUrl``, and the API's own URL holds an
id that exists only after the first deploy. A base URL per stack name is known before it: the
guide's deploy commands run once, as written, with
``PublicBaseUrl=http://127.0.0.1:{port}/{stack}``.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FORWARDED_HEADERS = (
    "content-type",
    "x-twilio-signature",
    "user-agent",
    "i-twilio-idempotency-token",
)
MAX_BODY_BYTES = 1 << 20


def _handler(endpoint_url: str, cloudformation: Any) -> type[BaseHTTPRequestHandler]:
    def invoke_base(stack_name: str) -> str:
        [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return f"{endpoint_url}/_aws/execute-api/{outputs['ApiId']}"

    class Forward(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            stack_name, _, rest = self.path.lstrip("/").partition("/")
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY_BYTES)
            body = self.rfile.read(length)
            headers = {k: v for k, v in self.headers.items() if k.lower() in FORWARDED_HEADERS}
            request = urllib.request.Request(
                f"{invoke_base(stack_name)}/{rest}", data=body, headers=headers, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    self._answer(response.status, response.headers, response.read())
            except urllib.error.HTTPError as error:
                self._answer(error.code, error.headers, error.read())

        def _answer(self, status: int, headers: Any, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", headers.get("Content-Type", "text/plain"))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Forward


@contextmanager
def stack_proxy(endpoint_url: str, cloudformation: Any) -> Iterator[str]:
    """The proxy's base URL (``http://127.0.0.1:{port}``) while the context lasts; the stacks
    are looked up with ``cloudformation``, a client of the emulator at ``endpoint_url``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(endpoint_url, cloudformation))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
