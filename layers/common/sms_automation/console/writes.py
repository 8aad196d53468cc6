"""The console's writes on one contact's thread: reply by hand, take the contact over, hand
back. Each checks the account scope first (403 before anything is read: no existence oracle),
then its input; the role they need (operator or admin) is their routes' (``console.http`` checks
a route's role before anything, in one place).

**Reply** (``reply``): an SMS from one of the account's numbers (the one the contact last wrote
to, unless the request names another of the account's), at most ``MAX_REPLY_CHARS`` characters,
refused (``Conflict`` ``opted_out``, a 409) for a contact who opted out of that number. Exactly
once per composed message: the page sends an idempotency ``key`` with each one; the reply's id
is derived from account, contact and key, its text is stored once under that id (a key reused
for another text is a 409), and its send is the ledger step ``reply`` of that id, through the
same ledger port, effects and Twilio adapter as every automatic send (``processing.port``,
``processing.effects``). So a double click, a retried request and two requests at the same
moment make one SMS: the second meets the step done (its outcome again) or claimed (202,
``sending``). A reply is a person's send: the send cap and a takeover never hold it back; its
sender's pace does (``processing.pacing``, reply priority).

What is not settled is never answered as sent: nothing sent and nothing held (Twilio did not
take it, or said "slow down", or the sender is at its rate: ``Waiting``, its claim released) is
``Unavailable`` (503 ``not_sent``, with ``retry_after``): the same key sends it once later. A
create whose answer was lost keeps its claim as unknown (``OutcomeStillUnknown``): 202
``unknown`` with ``retry_after``, and the same request again has the ledger look the message up
at Twilio (credited once found; sent when, settled, it is not there). The sender, once checked
against the account's numbers, is the normalised number everywhere after (the opt-out check,
the stored reply, the send).

**Take over / hand back**: see ``takeover``. Each write lands in the audit record
(``console.audit``): ``contact.takeover`` every time; ``contact.handback`` by the request whose
delete removed a takeover in force (of two hand-backs at the same moment, or a retry, the other
finds none: no entry); ``contact.reply`` once per reply (by the request that stored it; its
detail names the reply, the sender, the segments and the send's state, never the text). Pure:
ports in, no AWS.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sms_automation.accounts import Account
from sms_automation.console.access import Principal
from sms_automation.console.audit import AuditLog
from sms_automation.console.json_body import json_object_body
from sms_automation.console.queries import BadRequest, address, only
from sms_automation.console.reads import AccountReader, NotFound
from sms_automation.console.replies import ConsoleReply, ReplyStore
from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.opt_out import ContactRecords, opted_out
from sms_automation.outbound import MAX_BODY_CHARS
from sms_automation.processing.port import NotPerformed
from sms_automation.processing.retry_later import OutcomeStillUnknown, RetryLater, Waiting
from sms_automation.segments import segments
from sms_automation.takeover import TakeoverInvalid, Takeovers, take_over
from sms_automation.triggers import ActionPort, OutcomeStatus, SendSms

MAX_REPLY_CHARS: Final = MAX_BODY_CHARS
MAX_REQUEST_BYTES: Final = 16_384
REPLY_STEP_ID: Final = "reply"
KEY_PATTERN: Final = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class Conflict(Exception):
    """The request cannot be done in the contact's or the reply's state (409)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Written:
    status: int
    body: dict[str, Any]


PortFor = Callable[[str, Account], ActionPort]
"""(reply id, the account's record the request read) -> the ledger port of that reply
(``composition.console_writes``)."""


def reply_id(account: str, contact: str, key: str) -> str:
    digest = hashlib.sha256(f"{account}\n{contact}\n{key}".encode()).hexdigest()[:32]
    return f"CR{digest}"


@dataclass(frozen=True, slots=True)
class ConsoleWrites:
    accounts: AccountReader
    contacts: ContactRecords
    takeovers: Takeovers
    replies: ReplyStore
    port_for: PortFor
    last_number: Callable[[str, str], str | None]
    """(account, contact) -> our number the contact last wrote to, if any."""
    audit: AuditLog
    """``contact.reply`` / ``contact.takeover`` / ``contact.handback``, after the change."""

    def reply(
        self, principal: Principal, account: str, contact: str, request: Any, now: datetime
    ) -> Written:
        record = self._account(principal, account)
        numbers = record.own_numbers
        fields = _fields(request, required={"body", "key"}, optional={"from"})
        body, key = fields["body"], fields["key"]
        if not isinstance(body, str) or not body.strip() or len(body) > MAX_REPLY_CHARS:
            raise BadRequest(f"body is the text to send, 1 to {MAX_REPLY_CHARS} characters")
        if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
            raise BadRequest("key is 8-64 letters, digits, '-' or '_', new for each message")
        sender = self._sender(account, contact, numbers, fields.get("from"))
        if opted_out(self.contacts, account, [sender], contact) is not None:
            raise Conflict("opted_out", "this contact opted out of that number: nothing is sent")
        wanted = ConsoleReply(
            reply_id(account, contact, key), account, contact, sender, body, principal.email,
            utc_timestamp(now),
        )  # fmt: skip
        stored, _ = self.replies.create(wanted)
        if (stored.body, stored.from_) != (wanted.body, wanted.from_):
            raise Conflict("key_reused", "this key was used for another message: compose anew")
        step = SendSms(
            step_id=REPLY_STEP_ID, trigger="console", to=contact, from_=sender,
            messaging_service_sid=None, body=body,
        )  # fmt: skip
        view = {"reply_id": stored.reply_id, "from": sender, "segments": segments(body).count}
        try:
            outcome = self.port_for(stored.reply_id, record).perform(step)
        except Waiting as wait:  # paced ("slow down"): nothing sent, the claim released
            raise Unavailable(
                f"not sent: {wait}; send again", retry_after=_seconds_until(wait.retry_at, now)
            ) from None
        except NotPerformed as not_sent:
            raise Unavailable(f"Twilio did not take the message ({not_sent}); send again") from None
        except RetryLater as later:  # another request holds the send, or its outcome is unknown
            state = "unknown" if isinstance(later, OutcomeStillUnknown) else "sending"
            return Written(202, view | {
                "state": state, "detail": str(later),
                "retry_after": _seconds_until(later.retry_at, now),
            })  # fmt: skip
        variables = dict(outcome.variables)
        state = "sent" if outcome.status is OutcomeStatus.DONE else outcome.status.value
        # once per reply (its id), also on a retry that finds it sent: never its text
        self.audit.record(
            actor=stored.by, action="contact.reply", account=account, target=contact,
            detail={"reply_id": stored.reply_id, "from": sender, "state": state,
                    "segments": view["segments"], "sid": variables.get("sid")},
            once=stored.reply_id,
        )  # fmt: skip
        return Written(200, view | {
            "state": state, "sid": variables.get("sid"), "status": variables.get("status"),
            "detail": outcome.detail,
        })  # fmt: skip

    def take_over(
        self, principal: Principal, account: str, contact: str, request: Any, now: datetime
    ) -> Written:
        self._own_numbers(principal, account)
        fields = _fields(request, required=set(), optional={"minutes"})
        try:
            takeover = take_over(account, contact, principal.email, now, fields.get("minutes"))
        except TakeoverInvalid as invalid:
            raise BadRequest(str(invalid)) from None
        self.takeovers.put(takeover)
        self.audit.record(
            actor=principal.email, action="contact.takeover", account=account, target=contact,
            detail={"since": takeover.since, "until": takeover.until},
        )  # fmt: skip
        return Written(200, {"taken_over": takeover.as_dict()})

    def hand_back(
        self, principal: Principal, account: str, contact: str, request: Any, now: datetime
    ) -> Written:
        self._own_numbers(principal, account)
        _fields(request, required=set(), optional=set())
        removed = self.takeovers.delete(account, contact)  # what this very delete removed
        held = removed if removed is not None and removed.active(now) else None
        if held is not None:  # only the request that ended it audits it
            self.audit.record(
                actor=principal.email, action="contact.handback", account=account,
                target=contact, detail={"taken_over_by": held.by, "since": held.since},
            )  # fmt: skip
        return Written(200, {"taken_over": None, "was": held.as_dict() if held else None})

    def _own_numbers(self, principal: Principal, account: str) -> frozenset[str]:
        """The account's numbers, once the account is in the caller's scope."""
        return self._account(principal, account).own_numbers

    def _account(self, principal: Principal, account: str) -> Account:
        """The account's record (read once a request), once it is in the caller's scope."""
        principal.require_account(account)
        record = self.accounts.get(account)
        if record is None:
            raise NotFound(f"no account {account!r}")
        return record

    def _sender(self, account: str, contact: str, numbers: frozenset[str], chosen: Any) -> str:
        if chosen is not None:
            sender = address(chosen, "from") if isinstance(chosen, str) else None
            if sender not in numbers:
                raise BadRequest("from must be one of the account's numbers")
            return str(sender)  # as normalised: the opt-out records know the number itself
        last = self.last_number(account, contact)
        if last in numbers:
            return str(last)
        if len(numbers) == 1:
            return next(iter(numbers))
        raise BadRequest(
            "the contact has not written to a number of this account: name one in 'from'"
        )


class Unavailable(Exception):
    """Nothing was sent, for now (503): sending the same request again is safe (after
    ``retry_after`` seconds when known: the sender's pace)."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _seconds_until(moment: datetime | None, now: datetime) -> int:
    """Whole seconds (at least 1) until ``moment``: when sending again may get further."""
    if moment is None:
        return 1
    return max(1, math.ceil((moment - now).total_seconds()))


def parse_body(event: Mapping[str, Any]) -> dict[str, Any]:
    """A thread write's body (``json_body.json_object_body``, at most ``MAX_REQUEST_BYTES``;
    none: ``{}``)."""
    return json_object_body(event, MAX_REQUEST_BYTES, empty={})


def _fields(request: Any, *, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(request, dict):
        raise BadRequest("the body is a JSON object")
    only(request, required | optional, "field")
    missing = sorted(required - set(request))
    if missing:
        raise BadRequest(f"missing field(s): {', '.join(missing)}")
    return dict(request)
