"""The conversation use cases, over injected ports (see docs/conversations.md).

Who calls what:

- the stream processor's port, meeting a ``wait_for_reply`` step: ``perform`` (open the
  conversation once, start its execution once, answer ``pending`` until it has an outcome);
- the state machine: ``register`` (become the contact's open conversation, send the prompt,
  then keep the task token), ``tick`` (reminders, the deadline), ``doze`` (where the timer
  polls: keep the timer's token until the next look), ``resume`` (replay the message past the
  ``wait_for_reply`` step);
- the stream processor, before the triggers: ``route_reply_after_read`` (an answer to an open
  conversation; the intake has read the message's reply record with its evaluation),
  ``opt_out`` (the contact sent STOP: their open conversation ends);
- the status callback: ``prompt_failed``; the CLI: ``cancel``.

Every resolution is ``store.resolve`` (conditional on ``waiting``): exactly one wins. The
outcome lives in DynamoDB; the task token only wakes the execution, so a lost wake-up is
harmless (the timer branch or the token task's ceiling wakes it anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sms_automation.conversations.model import (
    Conversation,
    RecordedReply,
    decide_reply,
    execution_name,
    open_conversation,
    outcome_variables,
)
from sms_automation.edge.timestamps import parse_timestamp, utc_timestamp_seconds
from sms_automation.triggers.outcomes import ConversationOutcome, OutcomeStatus

if TYPE_CHECKING:
    from sms_automation.conversations.ports import ConversationStore, ConversationWorkflow

    # The step dataclasses (``triggers.plan``) are imported where a step or an outcome is
    # made (``perform``, ``_send``): a timer's look or a reply's routing makes neither.
    from sms_automation.triggers.plan import ActionPort, StepOutcome, WaitForReply

DOZE_SECONDS = 2
HELD_LOOK_SOON = timedelta(seconds=1)
"""How soon the timer looks again at a reminder held for its prompt, in the prompt's first
``HELD_SOON_FOR`` (a prompt is usually sent within a second of the conversation opening) ..."""
HELD_SOON_FOR = timedelta(seconds=10)
HELD_LOOK_LATER = timedelta(seconds=30)
"""... and after that: a prompt paced behind a broadcast's backlog may wait hours for its place
(SendPaced is retried ~10 h, statemachines/conversation.asl.json), and a look every second
would add ~9 history events a second to the execution (AWS keeps at most 25,000): every 30 s
is ~11,000 events in 10 hours."""
"""How long the timer dozes between two looks where it polls: the ``Doze`` state's literal
``TimeoutSeconds`` (the emulator ignores ``TimeoutSecondsPath``; a template test ties them)."""

RESOLVED_ERROR = "Conversation.Resolved"
"""What a dozing timer's token is failed with when its conversation resolves."""

ERROR_NAMES: dict[ConversationOutcome, str] = {
    ConversationOutcome.TIMEOUT: "Conversation.Timeout",
    ConversationOutcome.DELIVERY_FAILED: "Conversation.DeliveryFailed",
    ConversationOutcome.SUPERSEDED: "Conversation.Superseded",
    ConversationOutcome.CANCELLED: "Conversation.Cancelled",
    ConversationOutcome.OPTED_OUT: "Conversation.OptedOut",
}


class ReplyRouting(StrEnum):
    NOT_A_REPLY = "not_a_reply"
    """No open conversation took it (none, already resolved, lost a race): run the triggers."""
    CONSUMED = "consumed"
    """An answer to a conversation: the triggers do not see it."""
    ALSO_TRIGGERS = "also_triggers"
    """An answer to a conversation with ``also_run_triggers: true``."""


PortFor = Callable[[str, str], "ActionPort"]
"""(origin message SID, account) -> the ledger port of that message: what conversations send
(prompt, reminders, reprompts) is recorded as steps of the message that started them. Only
``send_sms`` steps go through it; the engine's port hands ``wait_for_reply`` steps to
``perform`` (``processing.port.EnginePort``), so neither side builds the other."""


QuietHoursOf = Callable[[str, datetime], datetime | None]
"""(account, now) -> ``None`` when automatic sends may be made, else when the window opens."""


class Conversations:
    def __init__(
        self,
        *,
        store: ConversationStore,
        workflow: ConversationWorkflow | None,
        port_for: PortFor,
        clock: Callable[[], datetime],
        poll_seconds: int = 0,
        quiet_hours: QuietHoursOf = lambda account, now: None,
        waiting: Callable[[str, datetime], Exception] = lambda detail, at: RuntimeError(detail),
    ) -> None:
        """``poll_seconds`` > 0 makes the timer branch look at least that often (see
        ``_timer_due``): for emulators whose Parallel state waits for every branch.
        ``quiet_hours``: when the account's send window opens (``None``: open); ``waiting``:
        the error a conversation that waits for it raises (``processing.quiet_hours.QuietHours``:
        the composition's, so the record waits)."""
        self._quiet_hours = quiet_hours
        self._waiting = waiting
        self._store = store
        self._workflow = workflow
        self._port_for = port_for
        self._clock = clock
        self._poll_seconds = poll_seconds

    # --- the processor meets a wait_for_reply step ------------------------------------------

    def perform(
        self, message_sid: str, account: str, step: WaitForReply, *, bulk: bool = False
    ) -> StepOutcome:
        """Quiet hours: a conversation is not opened outside the account's send window
        (``QuietHours``: the record waits for the window), so its prompt goes out in the window
        and its reminders and deadline count from then.

        ``bulk``: a broadcast's run opens it (not in answer to the contact): its prompt and
        reminders wait in their sender's queue behind replies (``Conversation.bulk``)."""
        from sms_automation.triggers.plan import StepOutcome  # see TYPE_CHECKING

        conversation = self._store.get(message_sid, step.step_id)
        if conversation is None:
            opens = self._quiet_hours(account, self._clock())
            if opens is not None:
                raise self._waiting(
                    f"{step.step_id}: the conversation opens with the account's send window, at "
                    f"{utc_timestamp_seconds(opens)}",
                    opens,
                )
            conversation = self._store.create(
                open_conversation(
                    step, message_sid=message_sid, account=account, now=self._clock(), bulk=bulk
                )
            )
        if not conversation.waiting:
            return StepOutcome.done(conversation.outcome, f"conversation {conversation.status}")
        if not conversation.execution_arn:
            if self._workflow is None:
                raise RuntimeError("wait_for_reply needs CONVERSATION_STATE_MACHINE_ARN")
            arn = self._workflow.start(
                execution_name(message_sid, step.step_id),
                execution_input(conversation, self._next_look(conversation.first_due())),
            )
            self._store.set_execution(message_sid, step.step_id, arn)
        return StepOutcome.pending(f"waiting for a reply until {conversation.deadline}")

    # --- the state machine ---------------------------------------------------------------------

    def register(self, message_sid: str, step_id: str, token: str) -> None:
        """Become the contact's open conversation and send the prompt, then keep the token.

        A prompt paused because a person took the contact over (``takeover``) cancels the new
        conversation: nobody asked the question, so no answer is awaited; the trigger stops
        there as after an operator's cancel.

        The token is kept last: the timer sends no reminder before it (so never one before the
        prompt), and an outcome that came meanwhile (a fast reply, a failed prompt, a cancel) is
        seen right after and wakes the execution at once.
        """
        conversation = self._require(message_sid, step_id)
        if conversation.waiting:
            replaced = self._store.claim_contact(conversation)
            if replaced is not None:
                older = self._store.get(replaced.message_sid, replaced.step_id)
                if older is not None and older.waiting:
                    self._end(
                        older, ConversationOutcome.SUPERSEDED, f"superseded by {conversation.id}"
                    )
            if conversation.prompt:
                sent = self._send(
                    conversation, f"{step_id}/prompt", conversation.prompt, bulk=conversation.bulk
                )
                if sent.status is OutcomeStatus.FAILED:
                    self._end(conversation, ConversationOutcome.DELIVERY_FAILED, sent.detail)
                elif sent.status is OutcomeStatus.PAUSED:  # a person took the contact over
                    self._end(conversation, ConversationOutcome.CANCELLED, sent.detail)
        self._store.set_task_token(message_sid, step_id, token)
        current = self._require(message_sid, step_id)
        if not current.waiting:
            self._wake(current)

    def tick(self, message_sid: str, step_id: str) -> dict[str, Any]:
        """Send the reminders that are due; at the deadline, time the conversation out.

        A reminder waits for the prompt: until the register step has kept the task token (it
        does so after sending the prompt), a due reminder is held and the timer looks again in
        a second (``HELD_LOOK_SOON``), or in 30 s once the prompt has been waiting longer than
        ``HELD_SOON_FOR`` (a paced prompt), never past the deadline. A reminder due in the
        account's quiet hours waits for its send window (the timer looks again when it opens);
        the deadline does not wait: a reminder the window opens too late for is not sent.
        """
        conversation = self._require(message_sid, step_id)
        now = self._clock()
        held = False
        quiet_until: datetime | None = None
        if conversation.waiting:
            due = [
                (number, text)
                for number, (at, text) in enumerate(conversation.reminders, start=1)
                if parse_timestamp(at) <= now
            ]
            held = bool(due) and not conversation.task_token
            if due and not held:
                quiet_until = self._quiet_hours(conversation.account, now)
            for number, text in due if not held and quiet_until is None else ():
                self._send(conversation, f"{step_id}/remind/{number}", text, bulk=conversation.bulk)
            if parse_timestamp(conversation.deadline) <= now:
                # The token task is failed too: the execution must not depend on the Fail state
                # of this branch stopping its sibling (an emulator's Parallel waits for both).
                self._end(
                    conversation, ConversationOutcome.TIMEOUT, "no answer in time", by_timer=True
                )
        current = self._require(message_sid, step_id)
        ahead = current.next_due(now)
        if quiet_until is not None:
            ahead = min(ahead, utc_timestamp_seconds(quiet_until), key=parse_timestamp)
        return {
            "message_sid": message_sid,
            "step_id": step_id,
            "next_at": self._held_look(current, now)
            if held and current.waiting
            else self._next_look(ahead),
            "resolved": not current.waiting,
        }

    def doze(self, message_sid: str, step_id: str, token: str) -> None:
        """Keep the dozing timer's token (where the timer polls): whoever resolves the conversation
        fails it, so the execution goes on at once. Kept first, then looked at: a conversation
        resolved meanwhile is seen here and the token failed at once (as ``register`` does)."""
        self._store.set_timer_token(message_sid, step_id, token)
        current = self._require(message_sid, step_id)  # read back consistently: holds ``token``
        if not current.waiting:
            self._wake_timer(current)

    @staticmethod
    def _held_look(conversation: Conversation, now: datetime) -> str:
        """When to look again at a reminder held for its prompt (``tick``): soon at first, every
        ``HELD_LOOK_LATER`` once the prompt is late, never past the deadline."""
        late = now - parse_timestamp(conversation.started_at) >= HELD_SOON_FOR
        look = now.replace(microsecond=0) + (HELD_LOOK_LATER if late else HELD_LOOK_SOON)
        return min(utc_timestamp_seconds(look), conversation.deadline, key=parse_timestamp)

    def _next_look(self, due: str) -> str:
        """The timer's ``next_at``: when to look again, or ``""`` to doze (see ``_dozes``)."""
        return "" if self._dozes(due, self._clock()) else self._timer_due(due)

    def _dozes(self, due: str, now: datetime) -> bool:
        """Doze (wakeable) rather than sleep (not) until the next look: only where the timer
        polls every ``DOZE_SECONDS`` or more often (a doze lasts that long; a slower poll sleeps
        as set), and when ``due`` is at least a doze away (a sooner look sleeps to the second).
        Said by an empty ``next_at``, not a new key: a state machine and a timer function of
        different versions (a deploy, a rollback) still understand each other."""
        if not 0 < self._poll_seconds <= DOZE_SECONDS:
            return False
        return parse_timestamp(due) >= now + timedelta(seconds=DOZE_SECONDS)

    def _timer_due(self, due: str) -> str:
        """When the timer branch wakes next: ``due``, or sooner when polling is configured.

        On AWS (no polling) an answer ends the token branch, whose Fail state stops the
        sleeping timer branch at once. An emulator whose Parallel state waits for every branch
        only resumes when the timer next looks, so there it looks every ``poll_seconds``.
        """
        if self._poll_seconds <= 0:
            return due
        poll_at = self._clock().replace(microsecond=0) + timedelta(seconds=self._poll_seconds)
        return min(due, utc_timestamp_seconds(poll_at), key=parse_timestamp)

    def resume(self, message_sid: str, step_id: str, woken_by: str) -> Conversation:
        """Before the replay: a conversation woken without an outcome (the token task's ceiling, a
        failed branch) times out here."""
        conversation = self._require(message_sid, step_id)
        if conversation.waiting:
            self._end(
                conversation, ConversationOutcome.TIMEOUT, f"woken by {woken_by}", notify=False
            )
            conversation = self._require(message_sid, step_id)
        self._store.release_contact(conversation)
        return conversation

    # --- replies, delivery failures, cancellation ----------------------------------------------

    def route_reply(self, message: Mapping[str, Any]) -> ReplyRouting:
        recorded = self._store.recorded_reply(str(message["message_sid"]))
        return self.route_reply_after_read(message, recorded)

    def route_reply_after_read(
        self, message: Mapping[str, Any], recorded: RecordedReply | None
    ) -> ReplyRouting:
        """As ``route_reply``, ``recorded`` being what became of this message as a reply, as
        the caller has just read it strongly consistent (the intake reads it with the
        evaluation, in one query)."""
        sid = str(message["message_sid"])
        if recorded is not None:  # a redelivery: finish what the first attempt started
            conversation = self._require(recorded.message_sid, recorded.step_id)
            self._follow_up(conversation, recorded.resolves, recorded.reprompt_step_id)
            return ReplyRouting.CONSUMED if recorded.consumed else ReplyRouting.ALSO_TRIGGERS
        for _ in range(3):  # a lost race (another reply, a timeout) is looked at again
            routing = self._try_reply(message, sid)
            if routing is not None:
                return routing
        return ReplyRouting.NOT_A_REPLY

    def _try_reply(self, message: Mapping[str, Any], sid: str) -> ReplyRouting | None:
        # Eventually consistent (half a read unit, for every inbound message: docs/cost.md).
        # A message answers a prompt it has received: the open conversation is written before
        # the prompt is sent, and an answer comes back through Twilio, the webhook and the
        # stream, seconds later, while such a read lags "a short time" (DynamoDB). What it
        # finds is checked against the conversation read strongly consistent, and recording
        # the reply and releasing the contact are conditional on what they change.
        claim_contact = self._store.find_open_conversation(
            str(message["account"]),
            str(message["to_number"]),
            str(message["from_number"]),
            consistent=False,
        )
        if claim_contact is None:
            return ReplyRouting.NOT_A_REPLY
        conversation = self._store.get(claim_contact.message_sid, claim_contact.step_id)
        if conversation is None or not conversation.waiting:
            if conversation is not None:
                self._store.release_contact(conversation)
            return ReplyRouting.NOT_A_REPLY
        decision = decide_reply(
            conversation,
            sid=sid,
            body=str(message.get("body") or ""),
            received_at=str(message.get("received_at") or utc_timestamp_seconds(self._clock())),
        )
        if not self._store.record_reply(decision, seen_attempts=conversation.attempts):
            return None
        after = self._require(conversation.message_sid, conversation.step_id)
        followed = self._follow_up(after, decision.resolves, decision.reprompt_step_id)
        if not followed and not self._carried_on(after):
            return ReplyRouting.NOT_A_REPLY  # nobody will carry the conversation on
        return ReplyRouting.ALSO_TRIGGERS if after.also_run_triggers else ReplyRouting.CONSUMED

    def _carried_on(self, conversation: Conversation) -> bool:
        """The wake was refused: the token task is over. If the execution still runs, it is on
        its way to resume (the timer ended the race first, at a reminder or the deadline), and
        the resume finds this reply's outcome: the reply is the conversation's, not the
        triggers'. An execution that is over (stopped, failed) carries nothing on."""
        if not conversation.execution_arn or self._workflow is None:
            return False
        return self._workflow.running(conversation.execution_arn)

    def _follow_up(
        self, conversation: Conversation, resolves: bool, reprompt_step_id: str | None
    ) -> bool:
        if resolves:
            self._store.release_contact(conversation)
            return self._wake(conversation)
        if reprompt_step_id is not None and conversation.reprompt:
            self._send(conversation, reprompt_step_id, conversation.reprompt, bulk=False)
        return True

    def prompt_failed(self, message_sid: str, prompt_step_id: str, detail: str) -> bool:
        """A prompt came back failed/undelivered: its conversation ends with ``delivery_failed``."""
        step_id, sep, _ = prompt_step_id.rpartition("/prompt")
        if not sep or not step_id:
            return False
        conversation = self._store.get(message_sid, step_id)
        if conversation is None or not conversation.waiting:
            return False
        return self._end(conversation, ConversationOutcome.DELIVERY_FAILED, detail)

    def cancel(self, message_sid: str, step_id: str, *, by: str = "") -> bool:
        """``by``: who cancels (a console user's email), kept as the conversation's
        ``cancelled_by`` so only they find their cancel done (``console.conversations``)."""
        conversation = self._store.get(message_sid, step_id)
        if conversation is None or not conversation.waiting:
            return False
        return self._end(
            conversation, ConversationOutcome.CANCELLED, "cancelled by an operator", by=by
        )

    def opt_out(self, message: Mapping[str, Any], keyword: str) -> bool:
        """The contact opted out: the conversation waiting for them on this number ends
        (``opted_out``) with no further prompt, reminder or reprompt."""
        claim_contact = self._store.find_open_conversation(
            str(message["account"]), str(message["to_number"]), str(message["from_number"])
        )
        if claim_contact is None:
            return False
        conversation = self._store.get(claim_contact.message_sid, claim_contact.step_id)
        if conversation is None or not conversation.waiting:
            return False
        return self._end(
            conversation, ConversationOutcome.OPTED_OUT, f"the contact opted out ({keyword})"
        )

    # --- helpers -------------------------------------------------------------------------------

    def _end(
        self,
        conversation: Conversation,
        outcome: ConversationOutcome,
        detail: str,
        *,
        notify: bool = True,
        by_timer: bool = False,
        by: str = "",
    ) -> bool:
        """Resolve with ``outcome`` if still waiting. ``notify``: fail the token task (and a
        dozing timer, unless the timer is the one ending it); ``by``: who (a cancel's user)."""
        variables = outcome_variables(conversation, outcome, detail)
        now = utc_timestamp_seconds(self._clock())
        if not self._store.resolve(conversation, outcome.value, variables, now, by=by):
            return False
        self._store.release_contact(conversation)
        current = self._store.get(conversation.message_sid, conversation.step_id)
        if notify and current is not None and self._workflow is not None:
            if current.task_token:
                self._workflow.fail(current.task_token, ERROR_NAMES[outcome], detail)
            if not by_timer:
                self._wake_timer(current)
        return True

    def _wake(self, conversation: Conversation) -> bool:
        current = self._require(conversation.message_sid, conversation.step_id)
        if not current.task_token or self._workflow is None:
            return True  # not registered yet: register sees the outcome and wakes itself
        woken = self._workflow.wake(current.task_token, {"outcome": current.status})
        self._wake_timer(current)
        return woken

    def _wake_timer(self, current: Conversation) -> None:
        """Fail a dozing timer's token (where the timer polls): the timer branch ends now, not
        at its next look. A token already used or timed out is refused, harmlessly."""
        if current.timer_token and self._workflow is not None:
            self._workflow.fail(
                current.timer_token, RESOLVED_ERROR, f"the conversation is {current.status}"
            )

    def _send(
        self, conversation: Conversation, step_id: str, body: str, *, bulk: bool
    ) -> StepOutcome:
        """``bulk``: a send the conversation times (a broadcast's prompt, reminder), else a reply
        (a reprompt answers the contact): ``port_for``'s port is the message's at reply
        priority, and a bulk step is bulk whatever its port's (``processing.effects``)."""
        from sms_automation.triggers.plan import SendSms  # see TYPE_CHECKING

        port = self._port_for(conversation.message_sid, conversation.account)
        return port.perform(
            SendSms(
                step_id=step_id,
                trigger=conversation.trigger,
                to=conversation.contact,
                from_=conversation.our_number,
                messaging_service_sid=None,
                body=body,
                priority="bulk" if bulk else "reply",
                quiet_hours=False,  # timed here: opened in the window, reminders held (tick)
            )
        )

    def _require(self, message_sid: str, step_id: str) -> Conversation:
        conversation = self._store.get(message_sid, step_id)
        if conversation is None:
            raise LookupError(f"no conversation {message_sid}:{step_id}")
        return conversation


def execution_input(conversation: Conversation, first_timer_at: str) -> dict[str, Any]:
    """The execution's input: everything else is read from the table when needed.
    ``first_timer_at`` is ``""`` when the timer starts by dozing."""
    keys = {"message_sid": conversation.message_sid, "step_id": conversation.step_id}
    return {
        **keys,
        "account": conversation.account,
        "timer": {**keys, "next_at": first_timer_at, "resolved": False},
    }
