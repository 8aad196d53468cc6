"""Performing steps for real: Twilio messages and calls, records in DynamoDB, HTTP requests.

Each method turns what happened into an ``EffectResult`` (done / failed, with variables and
the SID created) or raises ``NotPerformed`` when the effect certainly did not happen — the
port then releases the step's claim and the stream retries the record — or ``MaybePerformed``
when a create may have happened and nothing found is known to be this step's yet.

Which message or call is a step's (``_reconcile``; the rules are in ``port``'s docstring):
every create names its step in its ``StatusCallback`` URL, and the outbound item of a Sid keeps
the step that recorded it and the step its callback named. Twilio's list gives the candidates
(recipient, sender, body, created since the claim); those items decide among them.

Every SMS is counted by the send guard first (``send_guard``: the account's cap per sender and
contact); one over the cap is not sent and the step fails with the reason. A counter that
cannot answer for now is ``NotPerformed``: the send is retried, never lost and never made
uncounted.

Quiet hours: a send the account's send window holds (``processing.quiet_hours``; a trigger's
``send_sms`` and ``make_call``, an automation's) is not made outside it: ``QuietHours`` (a
``Waiting``) releases the step's claim and retries it when the window opens. Then every SMS
takes its segments from its sender's bucket (``processing.pacing``; a ``bulk`` step or message
only above the replies' reserve): ``SendPaced`` when the sender has no capacity for it now, a
bucket that cannot answer is ``NotPerformed``. Twilio's "slow down" answers
(``outbound.SENDER_OVERLOADED_CODES``) slow the sender and retry the send later (``SendPaced``).

No SMS or call goes to a contact who opted out (``opt_out``: STOP to the sender, or Twilio's
21610 for an earlier send): the step fails with the reason, before Twilio is called. A 21610
answer marks the contact opted out.

No automatic SMS or call goes to a contact a person has taken over (``takeover``): the step
finishes ``paused`` with who and since when, before the cap counts it and before Twilio is
called; looked up only here, when a send is due. A takeover that lands after this check, while
the create is on its way, does not stop that one send; every later step sees it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.opt_out import REJECTED_BY_TWILIO, ContactRecords, ContactState, opted_out
from sms_automation.outbound import (
    FinalFailure,
    OutcomeUnknown,
    PlacedCall,
    RetryableFailure,
    SentMessage,
    sender_overloaded,
)
from sms_automation.processing import http_request
from sms_automation.processing.ledger import StepState
from sms_automation.processing.pacing import (
    Pacer,
    PacingUnavailable,
    Priority,
    Sender,
    SendPaced,
    segments,
)
from sms_automation.processing.port import (
    SETTLE,
    CannotTell,
    EffectResult,
    MaybePerformed,
    NotPerformed,
    idempotency_key,
)
from sms_automation.processing.ports import (
    MAX_RESULT_BYTES,
    CallRefused,
    CallUnanswered,
    EventPublisher,
    FunctionInvoker,
    Mailer,
    RecordRefused,
    RecordTables,
)
from sms_automation.processing.quiet_hours import outside_window
from sms_automation.send_guard import CounterUnavailable, Lane, SendGuard
from sms_automation.takeover import Takeovers, current
from sms_automation.triggers import (
    HttpRequest,
    MakeCall,
    RecordItem,
    SendSms,
    Step,
    WaitForReply,
)
from sms_automation.triggers.email_rendering import address_allowed, default_sender
from sms_automation.triggers.model import app_table_refusal
from sms_automation.triggers.plan import InvokeLambda, PublishEvent, SendEmail
from sms_automation.webhooks.receive_status import OutboundKind, OutboundOwner, step_callback_url

# Twilio's clock and ours differ a little; a message created this long before our claim is
# still a candidate when its recipient, sender and body match (whose it is: ``_reconcile``).
CLOCK_SKEW = timedelta(seconds=30)
SAFE_HTTP_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Messaging(Protocol):
    """What the effects need from the Twilio adapter (``adapters.twilio_messaging``)."""

    def send_sms(
        self,
        *,
        to: str,
        body: str = "",
        from_: str | None = None,
        messaging_service_sid: str | None = None,
        media_urls: tuple[str, ...] = (),
        status_callback: str | None = None,
        idempotency_key: str | None = None,
    ) -> SentMessage | FinalFailure | RetryableFailure | OutcomeUnknown: ...

    def make_call(
        self,
        *,
        to: str,
        from_: str,
        twiml: str,
        status_callback: str | None = None,
        idempotency_key: str | None = None,
    ) -> PlacedCall | FinalFailure | RetryableFailure | OutcomeUnknown: ...

    def find_messages(
        self,
        *,
        to: str,
        body: str,
        from_: str | None,
        messaging_service_sid: str | None,
        created_after: datetime,
    ) -> list[SentMessage]: ...

    def find_calls(self, *, to: str, from_: str, created_after: datetime) -> list[PlacedCall]: ...


class OutboundRecorder(Protocol):
    def __call__(
        self,
        *,
        sid: str,
        kind: OutboundKind,
        to: str,
        from_: str,
        step_id: str,
        status: str,
        step_key: str,
        exclusive: bool,
    ) -> bool:
        """Record the Sid as the step's; ``exclusive``: only if no other step holds it (False
        when one does)."""
        ...


OutboundOwners = Callable[[str], OutboundOwner | None]
"""Sid -> which step it belongs to as far as our outbound items know (``None``: no item)."""
QuietHoursRule = Callable[[datetime], datetime | None]
"""At ``now``: ``None`` when automatic sends may be made, else when the account's window opens."""
OVERLOADED_RETRY = timedelta(seconds=2)
"""After Twilio's "slow down": the least wait before the send is tried again."""


@dataclass(frozen=True, slots=True)
class EffectSettings:
    status_callback_url: str | None
    records_table: str
    allow_private_networks: bool = False
    app_table: str = ""  # the deployment's own table (TABLE_NAME): record never writes to it
    email_senders: tuple[str, ...] = ()
    """The addresses and domains ``send_email`` may send from (the ``EmailSenders`` parameter);
    empty: no e-mail is sent."""
    event_bus_arns: tuple[str, ...] = ()
    """The buses ``publish_event`` may put events on (``EventBusArns``); empty: none."""
    function_arns: tuple[str, ...] = ()
    """The functions ``invoke_lambda`` may invoke (``InvokeFunctionArns``); empty: none."""


NO_EMAIL_SENDERS = (
    "refused: this deployment allows no e-mail sender (its EmailSenders parameter is empty)"
)
EVENT_SOURCE = "sms-automation"
"""Every ``publish_event``'s source: a rule matches the project's events by it."""


def allowed_arn(name_or_arn: str, arns: tuple[str, ...], separator: str) -> str | None:
    """The ARN among ``arns`` that ``name_or_arn`` names (the ARN itself, or the name after
    ``separator``: ``:event-bus/``, ``:function:``), else ``None``."""
    for arn in arns:
        if name_or_arn == arn or arn.endswith(f"{separator}{name_or_arn}"):
            return arn
    return None


def record_id(message_sid: str, step_id: str) -> str:
    return hashlib.sha256(f"{message_sid}\n{step_id}".encode()).hexdigest()[:32]


class Effects:
    def __init__(
        self,
        *,
        message_sid: str,
        messaging: Callable[[], Messaging],
        records: RecordTables,
        settings: EffectSettings,
        record_outbound: OutboundRecorder,
        owners: OutboundOwners,
        clock: Callable[[], datetime],
        resolver: http_request.Resolver = http_request.resolve,
        account: str = "",
        send_guard: SendGuard | None = None,
        contacts: ContactRecords | None = None,
        on_opted_out: Callable[[], None] = lambda: None,
        takeovers: Takeovers | None = None,
        pacer: Pacer | None = None,
        quiet_hours: QuietHoursRule = lambda now: None,
        priority: Priority = Priority.REPLY,
        mailer: Callable[[], Mailer] | None = None,
        events: Callable[[], EventPublisher] | None = None,
        functions: Callable[[], FunctionInvoker] | None = None,
    ) -> None:
        """``takeovers``: None for sends a person makes (the console's reply), which a
        takeover never pauses. ``priority``: the message's (a broadcast row's run is ``bulk``);
        a ``bulk`` step is bulk whatever its message's."""
        self._pacer = pacer
        self._mailer = mailer  # built on first use, like messaging
        self._events = events
        self._functions = functions
        self._quiet_hours = quiet_hours
        self._priority = priority
        self._message_sid = message_sid
        self._takeovers = takeovers
        self._account = account
        self._send_guard = send_guard
        self._contacts = contacts
        self._on_opted_out = on_opted_out  # counts a send not made (the handlers' metric)
        self._messaging = messaging  # built on first use: messages without SMS steps need no token
        self._records = records
        self._settings = settings
        self._record_outbound = record_outbound
        self._owners = owners
        self._clock = clock
        self._resolver = resolver

    # --- perform -------------------------------------------------------------------------------

    def perform(self, step: Step, idempotency_key: str) -> EffectResult:  # noqa: PLR0911 (a case per kind)
        match step:
            case SendSms():
                return self._send_sms(step, idempotency_key)
            case MakeCall():
                return self._make_call(step, idempotency_key)
            case RecordItem():
                return self._record(step)
            case HttpRequest():
                return self._http(step)
            case SendEmail():
                return self._send_email(step)
            case PublishEvent():
                return self._publish_event(step)
            case InvokeLambda():
                return self._invoke_lambda(step)
            case WaitForReply():  # the port starts conversations, never as an effect
                raise TypeError(f"{step.step_id}: a wait is not an effect")

    def _send_sms(self, step: SendSms, key: str) -> EffectResult:
        # An opted-out or taken-over contact first: a send not made must not use up the cap; a
        # send that waits for its window is counted when it is made.
        refused = self._to_opted_out(step) or self._taken_over(step)
        if refused is not None:
            return refused
        if step.quiet_hours:
            self._wait_for_window(step)
        refused = self._over_send_cap(step, key)
        if refused is not None:
            return refused
        self._pace(step, key)
        started = self._clock()
        outcome = self._messaging().send_sms(
            to=step.to,
            body=step.body,
            from_=step.from_,
            messaging_service_sid=step.messaging_service_sid,
            media_urls=step.media_urls,
            status_callback=self._callback_url(key),
            idempotency_key=key,
        )
        return self._created(step, outcome, started)

    def _wait_for_window(self, step: SendSms | MakeCall) -> None:
        """Outside the account's send window: ``QuietHours``, retried when it opens."""
        opens = self._quiet_hours(self._clock())
        if opens is not None:
            raise outside_window(
                f"{step.step_id}: outside the account's send window (quiet hours); "
                f"sent when it opens at {utc_timestamp(opens)}",
                opens,
            )

    def _pace(self, step: SendSms, key: str) -> None:
        """Take the send's segments from its sender's bucket (sleeping a short wait), or
        ``SendPaced``; ``NotPerformed`` when the bucket cannot answer."""
        if self._pacer is None:
            return
        priority = Priority.BULK if step.priority == "bulk" else self._priority
        try:
            self._pacer.admit(
                self._sender(step), cost=segments(step.body), priority=priority, key=key
            )
        except PacingUnavailable as unavailable:
            raise NotPerformed(str(unavailable)) from None

    def _sender(self, step: SendSms) -> Sender:
        return Sender(self._account, step.from_ or step.messaging_service_sid or "")

    def _slow_down(
        self, step: SendSms | MakeCall, failure: FinalFailure | RetryableFailure
    ) -> None:
        """Twilio said "slow down" for an SMS: slow its sender, send again later."""
        if not isinstance(step, SendSms) or not sender_overloaded(failure):
            return
        if self._pacer is not None:
            with suppress(PacingUnavailable):  # the send is retried later all the same
                self._pacer.slow_down(self._sender(step))
        wait = OVERLOADED_RETRY
        if isinstance(failure, RetryableFailure) and failure.retry_after_seconds:
            wait = max(wait, timedelta(seconds=failure.retry_after_seconds))
        raise SendPaced(
            f"{step.step_id}: Twilio asked to send slower (error {failure.code or 429}); "
            "the sender is slowed and the message sent later",
            retry_at=self._clock() + wait,
        )

    def _over_send_cap(self, step: SendSms, key: str) -> EffectResult | None:
        """Count the send on its lane; the step's failed result when it is over the cap."""
        if self._send_guard is None:
            return None
        sender = step.from_ or step.messaging_service_sid or ""
        try:
            refusal = self._send_guard.admit(Lane(self._account, sender, step.to), key)
        except CounterUnavailable as unavailable:
            raise NotPerformed(str(unavailable)) from None
        return None if refusal is None else EffectResult(StepState.FAILED, refusal.detail)

    def _to_opted_out(self, step: SendSms | MakeCall) -> EffectResult | None:
        """The step's failed result when its contact opted out of its sender."""
        if self._contacts is None:
            return None
        senders = (
            (step.from_,)
            if isinstance(step, MakeCall)
            else (step.from_, step.messaging_service_sid)
        )
        state = opted_out(self._contacts, self._account, [s or "" for s in senders], step.to)
        if state is None:
            return None
        self._on_opted_out()
        return EffectResult(StepState.FAILED, state.refusal())

    def _taken_over(self, step: SendSms | MakeCall) -> EffectResult | None:
        """The step's paused result when a person has taken its contact over."""
        if self._takeovers is None:
            return None
        takeover = current(self._takeovers, self._account, step.to, self._clock())
        return None if takeover is None else EffectResult(StepState.PAUSED, takeover.pause_detail())

    def _mark_opted_out(self, step: SendSms | MakeCall, failure: FinalFailure) -> None:
        """Twilio refused with 21610: the contact replied STOP to the sender."""
        sender = (
            step.from_ if isinstance(step, MakeCall) else step.from_ or step.messaging_service_sid
        )
        if self._contacts is None or str(failure.code) != REJECTED_BY_TWILIO or not sender:
            return
        now = utc_timestamp(self._clock())
        self._contacts.record(
            ContactState(
                self._account, sender, step.to, True, REJECTED_BY_TWILIO, now, self._message_sid
            )
        )

    def _make_call(self, step: MakeCall, key: str) -> EffectResult:
        refused = self._to_opted_out(step) or self._taken_over(step)
        if refused is not None:
            return refused
        self._wait_for_window(step)
        started = self._clock()
        outcome = self._messaging().make_call(
            to=step.to,
            from_=step.from_,
            twiml=step.twiml,
            status_callback=self._callback_url(key),
            idempotency_key=key,
        )
        return self._created(step, outcome, started)

    def _callback_url(self, key: str) -> str | None:
        """The status callback URL, naming the step (its idempotency key)."""
        base = self._settings.status_callback_url
        return step_callback_url(base, key) if base else None

    def _created(
        self,
        step: SendSms | MakeCall,
        outcome: SentMessage | PlacedCall | FinalFailure | RetryableFailure | OutcomeUnknown,
        started: datetime,
    ) -> EffectResult:
        """What a create answered, recorded as the step's result."""
        noun = "message" if isinstance(step, SendSms) else "call"
        match outcome:
            case OutcomeUnknown(detail=detail):
                # Twilio may have created it (a 5xx, no answer): look before anything else.
                found = self._reconcile(step, started)
                if found is None:
                    raise MaybePerformed(f"Twilio may have created the {noun} ({detail})")
                return found
            case SentMessage() | PlacedCall():
                self._record_as_steps(step, outcome, exclusive=False)
                return _done(outcome, noun)
            case FinalFailure():
                self._slow_down(step, outcome)
                self._mark_opted_out(step, outcome)
                return EffectResult(StepState.FAILED, _final_detail(outcome))
            case RetryableFailure(detail=detail):
                self._slow_down(step, outcome)
                raise NotPerformed(f"Twilio did not take the {noun}: {detail}")

    def _record_as_steps(
        self, step: SendSms | MakeCall, created: SentMessage | PlacedCall, *, exclusive: bool
    ) -> bool:
        sender = (
            step.from_ if isinstance(step, MakeCall) else step.from_ or step.messaging_service_sid
        )
        return self._record_outbound(
            sid=created.sid,
            kind="sms" if isinstance(step, SendSms) else "call",
            to=step.to,
            from_=sender or "",
            step_id=step.step_id,
            status=created.status,
            step_key=idempotency_key(self._message_sid, step.step_id),
            exclusive=exclusive,
        )

    def _reconcile(self, step: SendSms | MakeCall, since: datetime) -> EffectResult | None:
        """The step's message or call among Twilio's candidates, credited to it; ``None`` when
        no candidate can be this step's. Raises ``MaybePerformed`` while a candidate no step
        holds is too young to take (its maker may be about to record it)."""
        key = idempotency_key(self._message_sid, step.step_id)
        noun = "message" if isinstance(step, SendSms) else "call"
        nobodys: list[SentMessage | PlacedCall] = []
        for candidate in self._find_created(step, since):  # newest first
            owner = self._owners(candidate.sid)
            belongs = (
                None if owner is None else owner.belongs_to(self._message_sid, step.step_id, key)
            )
            if belongs is None:
                nobodys.append(candidate)
            elif belongs and self._record_as_steps(step, candidate, exclusive=True):
                return _done(candidate, noun)
        settled_before = self._clock() - SETTLE
        settled = [c for c in nobodys if (_created_at(c) or settled_before) < settled_before]
        for candidate in reversed(settled):  # the oldest first
            if self._record_as_steps(step, candidate, exclusive=True):
                return _done(candidate, noun)
        young = [c for c in nobodys if c not in settled]
        if young:
            raise MaybePerformed(
                f"{len(young)} {noun}(s) like this step's, created since it was claimed, not yet "
                "identified (its status callback names the step that made it)"
            )
        return None

    def _record(self, step: RecordItem) -> EffectResult:
        """The same item on every replay (its key is derived from message and step)."""
        table = step.table or self._settings.records_table
        if table == self._settings.app_table:  # accounts, messages, triggers: never a record's
            return EffectResult(StepState.FAILED, f"refused: {app_table_refusal(table)}")
        item: dict[str, Any] = dict(step.item)
        if step.table is None:
            item = {
                "record_id": record_id(self._message_sid, step.step_id),
                "message_sid": self._message_sid,
                "trigger": step.trigger,
                "recorded_at": self._clock().isoformat(timespec="milliseconds"),
                **item,
            }
        try:
            self._records.put(table, item)
        except RecordRefused as error:
            # For now (throttled, unreachable): released, the stream retries. For good (no such
            # table, no permission, an invalid item): the step failed; a retry would too.
            detail = f"could not record to {table}: {error.code}"
            if error.transient:
                raise NotPerformed(detail) from error
            return EffectResult(StepState.FAILED, detail)
        return EffectResult(StepState.DONE, f"recorded to {table}", {"table": table})

    def _http(self, step: HttpRequest) -> EffectResult:
        try:
            variables = http_request.send(
                step,
                allow_private=self._settings.allow_private_networks,
                resolver=self._resolver,
            )
        except http_request.DestinationRefused as refused:
            return EffectResult(StepState.FAILED, f"refused: {refused}")
        except http_request.RequestInvalid as invalid:
            return EffectResult(StepState.FAILED, f"not sent: {invalid}")
        except http_request.TransportFailed as failed:
            if failed.retry_later:
                raise NotPerformed(str(failed)) from failed
            return EffectResult(StepState.FAILED, str(failed))
        return EffectResult(
            StepState.DONE, f"{step.method.upper()} answered {variables['status']}", variables
        )

    def _send_email(self, step: SendEmail) -> EffectResult:
        """From a sender the deployment allows; one try (``CallUnanswered``: maybe sent)."""
        allowed = self._settings.email_senders
        if not allowed or self._mailer is None:
            return EffectResult(StepState.FAILED, NO_EMAIL_SENDERS)
        sender = step.from_ or default_sender(allowed)
        if sender is None or not address_allowed(sender, allowed):
            return EffectResult(
                StepState.FAILED,
                "refused: the sender is not among the deployment's EmailSenders"
                if sender
                else "refused: 'from' is not set and EmailSenders names no full address",
            )
        mailer = self._mailer
        message_id = _aws_call(
            "SES did not send the e-mail",
            lambda: mailer().send_email(
                from_=sender,
                to=step.to,
                reply_to=step.reply_to,
                subject=step.subject,
                text=step.text,
                html=step.html,
            ),
        )
        if isinstance(message_id, EffectResult):
            return message_id
        return EffectResult(StepState.DONE, f"e-mail {message_id} sent", {"message_id": message_id})

    def _publish_event(self, step: PublishEvent) -> EffectResult:
        """On a bus the deployment names; one try (``CallUnanswered``: maybe put)."""
        bus = allowed_arn(step.bus, self._settings.event_bus_arns, ":event-bus/")
        if bus is None or self._events is None:
            return EffectResult(
                StepState.FAILED,
                f"refused: the bus {step.bus!r} is not among the deployment's EventBusArns",
            )
        events = self._events
        event_id = _aws_call(
            "EventBridge did not put the event",
            lambda: events().publish(
                bus=bus, source=EVENT_SOURCE, detail_type=step.detail_type, detail=step.detail
            ),
        )
        if isinstance(event_id, EffectResult):
            return event_id
        return EffectResult(StepState.DONE, f"event {event_id} put", {"event_id": event_id})

    def _invoke_lambda(self, step: InvokeLambda) -> EffectResult:
        """A function the deployment names; one try (``CallUnanswered``: maybe run)."""
        function = allowed_arn(step.function, self._settings.function_arns, ":function:")
        if function is None or self._functions is None:
            return EffectResult(
                StepState.FAILED,
                f"refused: the function {step.function!r} is not among the deployment's "
                "InvokeFunctionArns",
            )
        functions = self._functions
        answer = _aws_call(
            "Lambda did not invoke the function",
            lambda: functions().invoke(
                function=function,
                payload=step.payload,
                asynchronous=step.asynchronous,
                timeout_seconds=step.timeout_seconds,
            ),
        )
        if isinstance(answer, EffectResult):
            return answer
        if answer.function_error:
            return EffectResult(StepState.FAILED, f"the function failed: {answer.function_error}")
        if answer.result_too_large:
            return EffectResult(
                StepState.FAILED,
                f"the function ran (answered {answer.status}) but its result is over "
                f"{MAX_RESULT_BYTES // 1024} KB: not kept; not repeated",
            )
        if step.asynchronous:
            return EffectResult(StepState.DONE, "queued", {"status": answer.status})
        return EffectResult(
            StepState.DONE,
            f"the function answered {answer.status}",
            {"status": answer.status, "result": _json_or_text(answer.payload), "error": ""},
        )

    # --- after an interrupted attempt ----------------------------------------------------------

    def find_performed(self, step: Step, since: str) -> EffectResult | None:
        started = datetime.fromisoformat(since.replace("Z", "+00:00"))
        match step:
            case SendSms() | MakeCall():
                return self._reconcile(step, started)
            case RecordItem():
                return None  # writing the same item again changes nothing
            case SendEmail():
                raise CannotTell("SES keeps no list of sent e-mail to look in")
            case PublishEvent():
                raise CannotTell("EventBridge keeps no list of put events to look in")
            case InvokeLambda():
                raise CannotTell("Lambda keeps no list of invocations to look in")
            case HttpRequest():
                if step.method.upper() in SAFE_HTTP_METHODS:
                    return None
                raise CannotTell(f"a {step.method.upper()} may have reached {step.url}")
            case WaitForReply():
                raise TypeError(f"{step.step_id}: a wait is not an effect")

    def _find_created(
        self, step: SendSms | MakeCall, started: datetime
    ) -> list[SentMessage] | list[PlacedCall]:
        if isinstance(step, SendSms):
            return self._messaging().find_messages(
                to=step.to,
                body=step.body,
                from_=step.from_,
                messaging_service_sid=step.messaging_service_sid,
                created_after=started - CLOCK_SKEW,
            )
        return self._messaging().find_calls(
            to=step.to, from_=step.from_, created_after=started - CLOCK_SKEW
        )


def _done(created: SentMessage | PlacedCall, noun: str) -> EffectResult:
    sid, status = created.sid, created.status
    return EffectResult(
        StepState.DONE, f"{noun} {sid} {status}", {"sid": sid, "status": status}, sid
    )


def _created_at(created: SentMessage | PlacedCall) -> datetime | None:
    if created.date_created is None:
        return None
    return datetime.fromisoformat(created.date_created)


def _final_detail(failure: FinalFailure) -> str:
    code = f" (Twilio error {failure.code})" if failure.code is not None else ""
    return f"{failure.explanation}{code}"


def _aws_call[T](refused: str, call: Callable[[], T]) -> T | EffectResult:
    """``call()``'s answer; refused for good: the step's failed result; for now:
    ``NotPerformed``; unanswered: ``MaybePerformed`` (never resent: ``find_performed``)."""
    try:
        return call()
    except CallRefused as error:
        detail = f"{refused}: {error.code}"
        if error.transient:
            raise NotPerformed(detail) from None
        return EffectResult(StepState.FAILED, detail)
    except CallUnanswered as unanswered:
        raise MaybePerformed(f"no answer, it may have been performed ({unanswered})") from None


def _json_or_text(raw: bytes) -> Any:
    """A function's answer as the JSON it is, else as text (invalid UTF-8 replaced)."""
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text
