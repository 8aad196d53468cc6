"""The engine's ``ActionPort`` for real runs: every step through the ledger, exactly once.

For each side-effecting step of a message:

1. **Claim** it in the ledger (conditional put). A step already ``done`` or ``failed`` answers
   its recorded outcome: a redelivered message re-runs nothing.
2. **Perform** it. When the effect certainly did not happen (``NotPerformed``: Twilio rate
   limited us, the connection was refused, ...) the claim is released and the error raised, so
   the stream retries the record and the replay performs the step then.
3. **Finish** it with the outcome.

A claim found still ``started`` means an earlier attempt died between 1 and 3 (a crash, a
timeout, a failed ledger write after Twilio accepted the message). The rule: **never resend
blindly**. The effects are asked whether the step was performed (``find_performed``: Twilio's
recent messages or calls to that number, matched on sender, body and creation time); found →
recorded as done with the SID found; certainly not → performed now; cannot tell (an HTTP
request that is not a GET) → recorded as failed with "outcome unknown", never repeated.

A ``wait_for_reply`` step is not an effect: it goes to ``waits`` (the conversations), whose
record of the wait answers ``pending`` until its outcome is known.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sms_automation.processing.ledger import DynamoStepLedger, StepEntry, StepState
from sms_automation.triggers import Step, StepOutcome, WaitForReply

WaitStarter = Callable[[WaitForReply], StepOutcome]


class NotPerformed(Exception):
    """The step's effect certainly did not happen; a later attempt may perform it."""


class CannotTell(Exception):
    """Whether an interrupted step's effect happened cannot be established."""


@dataclass(frozen=True, slots=True)
class EffectResult:
    state: StepState  # DONE or FAILED
    detail: str = ""
    variables: dict[str, Any] = field(default_factory=dict)
    resource_sid: str = ""

    def as_outcome(self) -> StepOutcome:
        if self.state is StepState.DONE:
            return StepOutcome.done(self.variables, self.detail)
        return StepOutcome.failed(self.detail)


class StepEffects(Protocol):
    def perform(self, step: Step, idempotency_key: str) -> EffectResult:
        """Do it. Raise ``NotPerformed`` when it certainly did not happen."""
        ...

    def find_performed(self, step: Step, since: str) -> EffectResult | None:
        """After an interrupted attempt that started at ``since``: what it did, or ``None``
        when it certainly did nothing. Raise ``CannotTell`` when that cannot be known."""
        ...


def idempotency_key(message_sid: str, step_id: str) -> str:
    """Stable per (message, step): the same on every replay, safe as an HTTP header."""
    digest = hashlib.sha256(f"{message_sid}\n{step_id}".encode()).hexdigest()[:40]
    return f"sms-automation-{digest}"


def recorded_outcome(entry: StepEntry) -> StepOutcome:
    if entry.state is StepState.DONE:
        return StepOutcome.done(entry.variables, entry.detail)
    return StepOutcome.failed(entry.detail)


class LedgerActionPort:
    def __init__(
        self,
        message_sid: str,
        ledger: DynamoStepLedger,
        effects: StepEffects,
        clock: Callable[[], str],
        waits: WaitStarter | None = None,
    ) -> None:
        self._waits = waits
        self._message_sid = message_sid
        self._ledger = ledger
        self._effects = effects
        self._clock = clock
        self.interrupted_steps: list[str] = []
        self.unknown_steps: list[str] = []

    def perform(self, step: Step) -> StepOutcome:
        if isinstance(step, WaitForReply):
            if self._waits is None:
                return StepOutcome.failed("conversations are not configured here")
            return self._waits(step)
        existing = self._ledger.claim(self._message_sid, step.step_id, step.kind, self._clock())
        if existing is None:
            return self._perform_claimed(step)
        if existing.state is not StepState.STARTED:
            return recorded_outcome(existing)
        return self._resume_interrupted(step, existing)

    def _resume_interrupted(self, step: Step, entry: StepEntry) -> StepOutcome:
        self.interrupted_steps.append(step.step_id)
        try:
            found = self._effects.find_performed(step, since=entry.started_at)
        except CannotTell as unknown:
            self.unknown_steps.append(step.step_id)
            detail = f"outcome unknown after an interrupted attempt; not repeated ({unknown})"
            self._finish(step, EffectResult(StepState.FAILED, detail))
            return StepOutcome.failed(detail)
        if found is not None:
            self._finish(step, found)
            return found.as_outcome()
        self._ledger.reclaim(self._message_sid, entry, self._clock())
        return self._perform_claimed(step)

    def _perform_claimed(self, step: Step) -> StepOutcome:
        try:
            result = self._effects.perform(step, idempotency_key(self._message_sid, step.step_id))
        except NotPerformed:
            self._ledger.release(self._message_sid, step.step_id)
            raise
        self._finish(step, result)
        return result.as_outcome()

    def _finish(self, step: Step, result: EffectResult) -> None:
        self._ledger.finish(
            self._message_sid,
            step.step_id,
            result.state,
            now=self._clock(),
            detail=result.detail,
            variables=result.variables,
            resource_sid=result.resource_sid,
        )
