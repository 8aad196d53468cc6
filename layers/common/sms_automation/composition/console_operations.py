"""The console API's Conversations and Dead letters pages on AWS: a conversation's cancel (the
CLI's ``conversations cancel`` path) and the ``dead_letters`` package on the deployment's queue,
the table's stream and the processor. Their heavier imports (the conversation service and the
trigger engine behind it; the dead letters package) wait for the first request that needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sms_automation.adapters.conversation_pages import DynamoConversationPages
from sms_automation.adapters.conversation_store import DynamoConversationStore
from sms_automation.console.audit import AuditLog
from sms_automation.console.conversations import ConsoleConversations
from sms_automation.console.dead_letters import MAX_ENTRIES, ConsoleDeadLetters
from sms_automation.conversations.model import Conversation
from sms_automation.edge import aws
from sms_automation.edge.settings import ConsoleSettings
from sms_automation.edge.timestamps import utc_now

if TYPE_CHECKING:
    from sms_automation.adapters.dead_letter_queue import SqsDeadLetterQueue
    from sms_automation.dead_letters.redrive import EntryReport, Survey, SurveyedEntry
    from sms_automation.dead_letters.stream import BatchResolver


def dynamo_conversations(
    settings: ConsoleSettings, client: Any, audit: AuditLog
) -> ConsoleConversations:
    cancels = ConversationCancels(
        settings.table_name, client, settings.conversation_state_machine_arn
    )
    pages = DynamoConversationPages(settings.table_name, client)
    return ConsoleConversations(pages, cancels, audit)


def aws_dead_letters(settings: ConsoleSettings, client: Any, audit: AuditLog) -> ConsoleDeadLetters:
    return ConsoleDeadLetters(DeadLetterTools(settings, client), audit)


class ConversationCancels:
    """``console.conversations.ConversationCanceller``: the store's read, and the cancel the
    CLI's ``conversations cancel`` makes (``Conversations.cancel``; the service is imported on
    the first cancel only: it pulls in the trigger engine, which no read needs)."""

    def __init__(self, table: str, client: Any, state_machine_arn: str) -> None:
        self._store = DynamoConversationStore(table, client)
        self._arn = state_machine_arn

    def get(self, message_sid: str, step_id: str) -> Conversation | None:
        return self._store.get(message_sid, step_id)

    def cancel(self, message_sid: str, step_id: str, by: str) -> bool:
        from sms_automation.adapters.conversation_workflow import (
            StepFunctionsConversationWorkflow,
        )
        from sms_automation.conversations.service import Conversations

        def no_sending(message_sid: str, account: str) -> Any:
            raise RuntimeError("cancelling sends nothing")

        workflow = (
            StepFunctionsConversationWorkflow(
                self._arn, lambda: aws.client("stepfunctions", aws.ANSWERING)
            )
            if self._arn
            else None
        )
        service = Conversations(
            store=self._store, workflow=workflow, port_for=no_sending, clock=utc_now
        )
        return service.cancel(message_sid, step_id, by=by)


class DeadLetterTools:
    """``console.dead_letters.DeadLetterTools``: the CLI's ``dead-letters list`` and
    ``redrive`` on the deployment's queue, the table's stream and the processor (a synchronous
    invoke per message). Imported and built on the first use: no other route needs them."""

    REDRIVE_VISIBILITY_SECONDS = 120
    """An entry being redriven stays hidden this long (longer than the function's timeout)."""

    def __init__(self, settings: ConsoleSettings, client: Any) -> None:
        self._settings = settings
        self._dynamodb = client

    def survey(self, limit: int) -> Survey:
        from sms_automation.dead_letters.redrive import Survey, take_survey

        if not self._settings.dead_letter_queue_url:
            return Survey([], 0)
        queue, resolver = self._queue_and_resolver()
        return take_survey(queue, resolver, limit=limit, in_flight=queue.in_flight)

    def redrive(self, entry_id: str, allow: Callable[[SurveyedEntry], bool]) -> EntryReport | None:
        from sms_automation.adapters.evaluation_store import DynamoEvaluationStore
        from sms_automation.adapters.lambda_invoker import LambdaInvoker
        from sms_automation.adapters.replay_sources import DynamoStoredMessages
        from sms_automation.dead_letters.redrive import DeadLetterRedrive
        from sms_automation.dead_letters.replay import Replayer

        table = self._settings.table_name
        invoker = LambdaInvoker(
            aws.client("lambda", aws.ANSWERING), self._settings.processor_function
        )
        replayer = Replayer(
            messages=DynamoStoredMessages(table, self._dynamodb),
            evaluations=DynamoEvaluationStore(table, self._dynamodb),
            invoker=invoker,
            clock=utc_now,
        )
        queue, resolver = self._queue_and_resolver()
        reports = DeadLetterRedrive(queue, resolver, replayer).run(
            dry_run=False,
            visibility_timeout=self.REDRIVE_VISIBILITY_SECONDS,
            limit=MAX_ENTRIES,
            select=lambda entry: entry.message_id == entry_id,
            allow=allow,
        )
        return next(iter(reports), None)

    def _queue_and_resolver(self) -> tuple[SqsDeadLetterQueue, BatchResolver]:
        from sms_automation.adapters.dead_letter_queue import SqsDeadLetterQueue
        from sms_automation.adapters.dynamo_stream import DynamoStreamRecords
        from sms_automation.dead_letters.stream import BatchResolver

        queue = SqsDeadLetterQueue(
            self._settings.dead_letter_queue_url, aws.client("sqs", aws.ANSWERING)
        )
        streams = aws.client("dynamodbstreams", aws.ANSWERING)
        return queue, BatchResolver(DynamoStreamRecords(streams))
