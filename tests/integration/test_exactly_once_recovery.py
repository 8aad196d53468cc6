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

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.inbound_webhook import handler as inbound
from functions.status_callback import handler as status_callback
from functions.trigger_processor import handler as processor
from sms_automation.adapters.outbound_store import DynamoOutboundStore
from sms_automation.processing.ledger import DynamoStepLedger, StepEntry, StepState
from sms_automation.processing.runtime import Runtime
from sms_automation.processing.settings import ProcessorSettings
from tests.support.aws import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    FakeLambdaContext,
    clear_cached_dependencies,
    use_dummy_aws_credentials,
)
from tests.support.events import inbound_example, signed_webhook_event
from tests.support.http_gateway import ApiGatewayServer
from tests.support.moto_stack import deploy, push_triggers
from tests.support.streams import TableStream, stream_event
from tests.support.twilio_server import (
    DropConnectionFault,
    HeldRequestFault,
    SlowAnswerFault,
    TwilioTestServer,
    server_error,
)

pytestmark = pytest.mark.integration

SMS_SID = "SM11111111111111111111111111111111"
CONTACT = "+14155550101"
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


class Clock:
    """The processor's and the Twilio server's "now"; moved by the test, thread-safe."""

    def __init__(self) -> None:
        self._now = datetime.now(UTC).replace(microsecond=0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, by: timedelta) -> None:
        with self._lock:
            self._now += by


@dataclass
class World:
    twilio: TwilioTestServer
    table: str
    stream: TableStream
    clock: Clock

    def receive(self, body: str = "Hello there") -> list[dict[str, Any]]:
        raw = inbound_example("sms_plain")["raw_body"].replace(
            "Body=Hello+there", f"Body={body.replace(' ', '+')}"
        )
        event = signed_webhook_event("acme", raw, TEST_AUTH_TOKEN)
        assert inbound.lambda_handler(event, FakeLambdaContext())["statusCode"] == 200
        return self.stream.inserts_of_inbound_messages()

    def deliver(self, records: list[dict[str, Any]]) -> list[dict[str, str]]:
        """One invocation of the processor by the event source mapping (or a redrive)."""
        response = processor.lambda_handler(stream_event(records), FakeLambdaContext())
        return list(response["batchItemFailures"])

    def sms(self) -> list[dict[str, Any]]:
        return self.twilio.messages()

    def steps(self) -> dict[str, StepEntry]:
        ledger = DynamoStepLedger(self.table, boto3.client("dynamodb"))
        return {entry.step_id: entry for entry in ledger.entries(SMS_SID)}

    def origin_step(self, sid: str) -> str | None:
        record = DynamoOutboundStore(self.table, boto3.client("dynamodb")).get(sid)
        return None if record is None else record.origin_step_id

    def await_callback(self, sid: str) -> None:
        """Until the server has posted (and our handler answered) a status callback for sid."""
        deadline = time.monotonic() + 15
        while not any(c.resource_sid == sid for c in self.twilio.sent_callbacks()):
            assert time.monotonic() < deadline, "no status callback arrived"
            time.sleep(0.05)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    use_dummy_aws_credentials(monkeypatch)
    clock = Clock()
    # Like api.twilio.com: a repeated create makes a second message, whatever its headers.
    twilio_server = TwilioTestServer(
        {TEST_ACCOUNT_SID: TEST_AUTH_TOKEN},
        clock=clock,
        honour_idempotency_token=False,
        status_callbacks=True,
    )
    gateway = ApiGatewayServer({"status": status_callback.lambda_handler})
    with mock_aws(), twilio_server as twilio, gateway:
        deployed = deploy(monkeypatch, twilio_base_url=twilio.base_url)
        monkeypatch.setenv("WEBHOOK_BASE_URL", f"{gateway.base_url}/dev")
        monkeypatch.setenv("FUNCTION_TIMEOUT_SECONDS", "120")
        for module in (inbound, processor, status_callback):
            clear_cached_dependencies(module)
        runtime = Runtime(ProcessorSettings.from_environ(os.environ), clock=clock)
        monkeypatch.setattr(processor, "_runtime", lambda: runtime)
        push_triggers(deployed.table, TRIGGERS)
        stream = TableStream(deployed.table)
        stream.new_records()  # the account and trigger writes
        yield World(twilio, deployed.table, stream, clock)
        for module in (inbound, processor, status_callback):
            clear_cached_dependencies(module)


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
