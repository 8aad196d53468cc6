"""A message's action log on in-memory records: the run, its steps in order, and the delivery
of what a step created."""

from __future__ import annotations

from dataclasses import dataclass

from sms_automation.action_log import ActionLog
from sms_automation.conversations.model import Conversation
from sms_automation.processing.evaluations import EvaluationRecord
from sms_automation.processing.ledger import StepEntry, StepState


@dataclass(frozen=True)
class Event:
    status: str
    received_at: str
    error_code: str | None = None


@dataclass(frozen=True)
class Delivered:
    status: str | None
    error_code: str | None
    history: tuple[Event, ...]


class Records:
    """The evaluations, step ledger, outbound records and conversations of one table."""

    def __init__(self) -> None:
        self.evaluations: dict[str, EvaluationRecord] = {}
        self.steps: dict[str, list[StepEntry]] = {}
        self.deliveries: dict[str, Delivered] = {}

    def get(self, sid: str) -> EvaluationRecord | None:
        return self.evaluations.get(sid)

    def entries(self, message_sid: str) -> list[StepEntry]:
        return list(self.steps.get(message_sid, []))

    def for_message(self, message_sid: str) -> list[Conversation]:
        return []


class Deliveries:
    def __init__(self, records: Records) -> None:
        self._records = records

    def get(self, sid: str) -> Delivered | None:
        return self._records.deliveries.get(sid)


def log_of(records: Records) -> ActionLog:
    return ActionLog(
        evaluations=records, steps=records, deliveries=Deliveries(records), conversations=records
    )


def test_action_log_of_an_unknown_message_is_empty() -> None:
    assert log_of(Records()).of("SM1") == {"evaluation": None, "steps": []}


def test_action_log_steps_carry_the_delivery_of_what_they_created() -> None:
    records = Records()
    records.evaluations["SM1"] = EvaluationRecord("SM1", "acme", "completed", trigger_version=2)
    records.steps["SM1"] = [
        StepEntry("t0.a0", "send_sms", StepState.DONE, "t1", resource_sid="SMout"),
        StepEntry("t0.a1", "http_request", StepState.FAILED, "t2", detail="503"),
    ]
    records.deliveries["SMout"] = Delivered(
        "delivered", None, (Event("sent", "t3"), Event("delivered", "t4"))
    )

    log = log_of(records).of("SM1")

    assert log["evaluation"]["status"] == "completed"
    assert log["evaluation"]["trigger_version"] == 2
    sent, called = log["steps"]
    assert (sent["state"], called["state"], called["detail"]) == ("done", "failed", "503")
    assert sent["delivery"] == {
        "status": "delivered",
        "error_code": None,
        "history": [
            {"status": "sent", "received_at": "t3", "error_code": None},
            {"status": "delivered", "received_at": "t4", "error_code": None},
        ],
    }
    assert "delivery" not in called


def test_action_log_step_whose_resource_has_no_record_has_no_delivery() -> None:
    records = Records()
    records.steps["SM1"] = [
        StepEntry("t0.a0", "send_sms", StepState.DONE, "t1", resource_sid="SMgone")
    ]

    [step] = log_of(records).of("SM1")["steps"]

    assert "delivery" not in step
    assert log_of(records).conversations("SM1") == []
