"""What the sandbox holds: accounts, numbers, every request, message and call, and the status
callbacks it sent. One lock guards it all; the HTTP threads and the callback thread share it."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sms_automation_local.twilio_sandbox.faults import Fault

IDEMPOTENCY_HEADER: Final = "I-Twilio-Idempotency-Token"


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


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    """How a message to a number configured to fail ends: ``undelivered`` or ``failed``."""

    status: str
    error_code: int


@dataclass(frozen=True, slots=True)
class SentCallback:
    """One status callback the sandbox posted, and what the stack answered (0: no answer)."""

    resource_sid: str
    status: str
    url: str
    answer: int
    sent_at: str


@dataclass
class SandboxState:
    accounts: dict[str, str]  # Account SID -> auth token
    clock: Callable[[], datetime]
    honour_idempotency_token: bool
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: deque[Fault] = field(default_factory=deque)
    refused_recipients: dict[str, int] = field(default_factory=dict)
    delivery_failures: dict[str, DeliveryFailure] = field(default_factory=dict)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    status_callbacks: dict[str, str] = field(default_factory=dict)  # resource SID -> URL
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    call_twiml: dict[str, str | None] = field(default_factory=dict)
    call_events: dict[str, list[str]] = field(default_factory=dict)  # StatusCallbackEvent
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)  # PN SID -> resource
    sent_callbacks: list[SentCallback] = field(default_factory=list)
    by_idempotency_token: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    list_lag: bool = False
    unlisted: set[str] = field(default_factory=set)
    """Resource SIDs lists leave out while ``list_lag`` (see ``TwilioSandbox.lag_lists``)."""
    on_created: Callable[[str, dict[str, Any]], None] | None = None
    """Called (under the lock) with ``"messages"`` or ``"calls"`` and each new resource."""

    def number(self, phone_number: str) -> dict[str, Any] | None:
        for resource in self.numbers.values():
            if resource["phone_number"] == phone_number:
                return resource
        return None
