"""A broadcast's report counted from its runs' views: sends, deliveries, failures by code,
answers, opted-out and not-started rows."""

from __future__ import annotations

from typing import Any

from sms_automation.broadcasts.report import build_report, row_run_id

RECORD = {
    "broadcast_id": "BC" + "a" * 32,
    "account": "acme",
    "automation": "notify",
    "status": "completed",
    "counts": {"rows": 9, "valid": 6, "invalid": 2, "duplicates": 0, "opted_out": 1},
    "bad_rows": [{"line": 3, "problems": ["to: required"]}],
}


def sent(status: str, error: str | None = None) -> dict[str, Any]:
    return {
        "kind": "send_sms",
        "state": "done",
        "delivery": {"status": status, "error_code": error},
    }


def replied(body: str) -> dict[str, Any]:
    return {"status": "replied", "outcome": {"outcome": "replied", "body": body}}


def test_the_report_counts_every_row_by_what_became_of_it() -> None:
    views = {
        2: {
            "status": "completed",
            "steps": [sent("delivered")],
            "conversations": [replied(" yes ")],
        },
        4: {"status": "completed", "steps": [sent("delivered")], "conversations": [replied("Yes")]},
        5: {"status": "completed", "steps": [sent("undelivered", "30003")], "conversations": []},
        6: {
            "status": "completed",
            "steps": [
                {
                    "kind": "send_sms",
                    "state": "failed",
                    "detail": "invalid number (Twilio error 21211)",
                }
            ],
        },
        7: {
            "status": "completed",
            "steps": [
                {
                    "kind": "send_sms",
                    "state": "failed",
                    "detail": "not sent: +1415***99 opted out (STOP, t)",
                }
            ],
        },
        # line 8 never started (cancelled)
    }
    by_run = {
        row_run_id("acme", RECORD["broadcast_id"], line): view for line, view in views.items()
    }
    report = build_report(RECORD, [2, 4, 5, 6, 7, 8], by_run.get)
    assert {k: v for k, v in report.items() if k not in ("broadcast_id", "invalid_rows")} == {
        "account": "acme",
        "automation": "notify",
        "status": "completed",
        "rows": 9,
        "invalid": 2,
        "opted_out": 2,
        "skipped": 1,
        "started": 5,
        "sent": 3,
        "delivered": 2,
        "failed": {"21211": 1, "30003": 1},
        "answered": {"YES": 2},
        "waiting": 0,
    }
    assert report["invalid_rows"] == [{"line": 3, "problems": ["to: required"]}]


def test_answers_reach_the_operators_terminal_without_control_characters() -> None:
    by_run = {
        row_run_id("acme", RECORD["broadcast_id"], 2): {
            "status": "completed",
            "steps": [],
            "conversations": [replied("\x1b]0;pwned\x07yes\x9b2J\x00")],
        }
    }
    report = build_report(RECORD, [2], by_run.get)
    assert report["answered"] == {"]0;PWNEDYES2J": 1}
