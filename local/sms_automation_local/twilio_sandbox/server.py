"""The sandbox's HTTP server: Twilio's REST routes, plus whatever pages are attached (the phone
simulator), on 127.0.0.1 only."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, Self
from urllib.parse import parse_qs, urlsplit

from sms_automation_local.twilio_sandbox.callbacks import StatusCallbacks
from sms_automation_local.twilio_sandbox.faults import (
    DropConnectionFault,
    ErrorAnswerFault,
    Fault,
    HeldRequestFault,
    SlowAnswerFault,
)
from sms_automation_local.twilio_sandbox.resources import twilio_error_body
from sms_automation_local.twilio_sandbox.rest import add_number, route
from sms_automation_local.twilio_sandbox.state import (
    Answer,
    DeliveryFailure,
    RecordedRequest,
    SandboxState,
    SentCallback,
)

LOOPBACK: Final = "127.0.0.1"
READY_PATH: Final = "/sandbox/ready"


@dataclass(frozen=True, slots=True)
class WebAnswer:
    """An answer of an attached page route (HTML, JS or JSON)."""

    status: int
    content_type: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, value: Any) -> WebAnswer:
        return cls(status, "application/json", json.dumps(value, default=str).encode())


PageRoutes = Callable[
    [str, str, Mapping[str, list[str]], bytes, Mapping[str, str]], WebAnswer | None
]
"""(method, path, query, body, headers with lower-case names) -> an answer, or None when the
path is not theirs."""


class TwilioSandbox:
    """Twilio's REST API (the part this project uses) on ``127.0.0.1:port`` (0: any free port).

    Defaults behave like api.twilio.com: ``I-Twilio-Idempotency-Token`` is not honoured (a
    repeated create makes a second message) and status callbacks are sent.
    """

    def __init__(
        self,
        accounts: Mapping[str, str],
        *,
        port: int = 0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        honour_idempotency_token: bool = False,
        status_callbacks: bool = True,
        callback_step_seconds: float = 0.3,
    ) -> None:
        self.state = SandboxState(
            dict(accounts), clock=clock, honour_idempotency_token=honour_idempotency_token
        )
        self._callbacks: StatusCallbacks | None = None
        if status_callbacks:
            self._callbacks = StatusCallbacks(self.state, step_seconds=callback_step_seconds)
            self.state.on_created = self._callbacks.created
        self._pages: list[PageRoutes] = []
        self._server = ThreadingHTTPServer((LOOPBACK, port), _handler_for(self.state, self._pages))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def attach(self, routes: PageRoutes) -> None:
        self._pages.append(routes)

    def start(self) -> Self:
        if self._callbacks is not None:
            self._callbacks.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self.state.stopping.set()  # releases slow answers and the callback thread at once
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        if self._callbacks is not None:
            self._callbacks.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- configuration ---------------------------------------------------------------------

    def add_account(self, account_sid: str, auth_token: str) -> None:
        with self.state.lock:
            self.state.accounts[account_sid] = auth_token

    def add_number(self, account_sid: str, phone_number: str, sms_url: str | None = None) -> str:
        """Give the account a number (as buying one in Twilio's console); its ``PN`` SID."""
        with self.state.lock:
            sid: str = add_number(self.state, account_sid, phone_number, sms_url)["sid"]
            return sid

    def fail_deliveries_to(
        self, number: str, status: str = "undelivered", code: int = 30003
    ) -> None:
        """Messages to ``number`` are accepted, then end ``status`` with ``ErrorCode`` ``code``."""
        with self.state.lock:
            self.state.delivery_failures[number] = DeliveryFailure(status, code)

    def fail_next(self, *faults: Fault) -> None:
        """Each of the next ``len(faults)`` requests meets one fault, in order."""
        with self.state.lock:
            self.state.faults.extend(faults)

    def lag_lists(self) -> None:
        """Like Twilio's list API running behind: what is created from now on is found by a
        fetch but left out of lists until ``end_list_lag``."""
        with self.state.lock:
            self.state.list_lag = True

    def end_list_lag(self) -> None:
        with self.state.lock:
            self.state.list_lag = False
            self.state.unlisted.clear()

    def refuse_recipient(self, number: str, code: int) -> None:
        """Creates for ``To == number`` are refused with Twilio error ``code`` (e.g. 21610)."""
        with self.state.lock:
            self.state.refused_recipients[number] = code

    # --- what it saw -----------------------------------------------------------------------

    def requests(self) -> list[RecordedRequest]:
        with self.state.lock:
            return list(self.state.requests)

    def messages(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(message) for message in self.state.messages.values()]

    def calls(self) -> list[dict[str, Any]]:
        """Call resources, each with the ``twiml`` it was created with (not in Twilio's answer)."""
        with self.state.lock:
            return [
                {**call, "twiml": self.state.call_twiml.get(sid)}
                for sid, call in self.state.calls.items()
            ]

    def numbers(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(number) for number in self.state.numbers.values()]

    def sent_callbacks(self) -> list[SentCallback]:
        with self.state.lock:
            return list(self.state.sent_callbacks)


def _handler_for(state: SandboxState, pages: list[PageRoutes]) -> type[BaseHTTPRequestHandler]:
    class SandboxHandler(BaseHTTPRequestHandler):
        server_version = "TwilioSandbox/1.0"

        def do_GET(self) -> None:
            self._serve(b"")

        def do_POST(self) -> None:
            self._serve(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def _serve(self, raw_body: bytes) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query, keep_blank_values=True)
            if url.path == READY_PATH:
                self._write(WebAnswer.json(200, {"ready": True}))
                return
            headers = {name.lower(): value for name, value in self.headers.items()}
            for routes in pages:
                answer = routes(self.command, url.path, query, raw_body, headers)
                if answer is not None:
                    self._write(answer)
                    return
            self._serve_api(url.path, query, raw_body)

        def _serve_api(self, path: str, query: dict[str, list[str]], raw_body: bytes) -> None:
            recorded = RecordedRequest(
                self.command,
                path,
                parse_qs(raw_body.decode(errors="replace"), keep_blank_values=True),
                {name.lower(): value for name, value in self.headers.items()},
                query,
            )
            authorization = self.headers.get("Authorization", "")
            with state.lock:
                state.requests.append(recorded)
                fault = state.faults.popleft() if state.faults else None
            match fault:
                case ErrorAnswerFault(status=status, code=code, message=message):
                    retry_after = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    body = twilio_error_body(code, status, message)
                    self._answer(Answer(status, body, retry_after))
                case DropConnectionFault(after_processing=after):
                    if after:
                        route(state, recorded, authorization)
                    self.close_connection = True
                case HeldRequestFault(arrived=arrived, release=release):
                    arrived.set()
                    while not (release.wait(0.05) or state.stopping.is_set()):
                        pass
                    self._answer(route(state, recorded, authorization))
                case SlowAnswerFault(seconds=seconds):
                    answer = route(state, recorded, authorization)
                    state.stopping.wait(seconds)
                    self._answer(answer)
                case None:
                    self._answer(route(state, recorded, authorization))

        def _answer(self, answer: Answer) -> None:
            payload = json.dumps(answer.body).encode()
            self._write(WebAnswer(answer.status, "application/json", payload, answer.headers))

        def _write(self, answer: WebAnswer) -> None:
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a slow answer): what it sent was still processed

        def log_message(self, format: str, *args: Any) -> None:
            return

    return SandboxHandler
