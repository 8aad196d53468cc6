"""The engine's ``ActionPort`` for real runs: every step through the ledger, exactly once.

For each side-effecting step of a message:

1. **Claim** it in the ledger (conditional put) with a **lease**: the claiming function's
   timeout plus ``LEASE_MARGIN`` (``lease_for``; each function's timeout comes from its
   ``FUNCTION_TIMEOUT_SECONDS``, the template's ``Timeout``). A step already ``done`` or
   ``failed`` answers its recorded outcome: a redelivered message re-runs nothing.
2. **Perform** it. When the effect certainly did not happen (``NotPerformed``: Twilio rate
   limited us, the connection was refused, ...) the claim is released and the error raised, so
   the stream retries the record and the replay performs the step then. A step that waits for
   its time (``Waiting``: its sender's send rate, the account's quiet hours) is released the
   same way, and retried at the time the wait names.
3. **Finish** it with the outcome.

Another attempt meeting a ``started`` claim (a stream retry, a conversation's replay, a redrive):

- **lease still running**: the claiming attempt may be performing the step right now. Nothing
  is touched; ``ClaimHeld`` (a ``RetryLater``) is raised and the record or task is retried
  later. An attempt that fails while holding a claim gives its lease up at once (``abandon``),
  so only a crash or a timeout makes the next attempt wait for the lease.
- **lease over**: the claim is *taken over* (conditional on the claim it saw: of two takers
  exactly one wins, the other gets ``ClaimHeld``), then **never resent blindly**: the effects
  are asked whether the step was performed (``find_performed``).

What the lookup of an SMS or call may credit to a step (``effects``): Twilio's messages to that
number with the step's sender and body created since the step was first claimed; among them
first the one whose status callback named this step (every create carries the step's
idempotency key in its ``StatusCallback`` URL), or the one this step recorded. A Sid that
another step recorded, or whose callback named another step, is never taken; crediting is a
conditional write, so two steps never hold one Sid. A message nobody has claimed is taken only
once it is older than ``SETTLE`` (whoever made it has recorded it by then, or died).

The outcome of a create may be unknown (Twilio answered 5xx or nothing: ``MaybePerformed``).
The claim is then **kept**, marked unknown (since when, how many looks), and
``OutcomeStillUnknown`` raised, saying when the next look is due (``next_look``): later
attempts look again. Found → done with that Sid. Nothing, ``SETTLE`` after the outcome became
unknown → Twilio's list would show it by now: performed again. Still not settled ``GIVE_UP``
after → recorded as failed, "outcome unknown: not resent". So a lagging list never becomes a
second SMS. An HTTP request other than a GET whose attempt was interrupted cannot be looked up
(``CannotTell``): recorded as failed, never repeated.

Where the work is retried: the stream processor defers the record to its retry queue until
the ``retry_at`` of the ``RetryLater`` (``processing.deferral``); the conversation state machine
retries its task.

A ``wait_for_reply`` step is not an effect and never meets the ledger: the engine's port
(``EnginePort``) hands it to ``conversations``, whose record of the conversation answers
``pending`` until its outcome is known, and every other step to the ledger port. The
conversations send their prompts and reminders through the ledger port alone, so the two sides
are handed to each other by the composition (``composition.runtime``), never built by one another.

Replies first (``processing.pacing``): a broadcast's run sends bulk, but once its contact
answered a wait (``replied``, or ``no_valid_answer``: they wrote), what it sends next answers
them: the engine's port sends it through its ``answering`` port (the same message's, at reply
priority) and tells the conversations a wait opened then is in answer to the contact, until a
wait ends without their answer (a timeout: what follows is the run's again).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol

from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.processing.ledger import StepEntry, StepState
from sms_automation.processing.retry_later import (
    ClaimHeld,
    OutcomeStillUnknown,
    RetryLater,
    Waiting,
)
from sms_automation.triggers import OutcomeStatus, Step, StepOutcome, WaitForReply

if TYPE_CHECKING:
    from sms_automation.processing.ports import StepLedger
    from sms_automation.triggers import ActionPort

ConversationStarter = Callable[[WaitForReply, bool], StepOutcome]
"""(the step, whether the contact answered the wait before it) -> the conversation's outcome."""
ANSWERED: Final = frozenset({"replied", "no_valid_answer"})
"""The outcomes of a wait the contact answered (``ConversationOutcome``'s values)."""
_logger = logging.getLogger(__name__)
# re-exported: what callers catch
__all__ = ["ClaimHeld", "OutcomeStillUnknown", "RetryLater", "Waiting"]

LEASE_MARGIN: Final = timedelta(seconds=60)
"""Beyond the claiming function's timeout: clocks of two Lambda hosts differ a little, and a
create sent just before the timeout needs a moment to show in Twilio's list."""
SETTLE: Final = timedelta(minutes=5)
"""How long Twilio's list may take to show a message it created (in practice seconds); longer
than every function's timeout plus ``LEASE_MARGIN``, so an unclaimed message this old was made
by an attempt that has recorded it or is over."""
GIVE_UP: Final = timedelta(hours=1)
"""An outcome still unknown this long after it became unknown is recorded as failed."""


LOOK_AGAIN: Final = timedelta(seconds=60)
"""How soon an unknown outcome is looked at again while Twilio's list may still be behind."""


def next_look(now: datetime, unknown_since: datetime) -> datetime:
    """When an outcome unknown since ``unknown_since`` is worth looking at again: every
    ``LOOK_AGAIN`` until ``SETTLE`` (when nothing found means not performed), then at
    ``GIVE_UP`` (a later caller may look sooner: the stream processor's retry queue delays a
    message 15 minutes at most)."""
    settled = unknown_since + SETTLE
    if now < settled:
        return min(now + LOOK_AGAIN, settled)
    return max(now, unknown_since + GIVE_UP)


def lease_for(function_timeout_seconds: int) -> timedelta:
    """A claim's lease for a function with this timeout (its template ``Timeout``)."""
    return timedelta(seconds=function_timeout_seconds) + LEASE_MARGIN


class NotPerformed(Exception):
    """The step's effect certainly did not happen; a later attempt may perform it."""


class MaybePerformed(Exception):
    """The effect may have happened (a create answered 5xx or not at all), and no resource
    found could be identified as this step's yet."""


class CannotTell(Exception):
    """Whether an interrupted step's effect happened cannot be established."""


@dataclass(frozen=True, slots=True)
class EffectResult:
    state: StepState  # DONE, FAILED or PAUSED
    detail: str = ""
    variables: dict[str, Any] = field(default_factory=dict)
    resource_sid: str = ""

    def as_outcome(self) -> StepOutcome:
        return _outcome(self.state, self.variables, self.detail)


class StepEffects(Protocol):
    def perform(self, step: Step, idempotency_key: str) -> EffectResult:
        """Do it. Raise ``NotPerformed`` when it certainly did not happen, ``MaybePerformed``
        when it may have and what it made cannot be identified yet."""
        ...

    def find_performed(self, step: Step, since: str) -> EffectResult | None:
        """For a step first claimed at ``since`` whose outcome is unknown: what it did (credited
        to it), or ``None`` when nothing found can be its. Raise ``MaybePerformed`` when
        something found may be its but cannot be identified yet, ``CannotTell`` when whether it
        happened cannot be known at all."""
        ...


def idempotency_key(message_sid: str, step_id: str) -> str:
    """Stable per (message, step): the same on every replay, safe as an HTTP header."""
    digest = hashlib.sha256(f"{message_sid}\n{step_id}".encode()).hexdigest()[:40]
    return f"sms-automation-{digest}"


def recorded_outcome(entry: StepEntry) -> StepOutcome:
    return _outcome(entry.state, entry.variables, entry.detail)


def _outcome(state: StepState, variables: Mapping[str, Any], detail: str) -> StepOutcome:
    if state is StepState.DONE:
        return StepOutcome.done(variables, detail)
    if state is StepState.PAUSED:
        return StepOutcome.paused(detail)
    return StepOutcome.failed(detail)


class LedgerActionPort:
    def __init__(
        self,
        message_sid: str,
        ledger: StepLedger,
        effects: StepEffects,
        clock: Callable[[], datetime],
        *,
        lease: timedelta,
    ) -> None:
        """``lease``: ``lease_for`` the timeout of the function this port runs in."""
        self._message_sid = message_sid
        self._ledger = ledger
        self._effects = effects
        self._clock = clock
        self._lease = lease
        self.interrupted_steps: list[str] = []
        self.unknown_steps: list[str] = []

    def perform(self, step: Step) -> StepOutcome:
        if isinstance(step, WaitForReply):  # the engine's port hands conversations elsewhere
            raise TypeError(f"{step.step_id}: a wait is not a ledger step")
        now = self._clock()
        held, lease_until = utc_timestamp(now), utc_timestamp(now + self._lease)
        existing = self._ledger.claim(self._message_sid, step.step_id, step.kind, held, lease_until)
        if existing is None:
            return self._holding(step, held, lambda: self._perform_claimed(step, held))
        if existing.state is not StepState.STARTED:
            return recorded_outcome(existing)
        if existing.lease_until > held:
            raise ClaimHeld(
                f"step {step.step_id} is claimed by another attempt until "
                f"{existing.lease_until}; retried later",
                retry_at=_moment(existing.lease_until),
            )
        if not self._ledger.take_over(self._message_sid, existing, held, lease_until):
            raise ClaimHeld(
                f"step {step.step_id} was just taken over by another attempt",
                retry_at=now + self._lease,  # the taker's lease, about
            )
        return self._holding(step, held, lambda: self._resume_interrupted(step, existing, held))

    def _holding(self, step: Step, held: str, action: Callable[[], StepOutcome]) -> StepOutcome:
        """Run ``action`` while holding the claim; a failure gives the lease up at once."""
        try:
            return action()
        except (RetryLater, NotPerformed):
            raise  # the claim was kept as unknown, or released
        except BaseException:
            self._abandon(step, held)
            raise

    def _abandon(self, step: Step, held: str) -> None:
        try:
            self._ledger.abandon(
                self._message_sid, step.step_id, held=held, now=utc_timestamp(self._clock())
            )
        except Exception as error:  # the original error matters; the lease ends on its own
            _logger.warning("could not end the lease of %s: %s", step.step_id, type(error).__name__)

    def _resume_interrupted(self, step: Step, entry: StepEntry, held: str) -> StepOutcome:
        self.interrupted_steps.append(step.step_id)
        try:
            found = self._effects.find_performed(step, since=entry.claimed_at)
        except CannotTell as unknown:
            self.unknown_steps.append(step.step_id)
            detail = f"outcome unknown after an interrupted attempt; not repeated ({unknown})"
            self._finish(step, EffectResult(StepState.FAILED, detail))
            return StepOutcome.failed(detail)
        except MaybePerformed as maybe:
            return self._still_unknown(step, held, entry, str(maybe))
        if found is not None:
            self._finish(step, found)
            return found.as_outcome()
        if entry.unknown_since and self._clock() < _moment(entry.unknown_since) + SETTLE:
            return self._still_unknown(step, held, entry, "not in Twilio's list yet")
        return self._perform_claimed(step, held)

    def _perform_claimed(self, step: Step, held: str) -> StepOutcome:
        try:
            result = self._effects.perform(step, idempotency_key(self._message_sid, step.step_id))
        except (NotPerformed, Waiting):
            # Certainly not performed (a wait: the send rate, quiet hours): the claim goes, so
            # the attempt that comes back when it is time claims the step afresh.
            self._ledger.release(self._message_sid, step.step_id, held=held)
            raise
        except MaybePerformed as maybe:
            return self._still_unknown(step, held, None, str(maybe))
        self._finish(step, result)
        return result.as_outcome()

    def _still_unknown(
        self, step: Step, held: str, entry: StepEntry | None, detail: str
    ) -> StepOutcome:
        """Keep the claim as unknown and have a later attempt look again; past ``GIVE_UP``,
        record the step as failed without resending it."""
        now = self._clock()
        since = (
            entry.unknown_since if entry is not None and entry.unknown_since else utc_timestamp(now)
        )
        looks = (entry.looks if entry is not None and entry.unknown_since else 0) + 1
        if now >= _moment(since) + GIVE_UP:
            self.unknown_steps.append(step.step_id)
            failed = f"outcome unknown: not resent ({looks} looks since {since}; {detail})"
            self._finish(step, EffectResult(StepState.FAILED, failed))
            return StepOutcome.failed(failed)
        self._ledger.record_unknown(
            self._message_sid,
            step.step_id,
            held=held,
            since=since,
            now=utc_timestamp(now),
            detail=detail,
        )
        raise OutcomeStillUnknown(
            f"step {step.step_id}: whether it was performed is not known yet ({detail}); the "
            "claim is kept and a later attempt looks again",
            retry_at=next_look(now, _moment(since)),
        )

    def _finish(self, step: Step, result: EffectResult) -> None:
        self._ledger.finish(
            self._message_sid,
            step.step_id,
            result.state,
            now=utc_timestamp(self._clock()),
            detail=result.detail,
            variables=result.variables,
            resource_sid=result.resource_sid,
        )


class EnginePort:
    """The engine's ``ActionPort`` for one message: a ``wait_for_reply`` step to ``conversations`` (
    ``None`` where they are not deployed), every other step to ``steps`` (the ledger port), or
    to ``answering`` once the contact answered a wait (this module's docstring; ``None``: the
    message's steps are replies anyway)."""

    def __init__(
        self,
        steps: ActionPort,
        conversations: ConversationStarter | None,
        *,
        answering: Callable[[], ActionPort] | None = None,
    ) -> None:
        self._steps = steps
        self._conversations = conversations
        self._answering = answering
        self._answering_port: ActionPort | None = None
        self._answered = False

    def perform(self, step: Step) -> StepOutcome:
        if not isinstance(step, WaitForReply):
            return self._port().perform(step)
        if self._conversations is None:
            return StepOutcome.failed("conversations are not configured here")
        outcome = self._conversations(step, self._answered)
        if outcome.status is OutcomeStatus.DONE:
            self._answered = outcome.variables.get("outcome") in ANSWERED
        return outcome

    def _port(self) -> ActionPort:
        if not self._answered or self._answering is None:
            return self._steps
        if self._answering_port is None:
            self._answering_port = self._answering()
        return self._answering_port


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
