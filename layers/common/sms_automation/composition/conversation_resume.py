"""Conversation state machine, last task: the conversation is over; replay the message past it.

The replay meets every earlier step in the ledger (nothing is sent twice), the wait with its
recorded outcome, then runs that outcome's branch and what follows, up to the end or the next
wait (which starts its own execution). Safe to retry.

A send of the branch that must wait for its time (``Waiting``: its sender's rate, the account's
quiet hours — a conversation that timed out at night, then a follow-up) does not fail the task:
the message is deferred to the processor's retry queue (``processing.deferral``), which replays
it when the send may go, as it does its own. Only when that queue refuses does the task fail
(the state machine retries it).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from sms_automation.composition.conversation_tasks import sends_not_made
from sms_automation.composition.runtime import Runtime
from sms_automation.edge.log_lines import LambdaContextLike, LogLine, LogLines
from sms_automation.processing.retry_later import Waiting

log_lines = LogLines.from_environ(os.environ, "conversation-resume")


@cache
def _runtime() -> Runtime:
    return Runtime.from_environ(os.environ)


def handle(event: dict[str, Any], context: LambdaContextLike) -> dict[str, Any]:
    message_sid, step_id = str(event["message_sid"]), str(event["step_id"])
    runtime = _runtime()
    conversation = runtime.conversations.resume(message_sid, step_id, _woken_by(event.get("woke")))
    try:
        result = runtime.replay(message_sid)
    except Waiting as waiting:
        return _defer(
            runtime,
            waiting,
            message_sid=message_sid,
            account=conversation.account,
            outcome=conversation.status,
            context=context,
        )
    resumed = {
        "step_id": step_id,
        "outcome": conversation.status,
        "status": result.evaluation.status,
        "paused_at": result.evaluation.paused_at,
    }
    line = LogLine("INFO", "conversation resumed", resumed, sends_not_made(runtime))
    log_lines.write(line, context, message_sid)
    return {"outcome": conversation.status, "run_status": result.evaluation.status}


def _defer(
    runtime: Runtime,
    waiting: Waiting,
    *,
    message_sid: str,
    account: str,
    outcome: str,
    context: LambdaContextLike,
) -> dict[str, Any]:
    """The branch's send waits: the message to the retry queue (or the task fails, retried)."""
    message = {"message_sid": message_sid, "account": account}
    deferred = runtime.deferrals.defer(waiting, message, {}, None)
    if not deferred.sent:
        raise waiting
    fields = {"account": account, "reason": str(waiting), "delay_seconds": deferred.delay}
    line = LogLine("WARNING", "record deferred to the retry queue", fields)
    log_lines.write(line, context, message_sid)
    return {"outcome": outcome, "run_status": "deferred"}


def _woken_by(woke: Any) -> str:
    if isinstance(woke, dict):
        return str(woke.get("Error") or "the conversation")
    return "the conversation"
