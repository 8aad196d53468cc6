"""Triggers: the YAML language, the pure evaluation engine and the loader.

    trigger_set = load_trigger_file("triggers.yaml")
    engine = Engine(trigger_set)
    evaluation = engine.evaluate(message, now=now, account=AccountSettings("acme"), port=port)

See ``docs/triggers.md`` for the language and ``engine`` for how a runner drives it.

The names below are imported from their modules on first use: a function that only needs the
step types (``triggers.plan``) does not load pydantic, YAML and the engine at a cold start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sms_automation.triggers.context import Diagnostic
    from sms_automation.triggers.engine import (
        AccountSettings,
        Engine,
        Evaluation,
        EvaluationStatus,
        StepRecord,
        compile_triggers,
    )
    from sms_automation.triggers.loader import (
        TriggerFileError,
        load_trigger_file,
        parse_trigger_text,
    )
    from sms_automation.triggers.model import TriggerSet, json_schema
    from sms_automation.triggers.outcomes import ConversationOutcome, OutcomeStatus
    from sms_automation.triggers.plan import (
        ActionPort,
        DryRunPort,
        HttpRequest,
        MakeCall,
        RecordItem,
        ReminderSpec,
        SendSms,
        Step,
        StepOutcome,
        WaitForReply,
    )

_MODULE_OF = {
    "Diagnostic": "context",
    **dict.fromkeys(
        (
            "AccountSettings",
            "Engine",
            "Evaluation",
            "EvaluationStatus",
            "StepRecord",
            "compile_triggers",
        ),
        "engine",
    ),
    **dict.fromkeys(("TriggerFileError", "load_trigger_file", "parse_trigger_text"), "loader"),
    **dict.fromkeys(("TriggerSet", "json_schema"), "model"),
    **dict.fromkeys(
        (
            "ActionPort",
            "DryRunPort",
            "HttpRequest",
            "MakeCall",
            "RecordItem",
            "ReminderSpec",
            "SendSms",
            "Step",
            "StepOutcome",
            "WaitForReply",
        ),
        "plan",
    ),
    **dict.fromkeys(("ConversationOutcome", "OutcomeStatus"), "outcomes"),
}

__all__ = [
    "AccountSettings",
    "ActionPort",
    "ConversationOutcome",
    "Diagnostic",
    "DryRunPort",
    "Engine",
    "Evaluation",
    "EvaluationStatus",
    "HttpRequest",
    "MakeCall",
    "OutcomeStatus",
    "RecordItem",
    "ReminderSpec",
    "SendSms",
    "Step",
    "StepOutcome",
    "StepRecord",
    "TriggerFileError",
    "TriggerSet",
    "WaitForReply",
    "compile_triggers",
    "json_schema",
    "load_trigger_file",
    "parse_trigger_text",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_MODULE_OF])
