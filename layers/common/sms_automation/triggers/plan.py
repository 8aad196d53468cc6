"""What the engine asks the outside world to do: rendered steps, their outcomes, the port.

The engine never performs a side effect. For each side-effecting step it builds a fully
rendered, immutable ``Step`` and hands it to an ``ActionPort``; the outcome it gets back may
carry variables (an HTTP response) that later steps use. The stream processor supplies the real
port (Twilio, DynamoDB, HTTP, idempotency records); ``DryRunPort`` records and performs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from sms_automation.triggers.outcomes import ConversationOutcome, OutcomeStatus
from sms_automation.triggers.variables import VarValue


@dataclass(frozen=True, slots=True, kw_only=True)
class SendSms:
    step_id: str
    trigger: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    media_urls: tuple[str, ...] = ()
    priority: Literal["reply", "bulk"] = "reply"
    """Who goes first at the sender's send rate (``processing.pacing``): a reply (answering a
    message, a conversation's prompt, a console reply) or bulk (a broadcast's row, the prompt
    and reminders of a conversation it opened)."""
    quiet_hours: bool = True
    """Held outside the account's send window (``processing.quiet_hours``). False for the sends
    whose caller times them (a conversation's prompt and reminders), a person's console reply
    and the HELP answer."""
    kind: Literal["send_sms"] = "send_sms"


@dataclass(frozen=True, slots=True, kw_only=True)
class MakeCall:
    step_id: str
    trigger: str
    to: str
    from_: str
    twiml: str
    kind: Literal["make_call"] = "make_call"


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordItem:
    step_id: str
    trigger: str
    table: str | None
    """``None``: the project's own records table."""
    item: Mapping[str, str]
    kind: Literal["record"] = "record"


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRequest:
    """The port's outcome variables for a response: ``status`` (int), ``body`` (text),
    ``json`` (the parsed body, when it is JSON) and ``headers`` (name -> value); the engine
    stores them under the action's ``into`` name (``%crm.status%``)."""

    step_id: str
    trigger: str
    method: str
    url: str
    headers: Mapping[str, str]
    body: str | None
    timeout_seconds: float
    kind: Literal["http_request"] = "http_request"


@dataclass(frozen=True, slots=True, kw_only=True)
class SendEmail:
    """An e-mail, rendered and checked (``triggers.email_rendering``); ``from_`` ``None``: the
    deployment's default sender. The port's outcome variables: ``message_id``."""

    step_id: str
    trigger: str
    from_: str | None
    to: tuple[str, ...]
    reply_to: str | None
    subject: str
    text: str | None
    html: str | None
    kind: Literal["send_email"] = "send_email"


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishEvent:
    """An EventBridge event: ``detail`` is JSON text (an object). The port's outcome variables:
    ``event_id``."""

    step_id: str
    trigger: str
    bus: str
    detail_type: str
    detail: str
    kind: Literal["publish_event"] = "publish_event"


@dataclass(frozen=True, slots=True, kw_only=True)
class InvokeLambda:
    """A Lambda invocation: ``payload`` is JSON text. The port's outcome variables (sync):
    ``status``, ``result`` (the parsed answer), ``error`` (the function's error type or "")."""

    step_id: str
    trigger: str
    function: str
    asynchronous: bool
    payload: str
    timeout_seconds: float
    kind: Literal["invoke_lambda"] = "invoke_lambda"


@dataclass(frozen=True, slots=True)
class ReminderSpec:
    after_seconds: int
    text: str


@dataclass(frozen=True, slots=True)
class AnswerPattern:
    """An ``expect`` pattern (RE2, searched anywhere in the trimmed reply)."""

    regex: str
    case_sensitive: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitForReply:
    """Send ``prompt`` (if any) from ``from_`` to ``to``, then wait for the contact's answer.

    The port answers ``pending`` until the wait is over, then ``done`` with the outcome in the
    variables: ``outcome`` (a ``ConversationOutcome``), and for a reply ``body``, ``from``, ``to``,
    ``sid``, ``received_at``, ``attempts``. The engine runs the branch of that outcome.
    """

    step_id: str
    trigger: str
    to: str
    from_: str
    prompt: str | None
    timeout_seconds: int | None
    """Counted from when the wait starts; ``None`` when ``until`` is set."""
    until: str | None
    """An absolute deadline (ISO 8601, UTC)."""
    reminders: tuple[ReminderSpec, ...] = ()
    expect_words: tuple[str, ...] = ()
    expect_patterns: tuple[AnswerPattern, ...] = ()
    """A reply is valid when it is one of the words or matches one of the patterns (any reply
    is, with neither)."""
    reprompt: str | None = None
    max_attempts: int = 3
    also_run_triggers: bool = False
    kind: Literal["wait_for_reply"] = "wait_for_reply"


WAIT_BRANCHES: dict[ConversationOutcome, str] = {
    ConversationOutcome.REPLIED: "on_reply",
    ConversationOutcome.TIMEOUT: "on_timeout",
    ConversationOutcome.DELIVERY_FAILED: "on_delivery_failure",
    ConversationOutcome.NO_VALID_ANSWER: "on_no_valid_answer",
}
"""The branch each outcome runs; the others end the evaluation (``stopped``)."""


Step = (
    SendSms
    | MakeCall
    | RecordItem
    | HttpRequest
    | SendEmail
    | PublishEvent
    | InvokeLambda
    | WaitForReply
)


def step_as_dict(step: Step) -> dict[str, Any]:
    data = asdict(step)
    if "from_" in data:
        data["from"] = data.pop("from_")
    return data


@dataclass(frozen=True, slots=True)
class StepOutcome:
    status: OutcomeStatus
    variables: Mapping[str, VarValue] = field(default_factory=dict)
    detail: str = ""

    @classmethod
    def done(cls, variables: Mapping[str, VarValue] | None = None, detail: str = "") -> StepOutcome:
        return cls(OutcomeStatus.DONE, dict(variables or {}), detail)

    @classmethod
    def failed(cls, detail: str) -> StepOutcome:
        return cls(OutcomeStatus.FAILED, {}, detail)

    @classmethod
    def pending(cls, detail: str = "") -> StepOutcome:
        return cls(OutcomeStatus.PENDING, {}, detail)

    @classmethod
    def paused(cls, detail: str) -> StepOutcome:
        return cls(OutcomeStatus.PAUSED, {}, detail)


class ActionPort(Protocol):
    """Performs one side-effecting step, exactly once per ``step.step_id`` for a message.

    Return the outcome; raise to abandon the evaluation (a retryable failure: the stream
    processor retries the record, and the engine replays to this step again).
    """

    def perform(self, step: Step) -> StepOutcome: ...


DRY_RUN_WAIT = "dry run: the run waits here for the contact's reply"


class DryRunPort:
    """Records every step and performs none; ``outcomes`` can script answers by step id.

    A ``wait_for_reply`` without a scripted outcome is pending, as a real wait is until the
    contact answers: the evaluation pauses there (``conversations.dry_run`` scripts replies)."""

    def __init__(self, outcomes: Mapping[str, StepOutcome] | None = None) -> None:
        self.performed: list[Step] = []
        self._outcomes = dict(outcomes or {})

    def perform(self, step: Step) -> StepOutcome:
        self.performed.append(step)
        scripted = self._outcomes.get(step.step_id)
        if scripted is not None:
            return scripted
        if isinstance(step, WaitForReply):
            return StepOutcome.pending(DRY_RUN_WAIT)
        return StepOutcome.done(detail="dry run")
