"""The broadcast state machine's ``Validate``, ``Finish`` and ``MarkFailed`` tasks
(``broadcasts.service``)."""

from __future__ import annotations

import os
from typing import Any

from sms_automation.composition import broadcasts
from sms_automation.edge.log_lines import LambdaContextLike, LogLine, LogLines

log_lines = LogLines.from_environ(os.environ, "broadcast-steps")


def handle(event: dict[str, Any], context: LambdaContextLike) -> dict[str, Any]:
    """``{"step": "validate" | "finish" | "fail", "broadcast_id": ...}`` (``fail``: ``error``)."""
    broadcast_id = str(event["broadcast_id"])
    if event.get("step") == "fail":
        result = broadcasts.service().fail(broadcast_id, str(event.get("error") or "unknown"))
        log_lines.write(LogLine("ERROR", "broadcast failed", result), context, broadcast_id)
        return result
    if event.get("step") == "finish":
        result = broadcasts.service().finish(broadcast_id)
        log_lines.write(LogLine("INFO", "broadcast finished", result), context, broadcast_id)
        return result
    result = broadcasts.service().validate(broadcast_id)
    fields = {"broadcast_id": broadcast_id, "start_rows": result["start_rows"]}
    log_lines.write(LogLine("INFO", "broadcast validated", fields), context, broadcast_id)
    return result
