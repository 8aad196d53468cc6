"""Wait-for-reply state machine, timer branch: reminders that are due, then the deadline.

Answers the timer's next state: ``next_at`` (when to look again) and ``resolved`` (the wait is
over, whoever ended it: the timer branch then stops the execution's wait).
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from sms_automation.log_lines import LogLine, LogLines
from sms_automation.processing.runtime import Runtime

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

log_lines = LogLines.from_environ(os.environ, "wait-timer")


@cache
def _runtime() -> Runtime:
    return Runtime.from_environ(os.environ)


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    message_sid, step_id = str(event["message_sid"]), str(event["step_id"])
    timer = _runtime().conversations.tick(message_sid, step_id)
    log_lines.write(
        LogLine("INFO", "wait timer", {"step_id": step_id, **timer}), context, message_sid
    )
    return timer
