"""The wait-for-reply state machine: its definition's timeouts, and who may touch it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.template import ROOT
from tests.template import checks

pytestmark = pytest.mark.template

Template = dict[str, Any]
DEFINITION = ROOT / "statemachines" / "wait_for_reply.asl.json"
LONGEST_WAIT_SECONDS = 30 * 86_400


def _states(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _states(branch["States"])
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _states(processor["States"])


def test_every_task_token_state_has_a_timeout_and_catches_it() -> None:
    definition = json.loads(DEFINITION.read_text("utf-8"))
    token_states = [
        (name, state)
        for name, state in _states(definition["States"])
        if state.get("Type") == "Task"
        and str(state.get("Resource", "")).endswith(".waitForTaskToken")
    ]
    assert token_states, "no task-token state found"
    for name, state in token_states:
        # A literal: the local emulator ignores TimeoutSecondsPath (docs/conversations.md).
        assert isinstance(state.get("TimeoutSeconds"), int), name
        assert state["TimeoutSeconds"] > LONGEST_WAIT_SECONDS, name
        caught = [e for catcher in state.get("Catch", []) for e in catcher["ErrorEquals"]]
        assert "States.Timeout" in caught, name
        never_retried = [
            e for r in state.get("Retry", []) if r.get("MaxAttempts") == 0 for e in r["ErrorEquals"]
        ]
        assert "States.Timeout" in never_retried, f"{name}: a timed-out wait must not re-register"


def test_every_substitution_is_provided(raw_template: Template) -> None:
    text = DEFINITION.read_text("utf-8")
    machine = raw_template["Resources"]["WaitForReplyStateMachine"]["Properties"]
    placeholders = {part.split("}", 1)[0] for part in text.split("${")[1:]}
    assert placeholders == set(machine["DefinitionSubstitutions"])


def _actions(template: Template, role: str) -> set[str]:
    return {
        action
        for logical_id, statement in checks.policy_statements(template)
        if logical_id == role
        for action in checks._as_list(statement["Action"])
    }


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "TriggerProcessorFunctionRole",
            {"states:StartExecution", "states:SendTaskSuccess", "states:SendTaskFailure"},
        ),
        ("WaitRegisterFunctionRole", {"states:SendTaskSuccess", "states:SendTaskFailure"}),
        ("WaitTimerFunctionRole", {"states:SendTaskFailure"}),
        ("WaitResumeFunctionRole", {"states:StartExecution"}),
        ("StatusCallbackFunctionRole", {"states:SendTaskFailure"}),
        ("InboundWebhookFunctionRole", set()),
    ],
)
def test_step_functions_permissions_are_least_privilege(
    transformed_template: Template, role: str, expected: set[str]
) -> None:
    granted = {a for a in _actions(transformed_template, role) if a.startswith("states:")}
    assert granted == expected
