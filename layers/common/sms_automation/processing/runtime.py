"""The processing wiring shared by the stream processor and the conversation functions.

One ``Runtime`` per warm Lambda (handlers keep it in a ``functools.cache``): AWS clients,
the account directory, the trigger processor, the conversations and the send guard, built from
the environment on first use.

The loop guard lives here, before any trigger: a message from one of the account's own numbers
(its ``To``, or any number the account has received on or ``numbers connect`` pointed here) is
recorded as run ``own_number`` and runs nothing; every inbound ``To`` is remembered as one of
the account's numbers. Sends over the account's cap are counted for the handlers' metrics
(``take_sends_capped``: their ``SendsCapped`` count).

Opt-out handling comes before any trigger (``handle_inbound``; the rule is ``opt_out``): an
opt-out keyword (Twilio's, or one of the account's own) records the contact opted out of our
number (or messaging service), ends the conversation waiting for them and runs only the
triggers with ``on_opt_out`` (none: run ``opted_out``; see ``runner``); an opt-in keyword from
a contact who had opted out re-subscribes them (run ``opted_in``); from anyone else it is an
ordinary message. HELP is answered with the account's help text, once (run ``help``), when it
has one. Every send checks the contact first (``effects``); opt-outs, opt-ins and sends not
made are counted for the handlers' metrics (``take_opt_out_counts``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from sms_automation.accounts import Account
from sms_automation.adapters.account_store import (
    CachedAccountDirectory,
    DynamoAccountStore,
    TokensOnFirstRead,
)
from sms_automation.adapters.contact_store import DynamoContactStore
from sms_automation.adapters.conversation_store import DynamoConversationStore
from sms_automation.adapters.dynamo_json import plain
from sms_automation.adapters.message_store import DynamoMessageStore
from sms_automation.adapters.send_counter import DynamoSendCounter
from sms_automation.adapters.trigger_store import DynamoTriggerStore
from sms_automation.adapters.wait_workflow import StepFunctionsWaitWorkflow
from sms_automation.conversations.service import Conversations, ReplyRouting
from sms_automation.opt_out import ContactState, Keyword, keyword_of_message, sender_of
from sms_automation.pii import mask_phone
from sms_automation.processing.runs import DynamoRunStore, is_automation_run, iso
from sms_automation.processing.settings import ProcessorSettings
from sms_automation.send_guard import DEFAULT_SEND_CAP, Refusal, SendCap, SendGuard
from sms_automation.triggers import StepOutcome, WaitForReply
from sms_automation.triggers.versions import engines

if TYPE_CHECKING:
    # Imported where used, to keep them out of cold starts that do not need them: the runner
    # brings the engine, pydantic and YAML (needed when a message has triggers, or a wait
    # resolves); the ledger port, effects, outbound records and the Twilio client are needed
    # only when a step is performed.
    from sms_automation.adapters.twilio_messaging import TwilioMessaging
    from sms_automation.outbound_status import OutboundKind
    from sms_automation.processing.deferral import Deferrals
    from sms_automation.processing.effects import Messaging
    from sms_automation.processing.port import LedgerActionPort
    from sms_automation.processing.runner import MessageProcessor, RunResult

OWN = "own_number"
"""The run status of a message from one of the account's own numbers (nothing ran)."""

OPTED_IN = "opted_in"
"""The run status of an opt-in keyword that re-subscribed the contact (nothing ran)."""
HELP_ANSWERED = "help"
"""The run status of HELP answered with the account's help text (no trigger ran)."""
HELP_STEP = "help-text"


@dataclass(frozen=True, slots=True)
class OptOutCounts:
    opt_outs: int
    opt_ins: int
    sends_skipped: int


AWS_CONFIG = Config(
    connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}
)


def utc_now() -> datetime:
    return datetime.now(UTC)


@cache
def _messaging_client(account_sid: str, auth_token: str, api_base_url: str) -> TwilioMessaging:
    """One client (and connection pool) per account and token; a rotated token gets a new one."""
    from sms_automation.adapters.twilio_messaging import TwilioMessaging  # see TYPE_CHECKING

    return TwilioMessaging(account_sid, auth_token, api_base_url=api_base_url)


class Runtime:
    def __init__(
        self, settings: ProcessorSettings, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._sends_capped = 0
        self._known_numbers: set[tuple[str, str]] = set()  # (account, number) stored already
        self._sends_to_opted_out = 0
        self._counts: Counter[Keyword] = Counter()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Runtime:
        return cls(ProcessorSettings.from_environ(environ))

    # --- clients -------------------------------------------------------------------------------

    @cached_property
    def dynamodb(self) -> Any:
        return boto3.client("dynamodb", config=AWS_CONFIG)

    @cached_property
    def directory(self) -> CachedAccountDirectory:
        return CachedAccountDirectory(
            DynamoAccountStore(self.settings.table_name, self.dynamodb),
            TokensOnFirstRead(lambda: boto3.client("secretsmanager", config=AWS_CONFIG)),
        )

    @cached_property
    def send_guard(self) -> SendGuard:
        return SendGuard(
            DynamoSendCounter(self.settings.table_name, self.dynamodb),
            cap=self._send_cap,
            clock=self._clock,
            on_refused=self._count_refusal,
        )

    @cached_property
    def contacts(self) -> DynamoContactStore:
        return DynamoContactStore(self.settings.table_name, self.dynamodb)

    @cached_property
    def runs(self) -> DynamoRunStore:
        return DynamoRunStore(self.settings.table_name, self.dynamodb)

    @cached_property
    def processor(self) -> MessageProcessor:
        from sms_automation.processing.runner import MessageProcessor

        return MessageProcessor(
            runs=self.runs,
            triggers=DynamoTriggerStore(self.settings.table_name, self.dynamodb),
            engines=engines(),
            port_for=self.port_for,
            clock=self._clock,
            account_zone=self.account_zone,
        )

    @cached_property
    def conversations(self) -> Conversations:
        arn = self.settings.wait_state_machine_arn
        workflow = (
            StepFunctionsWaitWorkflow(arn, lambda: boto3.client("stepfunctions", config=AWS_CONFIG))
            if arn
            else None
        )
        return Conversations(
            store=DynamoConversationStore(self.settings.table_name, self.dynamodb),
            workflow=workflow,
            port_for=self.ledger_port,
            clock=self._clock,
            poll_seconds=self.settings.conversation_poll_seconds,
        )

    @cached_property
    def deferrals(self) -> Deferrals:
        from sms_automation.processing.deferral import Deferrals, RetryQueue  # see TYPE_CHECKING

        url = self.settings.retry_queue_url
        queue = RetryQueue(url, boto3.client("sqs", config=AWS_CONFIG)) if url else None
        return Deferrals(
            queue, table_name=self.settings.table_name, dynamodb=self.dynamodb, clock=self._clock
        )

    def account_zone(self, name: str) -> str | None:
        """The account's time zone (cached with its record, ``ACCOUNT_CACHE_SECONDS``)."""
        account = self.directory.find(name)
        return account.timezone if account is not None else None

    # --- use cases -----------------------------------------------------------------------------

    def handle_inbound(self, message: Mapping[str, Any]) -> tuple[ReplyRouting, RunResult]:
        """A new inbound message: an answer to an open conversation, else the triggers.
        An automation run's origin: its automation."""
        from sms_automation.processing.runner import RunResult  # see TYPE_CHECKING above

        sid, account = str(message["message_sid"]), str(message["account"])
        routing = ReplyRouting.NOT_A_REPLY
        if is_automation_run(message):  # started by us: never an answer to a conversation
            return routing, self.processor.process(message)
        existing = self.runs.get(sid)
        if existing is None and self._from_own_number(message):
            return routing, self._own_number_run(message)
        if existing is None or not existing.finished:
            subscription = self._subscription(message)
            if subscription is Keyword.OPT_OUT:  # only the triggers that ask for it (runner)
                return routing, self.processor.process(message, opt_out=True)
            if subscription is Keyword.HELP:
                self._answer_help(message)
            if subscription is not None:
                status = OPTED_IN if subscription is Keyword.OPT_IN else HELP_ANSWERED
                run = self.runs.start(
                    sid,
                    account,
                    trigger_version=0,
                    fingerprint="",
                    now=iso(self._clock()),
                    status=status,
                )
                return routing, RunResult(run, replayed=existing is not None)
            routing = self.conversations.route_reply(message)
        if routing is ReplyRouting.CONSUMED:
            run = self.runs.start(
                sid,
                account,
                trigger_version=0,
                fingerprint="",
                now=iso(self._clock()),
                status="conversation_reply",
            )
            return routing, RunResult(run, replayed=existing is not None)
        return routing, self.processor.process(message)

    def take_sends_capped(self) -> int:
        """The sends the cap refused since the last call: the handler's ``SendsCapped``."""
        capped, self._sends_capped = self._sends_capped, 0
        return capped

    def take_opt_out_counts(self) -> OptOutCounts:
        """Opt-outs and opt-ins recorded, and sends not made to opted-out contacts, since the
        last call (the handlers' ``OptOuts``, ``OptIns`` and ``SendsToOptedOut`` metrics)."""
        counts = OptOutCounts(
            self._counts[Keyword.OPT_OUT], self._counts[Keyword.OPT_IN], self._sends_to_opted_out
        )
        self._counts.clear()
        self._sends_to_opted_out = 0
        return counts

    def _subscription(self, message: Mapping[str, Any]) -> Keyword | None:
        """Record an opt-out (and end the contact's waiting conversation) or a
        re-subscription; ``None`` for an ordinary message. Safe to repeat (the record is
        conditional on the message time)."""
        settings = self.directory.find(str(message["account"]))
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
            current = self.contacts.get(account, sender, contact)
            if current is None or not (current.opted_out or current.message_sid == sid):
                return None  # a YES from a contact who had not opted out: an ordinary message
        received = str(message.get("received_at") or iso(self._clock()))
        state = ContactState(
            account, sender, contact, keyword is Keyword.OPT_OUT, word, received, sid
        )
        if self.contacts.record(state):
            self._counts[keyword] += 1
        if keyword is Keyword.OPT_OUT:
            self.conversations.opt_out(message, word)
        return keyword

    def _answer_help(self, message: Mapping[str, Any]) -> None:
        """The account's help text to the contact, once (the step ledger's ``help-text``
        step: a trigger's step ids always hold a ``/``, so it is no trigger's)."""
        from sms_automation.triggers import SendSms

        account = self.directory.find(str(message["account"]))
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
        )
        self.port_for(message).perform(step)

    def _is_opt_out(self, message: Mapping[str, Any]) -> bool:
        if is_automation_run(message):
            return False
        account = self.directory.find(str(message["account"]))
        found = keyword_of_message(message, account.opt_out_keywords if account else ())
        return found is not None and found[0] is Keyword.OPT_OUT

    def _count_send_to_opted_out(self) -> None:
        self._sends_to_opted_out += 1

    def replay(self, message_sid: str) -> RunResult:
        """Evaluate a stored message or run again (after a wait resolved): steps done are not
        redone."""
        message = DynamoMessageStore(self.settings.table_name, self.dynamodb).get(message_sid)
        if message is None:
            raise LookupError(f"message {message_sid} is gone")
        stored = plain(message)
        return self.processor.process(stored, opt_out=self._is_opt_out(stored))

    # --- the loop and flood guard ---------------------------------------------------------------

    def _from_own_number(self, message: Mapping[str, Any]) -> bool:
        name = str(message["account"])
        sender, ours = (str(message.get(field) or "") for field in ("from_number", "to_number"))
        account = self.directory.find(name)
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
        store = DynamoAccountStore(self.settings.table_name, self.dynamodb)
        store.add_own_numbers(account.name, frozenset({number}))
        self._known_numbers.add((account.name, number))

    def _own_number_run(self, message: Mapping[str, Any]) -> RunResult:
        from sms_automation.processing.runner import RunResult  # see TYPE_CHECKING above

        sid, account = str(message["message_sid"]), str(message["account"])
        now = iso(self._clock())
        started = self.runs.start(
            sid, account, trigger_version=0, fingerprint="", now=now, status=OWN
        )
        sender = mask_phone(str(message.get("from_number") or ""))
        self.runs.finish(
            sid,
            status=OWN,
            now=now,
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
            paused_at=None,
        )
        return RunResult(self.runs.get(sid) or started, replayed=False)

    def _send_cap(self, account_name: str) -> SendCap:
        account = self.directory.find(account_name)
        return account.send_cap if account is not None else DEFAULT_SEND_CAP

    def _count_refusal(self, refusal: Refusal) -> None:
        self._sends_capped += 1

    # --- ports ---------------------------------------------------------------------------------

    def port_for(self, message: Mapping[str, Any]) -> LedgerActionPort:
        return self.ledger_port(str(message["message_sid"]), str(message["account"]))

    def ledger_port(self, message_sid: str, account_name: str) -> LedgerActionPort:
        from sms_automation.adapters.outbound_store import DynamoOutboundStore  # see TYPE_CHECKING
        from sms_automation.processing.effects import Effects, EffectSettings
        from sms_automation.processing.ledger import DynamoStepLedger
        from sms_automation.processing.port import LedgerActionPort, lease_for

        settings = self.settings
        outbound = DynamoOutboundStore(settings.table_name, self.dynamodb)

        def messaging() -> Messaging:
            account = self.directory.find(account_name)
            if account is None:
                raise LookupError(f"account {account_name!r} no longer exists")
            return self._messaging_for(account)

        def record_outbound(
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
            return outbound.record_created(
                sid,
                account=account_name,
                kind=kind,
                to=to,
                from_=from_,
                origin_message_sid=message_sid,
                origin_step_id=step_id,
                status=status,
                created_at=self._clock(),
                step_key=step_key,
                exclusive=exclusive,
            )

        def wait(step: WaitForReply) -> StepOutcome:
            return self.conversations.perform(message_sid, account_name, step)

        effects = Effects(
            message_sid=message_sid,
            messaging=messaging,
            dynamodb=self.dynamodb,
            settings=EffectSettings(
                status_callback_url=settings.status_callback_url(account_name),
                records_table=settings.records_table,
                allow_private_networks=settings.allow_private_networks,
                app_table=settings.table_name,
            ),
            record_outbound=record_outbound,
            owners=outbound.owner,
            clock=self._clock,
            account=account_name,
            send_guard=self.send_guard,
            contacts=self.contacts,
            on_opted_out=self._count_send_to_opted_out,
        )
        return LedgerActionPort(
            message_sid,
            DynamoStepLedger(settings.table_name, self.dynamodb),
            effects,
            self._clock,
            lease=lease_for(settings.function_timeout_seconds),
            waits=wait,
        )

    def _messaging_for(self, account: Account) -> Messaging:
        tokens = self.directory.auth_tokens(account)
        return _messaging_client(
            account.account_sid, tokens.current, self.settings.twilio_api_base_url
        )
