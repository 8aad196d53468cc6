"""What the processing core needs from the outside, as ``typing.Protocol`` ports.

The adapters (``adapters.evaluation_store``, ``adapters.step_ledger``, ``adapters.record_table``,
``adapters.retry_queue``, ``adapters.stream_records``) implement them over DynamoDB and SQS; the
unit tests' in-memory fakes (``tests/support/fakes.py``) implement the same contracts, held to
them by one suite run against both (``tests/integration/test_port_contracts.py``,
``test_step_ledger_lease.py``). The domain imports this module, never an adapter; which
implementation goes where is decided by the composition (``composition.runtime``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from sms_automation.processing.evaluations import EvaluationRecord
from sms_automation.processing.ledger import StepEntry, StepState


class EvaluationStore(Protocol):
    """One evaluation per message (``evaluations``): the first write (``start`` or
    ``finish_once``) pins it, a later one counts itself and gets the pinned record back."""

    def get(self, message_sid: str) -> EvaluationRecord | None: ...

    def start(
        self,
        message_sid: str,
        account: str,
        *,
        trigger_version: int,
        fingerprint: str,
        now: str,
        status: str = "running",
        timezone: str = "",
    ) -> EvaluationRecord: ...

    def finish(
        self,
        message_sid: str,
        *,
        status: str,
        now: str,
        matched: Sequence[str],
        diagnostics: Sequence[Mapping[str, Any]],
        paused_at: str | None,
    ) -> EvaluationRecord:
        """The finished record, as written (no second read)."""
        ...

    def finish_once(
        self,
        message_sid: str,
        account: str,
        *,
        trigger_version: int,
        fingerprint: str,
        timezone: str,
        now: str,
        status: str,
        matched: Sequence[str],
        diagnostics: Sequence[Mapping[str, Any]],
    ) -> EvaluationRecord:
        """An evaluation that performed nothing, written once and finished, if it is the first
        write (started and finished ``now``); else, like ``start``, the record another attempt
        wrote first, this attempt counted on it (``attempts`` > 1)."""
        ...


class ClaimLost(Exception):
    """The claim a ledger change was conditional on is no longer the caller's (another attempt
    took it over, or it was finished or released)."""


class StepLedger(Protocol):
    """One record per side-effecting step (the rules: ``ledger``). Every change but ``finish``
    is conditional on the claim its caller holds (``held``: the ``started_at`` it saw)."""

    def claim(
        self, message_sid: str, step_id: str, kind: str, now: str, lease_until: str
    ) -> StepEntry | None:
        """``None`` when this attempt claimed the step, else the record that was there."""
        ...

    def take_over(self, message_sid: str, entry: StepEntry, now: str, lease_until: str) -> bool:
        """True for the one attempt that takes over ``entry`` (still as it was seen)."""
        ...

    def record_unknown(
        self, message_sid: str, step_id: str, *, held: str, since: str, now: str, detail: str
    ) -> None:
        """Keep the claim with its outcome unknown (one more look, the lease given up);
        ``ClaimLost`` when the claim held since ``held`` is no longer there."""
        ...

    def abandon(self, message_sid: str, step_id: str, *, held: str, now: str) -> None:
        """End the lease now; nothing when the claim is no longer the caller's."""
        ...

    def finish(
        self,
        message_sid: str,
        step_id: str,
        state: StepState,
        *,
        now: str,
        detail: str = "",
        variables: Mapping[str, Any] | None = None,
        resource_sid: str = "",
    ) -> None: ...

    def release(self, message_sid: str, step_id: str, *, held: str) -> None:
        """Forget the claim (only while started and held since ``held``; else nothing)."""
        ...

    def get(self, message_sid: str, step_id: str) -> StepEntry | None: ...


class RecordRefused(Exception):
    """A record step's write failed: ``transient`` (throttled, unreachable: a later attempt may
    succeed) or for good (no such table, no permission, an invalid item). ``code`` names why
    (an AWS error code or the exception's class), nothing of the item."""

    def __init__(self, code: str, *, transient: bool) -> None:
        super().__init__(code)
        self.code = code
        self.transient = transient


class RecordTables(Protocol):
    """Where ``record`` steps write their items (a customer's own tables)."""

    def put(self, table: str, item: Mapping[str, Any]) -> None:
        """Write ``item`` (the same one on every replay); ``RecordRefused`` when it failed."""
        ...


class CallRefused(Exception):
    """An AWS action's call (``send_email``, ...) was answered with a 4xx error, or never left:
    certainly not performed. ``transient``: a later attempt may succeed (throttled,
    unreachable). ``code`` names why (an AWS error code or the exception's class)."""

    def __init__(self, code: str, *, transient: bool) -> None:
        super().__init__(code)
        self.code = code
        self.transient = transient


class CallUnanswered(Exception):
    """An AWS action's call was sent and no answer came (a read timeout, a dropped
    connection), or a 5xx came (a server failure, maybe after the work): it may have been
    performed."""


class Mailer(Protocol):
    """Sends ``send_email`` steps' e-mails (``adapters.ses_mailer``), one try per call (no
    retry of its own: a retried send could deliver twice)."""

    def send_email(
        self,
        *,
        from_: str,
        to: Sequence[str],
        reply_to: str | None,
        subject: str,
        text: str | None,
        html: str | None,
    ) -> str:
        """The message id; ``CallRefused`` or ``CallUnanswered`` when it failed."""
        ...


class EventPublisher(Protocol):
    """Puts ``publish_event`` steps' events (``adapters.eventbridge_publisher``), one try per
    call."""

    def publish(self, *, bus: str, source: str, detail_type: str, detail: str) -> str:
        """The event id; ``CallRefused`` or ``CallUnanswered`` when it failed."""
        ...


MAX_RESULT_BYTES: Final = 64 * 1024
"""The most of a synchronous invocation's result kept (``Invocation.payload``)."""


@dataclass(frozen=True, slots=True)
class Invocation:
    """A Lambda invocation's answer: ``payload`` (at most the port's bound; empty for an
    asynchronous one) and the function's error type (``""``: none). ``result_too_large``: the
    function ran but answered more than the bound (``payload`` then empty)."""

    status: int
    payload: bytes = b""
    function_error: str = ""
    result_too_large: bool = False


class FunctionInvoker(Protocol):
    """Invokes ``invoke_lambda`` steps' functions (``adapters.lambda_functions``), one try per
    call."""

    def invoke(
        self, *, function: str, payload: str, asynchronous: bool, timeout_seconds: float
    ) -> Invocation:
        """``CallRefused`` or ``CallUnanswered`` when the invocation failed (a function error
        is an answer: ``function_error``)."""
        ...


class RetryQueue(Protocol):
    """The processor's retry queue (``deferral``): a deferral's body, delayed."""

    def send(self, body: str, delay_seconds: int) -> None: ...


class StoredRecords(Protocol):
    """A message or automation run as a stream record again, rebuilt from its item as stored
    now (what the processor's filter and ``message_from_record`` expect); ``None`` when the
    item is gone."""

    def replay_record(
        self, message_sid: str, *, sequence_number: str, stream_arn: str, now: datetime
    ) -> dict[str, Any] | None: ...
