"""The conversation state machine: its definition's timeouts, and who may touch it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sms_automation.conversations.service import DOZE_SECONDS, RESOLVED_ERROR
from sms_automation.processing.pacing import SendPaced
from sms_automation.processing.port import SETTLE, ClaimHeld, OutcomeStillUnknown, lease_for
from tests.support.template import ROOT
from tests.template import checks

pytestmark = pytest.mark.template

Template = dict[str, Any]
DEFINITION = ROOT / "statemachines" / "conversation.asl.json"
LONGEST_WAIT_SECONDS = 30 * 86_400


def _states(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _states(branch["States"])
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _states(processor["States"])


def _token_states() -> dict[str, dict[str, Any]]:
    definition = json.loads(DEFINITION.read_text("utf-8"))
    return {
        name: state
        for name, state in _states(definition["States"])
        if state.get("Type") == "Task"
        and str(state.get("Resource", "")).endswith(".waitForTaskToken")
    }


def test_every_task_token_state_has_a_timeout_and_catches_it() -> None:
    token_states = _token_states()
    assert sorted(token_states) == ["Doze", "WaitForAnswer"]
    for name, state in token_states.items():
        # A literal: the local emulator ignores TimeoutSecondsPath (docs/conversations.md).
        assert isinstance(state.get("TimeoutSeconds"), int), name
        caught = [e for catcher in state.get("Catch", []) for e in catcher["ErrorEquals"]]
        assert "States.Timeout" in caught, name
        never_retried = [
            e for r in state.get("Retry", []) if r.get("MaxAttempts") == 0 for e in r["ErrorEquals"]
        ]
        assert "States.Timeout" in never_retried, (
            f"{name}: a timed-out conversation must not re-register"
        )
    assert token_states["WaitForAnswer"]["TimeoutSeconds"] > LONGEST_WAIT_SECONDS


def test_the_dozing_timer_naps_as_long_as_the_code_says_and_ends_when_woken() -> None:
    doze = _token_states()["Doze"]
    assert doze["TimeoutSeconds"] == DOZE_SECONDS
    catchers = {e: c["Next"] for c in doze["Catch"] for e in c["ErrorEquals"]}
    assert catchers == {RESOLVED_ERROR: "TimerEnded", "States.Timeout": "Tick"}
    never_retried = [
        e for r in doze.get("Retry", []) if r.get("MaxAttempts") == 0 for e in r["ErrorEquals"]
    ]
    assert RESOLVED_ERROR in never_retried


def test_every_substitution_is_provided(raw_template: Template) -> None:
    text = DEFINITION.read_text("utf-8")
    machine = raw_template["Resources"]["ConversationStateMachine"]["Properties"]
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
            {
                "states:StartExecution",
                "states:SendTaskSuccess",
                "states:SendTaskFailure",
                "states:DescribeExecution",
            },
        ),
        ("ConversationRegisterFunctionRole", {"states:SendTaskSuccess", "states:SendTaskFailure"}),
        # SendTaskFailure: the deadline fails the token task; a dozing timer fails its own token.
        ("ConversationTimerFunctionRole", {"states:SendTaskFailure"}),
        ("ConversationResumeFunctionRole", {"states:StartExecution"}),
        ("StatusCallbackFunctionRole", {"states:SendTaskFailure"}),
        ("InboundWebhookFunctionRole", set()),
    ],
)
def test_step_functions_permissions_are_least_privilege(
    transformed_template: Template, role: str, expected: set[str]
) -> None:
    granted = {a for a in _actions(transformed_template, role) if a.startswith("states:")}
    assert granted == expected


def _retrier_for(state: dict[str, Any], error: str) -> dict[str, Any] | None:
    """The first retrier naming ``error`` (Step Functions takes the first that matches)."""
    return next((r for r in state.get("Retry", []) if error in r["ErrorEquals"]), None)


def _retried_for(state: dict[str, Any], error: str) -> float:
    """How long a state keeps retrying ``error``: the sum of its retrier's intervals, each
    ``IntervalSeconds * BackoffRate**n`` capped at ``MaxDelaySeconds``. A ``FULL`` jitter
    draws each wait between 0 and that, so it promises no horizon: 0."""
    retrier = _retrier_for(state, error)
    if retrier is None or retrier.get("JitterStrategy", "NONE") != "NONE":
        return 0.0
    interval, rate = retrier.get("IntervalSeconds", 1), retrier.get("BackoffRate", 2.0)
    cap = retrier.get("MaxDelaySeconds", float("inf"))
    return sum(
        min(interval * rate**attempt, cap) for attempt in range(retrier.get("MaxAttempts", 3))
    )


@pytest.mark.parametrize("error", [ClaimHeld.__name__, OutcomeStillUnknown.__name__])
def test_a_step_to_retry_later_is_retried_past_every_lease_and_list_lag(
    raw_template: Template, error: str
) -> None:
    """A function that meets a held claim or a still-unknown outcome fails with the class name
    as its error; its state retries long enough for any claim's lease to end and for Twilio's
    list to settle, instead of failing the conversation (``processing.port``)."""
    timeouts = [
        int(resource["Properties"]["Timeout"])
        for resource in raw_template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    needed = (lease_for(max(timeouts)) + SETTLE).total_seconds()
    states = dict(_states(json.loads(DEFINITION.read_text("utf-8"))["States"]))
    for name in ("WaitForAnswer", "Tick", "Resume"):
        assert _retried_for(states[name], error) > needed, name
        last = states[name]["Retry"][-1]
        assert last["ErrorEquals"] == ["States.ALL"], f"{name}: States.ALL must come last"


def test_each_function_that_claims_steps_knows_its_own_timeout(raw_template: Template) -> None:
    """A claim's lease is the claiming function's timeout plus a margin: the environment says
    it, equal to the function's Timeout."""
    functions = {
        name: resource["Properties"]
        for name, resource in raw_template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    claiming = {
        "TriggerProcessorFunction",
        "ConversationRegisterFunction",
        "ConversationTimerFunction",
        "ConversationResumeFunction",
    }
    for name, properties in functions.items():
        variables = properties.get("Environment", {}).get("Variables", {})
        if name in claiming:
            assert "FUNCTION_TIMEOUT_SECONDS" in variables, name
        if "FUNCTION_TIMEOUT_SECONDS" in variables:
            assert int(variables["FUNCTION_TIMEOUT_SECONDS"]) == properties["Timeout"], name


SENDING_TASKS = ("WaitForAnswer", "Tick", "Resume")
"""The tasks whose function may send (the prompt, a reminder, the replayed branch) and so meet
``SendPaced``; ``Doze`` only keeps a token."""
TWILIO_QUEUE_HOURS = 10
"""How long Twilio queues a sender's backlog (about 10 hours of its rate: docs/scale.md)."""


def test_the_tasks_that_send_are_the_ones_said() -> None:
    definition = json.loads(DEFINITION.read_text("utf-8"))
    tasks = {name for name, state in _states(definition["States"]) if state["Type"] == "Task"}
    assert tasks == {*SENDING_TASKS, "Doze"}


@pytest.mark.parametrize("name", SENDING_TASKS)
def test_a_paced_send_is_retried_as_long_as_twilio_would_queue_it(name: str) -> None:
    """Issue 17: a broadcast's prompt (or reminder) waits for its place in its sender's queue
    in the task (``SendPaced``). The task is retried for at least Twilio's own queue horizon,
    so a backlog Twilio would have queued is sent, not dropped after ~38 minutes (2,000
    one-segment prompts on a long code)."""
    state = dict(_states(json.loads(DEFINITION.read_text("utf-8"))["States"]))[name]
    assert _retried_for(state, SendPaced.__name__) >= TWILIO_QUEUE_HOURS * 3600, name


@pytest.mark.parametrize("name", SENDING_TASKS)
@pytest.mark.parametrize("error", [ClaimHeld.__name__, OutcomeStillUnknown.__name__])
def test_a_held_claim_or_an_unknown_outcome_keeps_its_retries(name: str, error: str) -> None:
    """Lengthening the paced send's retries leaves the others as they were: 20 s, x1.5, ten
    times, uncapped (about 38 minutes), counted apart from the paced send's."""
    state = dict(_states(json.loads(DEFINITION.read_text("utf-8"))["States"]))[name]
    assert _retried_for(state, error) == pytest.approx(20 * (1.5**10 - 1) / 0.5), name
    retrier = _retrier_for(state, error)
    assert retrier is not None
    assert SendPaced.__name__ not in retrier["ErrorEquals"], name
