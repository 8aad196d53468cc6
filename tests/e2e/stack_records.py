"""What the deployed stack recorded about a contact's messages, read from its table with the code
the phone simulator's page uses (``StackReader``; its API answers for the demo account's numbers
only): each inbound message with its action log (the evaluation, the steps)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sms_automation.processing.evaluations import FINISHED_STATUSES
from sms_automation_local.readiness import stack_outputs
from sms_automation_local.state import LocalState
from sms_automation_local.twilio_sandbox.stack_reader import StackReader, StackTable

_TABLES: dict[str, str] = {}


def stored_messages(stack: LocalState, account: str, contact: str) -> list[dict[str, Any]]:
    """``account``'s messages from ``contact``, newest first, each with its ``action_log``."""
    if stack.stack_name not in _TABLES:
        _TABLES[stack.stack_name] = stack_outputs(stack)["TableName"]
    table = StackTable(stack.endpoint_url, stack.region, _TABLES[stack.stack_name])
    return StackReader(table, limit=100).stored_messages(account, contact)


def settled(message: dict[str, Any]) -> bool:
    """Its evaluation finished and no step is still running: nothing more will happen for it."""
    log = message["action_log"]
    evaluation = log["evaluation"]
    return (
        evaluation is not None
        and evaluation["status"] in FINISHED_STATUSES
        and all(step["state"] != "started" for step in log["steps"])
    )


def moment(stamp: str) -> datetime:
    """A stored timestamp (``2026-12-07T05:15:00.000Z``) as a time."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
