"""Conversation state machine, timer branch: reminders that are due, then the deadline.

Answers the timer's next state: ``next_at`` (when to look again), ``resolved`` (the conversation
is over, whoever ended it: the timer branch then stops the token task) and ``doze`` (where the
timer polls: keep a token until the next look instead of sleeping). Invoked with a
``doze_token`` (the ``Doze`` state), it keeps that token for whoever resolves the conversation.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from sms_automation.composition.conversation_tasks import sends_not_made
from sms_automation.composition.runtime import Runtime
from sms_automation.edge.log_lines import LambdaContextLike, LogLine, LogLines

log_lines = LogLines.from_environ(os.environ, "conversation-timer")


@cache
def _runtime() -> Runtime:
    return Runtime.from_environ(os.environ)


def handle(event: dict[str, Any], context: LambdaContextLike) -> dict[str, Any]:
    message_sid, step_id = str(event["message_sid"]), str(event["step_id"])
    if "doze_token" in event:
        _runtime().conversations.doze(message_sid, step_id, str(event["doze_token"]))
        dozing = LogLine("INFO", "conversation timer dozing", {"step_id": step_id})
        log_lines.write(dozing, context, message_sid)
        return {"dozing": True}
    runtime = _runtime()
    timer = runtime.conversations.tick(message_sid, step_id)
    ticked = LogLine(
        "INFO", "conversation timer", {"step_id": step_id, **timer}, sends_not_made(runtime)
    )
    log_lines.write(ticked, context, message_sid)
    return timer
