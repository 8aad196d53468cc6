"""Conversation state machine, last task: the conversation is over; replay the message past it.

The replay meets every earlier step in the ledger (nothing is sent twice), the wait with its
recorded outcome, then runs that outcome's branch and what follows, up to the end or the next
wait (which starts its own execution). Safe to retry.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from sms_automation.composition.conversation_tasks import sends_not_made
from sms_automation.composition.runtime import Runtime
from sms_automation.edge.log_lines import LambdaContextLike, LogLine, LogLines

log_lines = LogLines.from_environ(os.environ, "conversation-resume")


@cache
def _runtime() -> Runtime:
    return Runtime.from_environ(os.environ)


def handle(event: dict[str, Any], context: LambdaContextLike) -> dict[str, Any]:
    message_sid, step_id = str(event["message_sid"]), str(event["step_id"])
    runtime = _runtime()
    conversation = runtime.conversations.resume(message_sid, step_id, _woken_by(event.get("woke")))
    result = runtime.replay(message_sid)
    resumed = {
        "step_id": step_id,
        "outcome": conversation.status,
        "status": result.evaluation.status,
        "paused_at": result.evaluation.paused_at,
    }
    line = LogLine("INFO", "conversation resumed", resumed, sends_not_made(runtime))
    log_lines.write(line, context, message_sid)
    return {"outcome": conversation.status, "run_status": result.evaluation.status}


def _woken_by(woke: Any) -> str:
    if isinstance(woke, dict):
        return str(woke.get("Error") or "the conversation")
    return "the conversation"
