"""Builders for trigger tests: messages, trigger sets from plain dicts, one-call evaluations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sms_automation.triggers import (
    AccountSettings,
    Engine,
    Evaluation,
    StepOutcome,
    TriggerSet,
)

NOW = dt.datetime(2025, 3, 14, 10, 30, tzinfo=dt.UTC)  # a Friday
ACCOUNT = AccountSettings("acme")
SENDER = "+447700900123"
OUR_NUMBER = "+447700900999"


def message(**fields: Any) -> dict[str, Any]:
    base = {
        "MessageSid": "SM" + "1" * 32,
        "AccountSid": "AC" + "2" * 32,
        "From": SENDER,
        "To": OUR_NUMBER,
        "Body": "hello",
        "NumMedia": "0",
        "ToCountry": "GB",
        "SmsStatus": "received",
    }
    base.update(fields)
    return base


def trigger_set(*triggers: Mapping[str, Any]) -> TriggerSet:
    return TriggerSet.model_validate({"version": 1, "triggers": list(triggers)})


def evaluate(
    triggers: TriggerSet | Mapping[str, Any],
    msg: Mapping[str, Any] | None = None,
    *,
    now: dt.datetime = NOW,
    account: AccountSettings = ACCOUNT,
    headers: Mapping[str, str] | None = None,
    outcomes: Mapping[str, StepOutcome] | None = None,
) -> Evaluation:
    if not isinstance(triggers, TriggerSet):
        triggers = trigger_set(triggers)
    return Engine(triggers).dry_run(
        msg if msg is not None else message(),
        now=now,
        account=account,
        headers=headers,
        outcomes=outcomes,
    )


def holds(condition: Any, *, now: dt.datetime = NOW, tz: str | None = None, **fields: Any) -> bool:
    """Whether ``condition`` holds for a message with ``fields`` (a trigger with no actions)."""
    evaluation = evaluate(
        {"name": "t", "when": condition},
        message(**fields),
        now=now,
        account=AccountSettings("acme", tz),
    )
    return evaluation.matched == ("t",)


def reply(body: str, **extra: Any) -> dict[str, Any]:
    return {"type": "send_sms", "body": body, **extra}
