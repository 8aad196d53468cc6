"""The engine running an automation by name: its own step ids, the run's variables, and the
triggers of the same file untouched."""

from __future__ import annotations

import pytest

from sms_automation.triggers import Engine, EvaluationStatus, SendSms, TriggerSet, WaitForReply
from sms_automation.triggers.engine import UnknownAutomation
from tests.unit.triggers.builders import ACCOUNT, NOW

CONTACT, OURS = "+447700900123", "+447700900999"
FILE = TriggerSet.model_validate(
    {
        "version": 1,
        "triggers": [{"name": "echo", "actions": [{"type": "send_sms", "body": "echo"}]}],
        "automations": [
            {
                "name": "Reminder",
                "from": OURS,
                "inputs": [{"name": "patient"}],
                "actions": [
                    {"type": "send_sms", "body": "Hi %patient%, run %run_id% of %automation%"},
                    {
                        "type": "if",
                        "condition": {"field": "patient", "is_blank": True},
                        "then": [{"type": "stop"}],
                    },
                    {"type": "wait_for_reply", "id": "ask", "prompt": "YES?", "timeout": "1h"},
                ],
            }
        ],
    }
)


def run_variables(patient: str) -> dict[str, str]:
    """What a run's origin hands the engine (see automations.start.build_origin)."""
    return {
        "patient": patient,
        "From": CONTACT,
        "To": OURS,
        "contact": CONTACT,
        "our_number": OURS,
        "run_id": "RU" + "0" * 32,
        "automation": "Reminder",
    }


def test_an_automation_runs_its_actions_with_the_contact_as_sender() -> None:
    evaluation = Engine(FILE).dry_run(
        run_variables("Ann"), now=NOW, account=ACCOUNT, automation="reminder"
    )
    assert evaluation.matched == ("Reminder",)
    first, wait = evaluation.plan
    assert isinstance(first, SendSms)
    assert (first.step_id, first.to, first.from_) == ("Reminder/1", CONTACT, OURS)
    assert first.body == f"Hi Ann, run RU{'0' * 32} of Reminder"
    assert isinstance(wait, WaitForReply)
    assert (wait.step_id, wait.to, wait.from_) == ("Reminder/ask", CONTACT, OURS)


def test_control_flow_works_inside_an_automation() -> None:
    evaluation = Engine(FILE).dry_run(
        run_variables(""), now=NOW, account=ACCOUNT, automation="Reminder"
    )
    assert evaluation.status is EvaluationStatus.STOPPED
    assert [step.step_id for step in evaluation.plan] == ["Reminder/1"]


def test_the_triggers_run_when_no_automation_is_named() -> None:
    evaluation = Engine(FILE).dry_run(run_variables("Ann"), now=NOW, account=ACCOUNT)
    assert evaluation.matched == ("echo",)


def test_an_unknown_automation_is_a_key_error() -> None:
    with pytest.raises(UnknownAutomation, match="no automation named 'other'"):
        Engine(FILE).dry_run(run_variables("Ann"), now=NOW, account=ACCOUNT, automation="other")
