"""Exactly once when an attempt's outcome is unknown or two attempts overlap (issue 13, part 5).

The real processor handler on moto, the real Twilio adapter against the Twilio test server over
HTTP, and the server's status callbacks coming back over HTTP to the real status callback
handler behind a small API Gateway (so each message's callback URL, which names its step, is
what Twilio signed). One clock drives the processor and the server. Every test counts the SMS
the server created: no duplicate, none lost.

- (a) two steps send the same text to the same contact; the second's create fails ambiguously
  (HTTP 500): it is never credited with the first's SID, and is sent once Twilio's list has had
  time to show it if it existed;
- (b) a second attempt (a stream retry, a replay, a redrive) overlapping a running one that has
  claimed the step and is creating the message: it finds the claim's lease running and retries
  later, instead of taking the claim for dead and sending;
- (c) the create was made but its answer lost, and Twilio's list runs behind: the claim is kept
  and the step looked up again later, never resent; the message's callback names the step.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from sms_automation.processing.ledger import StepState
from tests.support.exactly_once_world import World, running_world
from tests.support.twilio_server import (
    DropConnectionFault,
    HeldRequestFault,
    SlowAnswerFault,
    server_error,
)

pytestmark = pytest.mark.integration

TRIGGERS = """
version: 1
triggers:
  - name: twice
    when: {field: Body, equals: "twice"}
    actions:
      - type: send_sms
        body: "Your table is ready"
      - type: send_sms
        body: "Your table is ready"
  - name: auto-reply
    actions:
      - type: send_sms
        body: "Thanks, we got: %Body%"
"""
# Longer than Twilio's list takes to show a message it created (see processing.port).
PAST_SETTLING = timedelta(minutes=6)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with running_world(monkeypatch, TRIGGERS) as running:
        yield running


def test_a_the_same_text_twice_is_never_credited_with_the_other_steps_sid(world: World) -> None:
    records = world.receive("twice")
    # The first create goes through; the second is answered 500 and creates nothing.
    world.twilio.fail_next(SlowAnswerFault(0), server_error(500))

    assert len(world.deliver(records)) == 1  # the second step's outcome is not known yet
    [first] = world.sms()
    world.await_callback(first["sid"])
    assert len(world.deliver(records)) == 1  # Twilio's list may still be behind: not resent
    assert len(world.sms()) == 1

    world.clock.advance(PAST_SETTLING)
    assert world.deliver(records) == []

    sent = world.sms()
    assert len(sent) == 2  # none lost, none twice
    steps = world.steps()
    assert {step.state for step in steps.values()} == {StepState.DONE}
    assert steps["twice/1"].resource_sid == first["sid"]
    [second] = [sms for sms in sent if sms["sid"] != first["sid"]]
    assert steps["twice/2"].resource_sid == second["sid"]
    assert world.origin_step(first["sid"]) == "twice/1"  # never overwritten
    assert world.origin_step(second["sid"]) == "twice/2"
    assert world.deliver(records) == []
    assert len(world.sms()) == 2


def test_b_an_attempt_overlapping_a_running_one_retries_later_instead_of_sending(
    world: World,
) -> None:
    records = world.receive()
    arrived, release = threading.Event(), threading.Event()
    world.twilio.fail_next(HeldRequestFault(arrived, release))
    first: list[list[dict[str, str]]] = []
    running = threading.Thread(target=lambda: first.append(world.deliver(records)))
    running.start()
    try:
        assert arrived.wait(15)  # the first attempt claimed the step; its create is on the wire

        overlapping = world.deliver(records)  # a stream retry, a replay or a DLQ redrive

        assert len(overlapping) == 1  # the claim's lease runs: retried later
        assert world.sms() == []
    finally:
        release.set()
        running.join(15)
    assert first == [[]]
    assert world.deliver(records) == []  # the retry finds the step done

    [sms] = world.sms()
    step = world.steps()["auto-reply/1"]
    assert (step.state, step.resource_sid) == (StepState.DONE, sms["sid"])


def test_c_an_unknown_outcome_is_looked_up_again_while_twilios_list_runs_behind(
    world: World,
) -> None:
    records = world.receive()
    world.twilio.lag_lists()
    world.twilio.fail_next(DropConnectionFault(after_processing=True))

    assert len(world.deliver(records)) == 1  # created, answer lost, not listed: unknown
    [sms] = world.sms()
    world.await_callback(sms["sid"])
    assert len(world.deliver(records)) == 1  # still not listed: looked again, not resent
    assert len(world.sms()) == 1

    world.twilio.end_list_lag()
    assert world.deliver(records) == []

    assert len(world.sms()) == 1
    step = world.steps()["auto-reply/1"]
    assert (step.state, step.resource_sid) == (StepState.DONE, sms["sid"])
    assert world.origin_step(sms["sid"]) == "auto-reply/1"
    assert {c.answer for c in world.twilio.sent_callbacks()} == {200}  # signed URL verified
