"""``RunProgress``: what ``sms-automation run --follow`` prints between two reads of a run —
each change once, a delivery status as it arrives, events of one instant in causal order."""

from __future__ import annotations

from typing import Any

from sms_automation_cli.run_progress import RunProgress, event_line

AT = "2026-11-26T21:09:03.340Z"
LATER = "2026-11-26T21:09:41.000Z"
PROMPT = "Hi Ann, reply YES to confirm"


def view(
    status: str = "queued",
    *,
    steps: tuple[dict[str, Any], ...] = (),
    conversations: tuple[dict[str, Any], ...] = (),
    ended: bool = False,
) -> dict[str, Any]:
    """What ``describe_run`` answers, reduced to what the progress reads."""
    return {
        "status": status,
        "ended": ended,
        "requested_at": AT,
        "finished_at": LATER if ended else "",
        "diagnostics": [],
        "steps": list(steps),
        "conversations": list(conversations),
    }


def sms_step(step_id: str, *, delivered: tuple[str, ...] = (), at: str = AT) -> dict[str, Any]:
    step: dict[str, Any] = {
        "step_id": step_id,
        "kind": "send_sms",
        "state": "done",
        "started_at": at,
        "finished_at": at,
        "detail": "message SM1 queued",
        "resource_sid": "SM1",
    }
    if delivered:
        history = [{"status": s, "received_at": LATER, "error_code": None} for s in delivered]
        step["delivery"] = {"status": delivered[-1], "error_code": None, "history": history}
    return step


def conversation(status: str = "waiting", *replies: str) -> dict[str, Any]:
    return {
        "id": "RU1:reminder/1",
        "status": status,
        "contact": "+14155550101",
        "started_at": AT,
        "deadline": "2026-11-26T22:09:03Z",
        "prompt": PROMPT,
        "replies": [{"body": body, "received_at": AT, "valid": True} for body in replies],
        "outcome": {"outcome": status} if status != "waiting" else {},
        "resolved_at": AT if status != "waiting" else "",
    }


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [event["event"] for event in events]


def test_run_progress_reports_a_delivery_status_when_it_arrives_and_each_change_once() -> None:
    progress = RunProgress()
    assert kinds(progress.changes(view())) == ["queued"]
    assert kinds(progress.changes(view("running", steps=(sms_step("reminder/1"),)))) == ["step"]

    delivered = view("running", steps=(sms_step("reminder/1", delivered=("sent", "delivered")),))
    [event] = progress.changes(delivered)
    assert (event["event"], event["sid"], event["status"], event["at"]) == (
        "delivery",
        "SM1",
        "delivered",
        LATER,
    )
    assert event_line(event) == "21:09:41  delivery  reminder/1: SM1 delivered"
    assert progress.changes(delivered) == []


def test_run_progress_orders_one_instants_events_step_wait_reply_outcome() -> None:
    """One read that saw everything at once (the same timestamps): the story's order."""
    progress = RunProgress()
    events = progress.changes(
        view(
            "completed",
            steps=(sms_step("reminder/1/prompt"),),
            conversations=(conversation("replied", "YES"),),
            ended=True,
        )
    )
    assert kinds(events) == ["step", "waiting", "reply", "outcome", "ended"]
    assert events[1]["prompt"] == PROMPT
    assert events[-1]["status"] == "completed"


def test_run_progress_reports_a_new_reply_and_the_end_only_once() -> None:
    progress = RunProgress()
    progress.changes(view("paused", conversations=(conversation(),)))
    replied = view("completed", conversations=(conversation("replied", "no"),), ended=True)
    assert kinds(progress.changes(replied)) == ["reply", "outcome", "ended"]
    assert progress.changes(replied) == []
