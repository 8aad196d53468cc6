"""Performing steps for real: Twilio messages and calls, records in DynamoDB, HTTP requests.

Each method turns what happened into an ``EffectResult`` (done / failed, with variables and
the SID created) or raises ``NotPerformed`` when the effect certainly did not happen — the
port then releases the step's claim and the stream retries the record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code, is_transient
from sms_automation.adapters.message_store import to_attributes
from sms_automation.outbound import (
    FinalFailure,
    OutcomeUnknown,
    PlacedCall,
    RetryableFailure,
    SentMessage,
)
from sms_automation.outbound_status import OutboundKind
from sms_automation.processing import http_request
from sms_automation.processing.ledger import StepState
from sms_automation.processing.port import CannotTell, EffectResult, NotPerformed
from sms_automation.triggers import (
    HttpRequest,
    MakeCall,
    RecordItem,
    SendSms,
    Step,
    WaitForReply,
)
from sms_automation.triggers.model import app_table_refusal

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Twilio's clock and ours differ a little; a message created this long before our claim is
# still taken as ours when its recipient, sender and body match.
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

    def find_message(
        self,
        *,
        to: str,
        body: str,
        from_: str | None,
        messaging_service_sid: str | None,
        created_after: datetime,
    ) -> SentMessage | None: ...

    def find_call(self, *, to: str, from_: str, created_after: datetime) -> PlacedCall | None: ...


class OutboundRecorder(Protocol):
    def __call__(
        self, *, sid: str, kind: OutboundKind, to: str, from_: str, step_id: str, status: str
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class EffectSettings:
    status_callback_url: str | None
    records_table: str
    allow_private_networks: bool = False
    app_table: str = ""  # the deployment's own table (TABLE_NAME): record never writes to it


def record_id(message_sid: str, step_id: str) -> str:
    return hashlib.sha256(f"{message_sid}\n{step_id}".encode()).hexdigest()[:32]


class Effects:
    def __init__(
        self,
        *,
        message_sid: str,
        messaging: Callable[[], Messaging],
        dynamodb: DynamoDBClient,
        settings: EffectSettings,
        record_outbound: OutboundRecorder,
        clock: Callable[[], datetime],
        resolver: http_request.Resolver = http_request.resolve,
    ) -> None:
        self._message_sid = message_sid
        self._messaging = messaging  # built on first use: messages without SMS steps need no token
        self._dynamodb = dynamodb
        self._settings = settings
        self._record_outbound = record_outbound
        self._clock = clock
        self._resolver = resolver

    # --- perform -------------------------------------------------------------------------------

    def perform(self, step: Step, idempotency_key: str) -> EffectResult:
        match step:
            case SendSms():
                return self._send_sms(step, idempotency_key)
            case MakeCall():
                return self._make_call(step, idempotency_key)
            case RecordItem():
                return self._record(step)
            case HttpRequest():
                return self._http(step)
            case WaitForReply():  # the port starts waits (conversations), never as an effect
                raise TypeError(f"{step.step_id}: a wait is not an effect")

    def _send_sms(self, step: SendSms, key: str) -> EffectResult:
        started = self._clock()
        outcome = self._messaging().send_sms(
            to=step.to,
            body=step.body,
            from_=step.from_,
            messaging_service_sid=step.messaging_service_sid,
            media_urls=step.media_urls,
            status_callback=self._settings.status_callback_url,
            idempotency_key=key,
        )
        return self._created(step, outcome, started)

    def _make_call(self, step: MakeCall, key: str) -> EffectResult:
        started = self._clock()
        outcome = self._messaging().make_call(
            to=step.to,
            from_=step.from_,
            twiml=step.twiml,
            status_callback=self._settings.status_callback_url,
            idempotency_key=key,
        )
        return self._created(step, outcome, started)

    def _created(
        self,
        step: SendSms | MakeCall,
        outcome: SentMessage | PlacedCall | FinalFailure | RetryableFailure | OutcomeUnknown,
        started: datetime,
    ) -> EffectResult:
        """What a create answered (or a lookup found), recorded as the step's result."""
        kind: OutboundKind = "sms" if isinstance(step, SendSms) else "call"
        noun = "message" if kind == "sms" else "call"
        if isinstance(outcome, OutcomeUnknown):
            # Twilio may have created it (a 5xx, no answer): look before anything else.
            found = self._find_created(step, started)
            if found is None:
                raise NotPerformed(f"Twilio did not create the {noun} ({outcome.detail})")
            outcome = found
        match outcome:
            case SentMessage(sid=sid, status=status) | PlacedCall(sid=sid, status=status):
                sender = (
                    step.from_
                    if isinstance(step, MakeCall)
                    else step.from_ or step.messaging_service_sid or ""
                )
                self._record_outbound(
                    sid=sid,
                    kind=kind,
                    to=step.to,
                    from_=sender,
                    step_id=step.step_id,
                    status=status,
                )
                return EffectResult(
                    StepState.DONE, f"{noun} {sid} {status}", {"sid": sid, "status": status}, sid
                )
            case FinalFailure():
                return EffectResult(StepState.FAILED, _final_detail(outcome))
            case RetryableFailure(detail=detail):
                raise NotPerformed(f"Twilio did not take the {noun}: {detail}")

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
            self._dynamodb.put_item(TableName=table, Item=to_attributes(item))
        except AWS_ERRORS as error:
            # For now (throttled, unreachable): released, the stream retries. For good (no such
            # table, no permission, an invalid item): the step failed; a retry would too.
            detail = f"could not record to {table}: {error_code(error)}"
            if is_transient(error):
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

    # --- after an interrupted attempt ----------------------------------------------------------

    def find_performed(self, step: Step, since: str) -> EffectResult | None:
        started = datetime.fromisoformat(since.replace("Z", "+00:00"))
        match step:
            case SendSms() | MakeCall():
                found = self._find_created(step, started)
                return None if found is None else self._created(step, found, started)
            case RecordItem():
                return None  # writing the same item again changes nothing
            case HttpRequest():
                if step.method.upper() in SAFE_HTTP_METHODS:
                    return None
                raise CannotTell(f"a {step.method.upper()} may have reached {step.url}")
            case WaitForReply():
                raise TypeError(f"{step.step_id}: a wait is not an effect")

    def _find_created(
        self, step: SendSms | MakeCall, started: datetime
    ) -> SentMessage | PlacedCall | None:
        if isinstance(step, SendSms):
            return self._find_sms(step, started)
        return self._find_call(step, started)

    def _find_sms(self, step: SendSms, started: datetime) -> SentMessage | None:
        return self._messaging().find_message(
            to=step.to,
            body=step.body,
            from_=step.from_,
            messaging_service_sid=step.messaging_service_sid,
            created_after=started - CLOCK_SKEW,
        )

    def _find_call(self, step: MakeCall, started: datetime) -> PlacedCall | None:
        return self._messaging().find_call(
            to=step.to, from_=step.from_, created_after=started - CLOCK_SKEW
        )


def _final_detail(failure: FinalFailure) -> str:
    code = f" (Twilio error {failure.code})" if failure.code is not None else ""
    return f"{failure.explanation}{code}"
