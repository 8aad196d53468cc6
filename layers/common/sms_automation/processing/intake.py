"""What happens to a message as it comes in, before and around its triggers.

The loop guard comes first: a message from one of the account's own numbers (its ``To``, or any
number the account has received on or ``numbers connect`` pointed here) gets the evaluation
status ``own_number`` and runs nothing; every inbound ``To`` is remembered as one of the account's
numbers.

Opt-out handling comes before any trigger (the rule is ``opt_out``): an opt-out keyword
(Twilio's, or one of the account's own) records the contact opted out of our number (or
messaging service), ends the conversation waiting for them and runs only the triggers with
``on_opt_out`` (none: evaluation ``opted_out``; see ``runner``); an opt-in keyword from a contact
who had opted out re-subscribes them (evaluation ``opted_in``); from anyone else it is an ordinary
message. HELP is answered with the account's help text, once (evaluation ``help``), when it has
one. Opt-outs and opt-ins recorded are counted for the handlers' metrics (``take_keyword_counts``).

Then an answer to an open conversation goes to it (evaluation ``conversation_reply``, unless it
asks for the triggers too); anything else, and an automation run's origin, to the triggers.

All of that happens once, before the message's evaluation is first written: a message that has
one (a deferral's replay, a redelivery, a conversation's resume) goes straight on with its run.
Routed again, a message deferred for hours could be taken as the answer to a conversation that
opened meanwhile, and its own run would never go on.

Every collaborator is a port (``ports``, ``accounts``, ``opt_out``) or a function handed in by
the composition (``composition.runtime``); the processor and the conversations are asked for
on first use, so a message that needs neither never builds them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sms_automation.accounts import Account
from sms_automation.conversations.model import RecordedReply
from sms_automation.conversations.service import ReplyRouting
from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.opt_out import (
    ContactRecords,
    ContactState,
    Keyword,
    keyword_of_message,
    sender_of,
)
from sms_automation.pii import mask_phone
from sms_automation.processing.evaluations import EvaluationRecord, is_automation_run

if TYPE_CHECKING:
    # The runner is imported where used (see ``composition.runtime``).
    from sms_automation.processing.ports import EvaluationStore
    from sms_automation.processing.runner import EvaluationResult
    from sms_automation.triggers import ActionPort

OWN = "own_number"
"""The evaluation status of a message from one of the account's own numbers (nothing ran)."""

OPTED_IN = "opted_in"
"""The evaluation status of an opt-in keyword that re-subscribed the contact (nothing ran)."""
HELP_ANSWERED = "help"
"""The evaluation status of HELP answered with the account's help text (no trigger ran)."""
HELP_STEP = "help-text"


class Processor(Protocol):
    """``runner.MessageProcessor``."""

    def process(self, message: Mapping[str, Any], *, opt_out: bool = False) -> EvaluationResult: ...

    def process_after_read(
        self,
        message: Mapping[str, Any],
        existing: EvaluationRecord | None,
        *,
        opt_out: bool = False,
    ) -> EvaluationResult: ...

    def went_on(
        self, message: Mapping[str, Any], written: EvaluationRecord, *, opt_out: bool = False
    ) -> EvaluationResult: ...


class ConversationRouting(Protocol):
    """What intake asks of ``conversations.service.Conversations``."""

    def route_reply_after_read(
        self, message: Mapping[str, Any], recorded: RecordedReply | None
    ) -> ReplyRouting: ...

    def opt_out(self, message: Mapping[str, Any], keyword: str) -> bool: ...


class EvaluationAndReply(Protocol):
    """A message's evaluation and what a conversation made of it (its reply record), read
    together, strongly consistent: ``adapters.evaluation_store``, one query of the message's
    partition (one read unit and one round trip for both: docs/cost.md)."""

    def evaluation_and_reply(
        self, message_sid: str
    ) -> tuple[EvaluationRecord | None, RecordedReply | None]: ...


class AccountFinder(Protocol):
    """The account directory (cached account records)."""

    def find(self, name: str) -> Account | None: ...


class OwnNumbers(Protocol):
    """Where an account's own numbers are stored (``accounts.AccountRecords``)."""

    def add_own_numbers(self, name: str, numbers: frozenset[str]) -> None: ...


class Intake:
    def __init__(
        self,
        *,
        evaluations: EvaluationStore,
        records: EvaluationAndReply,
        processor: Callable[[], Processor],
        conversations: Callable[[], ConversationRouting],
        directory: AccountFinder,
        contacts: ContactRecords,
        own_numbers: OwnNumbers,
        stored_message: Callable[[str], Mapping[str, Any] | None],
        port_for: Callable[[Mapping[str, Any]], ActionPort],
        clock: Callable[[], datetime],
    ) -> None:
        """``stored_message``: a message's or run's stored item as plain values (None: gone);
        ``port_for``: the engine's port of a message (HELP's answer is a step of it)."""
        self._evaluations = evaluations
        self._records = records
        self._processor = processor
        self._conversations = conversations
        self._directory = directory
        self._contacts = contacts
        self._own_numbers = own_numbers
        self._stored_message = stored_message
        self._port_for = port_for
        self._clock = clock
        self._known_numbers: set[tuple[str, str]] = set()  # (account, number) stored already
        self._counts: Counter[Keyword] = Counter()

    def take_keyword_counts(self) -> Counter[Keyword]:
        """Opt-outs and opt-ins recorded since the last call."""
        counts, self._counts = self._counts, Counter()
        return counts

    def handle(self, message: Mapping[str, Any]) -> tuple[ReplyRouting, EvaluationResult]:
        """A new inbound message: an answer to an open conversation, else the triggers.
        An automation run's origin: its automation. A message evaluated before (replayed) goes
        on with its run, never routed again."""
        routing = ReplyRouting.NOT_A_REPLY
        if is_automation_run(message):  # started by us: never an answer to a conversation
            return routing, self._processor().process(message)
        existing, recorded = self._records.evaluation_and_reply(str(message["message_sid"]))
        if existing is not None:
            # Evaluated before (a replay: the retry queue's, a redelivery): its keyword was
            # handled and its routing decided then. Routed again it could be taken as the answer
            # to a conversation opened since, and its own run would never go on.
            opt_out = self._is_opt_out(message)
            return routing, self._processor().process_after_read(message, existing, opt_out=opt_out)
        return self._first_time(message, recorded)

    def _first_time(
        self, message: Mapping[str, Any], recorded: RecordedReply | None
    ) -> tuple[ReplyRouting, EvaluationResult]:
        """A message not evaluated yet: the loop guard, its keyword, its routing."""
        routing = ReplyRouting.NOT_A_REPLY
        if self._from_own_number(message):
            return routing, self._own_number_run(message)
        subscription = self._subscription(message)
        if subscription is Keyword.OPT_OUT:  # only the triggers that ask for it (runner)
            return routing, self._processor().process_after_read(message, None, opt_out=True)
        if subscription is Keyword.HELP:
            self._answer_help(message)
        if subscription is not None:
            status = OPTED_IN if subscription is Keyword.OPT_IN else HELP_ANSWERED
            return routing, self._finished_here(message, status)
        routing = self._conversations().route_reply_after_read(message, recorded)
        if routing is ReplyRouting.CONSUMED:
            return routing, self._finished_here(message, "conversation_reply")
        # Not evaluated, as read above: the processor does not read it again.
        return routing, self._processor().process_after_read(message, None)

    def _finished_here(self, message: Mapping[str, Any], status: str) -> EvaluationResult:
        """The message's evaluation with ``status``: no trigger ran (a keyword, an answer)."""
        from sms_automation.processing.runner import EvaluationResult  # see TYPE_CHECKING

        evaluation = self._evaluations.start(
            str(message["message_sid"]),
            str(message["account"]),
            trigger_version=0,
            fingerprint="",
            now=utc_timestamp(self._clock()),
            status=status,
        )
        return EvaluationResult(evaluation, replayed=False)

    def _subscription(self, message: Mapping[str, Any]) -> Keyword | None:
        """Record an opt-out (and end the contact's waiting conversation) or a
        re-subscription; ``None`` for an ordinary message. Safe to repeat (the record is
        conditional on the message time)."""
        settings = self._directory.find(str(message["account"]))
        found = keyword_of_message(message, settings.opt_out_keywords if settings else ())
        account, sender = str(message["account"]), sender_of(message)
        contact = str(message.get("from_number") or "")
        if found is None or not sender or not contact:
            return None
        keyword, word = found
        if keyword is Keyword.HELP:
            return keyword if settings is not None and settings.help_text else None
        sid = str(message["message_sid"])
        if keyword is Keyword.OPT_IN:
            current = self._contacts.get(account, sender, contact)
            if current is None or not (current.opted_out or current.message_sid == sid):
                return None  # a YES from a contact who had not opted out: an ordinary message
        received = str(message.get("received_at") or utc_timestamp(self._clock()))
        state = ContactState(
            account, sender, contact, keyword is Keyword.OPT_OUT, word, received, sid
        )
        if self._contacts.record(state):
            self._counts[keyword] += 1
        if keyword is Keyword.OPT_OUT:
            self._conversations().opt_out(message, word)
        return keyword

    def _answer_help(self, message: Mapping[str, Any]) -> None:
        """The account's help text to the contact, once (the step ledger's ``help-text``
        step: a trigger's step ids always hold a ``/``, so it is no trigger's)."""
        from sms_automation.triggers import SendSms

        account = self._directory.find(str(message["account"]))
        if account is None or not account.help_text:
            return
        service = str(message.get("messaging_service_sid") or "")
        step = SendSms(
            step_id=HELP_STEP,
            trigger="",
            to=str(message["from_number"]),
            from_=None if service else str(message["to_number"]),
            messaging_service_sid=service or None,
            body=account.help_text,
            quiet_hours=False,  # the contact asked: an answer, not an automatic send
        )
        self._port_for(message).perform(step)

    def _is_opt_out(self, message: Mapping[str, Any]) -> bool:
        if is_automation_run(message):
            return False
        account = self._directory.find(str(message["account"]))
        found = keyword_of_message(message, account.opt_out_keywords if account else ())
        return found is not None and found[0] is Keyword.OPT_OUT

    def replay(self, message_sid: str) -> EvaluationResult:
        """Evaluate a stored message or run again (after a conversation resolved): steps
        done are not redone."""
        stored = self._stored_message(message_sid)
        if stored is None:
            raise LookupError(f"message {message_sid} is gone")
        return self._processor().process(stored, opt_out=self._is_opt_out(stored))

    # --- the loop and flood guard ---------------------------------------------------------------

    def _from_own_number(self, message: Mapping[str, Any]) -> bool:
        name = str(message["account"])
        sender, ours = (str(message.get(field) or "") for field in ("from_number", "to_number"))
        account = self._directory.find(name)
        if account is None:
            return False
        self._remember_number(account, ours)
        remembered = {number for owner, number in self._known_numbers if owner == name}
        return bool(sender) and sender in account.own_numbers | remembered | {ours}

    def _remember_number(self, account: Account, number: str) -> None:
        """Each number the account receives on is one of its own: stored on the account item
        once (a warm instance remembers what it stored; the cached account lags 30 s)."""
        if not number or number in account.own_numbers:
            return
        if (account.name, number) in self._known_numbers:
            return
        self._own_numbers.add_own_numbers(account.name, frozenset({number}))
        self._known_numbers.add((account.name, number))

    def _own_number_run(self, message: Mapping[str, Any]) -> EvaluationResult:
        from sms_automation.processing.runner import EvaluationResult  # see TYPE_CHECKING

        sid, account = str(message["message_sid"]), str(message["account"])
        sender = mask_phone(str(message.get("from_number") or ""))
        # Nothing runs: written once, finished (or the record an overlapping attempt wrote).
        written = self._evaluations.finish_once(
            sid,
            account,
            trigger_version=0,
            fingerprint="",
            timezone="",
            now=utc_timestamp(self._clock()),
            status=OWN,
            matched=(),
            diagnostics=[
                {
                    "severity": "warning",
                    "message": f"from {sender}, one of the account's own numbers: no triggers "
                    "run (the loop guard)",
                    "trigger": "",
                    "step_id": "",
                }
            ],
        )
        if not written.finished:  # another attempt pinned a version first: it is evaluated
            return self._processor().went_on(message, written)  # this attempt counted already
        return EvaluationResult(written, replayed=written.attempts > 1)
