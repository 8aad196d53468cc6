"""The console API: its reads on the app table (built once per warm Lambda) and one log line
per request: the route, the outcome, the status, the account name and the user's e-mail;
never a phone number, a message body, a query string or a token.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from sms_automation.adapters.account_store import DynamoAccountStore
from sms_automation.adapters.console_reads import (
    DynamoContactOptOut,
    DynamoMessageIndex,
    DynamoOpenConversations,
)
from sms_automation.adapters.message_store import DynamoMessageStore
from sms_automation.composition.action_log import dynamo_action_log
from sms_automation.console import http
from sms_automation.console.reads import ConsoleReads
from sms_automation.edge import aws
from sms_automation.edge.log_lines import Count, LambdaContextLike, LogLine, LogLines
from sms_automation.edge.settings import AutomationSettings
from sms_automation.edge.timestamps import utc_now

log_lines = LogLines.from_environ(os.environ, "console-api")


def dynamo_reads(table: str, client: Any) -> ConsoleReads:
    return ConsoleReads(
        accounts=DynamoAccountStore(table, client),
        index=DynamoMessageIndex(table, client),
        messages=DynamoMessageStore(table, client),
        action_logs=dynamo_action_log(table, client),
        contacts=DynamoContactOptOut(table, client),
        conversations=DynamoOpenConversations(table, client),
    )


@cache
def _reads() -> ConsoleReads:
    table = AutomationSettings.from_environ(os.environ).table_name
    return dynamo_reads(table, aws.client("dynamodb", aws.ANSWERING))


def handle(event: dict[str, Any], context: LambdaContextLike) -> dict[str, Any]:
    route = str(event.get("routeKey") or "")
    account = (event.get("pathParameters") or {}).get("account")
    fields: dict[str, Any] = {
        "route": route[:120],
        "account": str(account)[:64] if account else None,
    }
    try:
        answer = http.handle(event, _reads(), utc_now)
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
