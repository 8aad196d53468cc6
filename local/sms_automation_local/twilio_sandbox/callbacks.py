"""Signed status callbacks, as Twilio sends them: each message walks ``queued`` → ``sent`` →
``delivered`` (or ends ``undelivered``/``failed`` with an ``ErrorCode`` for a number configured
to fail); each call ``queued`` → ``initiated`` → ``ringing`` → ``in-progress`` → ``completed``.

Every step updates the resource (a fetch or list sees it) and, when the create gave a
``StatusCallback``, POSTs Twilio's form there signed with the account's auth token. Calls post
only the events the create asked for in ``StatusCallbackEvent`` (default: ``completed``), as
Twilio does. One background thread, a small delay between steps; nothing is posted once the
sandbox stops.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

from sms_automation.webhooks.signature import compute_signature
from sms_automation_local.twilio_sandbox.resources import API_VERSION, ERROR_MESSAGES, rfc2822
from sms_automation_local.twilio_sandbox.state import DeliveryFailure, SandboxState, SentCallback

FORM: Final = "application/x-www-form-urlencoded"
USER_AGENT: Final = "TwilioProxy/1.1"
POST_TIMEOUT_SECONDS: Final = 15.0  # Twilio's own limit for a webhook answer
CALL_EVENTS: Final = {"initiated": "initiated", "ringing": "ringing", "in-progress": "answered"}


@dataclass(frozen=True, slots=True)
class _Step:
    kind: str  # "messages" or "calls"
    sid: str
    status: str
    error_code: int | None = None


def message_steps(sid: str, failure: DeliveryFailure | None) -> list[_Step]:
    if failure is None:
        return [_Step("messages", sid, s) for s in ("queued", "sent", "delivered")]
    if failure.status == "failed":
        return [
            _Step("messages", sid, "queued"),
            _Step("messages", sid, "failed", failure.error_code),
        ]
    return [
        _Step("messages", sid, "queued"),
        _Step("messages", sid, "sent"),
        _Step("messages", sid, failure.status, failure.error_code),
    ]


def call_steps(sid: str) -> list[_Step]:
    return [_Step("calls", sid, s) for s in ("initiated", "ringing", "in-progress", "completed")]


class StatusCallbacks:
    """Schedules each new resource's steps ``step_seconds`` apart and runs them in order."""

    def __init__(self, state: SandboxState, *, step_seconds: float = 0.3) -> None:
        self._state = state
        self._step_seconds = step_seconds
        self._due: list[tuple[float, int, _Step]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="status-callbacks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._wake.notify_all()
        self._thread.join(timeout=POST_TIMEOUT_SECONDS + 1)

    def created(self, kind: str, resource: dict[str, Any]) -> None:
        """``SandboxState.on_created``: plan the new resource's lifecycle (under the state lock)."""
        sid = resource["sid"]
        if kind == "messages":
            failure = self._state.delivery_failures.get(resource["to"])
            steps = message_steps(sid, failure)
        else:
            steps = call_steps(sid)
        now = time.monotonic()
        with self._wake:
            for index, step in enumerate(steps, start=1):
                due = now + index * self._step_seconds
                heapq.heappush(self._due, (due, next(self._order), step))
            self._wake.notify_all()

    def _run(self) -> None:
        while not self._state.stopping.is_set():
            with self._wake:
                if not self._due:
                    self._wake.wait(timeout=1.0)
                    continue
                due, _, step = self._due[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._wake.wait(timeout=min(wait, 1.0))
                    continue
                heapq.heappop(self._due)
            self._apply(step)

    def _apply(self, step: _Step) -> None:
        with self._state.lock:
            collection: dict[str, dict[str, Any]] = getattr(self._state, step.kind)
            resource = collection.get(step.sid)
            if resource is None:
                return
            _advance(resource, step, self._state.clock())
            url = self._state.status_callbacks.get(step.sid)
            token = self._state.accounts.get(resource["account_sid"])
            form = _callback_form(resource, step)
            wanted = _call_events(self._state, step) if step.kind == "calls" else None
        if url is None or token is None or (wanted is not None and step.status not in wanted):
            return
        answer = _post(url, form, token)
        with self._state.lock:
            self._state.sent_callbacks.append(
                SentCallback(step.sid, step.status, url, answer, rfc2822(self._state.clock()))
            )


def _call_events(state: SandboxState, step: _Step) -> set[str]:
    """The CallStatus values the create asked callbacks for (Twilio's default: completed)."""
    events = set(state.call_events.get(step.sid) or ["completed"])
    wanted = {status for status, event in CALL_EVENTS.items() if event in events}
    if "completed" in events:
        wanted |= {"completed", "busy", "no-answer", "failed", "canceled"}
    return wanted


def _advance(resource: dict[str, Any], step: _Step, now: datetime) -> None:
    moment = rfc2822(now)
    resource["status"] = step.status
    resource["date_updated"] = moment
    if step.kind == "messages":
        if step.status == "sent":
            resource["date_sent"] = moment
        if step.error_code is not None:
            resource["error_code"] = step.error_code
            resource["error_message"] = ERROR_MESSAGES.get(step.error_code)
    elif step.status == "in-progress":
        resource["start_time"] = moment
    elif step.status == "completed":
        resource["end_time"] = moment
        resource["duration"] = "1"


def _callback_form(resource: dict[str, Any], step: _Step) -> list[tuple[str, str]]:
    common = [
        ("AccountSid", resource["account_sid"]),
        ("From", resource["from"]),
        ("To", resource["to"]),
        ("ApiVersion", API_VERSION),
    ]
    if step.kind == "messages":
        form = [
            ("SmsSid", step.sid),
            ("SmsStatus", step.status),
            ("MessageStatus", step.status),
            ("MessageSid", step.sid),
            *common,
        ]
        if step.error_code is not None:
            form.append(("ErrorCode", str(step.error_code)))
        return form
    form = [
        ("CallSid", step.sid),
        ("CallStatus", step.status),
        ("Direction", "outbound-api"),
        ("CallbackSource", "call-progress-events"),
        ("Timestamp", rfc2822(datetime.now(UTC))),
        *common,
    ]
    if step.status == "completed":
        form += [("CallDuration", "1"), ("Duration", "1")]
    return form


def _post(url: str, form: list[tuple[str, str]], auth_token: str) -> int:
    """POST the signed form; the HTTP status the stack answered, 0 when it did not answer."""
    if urlsplit(url).scheme not in ("http", "https"):
        return 0
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=urlencode(form).encode(),
        method="POST",
        headers={
            "Content-Type": FORM,
            "User-Agent": USER_AGENT,
            "X-Twilio-Signature": compute_signature(url, form, auth_token),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=POST_TIMEOUT_SECONDS) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return int(error.code)
    except (urllib.error.URLError, OSError):
        return 0
