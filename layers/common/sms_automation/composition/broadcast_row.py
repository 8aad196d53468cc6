"""One Distributed Map child of a broadcast: the row's automation run (``broadcasts.service``)."""

from __future__ import annotations

import os
from typing import Any

from sms_automation.composition import broadcasts
from sms_automation.edge.log_lines import Count, LambdaContextLike, LogLine, LogLines

log_lines = LogLines.from_environ(os.environ, "broadcast-row")


def handle(event: dict[str, Any], context: LambdaContextLike) -> dict[str, Any]:
    """``{"broadcast_id": ..., "item": {row, to, from, variables}}``. A store failure raises:
    the state machine retries the row (same key, one run)."""
    broadcast_id = str(event["broadcast_id"])
    outcome = broadcasts.service().start_row(broadcast_id, event["item"])
    counts = (Count(name="BroadcastRows", dimensions={"Outcome": outcome.outcome}),)
    fields: dict[str, Any] = {
        "broadcast_id": broadcast_id,
        "row": outcome.row,
        "outcome": outcome.outcome,
    }
    if outcome.reason:
        fields["reason"] = outcome.reason
    line = LogLine("INFO", "broadcast row", fields, counts)
    log_lines.write(line, context, outcome.run_id or None)
    return outcome.as_dict()
