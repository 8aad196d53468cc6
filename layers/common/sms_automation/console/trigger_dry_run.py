"""A dry run for the console's "Test against a message": the CLI's ``triggers test``
(``conversations.dry_run_report``) on a parsed file, each step with the sentence the CLI prints
for it. Nothing is sent or written. Loaded only when a test is asked (the engine and pydantic)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sms_automation.conversations.dry_run_report import (
    describe_reply,
    describe_step,
    dry_run,
    dry_run_json,
    dry_run_report,
    opt_out_keyword,
)
from sms_automation.triggers import AccountSettings, Engine
from sms_automation.webhooks.inbound_message import thinkautomation_text

if TYPE_CHECKING:
    from sms_automation.triggers.model import TriggerSet
    from sms_automation.triggers.variables import VarValue


def dry_run_view(  # noqa: PLR0917 (what a dry run needs)
    parsed: TriggerSet,
    message: Mapping[str, VarValue],
    replies: Sequence[str],
    account: str,
    timezone: str | None,
    now: dt.datetime,
) -> dict[str, Any]:
    result = dry_run(Engine(parsed), message, replies, AccountSettings(account, timezone), now)
    view = dry_run_json(result)
    for step, record in zip(view["steps"], result.evaluation.steps, strict=True):
        step["description"] = describe_step(record.step)
    for reply, scripted in zip(view["replies"], result.replies, strict=True):
        reply["description"] = describe_reply(scripted)
    return {
        "thinkautomation_text": thinkautomation_text(
            {name: str(value) for name, value in message.items()}, {}
        ),
        "opt_out_keyword": opt_out_keyword(message),
        "report": dry_run_report(result).splitlines(),
        **view,
    }
