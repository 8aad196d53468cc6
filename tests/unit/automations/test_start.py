"""A start request checked against an automation: the origin it stores, every problem named."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from sms_automation import keys
from sms_automation.automations.start import (
    PinnedTriggers,
    RejectionReason,
    StartRejected,
    StartRequest,
    StartSource,
    build_origin,
    check_idempotency_key,
    request_fingerprint,
    run_id_for,
)
from sms_automation.triggers.model import Automation

OURS, CONTACT = "+15005550006", "+14155550101"
PINNED = PinnedTriggers(version=3, fingerprint="abc123")
REMINDER = Automation.model_validate(
    {
        "name": "Reminder",
        "from": OURS,
        "inputs": [
            {"name": "patient", "required": True},
            {"name": "slot", "type": "datetime", "required": True},
            {"name": "clinic", "default": "Main St"},
            {"name": "note"},
        ],
        "actions": [{"type": "send_sms", "body": "Hi %patient%"}],
    }
)
REQUEST = StartRequest(
    account="acme",
    automation="reminder",
    to=CONTACT,
    variables={"patient": "Ann", "slot": "2026-12-01T10:00:00Z"},
    source=StartSource.API,
    requested_by="arn:aws:iam::123456789012:role/booking",
)


def origin(request: StartRequest = REQUEST, automation: Automation = REMINDER) -> dict[str, Any]:
    return build_origin(
        automation, request, pinned=PINNED, run_id="RU" + "a" * 32, requested_at="2026-11-26T10:00Z"
    )


def rejected(request: StartRequest, automation: Automation = REMINDER) -> StartRejected:
    with pytest.raises(StartRejected) as error:
        origin(request, automation)
    return error.value


def test_the_origin_is_a_run_the_processor_can_replay() -> None:
    item = origin()
    assert {k: item[k] for k in (keys.PK, keys.SK)} == keys.message_key("RU" + "a" * 32)
    assert item["kind"] == keys.KIND_AUTOMATION_RUN
    assert item["message_sid"] == item["run_id"] == "RU" + "a" * 32
    assert (item["trigger_version"], item["fingerprint"]) == (3, "abc123")
    assert item["automation"] == "Reminder"  # the file's spelling, whatever the caller's
    assert item["variables"] == {
        "patient": "Ann",
        "slot": "2026-12-01T10:00:00Z",
        "clinic": "Main St",
        "note": "",
    }
    assert item["params"]["From"] == item["params"]["contact"] == CONTACT
    assert item["params"]["To"] == item["params"]["our_number"] == OURS
    assert item["received_at"] == item["requested_at"]
    assert item[keys.GSI1_PK] == keys.account_runs_index_pk("acme")
    assert item[keys.GSI2_PK] == keys.automation_runs_index_pk("acme", "reminder")
    assert item[keys.GSI1_SK] == item[keys.GSI2_SK] == "2026-11-26T10:00Z#RU" + "a" * 32


def test_the_run_index_key_folds_the_automation_name() -> None:
    assert keys.automation_runs_index_pk("acme", "Daily Summary") == (
        "ACCOUNT#acme#AUTOMATION#daily summary#RUNS"
    )
    assert keys.automation_runs_index_pk("acme", "REMINDER") == (
        keys.automation_runs_index_pk("acme", "reminder")
    )


def test_the_request_may_choose_our_number() -> None:
    assert origin(replace(REQUEST, from_="whatsapp:+15005550007"))["from"] == (
        "whatsapp:+15005550007"
    )


def test_every_problem_is_named_at_once() -> None:
    error = rejected(
        replace(
            REQUEST,
            to="555",
            from_="ours",
            variables={"slot": "soon", "colour": "red", "PATIENT": "x", "patient": "y"},
        )
    )
    assert error.status == 400
    assert error.reason is RejectionReason.INVALID_REQUEST
    assert [(p.field, p.message.split(" ")[0]) for p in error.problems] == [
        ("to", "expected"),
        ("from", "expected"),
        ("variables.slot", "expected"),
        ("variables.colour", "not"),
        ("variables.patient", "given"),
    ]
    assert error.as_dict()["problems"][0] == {
        "field": "to",
        "message": "expected a number in E.164 form (+15551234567) or whatsapp:+E.164",
    }


def test_required_inputs_and_the_contact_are_required() -> None:
    error = rejected(replace(REQUEST, to=None, variables={}))
    assert [p.field for p in error.problems] == ["to", "variables.patient", "variables.slot"]


def test_variables_must_be_an_object() -> None:
    error = rejected(replace(REQUEST, variables=["patient"]))  # type: ignore[arg-type]
    assert [p.field for p in error.problems] == ["variables"]


def test_no_from_anywhere_is_a_problem() -> None:
    no_from = REMINDER.model_copy(update={"from_": None})
    assert [p.field for p in rejected(REQUEST, no_from).problems] == ["from"]


def test_a_disabled_automation_is_a_conflict() -> None:
    error = rejected(REQUEST, REMINDER.model_copy(update={"enabled": False}))
    assert (error.status, error.reason) == (409, RejectionReason.AUTOMATION_DISABLED)


def test_run_ids_follow_the_idempotency_key() -> None:
    assert run_id_for("acme", "k1") == run_id_for("acme", "k1")
    assert run_id_for("acme", "k1") != run_id_for("other", "k1")
    assert run_id_for("acme", None) != run_id_for("acme", None)
    assert re.fullmatch(r"RU[0-9a-f]{32}", run_id_for("acme", "k1"))


def test_the_fingerprint_tells_a_retry_from_a_different_request() -> None:
    assert request_fingerprint(REQUEST) == request_fingerprint(
        replace(REQUEST, automation="REMINDER", requested_by="someone else")
    )
    assert request_fingerprint(REQUEST) != request_fingerprint(replace(REQUEST, to=OURS))


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve", 42])
def test_bad_idempotency_keys_are_rejected(key: object) -> None:
    with pytest.raises(StartRejected) as error:
        check_idempotency_key(key)
    assert error.value.status == 400


def test_a_good_idempotency_key_is_kept() -> None:
    assert check_idempotency_key("booking-42:2026-12-01") == "booking-42:2026-12-01"
    assert check_idempotency_key(None) is None
