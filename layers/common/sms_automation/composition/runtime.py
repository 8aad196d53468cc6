"""The processing wiring shared by the stream processor and the conversation functions.

One ``Runtime`` per warm Lambda (handlers keep it in a ``functools.cache``): AWS clients,
the account directory, the trigger processor, the conversations and the send guard, built from
the environment on first use. This is where each port of ``processing.ports`` and
``conversations.ports`` gets its adapter: the run store, the step ledger, the record tables,
the retry queue, the conversation store and the conversation workflow.

What a message goes through before its triggers (the loop guard, opt-out, opt-in and HELP
keywords, answers to conversations) is ``processing.intake``, built here. Sends over the
account's cap are counted for the handlers' metrics (``take_sends_capped``: their
``SendsCapped`` count); so are opt-outs, opt-ins and sends not made to opted-out contacts
(``take_opt_out_counts``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sms_automation.adapters.account_store import (
    CachedAccountDirectory,
    DynamoAccountStore,
    TokensOnFirstRead,
)
from sms_automation.edge import aws
from sms_automation.edge.settings import ProcessorSettings
from sms_automation.edge.timestamps import utc_now
from sms_automation.send_cap import DEFAULT_SEND_CAP, SendCap  # the accounts' own

if TYPE_CHECKING:
    # Imported where used, to keep them out of cold starts that do not need them: the runner
    # brings the engine, pydantic and YAML (needed when a message has triggers, or a wait
    # resolves); the intake, its stores (evaluations, messages, contacts, triggers) and the
    # opt-out keywords when a message comes in (a conversation task never takes one: only the
    # resume replays); the conversations and their store and workflow when first asked; the
    # ledger port, effects (pacing, quiet hours), outbound records and the Twilio client
    # (``composition.ledger_ports``) are needed only when a step is performed; the send guard,
    # its counter and the takeovers when a message is sent.
    from sms_automation.adapters.contact_store import DynamoContactStore
    from sms_automation.adapters.evaluation_store import DynamoEvaluationStore
    from sms_automation.adapters.takeover_store import DynamoTakeoverStore
    from sms_automation.composition.ledger_ports import LedgerPorts
    from sms_automation.conversations.service import Conversations, ReplyRouting
    from sms_automation.processing.deferral import Deferrals
    from sms_automation.processing.intake import Intake
    from sms_automation.processing.pacing import Pacer
    from sms_automation.processing.port import EnginePort, LedgerActionPort
    from sms_automation.processing.ports import EventPublisher, FunctionInvoker, Mailer
    from sms_automation.processing.runner import EvaluationResult, MessageProcessor
    from sms_automation.send_guard import Refusal, SendGuard
    from sms_automation.triggers import StepOutcome, WaitForReply

__all__ = ["OptOutCounts", "Runtime", "utc_now"]


@dataclass(frozen=True, slots=True)
class OptOutCounts:
    opt_outs: int
    opt_ins: int
    sends_skipped: int


def _outside_window(detail: str, opens: datetime) -> Exception:
    """``quiet_hours.outside_window``, loaded when a conversation first waits for the window."""
    from sms_automation.processing.quiet_hours import outside_window

    return outside_window(detail, opens)


class Runtime:
    def __init__(
        self, settings: ProcessorSettings, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._sends_capped = 0
        self._sends_to_opted_out = 0

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Runtime:
        return cls(ProcessorSettings.from_environ(environ))

    # --- clients -------------------------------------------------------------------------------

    @cached_property
    def dynamodb(self) -> Any:
        return aws.client("dynamodb")

    @cached_property
    def directory(self) -> CachedAccountDirectory:
        return CachedAccountDirectory(
            DynamoAccountStore(self.settings.table_name, self.dynamodb),
            TokensOnFirstRead(lambda: aws.client("secretsmanager")),
        )

    @cached_property
    def send_guard(self) -> SendGuard:
        from sms_automation.adapters.send_counter import DynamoSendCounter  # see TYPE_CHECKING
        from sms_automation.send_guard import SendGuard

        return SendGuard(
            DynamoSendCounter(self.settings.table_name, self.dynamodb),
            cap=self._send_cap,
            clock=self._clock,
            on_refused=self._count_refusal,
        )

    @cached_property
    def pacer(self) -> Pacer:
        import time

        from sms_automation.adapters.pace_store import DynamoPaceStore  # see TYPE_CHECKING
        from sms_automation.processing.pacing import Pacer

        return Pacer(
            DynamoPaceStore(self.settings.table_name, self.dynamodb),
            rates=self._send_rates,
            clock=self._clock,
            sleep=time.sleep,
        )

    def quiet_hours(self, account_name: str) -> Callable[[datetime], datetime | None]:
        """The account's quiet-hours rule: at a moment, when its send window opens (``None``:
        open now, or no window set)."""

        def opens_at(now: datetime) -> datetime | None:
            from sms_automation.processing.quiet_hours import opens_at

            account = self.directory.find(account_name)
            if account is None or account.send_window is None:
                return None
            return opens_at(account.send_window, now, account.timezone)

        return opens_at

    @cached_property
    def contacts(self) -> DynamoContactStore:
        from sms_automation.adapters.contact_store import DynamoContactStore  # see TYPE_CHECKING

        return DynamoContactStore(self.settings.table_name, self.dynamodb)

    @cached_property
    def takeovers(self) -> DynamoTakeoverStore:
        from sms_automation.adapters.takeover_store import DynamoTakeoverStore  # see TYPE_CHECKING

        return DynamoTakeoverStore(self.settings.table_name, self.dynamodb)

    @cached_property
    def evaluations(self) -> DynamoEvaluationStore:
        from sms_automation.adapters.evaluation_store import DynamoEvaluationStore  # TYPE_CHECKING

        return DynamoEvaluationStore(self.settings.table_name, self.dynamodb)

    @cached_property
    def processor(self) -> MessageProcessor:
        from sms_automation.adapters.trigger_store import DynamoTriggerStore, KeptTriggerVersions
        from sms_automation.processing.runner import MessageProcessor
        from sms_automation.triggers.versions import engines

        return MessageProcessor(
            evaluations=self.evaluations,
            triggers=KeptTriggerVersions(
                DynamoTriggerStore(self.settings.table_name, self.dynamodb)
            ),
            engines=engines(),
            port_for=self.port_for,
            clock=self._clock,
            account_zone=self.account_zone,
        )

    @cached_property
    def intake(self) -> Intake:
        from sms_automation.adapters.dynamo_json import plain
        from sms_automation.adapters.message_store import DynamoMessageStore
        from sms_automation.processing.intake import Intake  # see TYPE_CHECKING

        messages = DynamoMessageStore(self.settings.table_name, self.dynamodb)

        def stored_message(message_sid: str) -> dict[str, Any] | None:
            item = messages.get(message_sid)
            return None if item is None else plain(item)

        return Intake(
            evaluations=self.evaluations,
            records=self.evaluations,
            processor=lambda: self.processor,
            conversations=lambda: self.conversations,
            directory=self.directory,
            contacts=self.contacts,
            own_numbers=DynamoAccountStore(self.settings.table_name, self.dynamodb),
            stored_message=stored_message,
            port_for=self.port_for,
            clock=self._clock,
        )

    @cached_property
    def conversations(self) -> Conversations:
        from sms_automation.adapters.conversation_store import DynamoConversationStore
        from sms_automation.adapters.conversation_workflow import (
            StepFunctionsConversationWorkflow,
        )
        from sms_automation.conversations.service import Conversations  # see TYPE_CHECKING

        arn = self.settings.conversation_state_machine_arn
        workflow = (
            StepFunctionsConversationWorkflow(arn, lambda: aws.client("stepfunctions"))
            if arn
            else None
        )
        return Conversations(
            store=DynamoConversationStore(self.settings.table_name, self.dynamodb),
            workflow=workflow,
            port_for=self.ledger_port,
            clock=self._clock,
            poll_seconds=self.settings.conversation_poll_seconds,
            quiet_hours=lambda account, now: self.quiet_hours(account)(now),
            waiting=_outside_window,
        )

    @cached_property
    def deferrals(self) -> Deferrals:
        from sms_automation.adapters.replay_sources import StoredStreamRecords
        from sms_automation.adapters.retry_queue import SqsRetryQueue  # see TYPE_CHECKING
        from sms_automation.processing.deferral import Deferrals

        url = self.settings.retry_queue_url
        queue = SqsRetryQueue(url, aws.client("sqs")) if url else None
        return Deferrals(
            queue,
            records=StoredStreamRecords(self.settings.table_name, self.dynamodb),
            clock=self._clock,
        )

    def account_zone(self, name: str) -> str | None:
        """The account's time zone (cached with its record, ``ACCOUNT_CACHE_SECONDS``)."""
        account = self.directory.find(name)
        return account.timezone if account is not None else None

    # --- use cases -----------------------------------------------------------------------------

    def handle_inbound(self, message: Mapping[str, Any]) -> tuple[ReplyRouting, EvaluationResult]:
        """A new inbound message: an answer to an open conversation, else the triggers.
        An automation run's origin: its automation (``processing.intake``)."""
        return self.intake.handle(message)

    def replay(self, message_sid: str) -> EvaluationResult:
        """Evaluate a stored message or run again (after a conversation resolved): steps
        done are not redone."""
        return self.intake.replay(message_sid)

    def take_sends_capped(self) -> int:
        """The sends the cap refused since the last call: the handler's ``SendsCapped``."""
        capped, self._sends_capped = self._sends_capped, 0
        return capped

    def take_opt_out_counts(self) -> OptOutCounts:
        """Opt-outs and opt-ins recorded, and sends not made to opted-out contacts, since the
        last call (the handlers' ``OptOuts``, ``OptIns`` and ``SendsToOptedOut`` metrics)."""
        opt_outs = opt_ins = 0
        if "intake" in self.__dict__:  # built (``cached_property``): a message came in
            from sms_automation.opt_out import Keyword

            keywords = self.intake.take_keyword_counts()
            opt_outs, opt_ins = keywords[Keyword.OPT_OUT], keywords[Keyword.OPT_IN]
        counts = OptOutCounts(opt_outs, opt_ins, self._sends_to_opted_out)
        self._sends_to_opted_out = 0
        return counts

    def _count_send_to_opted_out(self) -> None:
        self._sends_to_opted_out += 1

    def _send_rates(self, account_name: str) -> dict[str, float]:
        account = self.directory.find(account_name)
        return account.rates if account is not None else {}

    def _send_cap(self, account_name: str) -> SendCap:
        account = self.directory.find(account_name)
        return account.send_cap if account is not None else DEFAULT_SEND_CAP

    def _count_refusal(self, refusal: Refusal) -> None:
        self._sends_capped += 1

    # --- ports ---------------------------------------------------------------------------------

    def port_for(self, message: Mapping[str, Any]) -> EnginePort:
        """The engine's port for this message: its ``wait_for_reply`` steps to the conversations,
        every other step through its ledger port."""
        from sms_automation.processing.port import EnginePort  # see TYPE_CHECKING

        message_sid, account_name = str(message["message_sid"]), str(message["account"])

        bulk = message.get("priority") == "bulk"  # a broadcast row's run (``broadcasts``)

        def start_conversation(step: WaitForReply, answered: bool) -> StepOutcome:
            opened_bulk = bulk and not answered  # else in answer to the contact: a reply
            return self.conversations.perform(message_sid, account_name, step, bulk=opened_bulk)

        def answering() -> LedgerActionPort:  # what a bulk run sends once the contact answered
            return self.ledger_port(message_sid, account_name)

        return EnginePort(
            self.ledger_port(message_sid, account_name, bulk=bulk),
            conversations=start_conversation,
            answering=answering if bulk else None,
        )

    @cached_property
    def ledger_ports(self) -> LedgerPorts:
        from sms_automation.composition.ledger_ports import LedgerPorts  # see TYPE_CHECKING

        settings = self.settings
        return LedgerPorts(
            table=settings.table_name,
            client=self.dynamodb,
            directory=self.directory,
            clock=self._clock,
            twilio_api_base_url=settings.twilio_api_base_url,
            function_timeout_seconds=settings.function_timeout_seconds,
        )

    def ledger_port(
        self, message_sid: str, account_name: str, *, bulk: bool = False
    ) -> LedgerActionPort:
        """``bulk``: the message's sends are bulk (``processing.pacing``), else replies."""
        from sms_automation.processing.effects import EffectSettings  # see TYPE_CHECKING
        from sms_automation.processing.pacing import Priority

        settings = self.settings
        return self.ledger_ports.port(
            message_sid,
            account_name,
            EffectSettings(
                status_callback_url=settings.status_callback_url(account_name),
                records_table=settings.records_table,
                allow_private_networks=settings.allow_private_networks,
                app_table=settings.table_name,
                email_senders=settings.email_senders,
                event_bus_arns=settings.event_bus_arns,
                function_arns=settings.function_arns,
            ),
            send_guard=self.send_guard,
            contacts=self.contacts,
            on_opted_out=self._count_send_to_opted_out,
            takeovers=self.takeovers,
            pacer=self.pacer,
            quiet_hours=self.quiet_hours(account_name),
            priority=Priority.BULK if bulk else Priority.REPLY,
            mailer=lambda: self.mailer,
            events=lambda: self.event_publisher,
            functions=lambda: self.lambda_functions,
        )

    @cached_property
    def mailer(self) -> Mailer:
        """The SES mailer, made when a ``send_email`` step first needs it (cold starts skip it)."""
        from sms_automation.adapters.aws_failures import ONE_TRY
        from sms_automation.adapters.ses_mailer import SesMailer

        return SesMailer(aws.client("sesv2", ONE_TRY))

    @cached_property
    def event_publisher(self) -> EventPublisher:
        """Made when a ``publish_event`` step first needs it."""
        from sms_automation.adapters.aws_failures import ONE_TRY
        from sms_automation.adapters.eventbridge_publisher import EventBridgePublisher

        return EventBridgePublisher(aws.client("events", ONE_TRY))

    @cached_property
    def lambda_functions(self) -> FunctionInvoker:
        """Made when an ``invoke_lambda`` step first needs it; a client per step timeout."""
        from botocore.config import Config

        from sms_automation.adapters.lambda_functions import LambdaFunctions

        return LambdaFunctions(
            lambda seconds: aws.client(
                "lambda",
                Config(connect_timeout=2, read_timeout=seconds, retries={"total_max_attempts": 1}),
            )
        )
