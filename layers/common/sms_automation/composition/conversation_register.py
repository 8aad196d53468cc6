"""Conversation state machine, token task: keep the token, open the conversation, send the prompt.

Invoked by ``lambda:invoke.waitForTaskToken``: whatever this returns is ignored; the task ends
when the conversation wakes it (``SendTaskSuccess``/``SendTaskFailure``) or at its ceiling.
A retry after a failure sends nothing twice (the prompt is a ledger step).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from sms_automation.composition.conversation_tasks import sends_not_made
from sms_automation.composition.runtime import Runtime
from sms_automation.edge.log_lines import LambdaContextLike, LogLine, LogLines

log_lines = LogLines.from_environ(os.environ, "conversation-register")


@cache
def _runtime() -> Runtime:
    return Runtime.from_environ(os.environ)


def handle(event: dict[str, Any], context: LambdaContextLike) -> dict[str, Any]:
    message_sid, step_id = str(event["message_sid"]), str(event["step_id"])
    runtime = _runtime()
    runtime.conversations.register(message_sid, step_id, str(event["task_token"]))
    registered = LogLine(
        "INFO", "conversation registered", {"step_id": step_id}, sends_not_made(runtime)
    )
    log_lines.write(registered, context, message_sid)
    return {"registered": True}
