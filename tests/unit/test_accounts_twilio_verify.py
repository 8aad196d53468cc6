"""Classifying Twilio's error answers: by HTTP status and Twilio error code, never by message."""

from __future__ import annotations

import pytest

from sms_automation.adapters.twilio_verify import (
    AccountVerification,
    VerificationOutcome,
    classify_error_answer,
)

SID = "AC0123456789abcdef0123456789abcdef"
BASE_URL = "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        (401, 20003, VerificationOutcome.WRONG_CREDENTIALS),
        (401, 401, VerificationOutcome.WRONG_CREDENTIALS),  # no code in the body
        (403, 20003, VerificationOutcome.WRONG_CREDENTIALS),
        (404, 20404, VerificationOutcome.ACCOUNT_NOT_FOUND),
        (404, 404, VerificationOutcome.ACCOUNT_NOT_FOUND),
        (400, 20404, VerificationOutcome.ACCOUNT_NOT_FOUND),
        (500, 20500, VerificationOutcome.UNAVAILABLE),
        (503, 503, VerificationOutcome.UNAVAILABLE),
        (403, 20008, VerificationOutcome.REJECTED),
        (429, 20429, VerificationOutcome.REJECTED),
        (301, 301, VerificationOutcome.REJECTED),
    ],
)
def test_classify_error_answer_by_status_and_code(
    status: int, code: int, outcome: VerificationOutcome
) -> None:
    verification = classify_error_answer(SID, BASE_URL, status, code, "Unable to fetch record")
    assert verification.outcome is outcome
    assert verification.http_status == status


def test_classify_error_answer_drops_the_clients_stand_in_code() -> None:
    assert classify_error_answer(SID, BASE_URL, 500, 500, "oops").twilio_code is None
    assert classify_error_answer(SID, BASE_URL, 401, "20003", "x").twilio_code == 20003


def test_verification_more_info_links_the_twilio_error_page() -> None:
    verification = classify_error_answer(SID, BASE_URL, 401, 20003, "Authenticate")
    assert verification.more_info == "https://www.twilio.com/docs/errors/20003"
    assert verification.as_dict()["more_info"] == verification.more_info
    plain = AccountVerification(VerificationOutcome.UNAVAILABLE, SID, BASE_URL, "timeout")
    assert plain.more_info is None
