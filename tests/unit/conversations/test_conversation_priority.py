"""Replies first, for conversations: the real conversations, effects, ledger port and pacer over
the in-memory ledger, conversation store and bucket, a recording Twilio. A conversation a
broadcast's row opened is bulk: the sends it times (its prompt, its reminders) wait in the
sender's queue like the row's other sends, where real replies go at once; its answer to the
contact (a reprompt) is a reply. A conversation a message opened sends as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sms_automation.adapters.conversation_store import conversation_from_item
from sms_automation.conversations.service import Conversations
from sms_automation.outbound import SentMessage
from sms_automation.processing.effects import Effects, EffectSettings
from sms_automation.processing.pacing import Bucket, Pacer, Sender, SendPaced
from sms_automation.processing.port import LedgerActionPort, lease_for
from sms_automation.triggers import WaitForReply
from sms_automation.triggers.plan import ReminderSpec
from tests.support.fakes import (
    FakeConversationWorkflow,
    InMemoryConversationStore,
    InMemoryRecordTables,
    InMemoryStepLedger,
    MemoryPaceStore,
)

SID = "SM" + "1" * 32
CONTACT, OURS = "+14155550101", "+15005550006"
SENDER = Sender("acme", OURS)
T0 = datetime(2026, 12, 7, 9, tzinfo=UTC)
ASK = WaitForReply(
    step_id="ask/1",
    trigger="remind",
    to=CONTACT,
    from_=OURS,
    prompt="Your appointment is tomorrow: YES or NO?",
    timeout_seconds=3600,
    until=None,
    reminders=(ReminderSpec(600, "Still there? YES or NO"),),
    expect_words=("yes", "no"),
    reprompt="Please answer YES or NO",
)


class Twilio:
    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send_sms(self, **request: Any) -> SentMessage:
        self.bodies.append(str(request["body"]))
        return SentMessage(f"SM{len(self.bodies):032d}", "queued")


class World:
    def __init__(self) -> None:
        self.now = T0
        self.twilio = Twilio()
        self.ledger = InMemoryStepLedger()
        self.buckets = MemoryPaceStore()
        self.store = InMemoryConversationStore()
        pacer = Pacer(self.buckets, lambda account: {}, lambda: self.now, lambda seconds: None)
        self.pacer = pacer
        self.service = Conversations(
            store=self.store,
            workflow=FakeConversationWorkflow(),
            port_for=self.port_for,
            clock=lambda: self.now,
        )

    def port_for(self, message_sid: str, account: str) -> LedgerActionPort:
        """The conversations' port, as the runtime gives it: the message's, at reply priority."""
        effects = Effects(
            message_sid=message_sid,
            messaging=lambda: self.twilio,
            records=InMemoryRecordTables(),
            settings=EffectSettings(status_callback_url=None, records_table="records"),
            record_outbound=lambda **_: True,
            owners=lambda sid: None,
            clock=lambda: self.now,
            account=account,
            pacer=self.pacer,
        )
        return LedgerActionPort(
            message_sid, self.ledger, effects, lambda: self.now, lease=lease_for(60)
        )

    def bulk_backlog(self) -> None:
        """A broadcast booked the sender a minute ahead: its bucket is used up and bulk sends
        hold places in its queue until then (a reply's overdraft is free)."""
        ahead = int((self.now + timedelta(minutes=1)).timestamp() * 1000)
        now_ms = int(self.now.timestamp() * 1000)
        self.buckets.buckets[SENDER] = Bucket(tat=now_ms + 1000, queue=ahead, version=1)

    def opened(self, *, bulk: bool) -> None:
        self.service.perform(SID, "acme", ASK, bulk=bulk)


@pytest.fixture
def world() -> World:
    return World()


def reply(body: str) -> dict[str, Any]:
    return {
        "message_sid": "SM" + "9" * 32,
        "account": "acme",
        "to_number": OURS,
        "from_number": CONTACT,
        "body": body,
        "received_at": "2026-12-07T09:05:00Z",
    }


def test_a_bulk_conversations_prompt_waits_in_the_senders_queue(world: World) -> None:
    world.opened(bulk=True)
    world.bulk_backlog()

    with pytest.raises(SendPaced) as paced:  # the register task is retried at its place
        world.service.register(SID, ASK.step_id, "token-1")

    assert paced.value.retry_at == T0 + timedelta(minutes=1)
    assert world.twilio.bodies == []
    assert world.ledger.steps == {}  # released: nothing claimed while it waits


def test_a_bulk_conversations_reminder_waits_in_the_senders_queue(world: World) -> None:
    world.opened(bulk=True)
    world.service.register(SID, ASK.step_id, "token-1")
    world.now = T0 + timedelta(minutes=10)
    world.bulk_backlog()

    with pytest.raises(SendPaced):  # the timer task is retried at its place
        world.service.tick(SID, ASK.step_id)

    assert world.twilio.bodies == [ASK.prompt]


def test_a_bulk_conversations_reprompt_answers_the_contact_at_once(world: World) -> None:
    world.opened(bulk=True)
    world.service.register(SID, ASK.step_id, "token-1")
    world.bulk_backlog()

    world.service.route_reply(reply("maybe"))

    assert world.twilio.bodies == [ASK.prompt, "Please answer YES or NO"]


def test_a_conversation_a_message_opened_prompts_at_once_behind_a_bulk_backlog(
    world: World,
) -> None:
    world.opened(bulk=False)
    world.bulk_backlog()

    world.service.register(SID, ASK.step_id, "token-1")

    assert world.twilio.bodies == [ASK.prompt]


def test_a_conversation_stored_before_priorities_is_a_replys() -> None:
    stored = {
        "message_sid": SID,
        "step_id": "ask/1",
        "account": "acme",
        "contact": CONTACT,
        "our_number": OURS,
        "started_at": "2026-12-07T09:00:00Z",
        "deadline": "2026-12-07T10:00:00Z",
        "status": "waiting",
    }
    assert not conversation_from_item(stored).bulk
    assert conversation_from_item({**stored, "priority": "bulk"}).bulk
