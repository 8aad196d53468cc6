"""The console API: its reads and the Triggers page's use cases on the app table and its audit
record in the audit table (built once per warm Lambda; the Triggers page, the pages' and a
thread's writes, ``composition.console_writes``, and the Conversations and Dead letters pages,
``composition.console_operations``, on first use: the first request, the inbox, imports none),
and one log line per request: the route, the outcome, the status, the account name and the
user's e-mail; never a phone number, a message body, a query string or a token.
"""

from __future__ import annotations

import os
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from sms_automation.adapters.account_store import DynamoAccountStore
from sms_automation.adapters.audit_log import DynamoAuditStore
from sms_automation.adapters.console_reads import (
    DynamoContactOptOut,
    DynamoDayFigures,
    DynamoMessageIndex,
    DynamoOpenConversations,
)
from sms_automation.adapters.console_replies import DynamoConsoleReplies
from sms_automation.adapters.message_store import DynamoMessageStore
from sms_automation.adapters.takeover_store import DynamoTakeoverStore
from sms_automation.console import http
from sms_automation.console.audit import AuditLog
from sms_automation.console.reads import ConsoleReads
from sms_automation.edge import aws
from sms_automation.edge.log_lines import Count, LambdaContextLike, LogLine, LogLines
from sms_automation.edge.settings import ConsoleSettings
from sms_automation.edge.timestamps import utc_now

if TYPE_CHECKING:
    from sms_automation.action_log import ActionLog
    from sms_automation.console.account_settings import ConsoleAccounts
    from sms_automation.console.automations import ConsoleAutomations
    from sms_automation.console.conversations import ConsoleConversations
    from sms_automation.console.dead_letters import ConsoleDeadLetters
    from sms_automation.console.trigger_files import ConsoleTriggers
    from sms_automation.console.writes import ConsoleWrites

log_lines = LogLines.from_environ(os.environ, "console-api")


class ActionLogsOnFirstUse:
    """``console.reads.ActionLogs``, its adapters (evaluations, steps, outbound records,
    conversations) imported and built on first use: the console's first request, the inbox,
    reads none, and they are a good part of a cold start (bench/cold_start.py, console_api)."""

    def __init__(self, table: str, client: Any) -> None:
        self._table = table
        self._client = client

    @cached_property
    def _log(self) -> ActionLog:
        from sms_automation.composition.action_log import dynamo_action_log

        return dynamo_action_log(self._table, self._client)

    def of(self, message_sid: str) -> dict[str, Any]:
        return self._log.of(message_sid)

    def conversations(self, message_sid: str) -> list[dict[str, Any]]:
        return self._log.conversations(message_sid)


def dynamo_reads(table: str, client: Any) -> ConsoleReads:
    return ConsoleReads(
        accounts=DynamoAccountStore(table, client),
        index=DynamoMessageIndex(table, client),
        messages=DynamoMessageStore(table, client),
        action_logs=ActionLogsOnFirstUse(table, client),
        contacts=DynamoContactOptOut(table, client),
        conversations=DynamoOpenConversations(table, client),
        figures=DynamoDayFigures(table, client),
        replies=DynamoConsoleReplies(table, client),
        takeovers=DynamoTakeoverStore(table, client),
    )


def dynamo_triggers(table: str, client: Any, audit: AuditLog) -> ConsoleTriggers:
    from sms_automation.adapters.trigger_store import DynamoTriggerStore
    from sms_automation.console.trigger_files import ConsoleTriggers

    return ConsoleTriggers(
        versions=DynamoTriggerStore(table, client),
        messages=DynamoMessageStore(table, client),
        accounts=DynamoAccountStore(table, client),
        app_table=table,
        audit=audit,
    )


def dynamo_audit(audit_table: str, client: Any) -> AuditLog:
    return AuditLog(DynamoAuditStore(audit_table, client), clock=utc_now)


@cache
def _console() -> http.Console:
    settings = ConsoleSettings.from_environ(os.environ)
    client = aws.client("dynamodb", aws.ANSWERING)
    audit_log = dynamo_audit(settings.audit_table, client)
    reads = dynamo_reads(settings.table_name, client)
    return http.Console(
        reads=reads,
        audit=audit_log,
        triggers=cache(lambda: dynamo_triggers(settings.table_name, client, audit_log)),
        pages=http.Pages(
            automations=cache(lambda: _automations(settings, client, audit_log)),
            accounts=cache(lambda: _accounts(settings, client, audit_log)),
        ),
        writes=cache(lambda: _writes(settings, client, reads, audit_log)),
        conversations=cache(lambda: _conversations(settings, client, audit_log)),
        dead_letters=cache(lambda: _dead_letters(settings, client, audit_log)),
    )


def _writes(
    settings: ConsoleSettings, client: Any, reads: ConsoleReads, audit_log: AuditLog
) -> ConsoleWrites:
    from sms_automation.composition.console_writes import console_writes

    return console_writes(settings, client, reads, audit_log, utc_now)


def _conversations(
    settings: ConsoleSettings, client: Any, audit_log: AuditLog
) -> ConsoleConversations:
    from sms_automation.composition.console_operations import dynamo_conversations

    return dynamo_conversations(settings, client, audit_log)


def _dead_letters(
    settings: ConsoleSettings, client: Any, audit_log: AuditLog
) -> ConsoleDeadLetters:
    from sms_automation.composition.console_operations import aws_dead_letters

    return aws_dead_letters(settings, client, audit_log)


def _automations(settings: ConsoleSettings, client: Any, audit_log: AuditLog) -> ConsoleAutomations:
    from sms_automation.composition.console_pages import dynamo_automations

    return dynamo_automations(settings.table_name, client, audit_log)


def _accounts(settings: ConsoleSettings, client: Any, audit_log: AuditLog) -> ConsoleAccounts:
    from sms_automation.composition.console_pages import aws_accounts

    return aws_accounts(
        settings.table_name,
        client,
        aws.console_secrets,
        audit_log,
        webhook_base_url=settings.webhook_base_url,
        twilio_api_base_url=settings.twilio_api_base_url,
    )


def handle(event: dict[str, Any], context: LambdaContextLike) -> dict[str, Any]:
    route = str(event.get("routeKey") or "")
    account = (event.get("pathParameters") or {}).get("account")
    fields: dict[str, Any] = {
        "route": route[:120],
        "account": str(account)[:64] if account else None,
    }
    try:
        answer = http.handle(event, _console(), utc_now)
    except Exception as error:
        line = LogLine("ERROR", "console API request failed", fields, (), error)
        log_lines.write(line, context)
        body = {"error": "internal_error", "message": "the console could not answer; try again"}
        return http.json_response(500, body)
    status = answer.response["statusCode"]
    fields |= {"outcome": answer.outcome, "status": status, "user": answer.user}
    counts = (Count(name="ConsoleRequestsDenied"),) if answer.outcome == "denied" else ()
    if answer.outcome == "denied":
        line = LogLine("WARNING", "console API request refused", fields, counts)
    else:
        line = LogLine("INFO", "console API request", fields)
    log_lines.write(line, context)
    return answer.response
