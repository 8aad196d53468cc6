"""Wait-for-reply state machine, timer branch: reminders that are due, then the deadline.

Answers the timer's next state: ``next_at`` (when to look again) and ``resolved`` (the wait is
over, whoever ended it: the timer branch then stops the execution's wait).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from sms_automation.processing.runtime import Runtime

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "wait-timer")


@cache
def _runtime() -> Runtime:
    return Runtime.from_environ(os.environ)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    message_sid, step_id = str(event["message_sid"]), str(event["step_id"])
    logger.set_correlation_id(message_sid)
    timer = _runtime().conversations.tick(message_sid, step_id)
    logger.info("wait timer", extra={"step_id": step_id, **timer})
    return timer
