"""Quiet hours: the send window in the account's time zone (midnight, DST), a conversation that
opens with the window, reminders held until it and the deadline that does not wait, and the
deferrals of a record that waits for hours (neither counted nor aged)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from sms_automation.conversations.service import Conversations
from sms_automation.processing.deferral import (
    MAX_DEFERRALS,
    MAX_DEFERRED_FOR,
    Deferral,
    Deferrals,
    delay_seconds,
)
from sms_automation.processing.port import LedgerActionPort, lease_for
from sms_automation.processing.quiet_hours import QuietHours, opens_at, outside_window
from sms_automation.processing.retry_later import ClaimHeld, Waiting
from sms_automation.send_settings import SendWindow
from sms_automation.triggers import OutcomeStatus, SendSms, WaitForReply
from sms_automation.triggers.plan import ReminderSpec
from tests.support.fakes import (
    FakeConversationWorkflow,
    InMemoryConversationStore,
    InMemoryStepLedger,
    RecordingEffects,
)

NEW_YORK = "America/New_York"
DAY = SendWindow(time(8), time(21))
NIGHT_SHIFT = SendWindow(time(21), time(7))


def local(text: str, zone: str = NEW_YORK) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


# --- the window -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "window"),
    [("08:00-21:00", DAY), ("21:00-07:00", NIGHT_SHIFT), (" 08:00-21:00 ", DAY)],
)
def test_a_send_window_reads_from_hh_mm_and_back(text: str, window: SendWindow) -> None:
    assert SendWindow.parse(text) == window
    assert window.describe() == text.strip()


@pytest.mark.parametrize("bad", ["8-21", "08:00-24:00", "08:00", "08:00-08:00", "x" * 100])
def test_a_send_window_that_is_not_one_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="send window"):
        SendWindow.parse(bad)


def test_no_window_means_always() -> None:
    assert opens_at(None, local("2026-03-02T03:00"), NEW_YORK) is None


@pytest.mark.parametrize(
    ("now", "opens"),
    [
        ("2026-03-02T12:00", None),
        ("2026-03-02T08:00", None),  # the start is in
        ("2026-03-02T21:00", "2026-03-03T08:00"),  # the end is out
        ("2026-03-02T23:30", "2026-03-03T08:00"),
        ("2026-03-02T06:59", "2026-03-02T08:00"),
    ],
)
def test_outside_the_window_a_send_waits_for_its_next_opening(now: str, opens: str | None) -> None:
    expected = None if opens is None else local(opens)
    assert opens_at(DAY, local(now).astimezone(UTC), NEW_YORK) == expected


def test_a_window_across_midnight() -> None:
    assert opens_at(NIGHT_SHIFT, local("2026-03-02T23:00"), NEW_YORK) is None
    assert opens_at(NIGHT_SHIFT, local("2026-03-03T06:30"), NEW_YORK) is None
    assert opens_at(NIGHT_SHIFT, local("2026-03-03T07:00"), NEW_YORK) == local("2026-03-03T21:00")


def test_the_window_is_the_accounts_local_time_not_utc() -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 07:00 in New York, 12:00 in London
    assert opens_at(DAY, now, "Europe/London") is None
    assert opens_at(DAY, now, NEW_YORK) == local("2026-03-02T08:00")
    assert opens_at(DAY, now, None) is None  # no zone: UTC


def test_a_window_opening_in_the_hour_a_clock_skips_opens_at_the_jump() -> None:
    window = SendWindow(time(2, 30), time(9))  # 2026-03-08: New York skips 02:00-03:00
    opened = opens_at(window, local("2026-03-08T01:00"), NEW_YORK)
    assert opened is not None
    assert opened.astimezone(UTC) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT
    assert window.contains(opened.astimezone(ZoneInfo(NEW_YORK)).time())  # sendable then


def test_a_window_opening_in_the_skipped_hour_opens_at_its_wall_time_on_other_days() -> None:
    window = SendWindow(time(2, 30), time(9))
    opened = opens_at(window, local("2026-03-09T01:00"), NEW_YORK)
    assert opened == local("2026-03-09T02:30")


def test_a_window_opening_in_the_hour_a_clock_repeats_opens_at_its_first_occurrence() -> None:
    window = SendWindow(time(1, 30), time(9))  # 2026-11-01: New York repeats 01:00-02:00
    opened = opens_at(window, local("2026-11-01T00:30"), NEW_YORK)
    assert opened is not None
    assert opened.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT


# --- a conversation ---------------------------------------------------------------------------

SID = "SM" + "1" * 32
ASK = WaitForReply(
    step_id="ask/1",
    trigger="ask",
    to="+14155550101",
    from_="+15005550006",
    prompt="Yes or no?",
    timeout_seconds=3600,
    until=None,
    reminders=(ReminderSpec(600, "Still there?"),),
)
T0 = datetime(2026, 3, 2, 20, 55, tzinfo=UTC)


class Conversing:
    def __init__(self, opens: datetime) -> None:
        self.now = T0
        self.opens = opens
        self.store = InMemoryConversationStore()
        self.ledger = InMemoryStepLedger()
        self.effects = RecordingEffects()
        self.service = Conversations(
            store=self.store,
            workflow=FakeConversationWorkflow(),
            port_for=lambda sid, account: LedgerActionPort(
                sid, self.ledger, self.effects, lambda: self.now, lease=lease_for(60)
            ),
            clock=lambda: self.now,
            quiet_hours=self.quiet,
            waiting=outside_window,
        )

    def quiet(self, account: str, now: datetime) -> datetime | None:
        assert account == "acme"
        return self.opens if now < self.opens else None

    def sent(self) -> list[str]:
        return [step.step_id for step in self.effects.performed if isinstance(step, SendSms)]


def test_a_conversation_opens_with_the_window_its_deadline_counting_from_then() -> None:
    world = Conversing(opens=T0 + timedelta(hours=11))

    with pytest.raises(QuietHours) as held:
        world.service.perform(SID, "acme", ASK)

    assert held.value.retry_at == world.opens
    assert world.store.get(SID, ASK.step_id) is None  # not opened: no deadline running
    world.now = world.opens
    assert world.service.perform(SID, "acme", ASK).status is OutcomeStatus.PENDING
    world.service.register(SID, ASK.step_id, "token")
    conversation = world.store.get(SID, ASK.step_id)
    assert conversation is not None
    assert conversation.deadline == "2026-03-03T08:55:00Z"
    assert world.sent() == ["ask/1/prompt"]
    assert all(not step.quiet_hours for step in world.effects.performed)  # timed here


def test_a_reminder_due_in_quiet_hours_waits_for_the_window_and_the_deadline_does_not() -> None:
    world = Conversing(opens=T0)  # open now
    world.service.perform(SID, "acme", ASK)
    world.service.register(SID, ASK.step_id, "token")
    world.opens = T0 + timedelta(minutes=50)  # the window closes; it opens again in 50 minutes

    world.now = T0 + timedelta(minutes=10)  # the reminder is due
    look = world.service.tick(SID, ASK.step_id)

    assert world.sent() == ["ask/1/prompt"]  # held
    assert look["next_at"] == "2026-03-02T21:45:00Z"  # when the window opens
    world.now = world.opens
    world.service.tick(SID, ASK.step_id)
    assert world.sent() == ["ask/1/prompt", "ask/1/remind/1"]

    world.opens = T0 + timedelta(hours=5)  # closed again, past the deadline
    world.now = T0 + timedelta(hours=1)
    look = world.service.tick(SID, ASK.step_id)
    assert look["resolved"] is True  # timed out at its deadline, window or not


# --- deferrals --------------------------------------------------------------------------------


class Queue:
    def __init__(self) -> None:
        self.sent: list[tuple[str, int]] = []

    def send(self, body: str, delay_seconds: int) -> None:
        self.sent.append((body, delay_seconds))


class NoRecords:
    def replay_record(self, *args: object, **kwargs: object) -> None:
        return None


def test_a_record_waiting_for_hours_is_re_deferred_every_15_minutes_uncounted() -> None:
    now = datetime(2026, 3, 2, 21, 0, tzinfo=UTC)
    opens = now + timedelta(hours=11)
    queue = Queue()
    deferrals = Deferrals(queue, records=NoRecords(), clock=lambda: now)  # type: ignore[arg-type]
    message = {"message_sid": SID, "account": "acme"}
    record = {"eventSourceARN": "arn", "dynamodb": {"SequenceNumber": "1"}}

    deferred = deferrals.defer(QuietHours("quiet", retry_at=opens), message, record, None)
    hops = 1
    while (earlier := deferred.deferral) is not None and now < opens:
        assert deferred.sent
        assert deferred.delay == delay_seconds(QuietHours("", retry_at=opens), now)
        now += timedelta(seconds=deferred.delay)
        if now >= opens:
            break
        deferred = deferrals.defer(QuietHours("quiet", retry_at=opens), message, record, earlier)
        hops += 1

    assert hops == 44  # 11 hours in 15-minute hops
    assert hops > MAX_DEFERRALS
    assert now - datetime(2026, 3, 2, 21, 0, tzinfo=UTC) > MAX_DEFERRED_FOR
    assert earlier is not None
    assert earlier.deferrals == 1  # a wait is not counted

    stuck = deferrals.defer(ClaimHeld("held"), message, record, earlier)
    assert stuck.sent  # a later hold is bounded as always, from the last wait on
    assert isinstance(QuietHours("x"), Waiting)
    assert Deferral.from_body(queue.sent[-1][0]).deferrals == 2
