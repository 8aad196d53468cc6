"""``send_email`` through the real processor on moto's SES: sent once, on a redelivery too, and
exactly once under overlap (a second attempt while the first's SendEmail is on the wire); an
answer lost on the wire, or an AWS 5xx (the service may have sent it), is never resent (at most
once, recorded as failed and flagged).

What SES sent is counted with its own API (``GetSendQuota``'s ``SentLast24Hours``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from sms_automation.processing.ledger import StepState
from tests.support.aws import hook_every_client
from tests.support.exactly_once_world import World, running_world

pytestmark = pytest.mark.integration

SENDER = "bot@example.com"
TRIGGERS = """
version: 1
triggers:
  - name: forward
    actions:
      - {type: send_email, to: desk@example.org, subject: "SMS from %From%", text: "%Body%"}
"""
PAST_THE_LEASE = timedelta(minutes=4)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("EMAIL_SENDERS", f"{SENDER},*@example.net")
    with running_world(monkeypatch, TRIGGERS) as running:
        boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress=SENDER)
        yield running


def sent() -> int:
    quota = boto3.client("ses", region_name="us-east-1").get_send_quota()
    return int(quota["SentLast24Hours"])


def test_an_sms_is_forwarded_by_email_once_even_when_redelivered(world: World) -> None:
    records = world.receive("Call me <now>")

    assert world.deliver(records) == []
    assert world.deliver(records) == []  # a redelivery answers the recorded outcome

    assert sent() == 1
    step = world.steps()["forward/1"]
    assert step.state is StepState.DONE
    assert step.variables["message_id"]


def test_a_second_attempt_while_the_first_is_sending_does_not_send_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = world.receive()
    arrived, release = threading.Event(), threading.Event()

    def hold_the_first(**_: Any) -> None:
        if not arrived.is_set():
            arrived.set()
            assert release.wait(15)

    hook_every_client(monkeypatch, "before-send.sesv2.SendEmail", hold_the_first)
    first: list[list[dict[str, str]]] = []
    running = threading.Thread(target=lambda: first.append(world.deliver(records)))
    running.start()
    try:
        assert arrived.wait(15)  # claimed, SendEmail on the wire

        overlapping = world.deliver(records)

        assert len(overlapping) == 1  # the claim's lease runs: retried later
        assert sent() == 0
    finally:
        release.set()
        running.join(15)
    assert first == [[]]
    assert world.deliver(records) == []
    assert sent() == 1


def test_an_answer_lost_on_the_wire_is_never_resent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = world.receive()
    lost: list[int] = []

    def lose_the_first_answer(**_: Any) -> None:
        if not lost:
            lost.append(1)
            raise ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com")

    hook_every_client(monkeypatch, "before-send.sesv2.SendEmail", lose_the_first_answer)

    assert len(world.deliver(records)) == 1  # maybe sent: the claim is kept, looked at later
    world.clock.advance(PAST_THE_LEASE)
    assert world.deliver(records) == []

    assert sent() == 0  # (the lost attempt never reached moto) and nothing was resent
    step = world.steps()["forward/1"]
    assert step.state is StepState.FAILED
    assert "not repeated" in step.detail


def test_a_server_error_answer_is_never_resent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = world.receive()
    answered: list[int] = []

    def answer_the_first_with_a_500(**_: Any) -> Any:
        if answered:
            return None
        answered.append(1)
        error = {"Error": {"Code": "InternalFailure", "Message": "m"}}
        metadata = {"ResponseMetadata": {"HTTPStatusCode": 500}}
        headers: Any = {}
        response = AWSResponse("https://email.us-east-1.amazonaws.com", 500, headers, None)
        return response, error | metadata

    hook_every_client(monkeypatch, "before-call.sesv2.SendEmail", answer_the_first_with_a_500)

    assert len(world.deliver(records)) == 1  # maybe sent: the claim is kept, looked at later
    world.clock.advance(PAST_THE_LEASE)
    assert world.deliver(records) == []

    assert sent() == 0
    step = world.steps()["forward/1"]
    assert step.state is StepState.FAILED
    assert "not repeated" in step.detail
