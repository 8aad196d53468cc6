"""Wait-for-reply state machine, token task: keep the token, open the wait, send the prompt.

Invoked by ``lambda:invoke.waitForTaskToken``: whatever this returns is ignored; the task ends
when the conversation wakes it (``SendTaskSuccess``/``SendTaskFailure``) or at its ceiling.
A retry after a failure sends nothing twice (the prompt is a ledger step).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from sms_automation.processing.runtime import Runtime

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "wait-register")


@cache
def _runtime() -> Runtime:
    return Runtime.from_environ(os.environ)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    message_sid, step_id = str(event["message_sid"]), str(event["step_id"])
    logger.set_correlation_id(message_sid)
    _runtime().conversations.register(message_sid, step_id, str(event["task_token"]))
    logger.info("wait registered", extra={"step_id": step_id})
    return {"registered": True}
