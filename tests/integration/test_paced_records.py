"""Paced and quiet-hours sends through the real processor (moto, the retry queue from
template.yaml, the Twilio test server over HTTP, one clock): a send that finds its sender busy,
that Twilio answers 429, or that falls in the account's quiet hours is deferred — nothing sent,
its claim released — and comes back to go out once, however often it is delivered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta

import boto3
import pytest

from sms_automation.adapters.account_store import DynamoAccountStore
from sms_automation.adapters.pace_store import DynamoPaceStore
from sms_automation.processing.ledger import StepState
from sms_automation.processing.pacing import Bucket, Sender
from sms_automation.send_settings import SendWindow
from tests.integration.test_deferred_records import Sent, deliver_deferral
from tests.support.exactly_once_world import World, running_world
from tests.support.twilio_server import rate_limited

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
OUR_NUMBER = Sender("acme", "+15005550006")  # inbound_example("sms_plain")'s To


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with running_world(monkeypatch, TRIGGERS, retry_queue=True) as running:
        accounts = DynamoAccountStore(running.table, boto3.client("dynamodb"))
        accounts.set_send_settings("acme", send_rates={}, send_window=None)  # Twilio's defaults
        yield running


@pytest.fixture
def sent(world: World, monkeypatch: pytest.MonkeyPatch) -> Sent:
    return Sent(monkeypatch)


def buckets(world: World) -> DynamoPaceStore:
    return DynamoPaceStore(world.table, boto3.client("dynamodb"))


def test_a_send_its_sender_has_no_room_for_is_deferred_then_sent_once(
    world: World, sent: Sent
) -> None:
    records = world.receive()
    busy_until = world.clock() + timedelta(seconds=10)
    tat = int(busy_until.timestamp() * 1000) + 2000  # a reply's overdraft used up too
    buckets(world).write(OUR_NUMBER, Bucket(tat=tat), seen=0, expires_at=9_999_999_999)

    assert world.deliver(records) == []  # deferred, not failed

    delay, body = sent.last()
    assert delay == 10
    assert world.sms() == []
    assert STEP not in world.steps()  # released: nothing claimed while it waits
    world.clock.advance(timedelta(seconds=delay))
    assert deliver_deferral(body) == []
    assert deliver_deferral(body) == []  # SQS delivers at least once

    [sms] = world.sms()
    step = world.steps()[STEP]
    assert (step.state, step.resource_sid) == (StepState.DONE, sms["sid"])
    assert len(sent.calls) == 1


def test_a_429_slows_the_sender_and_the_send_goes_later_once(world: World, sent: Sent) -> None:
    records = world.receive()
    world.twilio.fail_next(rate_limited(), rate_limited(), rate_limited())  # every attempt

    assert world.deliver(records) == []

    delay, body = sent.last()
    assert delay == 2  # Twilio said slow down: tried again a little later
    assert world.sms() == []
    assert buckets(world).read(OUR_NUMBER).factor == 0.5  # every Lambda sends slower now
    world.clock.advance(timedelta(seconds=delay))
    assert deliver_deferral(body) == []

    [sms] = world.sms()
    assert world.steps()[STEP].resource_sid == sms["sid"]
    assert sms["body"] == "Thanks, we got: Hello there"


def test_quiet_hours_defer_an_auto_reply_into_the_window_uncounted(
    world: World, sent: Sent
) -> None:
    now = world.clock()
    opens = (now + timedelta(minutes=40)).replace(second=0, microsecond=0)
    closes = opens - timedelta(hours=9)  # a nine-hour night ends at `opens`
    window = SendWindow.parse(f"{opens:%H:%M}-{closes:%H:%M}")
    DynamoAccountStore(world.table, boto3.client("dynamodb")).set_send_settings(
        "acme", send_rates={}, send_window=window
    )  # the account has no time zone: UTC
    records = world.receive()

    assert world.deliver(records) == []
    hops = 0
    while world.sms() == []:
        delay, body = sent.last()
        assert delay <= 900  # SQS's longest delay: re-deferred until the window opens
        assert body["deferrals"] == 1  # a wait is not counted
        world.clock.advance(timedelta(seconds=delay))
        assert deliver_deferral(body, message_id=f"deferral-{hops}") == []
        hops += 1

    assert world.clock() >= opens.astimezone(UTC)
    assert hops == 3  # 40 minutes in hops of at most 15
    [sms] = world.sms()
    assert world.steps()[STEP].resource_sid == sms["sid"]
    assert deliver_deferral(sent.last()[1]) == []  # a late duplicate delivery
    assert len(world.sms()) == 1
