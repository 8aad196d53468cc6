"""A Twilio-like REST API on 127.0.0.1 for tests: the part of API 2010-04-01 this project uses.

    with TwilioTestServer() as twilio:            # ephemeral port; twilio.base_url
        twilio.fail_next(server_error(), rate_limited(retry_after="2"))
        ...                                       # point the adapter at twilio.base_url
        assert len(twilio.messages()) == 1
        assert twilio.requests()[0].idempotency_token == "key-1"

Routes (Basic auth with an Account SID and its token, checked on each):
``POST /2010-04-01/Accounts/{Sid}/Messages.json``, ``POST .../Calls.json``,
``GET .../Messages/{MessageSid}.json``, ``GET /2010-04-01/Accounts/{Sid}.json``, and one page
(newest first, ``To``/``From`` filters) of ``GET .../Messages.json`` and ``GET .../Calls.json``.

It answers the way api.twilio.com does: resources with every field of Twilio's OpenAPI
response schema (``SM``/``CA`` + 32 hex SIDs, RFC 2822 dates, ``status: queued``), and errors as
``{"code", "message", "more_info", "status"}``. Beyond that it:

- records every request (method, path, form parameters with repeats, headers) in arrival order;
- honours ``I-Twilio-Idempotency-Token``: a create repeated with the same token answers the
  resource the first one made and makes nothing new;
- refuses what Twilio refuses on create (no ``To`` 21604, no sender 21603, no body or media
  21602, a body over 1,600 characters 21617, more than 10 media 21623) and, per recipient, any
  error code you choose (``refuse_recipient("+1555...", 21610)``);
- misbehaves on request: ``fail_next(*faults)`` applies one fault to each of the next requests
  (an error answer; a slow answer after doing the work; a dropped connection before or after
  doing the work).

Shared by the integration and contract tests, and meant for the local stack's sandbox.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, Literal, Self
from urllib.parse import parse_qs, urlsplit

API_VERSION: Final = "2010-04-01"
DEFAULT_ACCOUNT_SID: Final = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN: Final = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
IDEMPOTENCY_HEADER: Final = "I-Twilio-Idempotency-Token"
MESSAGING_SERVICE_SENDER: Final = "+15005550006"
"""The ``from`` a message sent through a Messaging Service (without ``From``) ends up with."""

ERROR_MESSAGES: Final[Mapping[int, str]] = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To'",
    21602: "Message body is required.",
    21603: "The 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21606: "The 'From' phone number provided is not a valid message-capable Twilio phone number",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21623: "The number of media files exceeds the maximum of 10.",
    21659: "The 'From' number is not a Twilio phone number or Sender ID in your account.",
}
_STATUS_FOR_CODE: Final[Mapping[int, int]] = {
    20003: 401,
    20404: 404,
    20429: 429,
    20500: 500,
    20503: 503,
}
_ROUTE: Final = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})"
    r"(?:/(?P<collection>Messages|Calls)(?:/(?P<sid>[A-Z]{2}[0-9a-fA-F]{32}))?)?\.json$"
)


def twilio_error_body(code: int, status: int, message: str | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "message": message or ERROR_MESSAGES.get(code, f"Twilio error {code}"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


# --- faults -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErrorAnswerFault:
    """Answer with a Twilio error (nothing is created)."""

    status: int
    code: int
    message: str | None = None
    retry_after: str | None = None


@dataclass(frozen=True, slots=True)
class SlowAnswerFault:
    """Do the work (a create creates), then wait ``seconds`` before answering: a client with a
    shorter read timeout gives up although the message exists."""

    seconds: float


@dataclass(frozen=True, slots=True)
class DropConnectionFault:
    """Close the connection without an answer, after doing the work or before it."""

    after_processing: bool = True


Fault = ErrorAnswerFault | SlowAnswerFault | DropConnectionFault


def server_error(status: int = 500, code: int = 20500) -> ErrorAnswerFault:
    return ErrorAnswerFault(status, code)


def rate_limited(retry_after: str | None = None) -> ErrorAnswerFault:
    return ErrorAnswerFault(429, 20429, retry_after=retry_after)


def twilio_error(code: int, status: int = 400) -> ErrorAnswerFault:
    return ErrorAnswerFault(_STATUS_FOR_CODE.get(code, status), code)


# --- what the server saw and holds ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    form: Mapping[str, list[str]]
    headers: Mapping[str, str]
    query: Mapping[str, list[str]] = field(default_factory=dict)

    @property
    def idempotency_token(self) -> str | None:
        return self.headers.get(IDEMPOTENCY_HEADER.lower())

    def param(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0] if values else None


@dataclass
class _State:
    accounts: dict[str, str]
    clock: Callable[[], datetime]
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: deque[Fault] = field(default_factory=deque)
    refused_recipients: dict[str, int] = field(default_factory=dict)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    call_twiml: dict[str, str | None] = field(default_factory=dict)
    by_idempotency_token: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    honour_idempotency_token: bool = True


class TwilioTestServer:
    def __init__(
        self,
        accounts: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        honour_idempotency_token: bool = True,
    ) -> None:
        """``accounts``: Account SID -> auth token (default: one account, ``DEFAULT_*``).

        ``honour_idempotency_token=False`` behaves like api.twilio.com, whose spec promises
        nothing for the header: every create makes a new message or call.
        """
        self._state = _State(
            dict(accounts or {DEFAULT_ACCOUNT_SID: DEFAULT_AUTH_TOKEN}),
            clock=clock,
            honour_idempotency_token=honour_idempotency_token,
        )
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self._state))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._state.stopping.set()  # releases slow answers at once
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def fail_next(self, *faults: Fault) -> None:
        """Each of the next ``len(faults)`` requests meets one fault, in order."""
        with self._state.lock:
            self._state.faults.extend(faults)

    def refuse_recipient(self, number: str, code: int) -> None:
        """Creates for ``To == number`` are refused with Twilio error ``code`` (e.g. 21610)."""
        with self._state.lock:
            self._state.refused_recipients[number] = code

    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    def messages(self) -> list[dict[str, Any]]:
        with self._state.lock:
            return [dict(message) for message in self._state.messages.values()]

    def calls(self) -> list[dict[str, Any]]:
        """Call resources, each with the ``twiml`` it was created with (not in Twilio's answer)."""
        with self._state.lock:
            return [
                {**call, "twiml": self._state.call_twiml.get(sid)}
                for sid, call in self._state.calls.items()
            ]


# --- the HTTP side ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


def _handler_for(state: _State) -> type[BaseHTTPRequestHandler]:
    class TwilioLikeHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve(b"")

        def do_POST(self) -> None:
            self._serve(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def _serve(self, raw_body: bytes) -> None:
            url = urlsplit(self.path)
            recorded = RecordedRequest(
                self.command,
                url.path,
                parse_qs(raw_body.decode(), keep_blank_values=True),
                {name.lower(): value for name, value in self.headers.items()},
                parse_qs(url.query, keep_blank_values=True),
            )
            with state.lock:
                state.requests.append(recorded)
                fault = state.faults.popleft() if state.faults else None
            match fault:
                case ErrorAnswerFault(status=status, code=code, message=message):
                    retry_after = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    self._answer(
                        _Answer(status, twilio_error_body(code, status, message), retry_after)
                    )
                case DropConnectionFault(after_processing=after):
                    if after:
                        _route(state, recorded, self.headers.get("Authorization", ""))
                    self.close_connection = True
                case SlowAnswerFault(seconds=seconds):
                    answer = _route(state, recorded, self.headers.get("Authorization", ""))
                    state.stopping.wait(seconds)
                    self._answer(answer)
                case None:
                    self._answer(_route(state, recorded, self.headers.get("Authorization", "")))

        def _answer(self, answer: _Answer) -> None:
            payload = json.dumps(answer.body).encode()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a slow answer): what it sent was still processed

        def log_message(self, format: str, *args: Any) -> None:
            return

    return TwilioLikeHandler


def _route(state: _State, request: RecordedRequest, authorization: str) -> _Answer:
    user = _authenticated_user(state, authorization)
    if user is None:
        body = twilio_error_body(20003, 401)
        return _Answer(401, body, {"WWW-Authenticate": 'Basic realm="Twilio API"'})
    match = _ROUTE.fullmatch(request.path)
    if match is None or match["account"] != user:
        return _not_found(request.path)
    account, collection, sid = match.group("account", "collection", "sid")
    operations: dict[tuple[str | None, bool, str], Callable[[], _Answer]] = {
        (None, False, "GET"): lambda: _Answer(200, _account_resource(state, account)),
        ("Messages", False, "POST"): lambda: _create(state, request, account, "messages"),
        ("Calls", False, "POST"): lambda: _create(state, request, account, "calls"),
        ("Messages", True, "GET"): lambda: _fetch_message(state, request.path, account, sid),
        ("Messages", False, "GET"): lambda: _list(state, request, account, "messages"),
        ("Calls", False, "GET"): lambda: _list(state, request, account, "calls"),
    }
    operation = operations.get((collection, sid is not None, request.method))
    if operation is None:
        return _Answer(405, twilio_error_body(20004, 405, "Method not allowed"))
    with state.lock:
        return operation()


def _fetch_message(state: _State, path: str, account: str, sid: str) -> _Answer:
    message = state.messages.get(sid)
    if message is None or message["account_sid"] != account:
        return _not_found(path)
    return _Answer(200, message)


def _list(
    state: _State, request: RecordedRequest, account: str, kind: Literal["messages", "calls"]
) -> _Answer:
    """One page, newest first, filtered by ``To`` and ``From`` (the filters the adapter uses)."""
    wanted = {
        field_name: values[0]
        for field_name, values in (
            ("to", request.query.get("To")),
            ("from", request.query.get("From")),
        )
        if values
    }
    page_size = int(request.query.get("PageSize", ["50"])[0])
    resources = [
        resource
        for resource in reversed(getattr(state, kind).values())
        if resource["account_sid"] == account
        and all(resource[name] == value for name, value in wanted.items())
    ][:page_size]
    uri = f"{request.path}?PageSize={page_size}&Page=0"
    return _Answer(
        200,
        {
            kind: resources,
            "end": max(len(resources) - 1, 0),
            "first_page_uri": uri,
            "next_page_uri": None,
            "page": 0,
            "page_size": page_size,
            "previous_page_uri": None,
            "start": 0,
            "uri": uri,
        },
    )


def _create(
    state: _State,
    request: RecordedRequest,
    account: str,
    kind: Literal["messages", "calls"],
) -> _Answer:
    token = request.idempotency_token if state.honour_idempotency_token else None
    if token is not None:
        earlier = state.by_idempotency_token.get((account, kind, token))
        if earlier is not None:
            return _Answer(201, earlier)
    built = (_new_message if kind == "messages" else _new_call)(state, request, account)
    if isinstance(built, _Answer):
        return built
    getattr(state, kind)[built["sid"]] = built
    if kind == "calls":
        state.call_twiml[built["sid"]] = request.param("Twiml")
    if token is not None:
        state.by_idempotency_token[(account, kind, token)] = built
    return _Answer(201, built)


def _new_message(state: _State, request: RecordedRequest, account: str) -> dict[str, Any] | _Answer:
    to, sender, service = (
        request.param("To"),
        request.param("From"),
        request.param("MessagingServiceSid"),
    )
    body, media = request.param("Body") or "", request.form.get("MediaUrl", [])
    refusal = _message_refusal(state, to, sender or service, body, media)
    if refusal is not None:
        return _Answer(400, twilio_error_body(refusal, 400))
    sid = _sid("SM")
    now = _rfc2822(state.clock())
    uri = f"/{API_VERSION}/Accounts/{account}/Messages/{sid}"
    return {
        "account_sid": account,
        "api_version": API_VERSION,
        "body": body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": sender or MESSAGING_SERVICE_SENDER,
        "messaging_service_sid": service,
        "num_media": str(len(media)),
        "num_segments": str(1 if len(body) <= 160 else -(-len(body) // 153)),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued" if sender else "accepted",
        "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
        "to": to,
        "uri": f"{uri}.json",
    }


def _message_refusal(
    state: _State, to: str | None, sender: str | None, body: str, media: list[str]
) -> int | None:
    """The Twilio error code a create gets, as api.twilio.com checks it, or ``None``."""
    if not to:
        return 21604
    if not sender:
        return 21603
    if not body and not media:
        return 21602
    if len(body) > 1600:
        return 21617
    if len(media) > 10:
        return 21623
    return state.refused_recipients.get(to)


def _new_call(state: _State, request: RecordedRequest, account: str) -> dict[str, Any] | _Answer:
    to, sender = request.param("To"), request.param("From")
    if not to:
        return _Answer(400, twilio_error_body(21201, 400, "No 'To' number is specified"))
    if not sender:
        return _Answer(400, twilio_error_body(21213, 400, "No 'From' number is specified"))
    if not (request.param("Twiml") or request.param("Url") or request.param("ApplicationSid")):
        return _Answer(400, twilio_error_body(21205, 400, "Url, Twiml or ApplicationSid required"))
    refusal = state.refused_recipients.get(to)
    if refusal is not None:
        return _Answer(400, twilio_error_body(refusal, 400))
    sid = _sid("CA")
    now = _rfc2822(state.clock())
    uri = f"/{API_VERSION}/Accounts/{account}/Calls/{sid}"
    return {
        "account_sid": account,
        "annotation": None,
        "answered_by": None,
        "api_version": API_VERSION,
        "caller_name": None,
        "date_created": now,
        "date_updated": now,
        "direction": "outbound-api",
        "duration": None,
        "end_time": None,
        "forwarded_from": None,
        "from": sender,
        "from_formatted": sender,
        "group_sid": None,
        "parent_call_sid": None,
        "phone_number_sid": None,
        "price": None,
        "price_unit": "USD",
        "queue_time": "0",
        "sid": sid,
        "start_time": None,
        "status": "queued",
        "subresource_uris": {
            "notifications": f"{uri}/Notifications.json",
            "recordings": f"{uri}/Recordings.json",
        },
        "to": to,
        "to_formatted": to,
        "trunk_sid": None,
        "uri": f"{uri}.json",
    }


def _account_resource(state: _State, account: str) -> dict[str, Any]:
    created = _rfc2822(datetime(2024, 1, 1, tzinfo=UTC))
    base = f"/{API_VERSION}/Accounts/{account}"
    return {
        "auth_token": state.accounts[account],
        "date_created": created,
        "date_updated": created,
        "friendly_name": "Test account",
        "owner_account_sid": account,
        "sid": account,
        "status": "active",
        "subresource_uris": {
            "messages": f"{base}/Messages.json",
            "calls": f"{base}/Calls.json",
        },
        "type": "Full",
        "uri": f"{base}.json",
    }


def _authenticated_user(state: _State, authorization: str) -> str | None:
    scheme, _, encoded = authorization.partition(" ")
    if scheme != "Basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    token = state.accounts.get(user)
    if token is None or not secrets.compare_digest(password, token):
        return None
    return user


def _not_found(path: str) -> _Answer:
    message = f"The requested resource {path} was not found"
    return _Answer(404, twilio_error_body(20404, 404, message))


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC))
