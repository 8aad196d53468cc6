"""Triggers: the YAML language, the pure evaluation engine and the loader.

    trigger_set = load_trigger_file("triggers.yaml")
    engine = Engine(trigger_set)
    evaluation = engine.evaluate(message, now=now, account=AccountSettings("acme"), port=port)

See ``docs/triggers.md`` for the language and ``engine`` for how a runner drives it.
"""

from sms_automation.triggers.context import Diagnostic
from sms_automation.triggers.engine import (
    AccountSettings,
    Engine,
    Evaluation,
    EvaluationStatus,
    StepRecord,
    compile_triggers,
)
from sms_automation.triggers.loader import TriggerFileError, load_trigger_file, parse_trigger_text
from sms_automation.triggers.model import TriggerSet, json_schema
from sms_automation.triggers.plan import (
    ActionPort,
    DryRunPort,
    HttpRequest,
    MakeCall,
    OutcomeStatus,
    RecordItem,
    ReminderSpec,
    SendSms,
    Step,
    StepOutcome,
    WaitForReply,
    WaitOutcome,
)

__all__ = [
    "AccountSettings",
    "ActionPort",
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
    "WaitOutcome",
    "compile_triggers",
    "json_schema",
    "load_trigger_file",
    "parse_trigger_text",
]
