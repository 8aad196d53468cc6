"""The phone simulator: a page (``/simulator``) and its JSON API (``/simulator/api/...``).

Sending from the page does what Twilio does when a phone texts one of your numbers: it records
the inbound message and POSTs Twilio's form, signed with the account's auth token, to the
number's ``SmsUrl``. Only the page itself may send (``same_origin_json``): a POST must be
``application/json`` (which a page on another site cannot send without a CORS preflight, never
answered here), its ``Origin``, when present, must be the sandbox's own, and its ``Host`` a
loopback name (a DNS-rebinding page's origin is "same" but its host is not); anything else is
refused (415, 403) and sends nothing. The conversation view reads the sandbox's own records
(replies, calls with their TwiML, delivery statuses); the stack panel reads the stack's table
(stored messages with their action logs, open conversations) when the sandbox knows it, and the
e-mails the stack sent (``send_email``) from the emulator's SES store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.error import URLError
from urllib.parse import urlsplit

from sms_automation_local.inbound_sms import deliver, inbound_sms_form
from sms_automation_local.twilio_sandbox.resources import message_resource
from sms_automation_local.twilio_sandbox.server import TwilioSandbox, WebAnswer
from sms_automation_local.twilio_sandbox.stack_reader import READ_ERRORS, StackReader

PAGE_DIR: Final = Path(__file__).resolve().parent / "page"
ASSETS: Final = {
    "/simulator": ("simulator.html", "text/html; charset=utf-8"),
    "/simulator/": ("simulator.html", "text/html; charset=utf-8"),
    "/simulator/simulator.js": ("simulator.js", "text/javascript; charset=utf-8"),
    "/simulator/simulator.css": ("simulator.css", "text/css; charset=utf-8"),
}
_SECURITY_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
MAX_BODY_CHARS: Final = 1600
_LOOPBACK_NAMES: Final = frozenset({"127.0.0.1", "localhost", "::1"})


def same_origin_json(headers: Mapping[str, str]) -> WebAnswer | None:
    """The refusal of a state-changing request that is not the page's own JSON, else None.

    ``headers``: lower-case names."""
    host = headers.get("host", "")
    hostname = urlsplit(f"//{host}").hostname or ""
    if hostname not in _LOOPBACK_NAMES:
        return WebAnswer.json(403, {"error": "the simulator answers on its loopback address only"})
    origin = headers.get("origin")
    if origin is not None and urlsplit(origin).netloc.lower() != host.lower():
        return WebAnswer.json(403, {"error": "cross-origin request refused"})
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        return WebAnswer.json(415, {"error": "send JSON (Content-Type: application/json)"})
    return None


@dataclass(frozen=True, slots=True)
class SimulatedAccount:
    name: str  # the stack's account name (``demo``)
    account_sid: str


class Simulator:
    def __init__(
        self,
        sandbox: TwilioSandbox,
        accounts: Mapping[str, SimulatedAccount],
        *,
        reader: StackReader | None = None,
        contacts: tuple[str, ...] = (),
        console: Mapping[str, str] | None = None,
    ) -> None:
        """``accounts``: Account SID -> the stack's name for it."""
        self._sandbox = sandbox
        self._accounts = dict(accounts)
        self._reader = reader
        self._contacts = contacts
        self._console = dict(console) if console else None

    def __call__(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        body: bytes,
        headers: Mapping[str, str],
    ) -> WebAnswer | None:
        if path in ASSETS and method == "GET":
            name, content_type = ASSETS[path]
            return WebAnswer(200, content_type, (PAGE_DIR / name).read_bytes(), _SECURITY_HEADERS)
        api: dict[tuple[str, str], Callable[[], WebAnswer]] = {
            ("GET", "/simulator/api/setup"): self._setup,
            ("POST", "/simulator/api/send"): lambda: self._send(body),
            ("GET", "/simulator/api/conversation"): lambda: self._conversation(query),
            ("GET", "/simulator/api/stack"): lambda: self._stack(query),
            ("GET", "/simulator/api/emails"): self._emails,
        }
        if not path.startswith("/simulator"):
            return None
        handler = api.get((method, path))
        if handler is None:
            return WebAnswer.json(404, {"error": f"no route {method} {path}"})
        if method == "POST" and (refused := same_origin_json(headers)) is not None:
            return refused
        return handler()

    def _setup(self) -> WebAnswer:
        numbers = [
            {
                "phone_number": n["phone_number"],
                "account_sid": n["account_sid"],
                "account": self._account_name(n["account_sid"]),
                "sms_url": n["sms_url"],
            }
            for n in self._sandbox.numbers()
        ]
        with self._sandbox.state.lock:
            failing = {
                number: {"status": f.status, "error_code": f.error_code}
                for number, f in self._sandbox.state.delivery_failures.items()
            }
        return WebAnswer.json(
            200,
            {
                "numbers": numbers,
                "contacts": list(self._contacts),
                "failing": failing,
                "console": self._console,
            },
        )

    def _account_name(self, account_sid: str) -> str | None:
        account = self._accounts.get(account_sid)
        return account.name if account else None

    def _send(self, raw: bytes) -> WebAnswer:
        try:
            request = json.loads(raw or b"{}")
            contact, number = str(request["from"]).strip(), str(request["to"]).strip()
            text = str(request.get("body") or "")
            media = [str(request["media_url"]).strip()] if request.get("media_url") else []
        except (ValueError, KeyError, TypeError):
            return WebAnswer.json(400, {"error": "expected JSON {from, to, body, media_url?}"})
        if not contact or (not text and not media) or len(text) > MAX_BODY_CHARS:
            return WebAnswer.json(400, {"error": "a contact number and a body (or media) needed"})
        with self._sandbox.state.lock:
            resource = self._sandbox.state.number(number)
            target = dict(resource) if resource else None
            token = self._sandbox.state.accounts.get(target["account_sid"]) if target else None
        if target is None or token is None:
            return WebAnswer.json(404, {"error": f"{number} is not a sandbox number"})
        if not target["sms_url"] or target["sms_method"] != "POST":
            return WebAnswer.json(409, {"error": f"{number} has no SmsUrl to POST to"})
        form = inbound_sms_form(
            account_sid=target["account_sid"],
            from_number=contact,
            to_number=number,
            body=text,
            media_urls=media,
        )
        sid = dict(form)["MessageSid"]
        self._record_inbound(form, media)
        try:
            delivery = deliver(target["sms_url"], form, token)
        except (URLError, OSError) as error:
            return WebAnswer.json(502, {"message_sid": sid, "error": f"no answer: {error}"})
        return WebAnswer.json(
            200,
            {
                "message_sid": sid,
                "url": target["sms_url"],
                "status": delivery.status,
                "answer": delivery.body[:2000],
            },
        )

    def _record_inbound(self, form: list[tuple[str, str]], media: list[str]) -> None:
        """Twilio keeps inbound messages too: the Messages list shows them."""
        fields = dict(form)
        resource = message_resource(
            account=fields["AccountSid"],
            to=fields["To"],
            sender=fields["From"],
            service=None,
            body=fields["Body"],
            media=media,
            now=self._sandbox.state.clock(),
            direction="inbound",
            sid=fields["MessageSid"],
        )
        with self._sandbox.state.lock:
            self._sandbox.state.messages[resource["sid"]] = resource

    def _conversation(self, query: Mapping[str, list[str]]) -> WebAnswer:
        contact = _one(query, "contact")
        number = _one(query, "number")
        if not contact:
            return WebAnswer.json(400, {"error": "contact= is required"})
        messages = [
            m
            for m in self._sandbox.messages()
            if {m["from"], m["to"]} == {contact, number}
            or (not number and contact in (m["from"], m["to"]))
        ]
        calls = [c for c in self._sandbox.calls() if contact in (c["to"], c["from"])]
        callbacks = self._sandbox.sent_callbacks()
        history: dict[str, list[dict[str, Any]]] = {}
        for callback in callbacks:
            history.setdefault(callback.resource_sid, []).append(
                {"status": callback.status, "answer": callback.answer, "at": callback.sent_at}
            )
        for resource in (*messages, *calls):
            resource["callbacks"] = history.get(resource["sid"], [])
        return WebAnswer.json(200, {"messages": messages, "calls": calls})

    def _stack(self, query: Mapping[str, list[str]]) -> WebAnswer:
        contact, number = _one(query, "contact"), _one(query, "number")
        if self._reader is None:
            return WebAnswer.json(200, {"available": False, "messages": [], "conversations": []})
        with self._sandbox.state.lock:
            resource = self._sandbox.state.number(number)
            account_sid = resource["account_sid"] if resource else None
        name = self._account_name(account_sid) if account_sid else None
        if not contact or name is None:
            return WebAnswer.json(400, {"error": "contact= and a sandbox number= are required"})
        try:
            stored = self._reader.stored_messages(name, contact)
            conversations = self._reader.conversations(name, contact)
        except READ_ERRORS as error:
            return WebAnswer.json(502, {"error": f"cannot read the stack's table: {error}"})
        return WebAnswer.json(
            200,
            {
                "available": True,
                "account": name,
                "messages": stored,
                "conversations": conversations,
            },
        )

    def _emails(self) -> WebAnswer:
        if self._reader is None:
            return WebAnswer.json(200, {"available": False, "emails": []})
        try:
            emails = self._reader.emails()
        except READ_ERRORS as error:
            return WebAnswer.json(502, {"error": f"cannot read the emulator's e-mails: {error}"})
        return WebAnswer.json(200, {"available": True, "emails": emails})


def _one(query: Mapping[str, list[str]], name: str) -> str:
    values = query.get(name)
    return values[0].strip() if values else ""
