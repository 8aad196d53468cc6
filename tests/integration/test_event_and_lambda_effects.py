"""``invoke_lambda`` and ``publish_event`` through the real processor on moto: a function's
result goes into a variable a later ``send_sms`` uses, the event reaches a rule's queue; each
once on a redelivery, and once under overlap (a second attempt while the first's call is on
the wire). Moto's Lambda (no docker) answers with the payload it was given: a result over the
adapter's bound is a function that ran, not a call refused.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from sms_automation.adapters.lambda_functions import MAX_RESULT_BYTES, LambdaFunctions
from sms_automation.processing.ledger import StepState
from tests.support.action_targets import (
    FUNCTION_ARN,
    delivered_events,
    running_world_with_targets,
)
from tests.support.aws import hook_every_client
from tests.support.exactly_once_world import World

pytestmark = pytest.mark.integration

TRIGGERS = """
version: 1
triggers:
  - name: act
    actions:
      - type: invoke_lambda
        function: lookup
        payload: {from: "%From%", text: "%Body%", n: 1}
        into: crm
      - type: publish_event
        bus: orders
        detail_type: SMS received
        detail: {from: "%From%", echo: "%crm.result.text%"}
      - type: send_sms
        body: "Echo: %crm.result.text%"
"""


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[World, str]]:
    with running_world_with_targets(monkeypatch, TRIGGERS) as running:
        yield running


def test_the_result_feeds_the_event_and_the_reply_each_once_when_redelivered(
    world: tuple[World, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    running, queue = world
    invoked: list[dict[str, Any]] = []
    hook_every_client(
        monkeypatch,
        "before-parameter-build.lambda.Invoke",
        lambda params, **_: invoked.append(params),
    )
    records = running.receive("hello <there>")

    assert running.deliver(records) == []
    assert running.deliver(records) == []

    assert len(invoked) == 1
    payload = json.loads(invoked[0]["Payload"])
    assert (payload["text"], payload["n"], payload["from"][:2]) == ("hello <there>", 1, "+1")
    [event] = delivered_events(queue)
    assert (event["source"], event["detail-type"]) == ("sms-automation", "SMS received")
    assert event["detail"]["echo"] == "hello <there>"
    [sms] = running.sms()
    assert sms["body"] == "Echo: hello <there>"
    steps = running.steps()
    assert steps["act/1"].variables["result"]["text"] == "hello <there>"
    assert steps["act/2"].state is StepState.DONE


@pytest.mark.parametrize(
    ("event_name", "step"),
    [("before-send.lambda.Invoke", "act/1"), ("before-send.eventbridge.PutEvents", "act/2")],
)
def test_a_second_attempt_while_the_first_is_calling_does_not_call_again(
    world: tuple[World, str], monkeypatch: pytest.MonkeyPatch, event_name: str, step: str
) -> None:
    running, queue = world
    arrived, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def hold_the_first(**_: Any) -> None:
        calls.append(1)
        if not arrived.is_set():
            arrived.set()
            assert release.wait(15)

    hook_every_client(monkeypatch, event_name, hold_the_first)
    records = running.receive()
    first: list[list[dict[str, str]]] = []
    thread = threading.Thread(target=lambda: first.append(running.deliver(records)))
    thread.start()
    try:
        assert arrived.wait(15)

        assert len(running.deliver(records)) == 1  # the claim's lease runs: retried later
    finally:
        release.set()
        thread.join(15)
    assert first == [[]]
    assert running.deliver(records) == []

    assert len(calls) == 1
    assert running.steps()[step].state is StepState.DONE
    assert len(delivered_events(queue)) == 1
    assert len(running.sms()) == 1


def test_a_result_over_the_bound_is_a_function_that_ran_not_a_refused_call(
    world: tuple[World, str],
) -> None:
    functions = LambdaFunctions(lambda seconds: boto3.client("lambda"))
    big = json.dumps({"pad": "x" * MAX_RESULT_BYTES})

    answer = functions.invoke(
        function=FUNCTION_ARN, payload=big, asynchronous=False, timeout_seconds=5
    )

    assert (answer.status, answer.result_too_large, answer.payload) == (200, True, b"")
