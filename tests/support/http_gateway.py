"""A tiny API Gateway HTTP API (payload 2.0, ``$default`` stage) on 127.0.0.1 in front of our
real handlers.

    with ApiGatewayServer({"sms": inbound.lambda_handler}) as gateway:
        url = gateway.url("acme", "sms")      # http://127.0.0.1:PORT/twilio/acme/sms
        ...                                   # POST signed webhooks to it over real HTTP

Each request to ``/twilio/{account}/{route}`` becomes the event an HTTP API sends (``routeKey``,
``rawPath``, ``rawQueryString`` as sent, lower-case headers with the ``X-Forwarded-Proto`` API
Gateway adds, here ``http``, ``pathParameters``, a base64 body, ``requestContext`` with the host
as domain), and the handler's response goes back as the HTTP answer. Other paths get an HTTP
API's 404 ``Not Found``.

Handler invocations are serialised with one lock (``serialise=True``, the default): our handlers
keep Powertools' Logger and Metrics in module globals, which are not thread-safe, and Lambda runs
one request at a time per instance anyway. Concurrency stays real everywhere else: the HTTP
server answers each connection on its own thread, and the handlers' AWS calls go to whatever
endpoint they are configured with (a moto server in the tests).
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

from tests.support.aws import FakeLambdaContext
from tests.support.events import http_api_event

Handler = Callable[[dict[str, Any], Any], Mapping[str, Any]]

_ROUTE = re.compile(r"^/twilio/(?P<account>[^/]+)/(?P<route>[^/]+)$")


class ApiGatewayServer:
    def __init__(self, handlers: Mapping[str, Handler], *, serialise: bool = True) -> None:
        """``handlers``: route (``sms``, ``status``) -> Lambda handler."""
        self._handlers = dict(handlers)
        self._lock: threading.Lock | None = threading.Lock() if serialise else None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._request_handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, account: str, route: str = "sms") -> str:
        return f"{self.base_url}/twilio/{account}/{route}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def invoke(self, event: dict[str, Any]) -> Mapping[str, Any]:
        handler = self._handlers[event["routeKey"].rsplit("/", 1)[-1]]
        with self._lock or nullcontext():
            return handler(event, FakeLambdaContext())

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class ProxyHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self._serve()

            def do_GET(self) -> None:
                self._serve()

            def do_PUT(self) -> None:
                self._serve()

            def do_DELETE(self) -> None:
                self._serve()

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                event = gateway.event_for(self.command, self.path, self.headers.items(), body)
                if event is None:
                    self._answer(
                        404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}'
                    )
                    return
                response = gateway.invoke(event)
                payload = str(response.get("body") or "")
                raw = (
                    base64.b64decode(payload)
                    if response.get("isBase64Encoded")
                    else payload.encode("utf-8")
                )
                self._answer(int(response["statusCode"]), response.get("headers") or {}, raw)

            def _answer(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, str(value))
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return ProxyHandler

    def event_for(
        self, method: str, target: str, headers: Any, body: bytes | None
    ) -> dict[str, Any] | None:
        """The HTTP API event for a request, or None for a path with no route."""
        url = urlsplit(target)
        match = _ROUTE.fullmatch(url.path)
        if match is None or match["route"] not in self._handlers:
            return None
        single = {name.lower(): value for name, value in headers}
        single["x-forwarded-proto"] = "http"
        route = match["route"]
        return http_api_event(
            method,
            f"ANY /twilio/{{account}}/{route}",
            url.path,
            path_parameters={"account": match["account"]},
            headers=single,
            body=base64.b64encode(body).decode("ascii") if body is not None else None,
            base64_encoded=body is not None,
            raw_query=url.query,
            domain=single.get("host", urlsplit(self.base_url).netloc),
        )
