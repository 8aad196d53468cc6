"""A conversation: one ``wait_for_reply`` step of one message, from prompt to outcome. Pure.

Its deadline and reminder times are fixed once, when the conversation starts
(``open_conversation``), and stored: every replay and every Lambda sees the same schedule.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from sms_automation.edge.timestamps import parse_timestamp, utc_timestamp_seconds
from sms_automation.triggers.outcomes import ConversationOutcome

if TYPE_CHECKING:
    # Types only: the step dataclasses are created when a trigger's step is (``triggers.plan``),
    # a cost the conversation functions' looks (timer, register, resume) do not pay.
    from sms_automation.triggers.plan import AnswerPattern, WaitForReply

WAITING: Final = "waiting"
CEILING_SLACK: Final = timedelta(days=1)
"""The token task's literal ``TimeoutSeconds`` is the longest conversation plus this (backstop)."""


def conversation_id(message_sid: str, step_id: str) -> str:
    """What people see and type (``conversations cancel ID``)."""
    return f"{message_sid}:{step_id}"


def split_conversation_id(text: str) -> tuple[str, str]:
    message_sid, sep, step_id = text.partition(":")
    if not sep or not re.fullmatch(r"[A-Z]{2}[0-9a-fA-F]{32}", message_sid) or not step_id:
        raise ValueError(
            f"{text!r} is not a conversation id (MessageSid:step-id, see `conversations list`)"
        )
    return message_sid, step_id


def execution_name(message_sid: str, step_id: str) -> str:
    """One execution per (message, step), ever: a redelivered record cannot start a second.

    Step Functions names allow 80 characters of ``[A-Za-z0-9_-]``; step ids have ``/`` and
    spaces, so the step id is hashed."""
    digest = hashlib.sha256(step_id.encode()).hexdigest()[:16]
    return f"{message_sid}-{digest}"


@dataclass(frozen=True, slots=True)
class Reply:
    sid: str
    body: str
    received_at: str
    valid: bool


@dataclass(frozen=True, slots=True)
class Conversation:
    message_sid: str
    step_id: str
    account: str
    contact: str
    our_number: str
    trigger: str
    started_at: str
    deadline: str
    reminders: tuple[tuple[str, str], ...]
    """(when, text) of each reminder, sent only while nobody has answered."""
    prompt: str | None = None
    reprompt: str | None = None
    expect_words: tuple[str, ...] = ()
    expect_patterns: tuple[AnswerPattern, ...] = ()
    max_attempts: int = 3
    also_run_triggers: bool = False
    bulk: bool = False
    """Opened by a broadcast's run (not in answer to the contact): the sends it times itself,
    its prompt and reminders, are bulk (``processing.pacing``); a reprompt answers the contact."""
    status: str = WAITING
    attempts: int = 0
    replies: tuple[Reply, ...] = ()
    outcome: Mapping[str, Any] = field(default_factory=dict)
    resolved_at: str = ""
    execution_arn: str = ""
    task_token: str = ""
    timer_token: str = ""
    """The dozing timer's token (where the timer polls): failed when the conversation resolves."""
    cancelled_by: str = ""
    """Who cancelled it (``Conversations.cancel``'s ``by``: the console user's email); empty
    for any other outcome, and for a cancel nobody is named for (a takeover's paused prompt,
    the CLI)."""

    @property
    def id(self) -> str:
        return conversation_id(self.message_sid, self.step_id)

    @property
    def waiting(self) -> bool:
        return self.status == WAITING

    def accepts(self, body: str) -> bool:
        """Whether ``body`` is a valid answer: one of the words (any case, spaces trimmed) or
        a match of one of the patterns; any reply is, without ``expect``."""
        if not self.expect_words and not self.expect_patterns:
            return True
        text = body.strip()
        if text.casefold() in {word.strip().casefold() for word in self.expect_words}:
            return True
        return any(_matches(pattern, text) for pattern in self.expect_patterns)

    def next_due(self, now: datetime) -> str:
        """The next moment the timer must look: the first reminder still ahead, else the
        deadline (a reminder already due is sent now, so it is not 'ahead')."""
        ahead = [at for at, _ in self.reminders if parse_timestamp(at) > now]
        return min([*ahead, self.deadline], key=parse_timestamp)

    def first_due(self) -> str:
        return min([at for at, _ in self.reminders] + [self.deadline], key=parse_timestamp)


def _matches(pattern: AnswerPattern, text: str) -> bool:
    # Imported for the first answer checked: the pattern rules (RE2's syntax) are a cold start's
    # cost every message would pay, where few are answers to an ``expect``.
    from sms_automation.triggers.patterns import UnsupportedPattern, compile_pattern

    try:
        compiled = compile_pattern(pattern.regex, case_sensitive=pattern.case_sensitive)
    except UnsupportedPattern:  # a version stored before the RE2 rules: as no expect
        return True
    return compiled.matches(text)


def open_conversation(
    step: WaitForReply, *, message_sid: str, account: str, now: datetime, bulk: bool = False
) -> Conversation:
    """The conversation a ``wait_for_reply`` step opens at ``now``: its deadline, reminder times.
    ``bulk``: a broadcast's run opens it (``Conversation.bulk``)."""
    started = now.replace(microsecond=0)
    deadlines = []
    if step.timeout_seconds is not None:
        deadlines.append(started + timedelta(seconds=step.timeout_seconds))
    if step.until is not None:
        deadlines.append(parse_timestamp(step.until))
    deadline = min(deadlines)
    reminders = tuple(
        (utc_timestamp_seconds(started + timedelta(seconds=r.after_seconds)), r.text)
        for r in step.reminders
        if started + timedelta(seconds=r.after_seconds) < deadline
    )
    return Conversation(
        message_sid=message_sid,
        step_id=step.step_id,
        account=account,
        contact=step.to,
        our_number=step.from_,
        trigger=step.trigger,
        started_at=utc_timestamp_seconds(started),
        deadline=utc_timestamp_seconds(deadline),
        reminders=reminders,
        prompt=step.prompt,
        reprompt=step.reprompt,
        expect_words=step.expect_words,
        expect_patterns=step.expect_patterns,
        max_attempts=step.max_attempts,
        also_run_triggers=step.also_run_triggers,
        bulk=bulk,
    )


@dataclass(frozen=True, slots=True)
class ReplyDecision:
    """What one inbound reply does to a waiting conversation."""

    conversation: Conversation
    """The conversation after the reply."""
    reply: Reply
    resolves: bool
    reprompt_step_id: str | None = None


def decide_reply(
    conversation: Conversation, *, sid: str, body: str, received_at: str
) -> ReplyDecision:
    valid = conversation.accepts(body)
    reply = Reply(sid, body, received_at, valid)
    attempts = conversation.attempts + 1
    after = replace(conversation, attempts=attempts, replies=(*conversation.replies, reply))
    if valid or attempts >= conversation.max_attempts:
        outcome = ConversationOutcome.REPLIED if valid else ConversationOutcome.NO_VALID_ANSWER
        resolved = replace(
            after,
            status=outcome.value,
            outcome=reply_variables(after, reply, outcome),
            resolved_at=received_at,
        )
        return ReplyDecision(resolved, reply, resolves=True)
    reprompt = f"{conversation.step_id}/reprompt/{attempts}" if conversation.reprompt else None
    return ReplyDecision(after, reply, resolves=False, reprompt_step_id=reprompt)


def reply_variables(
    conversation: Conversation, reply: Reply, outcome: ConversationOutcome
) -> dict[str, Any]:
    """What ``%answer.*%`` holds after a reply."""
    return {
        "outcome": outcome.value,
        "body": reply.body,
        "from": conversation.contact,
        "to": conversation.our_number,
        "sid": reply.sid,
        "received_at": reply.received_at,
        "attempts": conversation.attempts,
    }


def outcome_variables(
    conversation: Conversation, outcome: ConversationOutcome, detail: str = ""
) -> dict[str, Any]:
    """What ``%answer.*%`` holds after an outcome without a valid reply (the last reply, if
    any, is still there)."""
    last = conversation.replies[-1] if conversation.replies else None
    variables: dict[str, Any] = {
        "outcome": outcome.value,
        "body": last.body if last else "",
        "from": conversation.contact,
        "to": conversation.our_number,
        "sid": last.sid if last else "",
        "received_at": last.received_at if last else "",
        "attempts": conversation.attempts,
    }
    if detail:
        variables["detail"] = detail
    return variables


@dataclass(frozen=True, slots=True)
class OpenConversation:
    """A contact's open conversation on one of our numbers: which conversation answers go to."""

    account: str
    our_number: str
    contact: str
    message_sid: str
    step_id: str


@dataclass(frozen=True, slots=True)
class RecordedReply:
    """A reply's decision as first recorded (a redelivered reply finds it again)."""

    message_sid: str
    step_id: str
    resolves: bool
    reprompt_step_id: str | None
    consumed: bool
