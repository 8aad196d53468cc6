"""Delivery status callbacks: Twilio telling us what became of a message or call we created.

Twilio POSTs to the ``StatusCallback`` URL we give each message and call
(``{WebhookBaseUrl}/twilio/{account}/status``), signed exactly like the Messaging webhook, once
per status change: ``MessageSid`` + ``MessageStatus`` (+ ``ErrorCode``) for messages,
``CallSid`` + ``CallStatus`` for calls. Callbacks can arrive more than once and out of order, so:

- each (Sid, status) is recorded once (a repeat changes nothing);
- the outbound item's current status only moves forward in Twilio's lifecycle (``ranking``):
  a late ``sent`` never replaces ``delivered``;
- a callback for a Sid we never recorded is kept all the same, and reported;
- a callback for a Sid another account created (signed by that account's token, on its route)
  changes nothing: it is answered like one for an unknown Sid, and reported.

Each create's ``StatusCallback`` names the step that made it (``?step=<the step's idempotency
key>``, ``step_callback_url``), and Twilio signs that URL, query included: a verified callback
tells which step a Sid belongs to even when the step never heard Twilio's answer. It is kept on
the outbound item (``callback_step``) for reconciliation (``processing.effects``). A callback
URL without it (a number's own ``StatusCallback``, set by ``numbers``) is accepted as before.

A message that failed with 30001 (queue overflow: it waited in its sender's queue at Twilio
longer than Twilio keeps it) says the sender's rate is set above what it can send: its sender
is slowed as for a 429 (``overflowed_sender``; ``processing.pacing``).

This module is the domain: parsing, ranking and the use case over injected ports.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Final, Literal, Protocol
from urllib.parse import parse_qsl, urlsplit

from sms_automation.accounts import AccountDirectory
from sms_automation.webhooks.authenticate import authenticate
from sms_automation.webhooks.rejections import MalformedRequest
from sms_automation.webhooks.request import WebhookRequest

OutboundKind = Literal["sms", "call"]

SID_PATTERN: Final = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
STATUS_PATTERN: Final = re.compile(r"^[a-z][a-z_-]{0,31}$")
ERROR_CODE_PATTERN: Final = re.compile(r"^[0-9]{1,10}$")

# Twilio's lifecycles, earliest first; statuses of one rank are alternatives (a message ends
# delivered or undelivered, not both), and the first of them recorded stays.
_MESSAGE_LIFECYCLE: Final[tuple[tuple[str, ...], ...]] = (
    ("accepted",),
    ("scheduled",),
    ("queued",),
    ("sending",),
    ("sent",),
    ("delivered", "undelivered", "failed", "canceled", "partially_delivered"),
    ("read",),  # WhatsApp, RCS: after delivered
)
_CALL_LIFECYCLE: Final[tuple[tuple[str, ...], ...]] = (
    ("queued",),
    ("initiated",),
    ("ringing",),
    ("in-progress", "answered"),  # StatusCallbackEvent "answered" arrives as "in-progress"
    ("completed", "busy", "no-answer", "failed", "canceled"),
)
STEP_PARAM: Final = "step"
STEP_KEY_PATTERN: Final = re.compile(r"^sms-automation-[0-9a-f]{40}$")
"""A step's idempotency key (``processing.port.idempotency_key``), as carried by a callback URL."""
UNKNOWN_STATUS_RANK: Final = 0
"""Rank of a status Twilio may add later: recorded in the history, but it never replaces a
known status."""


def _ranks(lifecycle: tuple[tuple[str, ...], ...]) -> Mapping[str, int]:
    return MappingProxyType(
        {status: 10 * (index + 1) for index, group in enumerate(lifecycle) for status in group}
    )


_RANKS: Final[Mapping[OutboundKind, Mapping[str, int]]] = {
    "sms": _ranks(_MESSAGE_LIFECYCLE),
    "call": _ranks(_CALL_LIFECYCLE),
}
FAILURE_STATUSES: Final[Mapping[OutboundKind, frozenset[str]]] = {
    "sms": frozenset({"failed", "undelivered"}),
    "call": frozenset({"failed", "busy", "no-answer"}),
}


def step_callback_url(base_url: str, step_key: str) -> str:
    """The ``StatusCallback`` of a create made by the step whose idempotency key is given."""
    if not STEP_KEY_PATTERN.fullmatch(step_key):
        raise ValueError("not a step key")
    return f"{base_url}?{STEP_PARAM}={step_key}"


def callback_step_key(url: str) -> str | None:
    """The step key a (signed) callback URL carries, or None (absent or malformed)."""
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if name == STEP_PARAM:
            return value if STEP_KEY_PATTERN.fullmatch(value) else None
    return None


@dataclass(frozen=True, slots=True)
class OutboundOwner:
    """What we know of the step a message or call belongs to: the step that recorded it
    (``origin_*``), and the step its status callback URL named (``callback_step``)."""

    origin_message_sid: str | None
    origin_step_id: str | None
    callback_step: str | None

    def belongs_to(self, message_sid: str, step_id: str, step_key: str) -> bool | None:
        """True: that step's; False: another step's; None: no step's as far as we know."""
        if self.callback_step:
            return self.callback_step == step_key
        if self.origin_message_sid or self.origin_step_id:
            return (self.origin_message_sid, self.origin_step_id) == (message_sid, step_id)
        return None


def status_rank(kind: OutboundKind, status: str) -> int:
    """Where ``status`` sits in the lifecycle of a message or call: later is higher."""
    return _RANKS[kind].get(status, UNKNOWN_STATUS_RANK)


def supersedes(kind: OutboundKind, new: str, current: str | None) -> bool:
    """Whether ``new`` replaces ``current`` as the current status (``None``: none yet)."""
    return current is None or status_rank(kind, new) > status_rank(kind, current)


def is_failure(kind: OutboundKind, status: str) -> bool:
    return status in FAILURE_STATUSES[kind]


@dataclass(frozen=True, slots=True)
class StatusCallback:
    """One status change, as Twilio reported it (``params``: every parameter, verbatim)."""

    kind: OutboundKind
    sid: str
    status: str
    error_code: str | None
    params: Mapping[str, str]

    @property
    def rank(self) -> int:
        return status_rank(self.kind, self.status)

    @property
    def failed(self) -> bool:
        return is_failure(self.kind, self.status)


def parse_status_callback(fields: Mapping[str, str]) -> StatusCallback:
    """A message callback has ``MessageSid`` and ``MessageStatus``; a call one ``CallSid`` and
    ``CallStatus``. Raises ``MalformedRequest`` for anything else."""
    if "MessageStatus" in fields:
        kind: OutboundKind = "sms"
        sid, status = fields.get("MessageSid", ""), fields["MessageStatus"]
    elif "CallStatus" in fields:
        kind = "call"
        sid, status = fields.get("CallSid", ""), fields["CallStatus"]
    else:
        raise MalformedRequest(
            "not a status callback: expected MessageSid and MessageStatus, or CallSid and "
            "CallStatus"
        )
    if not SID_PATTERN.fullmatch(sid):
        raise MalformedRequest(f"{'MessageSid' if kind == 'sms' else 'CallSid'} is malformed")
    status = status.strip().lower()
    if not STATUS_PATTERN.fullmatch(status):
        raise MalformedRequest("the status is missing or malformed")
    error_code = fields.get("ErrorCode", "").strip() or None
    if error_code is not None and not ERROR_CODE_PATTERN.fullmatch(error_code):
        raise MalformedRequest("ErrorCode is not a number")
    return StatusCallback(kind, sid, status, error_code, MappingProxyType(dict(fields)))


@dataclass(frozen=True, slots=True)
class RecordedStatus:
    """What recording one callback did."""

    new: bool  # False: this Sid + status was recorded before (a redelivery)
    known_sid: bool  # False: no message or call of ours has this Sid (yet)
    current: bool  # the outbound item's current status is now this one
    other_account: bool = False  # the Sid is another account's: nothing was written


class StatusStore(Protocol):
    def record_status(
        self,
        sid: str,
        status: str,
        *,
        kind: OutboundKind,
        account: str,
        error_code: str | None,
        received_at: datetime,
        params: Mapping[str, str],
        step_key: str | None = None,
    ) -> RecordedStatus:
        """Raises ``StorageUnavailable`` when the write could not be made durable.
        ``step_key``: the step the callback URL named (kept once, see the module doc)."""
        ...


Outcome = Literal["recorded", "duplicate", "other_account"]


@dataclass(frozen=True, slots=True)
class StatusReceived:
    outcome: Outcome
    account: str
    callback: StatusCallback
    recorded: RecordedStatus


def receive_status_callback(
    request: WebhookRequest, directory: AccountDirectory, store: StatusStore, now: datetime
) -> StatusReceived:
    """Verify the callback like any Twilio webhook, then record it once.

    Recorded whether or not the account receives messages: it reports on what we sent.
    """
    authenticated = authenticate(request, directory, now)
    callback = parse_status_callback(authenticated.fields)
    recorded = store.record_status(
        callback.sid,
        callback.status,
        kind=callback.kind,
        account=authenticated.account.name,
        error_code=callback.error_code,
        received_at=now,
        params=callback.params,
        step_key=callback_step_key(request.url),
    )
    outcome: Outcome = (
        "other_account" if recorded.other_account else "recorded" if recorded.new else "duplicate"
    )
    return StatusReceived(outcome, authenticated.account.name, callback, recorded)


class SentRecord(Protocol):
    """What we sent, as far as a failed send needs it: the step that sent it, its sender."""

    @property
    def origin_message_sid(self) -> str | None: ...
    @property
    def origin_step_id(self) -> str | None: ...
    @property
    def from_(self) -> str | None:
        """The sender it was paced as: the number, else the Messaging Service SID."""
        ...


class SentRecords(Protocol):
    def get(self, sid: str) -> SentRecord | None: ...


class WaitingConversations(Protocol):
    def prompt_failed(self, message_sid: str, prompt_step_id: str, detail: str) -> bool:
        """The prompt's conversation ends (``delivery_failed``); True when this call ended it."""
        ...


def end_conversation_of_failed_prompt(
    received: StatusReceived,
    sent: SentRecords,
    conversations: Callable[[], WaitingConversations | None],
) -> bool:
    """A failed or undelivered SMS prompt ends its conversation, on a repeated callback too (a retry
    after a failure must finish the job). True when this callback ended one. ``conversations``
    is asked for only then (None: no conversation state machine deployed)."""
    callback = received.callback
    if callback.kind != "sms" or not callback.failed or received.outcome == "other_account":
        return False
    waiting = conversations()
    if waiting is None:
        return False
    record = sent.get(callback.sid)
    if record is None or not record.origin_message_sid or not record.origin_step_id:
        return False
    code = f" (error {callback.error_code})" if callback.error_code else ""
    return waiting.prompt_failed(
        record.origin_message_sid, record.origin_step_id, f"the prompt was {callback.status}{code}"
    )


QUEUE_OVERFLOW_CODE: Final = "30001"


def overflowed_sender(received: StatusReceived, sent: SentRecords) -> str | None:
    """The sender (a number or Messaging Service SID, as its sends are paced) of a message that
    failed with 30001, the first time that status is recorded (a repeated callback: ``None``);
    else ``None``. The sender Twilio reports stands in for our record of the message when the
    callback came first: a Messaging Service's, else the number."""
    callback = received.callback
    overflowed = callback.kind == "sms" and callback.error_code == QUEUE_OVERFLOW_CODE
    if not overflowed or received.outcome != "recorded":
        return None
    record = sent.get(callback.sid)
    reported = callback.params.get("MessagingServiceSid") or callback.params.get("From")
    return (record.from_ if record is not None else None) or reported or None
