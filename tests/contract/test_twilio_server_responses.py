"""The Twilio test server and the local sandbox (one implementation) answer as Twilio's spec says.

Each answer validates against the operation's response schema (types, SID patterns, enums,
RFC 2822 dates) and carries every property the schema declares, as api.twilio.com's answers
do: a client tested against this server meets the shapes it will meet in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.contract.openapi import response_properties, response_validator
from tests.support.twilio_server import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    TwilioTestServer,
)

ACCOUNT = f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}"
MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
MESSAGE = "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json"
CALLS = "/2010-04-01/Accounts/{AccountSid}/Calls.json"
ACCOUNT_PATH = "/2010-04-01/Accounts/{Sid}.json"
SENDER = "+15557654321"
RECIPIENT = "+15551230001"
SERVICE_SID = "MG" + "0123456789abcdef" * 2


@pytest.fixture
def twilio(twilio_spec_installed: Path) -> Iterator[TwilioTestServer]:
    with TwilioTestServer() as server:
        yield server


def call(twilio: TwilioTestServer, method: str, path: str, **form: Any) -> requests.Response:
    return requests.request(
        method,
        twilio.base_url + path,
        data=form or None,
        auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN),
        timeout=10,
    )


def assert_matches_spec(answer: requests.Response, spec_path: str, method: str) -> None:
    body = answer.json()
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in response_validator(spec_path, method, answer.status_code).iter_errors(body)
    ]
    assert errors == []
    missing = response_properties(spec_path, method, answer.status_code) - body.keys()
    assert missing == set()


@pytest.mark.parametrize(
    "form",
    [
        {"To": RECIPIENT, "From": SENDER, "Body": "hello"},
        {"To": RECIPIENT, "MessagingServiceSid": SERVICE_SID, "Body": "hello"},
        {"To": RECIPIENT, "From": SENDER, "MediaUrl": ["https://m.example.com/a.png"] * 2},
        {"To": RECIPIENT, "From": SENDER, "Body": "x" * 1600},
    ],
    ids=["from", "messaging-service", "media", "long-body"],
)
def test_twilio_server_create_message_answer_matches_the_spec(
    twilio: TwilioTestServer, form: dict[str, Any]
) -> None:
    answer = call(twilio, "POST", f"{ACCOUNT}/Messages.json", **form)

    assert answer.status_code == 201
    assert_matches_spec(answer, MESSAGES, "POST")


def test_twilio_server_fetch_message_answer_matches_the_spec(twilio: TwilioTestServer) -> None:
    created = call(twilio, "POST", f"{ACCOUNT}/Messages.json", To=RECIPIENT, From=SENDER, Body="hi")

    answer = call(twilio, "GET", f"{ACCOUNT}/Messages/{created.json()['sid']}.json")

    assert answer.status_code == 200
    assert_matches_spec(answer, MESSAGE, "GET")


def test_twilio_server_create_call_answer_matches_the_spec(twilio: TwilioTestServer) -> None:
    answer = call(
        twilio, "POST", f"{ACCOUNT}/Calls.json", To=RECIPIENT, From=SENDER, Twiml="<Response/>"
    )

    assert answer.status_code == 201
    assert_matches_spec(answer, CALLS, "POST")


@pytest.mark.parametrize(("collection", "spec_path"), [("Messages", MESSAGES), ("Calls", CALLS)])
def test_twilio_server_list_answer_matches_the_spec(
    twilio: TwilioTestServer, collection: str, spec_path: str
) -> None:
    call(twilio, "POST", f"{ACCOUNT}/Messages.json", To=RECIPIENT, From=SENDER, Body="hi")
    call(twilio, "POST", f"{ACCOUNT}/Calls.json", To=RECIPIENT, From=SENDER, Twiml="<Response/>")

    answer = requests.get(
        f"{twilio.base_url}{ACCOUNT}/{collection}.json",
        params={"To": RECIPIENT, "From": SENDER, "PageSize": "20"},
        auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN),
        timeout=10,
    )

    assert answer.status_code == 200
    assert len(answer.json()[collection.lower()]) == 1
    assert_matches_spec(answer, spec_path, "GET")


def test_twilio_server_fetch_account_answer_matches_the_spec(twilio: TwilioTestServer) -> None:
    answer = call(twilio, "GET", f"{ACCOUNT}.json")

    assert answer.status_code == 200
    assert_matches_spec(answer, ACCOUNT_PATH, "GET")


NUMBERS = "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json"
NUMBER = "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json"


def test_sandbox_list_numbers_answer_matches_the_spec(twilio: TwilioTestServer) -> None:
    twilio.add_number(DEFAULT_ACCOUNT_SID, SENDER, sms_url="https://hooks.example.com/sms")

    answer = call(twilio, "GET", f"{ACCOUNT}/IncomingPhoneNumbers.json")

    assert answer.status_code == 200
    assert [n["phone_number"] for n in answer.json()["incoming_phone_numbers"]] == [SENDER]
    assert_matches_spec(answer, NUMBERS, "GET")


def test_sandbox_update_number_answer_matches_the_spec(twilio: TwilioTestServer) -> None:
    sid = twilio.add_number(DEFAULT_ACCOUNT_SID, SENDER)

    answer = call(
        twilio,
        "POST",
        f"{ACCOUNT}/IncomingPhoneNumbers/{sid}.json",
        SmsUrl="https://hooks.example.com/twilio/acme/sms",
        SmsMethod="POST",
        StatusCallback="https://hooks.example.com/twilio/acme/status",
    )

    assert answer.status_code == 200
    assert answer.json()["sms_url"] == "https://hooks.example.com/twilio/acme/sms"
    assert_matches_spec(answer, NUMBER, "POST")


def test_response_validator_rejects_an_answer_off_the_spec(twilio_spec_installed: Path) -> None:
    """The check can fail: a wrong SID, an unknown status and a non-RFC 2822 date are caught."""
    validator = response_validator(MESSAGES, "POST", 201)
    answer = {"sid": "SM123", "status": "sent-ish", "date_created": "2026-03-01T12:00:00Z"}

    failing = sorted(
        "/".join(map(str, error.absolute_path)) for error in validator.iter_errors(answer)
    )

    assert failing == ["date_created", "sid", "sid", "status"]
