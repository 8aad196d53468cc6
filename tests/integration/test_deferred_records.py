"""Deferred records: a step held by another attempt or of unknown outcome does not spend the
stream's retries; the record goes to the processor's retry queue, delayed until the step can get
further, and comes back to the processor, which replays the message from its table item.

The exactly-once world (the real processor on moto, the Twilio test server over HTTP, one clock)
with the retry queue and its DLQ created in moto from template.yaml. SQS holds a delayed message
for real seconds, so what the processor sent is read from its ``SendMessage`` (the delay, the
body) and handed back as the event source mapping would once the delay is over; the redrive to
the DLQ runs on moto's queues. Every test counts the SMS the server created.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest

from functions.trigger_processor import handler as processor
from sms_automation.adapters.step_ledger import DynamoStepLedger
from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.processing.deferral import MAX_DEFERRALS
from sms_automation.processing.ledger import StepState
from tests.support.aws import FakeLambdaContext, hook_every_client
from tests.support.exactly_once_world import SMS_SID, World, running_world
from tests.support.twilio_server import DropConnectionFault, HeldRequestFault, server_error

pytestmark = pytest.mark.integration

TRIGGERS = """
version: 1
triggers:
  - name: auto-reply
    actions:
      - type: send_sms
        body: "Thanks, we got: %Body%"
"""
STEP = "auto-reply/1"
LEASE = timedelta(seconds=180)  # the processor's Timeout (120 s) + the margin (processing.port)
DEFERRAL_FIELDS = {
    "message_sid",
    "account",
    "stream_arn",
    "sequence_number",
    "deferrals",
    "first_deferred_at",
}


class Sent:
    """The processor's SendMessage calls to its retry queue (parameters as sent)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[dict[str, Any]] = []
        hook_every_client(monkeypatch, "before-parameter-build.sqs.SendMessage", self._record)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.calls.append(dict(params))

    def last(self) -> tuple[int, dict[str, Any]]:
        """The latest deferral: its delay and its body."""
        call = self.calls[-1]
        return int(call["DelaySeconds"]), json.loads(call["MessageBody"])


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with running_world(monkeypatch, TRIGGERS, retry_queue=True) as running:
        yield running


@pytest.fixture
def sent(world: World, monkeypatch: pytest.MonkeyPatch) -> Sent:
    return Sent(monkeypatch)  # before the processor's first deferral makes its SQS client


def retry_queue(world: World) -> str:
    return world.queues["TriggerProcessorRetryQueue"]


def queue_counts(url: str) -> tuple[int, int]:
    """(visible, delayed) messages."""
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesDelayed"]),
    )


def deliver_deferral(
    body: dict[str, Any], *, message_id: str = "deferral-1", receipt: str = "receipt"
) -> list[dict[str, str]]:
    """The retry queue's event source mapping hands the message to the processor."""
    record = {
        "messageId": message_id,
        "receiptHandle": receipt,
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:test-TriggerProcessorRetryQueue",
        "awsRegion": "us-east-1",
    }
    response = processor.lambda_handler({"Records": [record]}, FakeLambdaContext())
    return list(response["batchItemFailures"])


def claimed_by_a_crashed_attempt(world: World) -> None:
    """An attempt claimed the reply and died (a timeout) before sending: its lease runs on."""
    now = world.clock()
    ledger = DynamoStepLedger(world.table, boto3.client("dynamodb"))
    assert (
        ledger.claim(SMS_SID, STEP, "send_sms", utc_timestamp(now), utc_timestamp(now + LEASE))
        is None
    )


def test_a_held_claim_defers_the_record_until_the_lease_ends_with_no_pii(
    world: World, sent: Sent
) -> None:
    records = world.receive("Hello there")
    arrived, release = threading.Event(), threading.Event()
    world.twilio.fail_next(HeldRequestFault(arrived, release))
    first: list[list[dict[str, str]]] = []
    running = threading.Thread(target=lambda: first.append(world.deliver(records)))
    running.start()
    try:
        assert arrived.wait(15)  # the first attempt claimed the step; its create is on the wire

        assert world.deliver(records) == []  # an overlapping attempt: deferred, not failed
    finally:
        release.set()
        running.join(15)
    assert first == [[]]

    delay, body = sent.last()
    assert delay == LEASE.total_seconds()  # until the first attempt's lease ends
    assert queue_counts(retry_queue(world)) == (0, 1)
    assert set(body) == DEFERRAL_FIELDS
    assert (body["message_sid"], body["account"], body["deferrals"]) == (SMS_SID, "acme", 1)
    assert body["sequence_number"] == records[0]["dynamodb"]["SequenceNumber"]
    raw = sent.calls[-1]["MessageBody"]
    assert "Hello" not in raw  # no text
    assert "+1" not in raw  # no phone number

    world.clock.advance(LEASE)
    assert deliver_deferral(body) == []  # the replay finds the step done

    [sms] = world.sms()
    assert len(sent.calls) == 1
    assert world.steps()[STEP].resource_sid == sms["sid"]


def test_a_crashed_attempts_claim_is_taken_over_by_the_deferred_replay_and_sent_once(
    world: World, sent: Sent
) -> None:
    records = world.receive()
    claimed_by_a_crashed_attempt(world)

    assert world.deliver(records) == []
    delay, first = sent.last()
    assert delay == LEASE.total_seconds()

    world.clock.advance(timedelta(seconds=100))  # delivered early (the lease still runs)
    assert deliver_deferral(first) == []
    delay, second = sent.last()
    assert (delay, second["deferrals"]) == (80, 2)  # the rest of the lease
    assert second["first_deferred_at"] == first["first_deferred_at"]
    assert world.sms() == []

    world.clock.advance(timedelta(seconds=80))
    assert deliver_deferral(second) == []
    assert deliver_deferral(second) == []  # SQS delivers at least once: a second time

    [sms] = world.sms()  # the reply, sent once
    assert sms["body"] == "Thanks, we got: Hello there"
    step = world.steps()[STEP]
    assert (step.state, step.resource_sid) == (StepState.DONE, sms["sid"])
    assert len(sent.calls) == 2  # nothing more deferred


def test_an_unknown_outcome_is_deferred_and_identified_not_resent(world: World, sent: Sent) -> None:
    records = world.receive()
    world.twilio.lag_lists()
    world.twilio.fail_next(DropConnectionFault(after_processing=True))

    assert world.deliver(records) == []  # created, answer lost, not listed: deferred
    delay, body = sent.last()
    assert delay == 60  # the next look (processing.port.LOOK_AGAIN)
    [sms] = world.sms()
    world.await_callback(sms["sid"])

    world.clock.advance(timedelta(seconds=60))
    assert deliver_deferral(body) == []  # still not listed: looked again, deferred again
    delay, body = sent.last()
    assert (delay, body["deferrals"]) == (60, 2)
    assert len(world.sms()) == 1

    world.twilio.end_list_lag()
    world.clock.advance(timedelta(seconds=60))
    assert deliver_deferral(body) == []

    assert len(world.sms()) == 1
    step = world.steps()[STEP]
    assert (step.state, step.resource_sid) == (StepState.DONE, sms["sid"])
    assert len(sent.calls) == 2


def test_an_unknown_outcome_nothing_created_is_sent_once_after_the_settle_window(
    world: World, sent: Sent
) -> None:
    records = world.receive()
    world.twilio.fail_next(server_error(500))  # Twilio created nothing, but we cannot know

    assert world.deliver(records) == []
    while world.sms() == []:  # each deferral delivered when due, until the step is settled
        assert len(sent.calls) <= 6, "not settled within the 5 minutes"
        delay, body = sent.last()
        world.clock.advance(timedelta(seconds=delay))
        assert deliver_deferral(body, message_id=f"deferral-{body['deferrals']}") == []

    assert len(sent.calls) == 5  # looked every minute; performed 5 minutes after the 500
    [sms] = world.sms()
    assert world.steps()[STEP].resource_sid == sms["sid"]
    assert deliver_deferral(sent.last()[1]) == []  # a late duplicate delivery
    assert len(world.sms()) == 1


def test_a_refused_deferral_falls_back_to_the_stream_retry(world: World, sent: Sent) -> None:
    records = world.receive()
    claimed_by_a_crashed_attempt(world)
    boto3.client("sqs").delete_queue(QueueUrl=retry_queue(world))

    [failure] = world.deliver(records)  # the queue refused it: the stream retries the record

    assert failure["itemIdentifier"] == records[0]["dynamodb"]["SequenceNumber"]
    assert len(sent.calls) == 1
    world.clock.advance(LEASE)
    assert world.deliver(records) == []  # the stream's retry, after the lease: sent
    assert len(world.sms()) == 1


def test_a_record_deferred_too_often_ends_in_the_retry_dlq(world: World, sent: Sent) -> None:
    records = world.receive()
    claimed_by_a_crashed_attempt(world)  # and the lease never ends: the clock stands still

    assert world.deliver(records) == []
    for _ in range(MAX_DEFERRALS - 1):
        assert deliver_deferral(sent.last()[1]) == []
    _, last = sent.last()
    assert last["deferrals"] == MAX_DEFERRALS

    # Its delay over, the last deferral is delivered; the replay is still held: not deferred
    # again, failed. SQS retries it (3 receives, the template's redrive policy), then moves it
    # to the DLQ.
    sqs = boto3.session.Session().client("sqs")  # not through the hook: the test's own calls
    url = retry_queue(world)
    sqs.purge_queue(QueueUrl=url)  # the delayed copies of the earlier deferrals
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(last))  # as it is once due
    receives = 0
    while messages := sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages"):
        [message] = messages
        receives += 1
        failures = deliver_deferral(
            json.loads(message["Body"]),
            message_id=message["MessageId"],
            receipt=message["ReceiptHandle"],
        )
        assert failures == [{"itemIdentifier": message["MessageId"]}]
    assert receives == 3
    assert len(sent.calls) == MAX_DEFERRALS  # never deferred past the bound

    [dead] = sqs.receive_message(QueueUrl=world.queues["TriggerProcessorRetryDLQ"])["Messages"]
    assert json.loads(dead["Body"]) == last
    assert world.sms() == []  # held all along: nothing sent, nothing twice
