"""A dry run through conversations: the contact's replies, given in order, answer each
``wait_for_reply`` the run reaches by the rule a real conversation uses (``model.decide_reply``:
``expect``, ``reprompt``, ``max_attempts``). Pure: nothing is sent or stored.

Each wait is opened as a real one is (``open_conversation``) and takes replies until one
resolves it (a valid answer, or the last attempt: ``on_no_valid_answer``); the run is then
evaluated again with that outcome, as the processor replays a message past a wait. When the
replies run out the run stays paused at the wait still open; replies left over when no wait is
open are reported as unused.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sms_automation.conversations.model import decide_reply, open_conversation
from sms_automation.edge.timestamps import utc_timestamp_seconds
from sms_automation.triggers import (
    Evaluation,
    EvaluationStatus,
    OutcomeStatus,
    StepOutcome,
    WaitForReply,
)

DRY_RUN_MESSAGE_SID = "SM" + "0" * 32
"""The MessageSid of the message (or run) a dry run evaluates."""


def dry_run_reply_sid(number: int) -> str:
    return f"SM{number:032d}"


@dataclass(frozen=True, slots=True)
class ScriptedReply:
    conversation: str
    """The step id of the conversation (its ``wait_for_reply``) it answered."""
    body: str
    valid: bool
    reprompt: str | None
    """What the conversation would send back (it goes on), or ``None``."""
    outcome: str | None
    """The conversation's outcome when this reply ended it, else ``None``."""


@dataclass(frozen=True, slots=True)
class ConversationDryRun:
    evaluation: Evaluation
    replies: tuple[ScriptedReply, ...]
    unused: tuple[str, ...]
    """Replies given after no conversation was left to answer."""


Evaluate = Callable[[Mapping[str, StepOutcome]], Evaluation]
"""The dry run of the message (or automation) with these scripted step outcomes."""


def dry_run_with_replies(
    evaluate: Evaluate, replies: Sequence[str], *, account: str, now: datetime
) -> ConversationDryRun:
    outcomes: dict[str, StepOutcome] = {}
    remaining = deque(replies)
    transcript: list[ScriptedReply] = []
    while True:
        evaluation = evaluate(outcomes)
        step = _waiting_step(evaluation)
        if step is None or not remaining:
            unused = () if step is not None else tuple(remaining)
            return ConversationDryRun(evaluation, tuple(transcript), unused)
        conversation = open_conversation(
            step, message_sid=DRY_RUN_MESSAGE_SID, account=account, now=now
        )
        while remaining:
            body = remaining.popleft()
            decision = decide_reply(
                conversation,
                sid=dry_run_reply_sid(len(transcript) + 1),
                body=body,
                received_at=utc_timestamp_seconds(now),
            )
            conversation = decision.conversation
            transcript.append(
                ScriptedReply(
                    conversation=step.step_id,
                    body=body,
                    valid=decision.reply.valid,
                    reprompt=conversation.reprompt if decision.reprompt_step_id else None,
                    outcome=conversation.status if decision.resolves else None,
                )
            )
            if decision.resolves:
                outcomes[step.step_id] = StepOutcome.done(
                    conversation.outcome, f"dry run: conversation {conversation.status}"
                )
                break
        else:  # the replies ran out with this conversation still open: it stays paused
            return ConversationDryRun(evaluation, tuple(transcript), ())


def _waiting_step(evaluation: Evaluation) -> WaitForReply | None:
    """The ``wait_for_reply`` step the evaluation paused at, if it paused at one."""
    if evaluation.status is not EvaluationStatus.PAUSED or not evaluation.steps:
        return None
    last = evaluation.steps[-1]
    if isinstance(last.step, WaitForReply) and last.outcome.status is OutcomeStatus.PENDING:
        return last.step
    return None
