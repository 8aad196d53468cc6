"""A contact taken over by a person: every automatic SMS or call to them is paused (recorded as
``paused`` with who and since when), before the send cap counts it and before Twilio; other
contacts, an expired takeover and a handed-back contact are sent to as before. A takeover that
lands while a create is in flight lets that one send finish and pauses every later step; a paused
step stays paused on a replay, even after the hand-back (the person has answered instead)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sms_automation.outbound import SentMessage
from sms_automation.processing.effects import Effects, EffectSettings
from sms_automation.processing.ledger import StepState
from sms_automation.processing.port import LedgerActionPort
from sms_automation.send_cap import SendCap
from sms_automation.send_guard import SendGuard
from sms_automation.takeover import take_over
from sms_automation.triggers import MakeCall, OutcomeStatus, SendSms
from tests.support.fakes import InMemoryRecordTables, InMemoryStepLedger, InMemoryTakeovers

ANN = "+14155550101"
BOB = "+14155550102"
OURS = "+15005550006"
NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
MESSAGE = "SM" + "1" * 32


def sms(step_id: str = "t/1", to: str = ANN) -> SendSms:
    return SendSms(
        step_id=step_id, trigger="t", to=to, from_=OURS, messaging_service_sid=None, body="hi"
    )


class Twilio:
    """Creates every message it is asked for; ``during_create`` runs while a create is in flight."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.during_create = lambda: None

    def send_sms(self, **request: Any) -> SentMessage:
        self.during_create()
        self.sent.append(request)
        return SentMessage(f"SM{len(self.sent):032d}", "queued")

    def make_call(self, **request: Any) -> Any:
        raise AssertionError("no call may be placed")


class Counter:
    def __init__(self) -> None:
        self.reads = 0

    def read(self, lane: Any) -> Any:
        from sms_automation.send_guard import LaneCount

        self.reads += 1
        return LaneCount()

    def write(self, lane: Any, slots: Any, *, seen: int, expires_at: int) -> bool:
        return True


class Stage:
    def __init__(self) -> None:
        self.twilio = Twilio()
        self.takeovers = InMemoryTakeovers()
        self.counter = Counter()
        self.ledger = InMemoryStepLedger()
        self.now = NOW

    def effects(self) -> Effects:
        return Effects(
            message_sid=MESSAGE,
            messaging=lambda: self.twilio,  # type: ignore[arg-type,return-value]
            records=InMemoryRecordTables(),
            settings=EffectSettings(status_callback_url=None, records_table="records"),
            record_outbound=lambda **_: True,
            owners=lambda sid: None,
            clock=lambda: self.now,
            account="acme",
            send_guard=SendGuard(self.counter, lambda account: SendCap(10, 600), lambda: NOW),
            takeovers=self.takeovers,
        )

    def port(self) -> LedgerActionPort:
        return LedgerActionPort(
            MESSAGE, self.ledger, self.effects(), lambda: self.now, lease=timedelta(minutes=3)
        )


def test_a_taken_over_contact_gets_no_automatic_sms_and_the_step_is_paused_not_failed() -> None:
    stage = Stage()
    stage.takeovers.put(take_over("acme", ANN, "ann@example.com", NOW, 30))

    outcome = stage.port().perform(sms())

    assert outcome.status is OutcomeStatus.PAUSED
    assert outcome.detail == (
        "paused: taken over by a***@example.com since 2026-01-01T09:00:00.000Z "
        "(until 2026-01-01T09:30:00.000Z)"
    )
    entry = stage.ledger.get(MESSAGE, "t/1")
    assert entry is not None
    assert entry.state is StepState.PAUSED
    assert stage.twilio.sent == []
    assert stage.counter.reads == 0, "a paused send does not use up the cap"


def test_a_call_to_a_taken_over_contact_is_paused_too() -> None:
    stage = Stage()
    stage.takeovers.put(take_over("acme", ANN, "bo@example.com", NOW, 5))
    call = MakeCall(step_id="t/2", trigger="t", to=ANN, from_=OURS, twiml="<Response/>")

    result = stage.effects().perform(call, "key")

    assert result.state is StepState.PAUSED
    assert result.detail.startswith("paused: taken over by b***@example.com since")


def test_other_contacts_an_expired_takeover_and_a_handed_back_contact_are_sent_to() -> None:
    stage = Stage()
    stage.takeovers.put(take_over("acme", ANN, "ann@example.com", NOW, 30))
    assert stage.port().perform(sms("t/1", to=BOB)).status is OutcomeStatus.DONE

    stage.now = NOW + timedelta(minutes=30)  # the takeover's "until": over, no job needed
    assert stage.port().perform(sms("t/2")).status is OutcomeStatus.DONE

    stage.now = NOW
    stage.takeovers.delete("acme", ANN)
    assert stage.port().perform(sms("t/3")).status is OutcomeStatus.DONE
    assert [s["to"] for s in stage.twilio.sent] == [BOB, ANN, ANN]


def test_a_takeover_landing_while_a_create_is_in_flight_pauses_every_later_step() -> None:
    stage = Stage()
    stage.twilio.during_create = lambda: stage.takeovers.put(
        take_over("acme", ANN, "ann@example.com", NOW, 30)
    )
    port = stage.port()

    first = port.perform(sms("t/1"))  # decided before the takeover: it goes out, once
    stage.twilio.during_create = lambda: None
    second = port.perform(sms("t/2"))

    assert first.status is OutcomeStatus.DONE
    assert second.status is OutcomeStatus.PAUSED
    assert len(stage.twilio.sent) == 1


def test_a_paused_step_stays_paused_on_a_replay_after_the_hand_back() -> None:
    stage = Stage()
    stage.takeovers.put(take_over("acme", ANN, "ann@example.com", NOW, 30))
    assert stage.port().perform(sms()).status is OutcomeStatus.PAUSED

    stage.takeovers.delete("acme", ANN)
    replayed = stage.port().perform(sms())  # a redelivery of the same message

    assert replayed.status is OutcomeStatus.PAUSED
    assert stage.twilio.sent == []


def test_an_effect_without_takeovers_never_reads_them() -> None:
    stage = Stage()
    stage.takeovers.put(take_over("acme", ANN, "ann@example.com", NOW, 30))
    effects = stage.effects()
    plain = Effects(
        message_sid=MESSAGE,
        messaging=lambda: stage.twilio,  # type: ignore[arg-type,return-value]
        records=InMemoryRecordTables(),
        settings=EffectSettings(status_callback_url=None, records_table="records"),
        record_outbound=lambda **_: True,
        owners=lambda sid: None,
        clock=lambda: NOW,
        account="acme",
    )
    assert effects.perform(sms(), "k1").state is StepState.PAUSED
    reads = stage.takeovers.reads

    assert plain.perform(sms(), "k2").state is StepState.DONE  # a person's reply: never paused
    assert stage.takeovers.reads == reads
