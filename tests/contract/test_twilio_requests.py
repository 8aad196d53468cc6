"""Every request the Twilio adapter sends is valid against Twilio's official OpenAPI spec.

The adapter, through the real ``twilio`` client, talks to Prism serving the spec with
``--errors``: a request that breaks it (a missing required field, a malformed SID, no Basic
credentials) is answered 422/401, which the adapter reports as a ``FinalFailure``; a valid one
gets the spec's example answer, which the adapter must read as a message or a call.
``test_contract_rejects_a_request_the_spec_forbids`` proves that a violation does fail here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from sms_automation.adapters.twilio_messaging import TwilioLookupFailed, TwilioMessaging
from sms_automation.outbound import FinalFailure, PlacedCall, RetryPolicy, SentMessage
from tests.contract.prism import Prism

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
SENDER = "+15557654321"
RECIPIENT = "+15551230001"
SERVICE_SID = "MG" + "0123456789abcdef" * 2
CALLBACK = "https://hooks.example.com/twilio/acme/status"
MEDIA = ("https://media.example.com/a.png", "https://media.example.com/b.jpg")
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="alice">Hi</Say></Response>'


@pytest.fixture
def messaging(prism: Prism) -> Iterator[TwilioMessaging]:
    with TwilioMessaging(
        ACCOUNT_SID,
        AUTH_TOKEN,
        api_base_url=prism.base_url,
        retry_policy=RetryPolicy(max_attempts=1),
    ) as instance:
        yield instance


def accepted[T](prism: Prism, mark: int, outcome: object, expected: type[T]) -> T:
    """``outcome`` as ``expected``; otherwise fails with Prism's violations for the request."""
    violations = "\n".join(prism.violations_since(mark))
    assert isinstance(outcome, expected), f"Prism refused the request: {outcome}\n{violations}"
    return outcome


@pytest.mark.parametrize(
    "message",
    [
        {"from_": SENDER, "body": "Your code is 123456"},
        {"from_": SENDER, "body": "Reply YES to confirm", "status_callback": CALLBACK},
        {"from_": SENDER, "body": "Two pictures", "media_urls": MEDIA},
        {"from_": SENDER, "media_urls": MEDIA[:1]},
        {"messaging_service_sid": SERVICE_SID, "body": "Sent through a Messaging Service"},
        {"messaging_service_sid": SERVICE_SID, "from_": SENDER, "body": "Both sender kinds"},
    ],
    ids=["body", "status-callback", "media", "media-only", "messaging-service", "service-and-from"],
)
def test_send_sms_request_is_valid_against_the_spec(
    messaging: TwilioMessaging, prism: Prism, message: dict[str, Any]
) -> None:
    mark = prism.log_mark()

    outcome = messaging.send_sms(to=RECIPIENT, idempotency_key="SMx/trigger/0", **message)

    assert accepted(prism, mark, outcome, SentMessage).sid.startswith(("SM", "MM"))


def test_make_call_request_with_twiml_is_valid_against_the_spec(
    messaging: TwilioMessaging, prism: Prism
) -> None:
    mark = prism.log_mark()

    outcome = messaging.make_call(
        to=RECIPIENT, from_=SENDER, twiml=TWIML, status_callback=CALLBACK, idempotency_key="c/0"
    )

    assert accepted(prism, mark, outcome, PlacedCall).sid.startswith("CA")


def test_fetch_message_request_is_valid_against_the_spec(
    messaging: TwilioMessaging, prism: Prism
) -> None:
    mark = prism.log_mark()

    outcome = messaging.fetch_message("SM" + "0123456789abcdef" * 2)

    accepted(prism, mark, outcome, SentMessage)


def assert_lookup_accepted(prism: Prism, mark: int, collection: str) -> None:
    """Prism took the list request. Its own answer it cannot give: the spec's list example has
    relative page URIs where the schema says ``format: uri``, so with ``--errors`` Prism answers
    500 about its *response*; only violations of the *request* count here."""
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/{collection}.json"
    assert prism.received_since(mark, "GET", path), prism.log_tail()
    assert prism.request_violations_since(mark) == []


@pytest.mark.parametrize("from_", [SENDER, None], ids=["from", "any-sender"])
def test_find_message_request_is_valid_against_the_spec(
    messaging: TwilioMessaging, prism: Prism, from_: str | None
) -> None:
    mark = prism.log_mark()

    with contextlib.suppress(TwilioLookupFailed):  # Prism's answer breaks the spec (see above)
        messaging.find_message(
            to=RECIPIENT,
            body="x",
            from_=from_,
            messaging_service_sid=None,
            created_after=datetime.now(UTC),
        )

    assert_lookup_accepted(prism, mark, "Messages")


def test_find_call_request_is_valid_against_the_spec(
    messaging: TwilioMessaging, prism: Prism
) -> None:
    mark = prism.log_mark()

    with contextlib.suppress(TwilioLookupFailed):
        messaging.find_call(to=RECIPIENT, from_=SENDER, created_after=datetime.now(UTC))

    assert_lookup_accepted(prism, mark, "Calls")


def test_contract_rejects_a_request_the_spec_forbids(
    messaging: TwilioMessaging, prism: Prism
) -> None:
    """The harness can fail: a Messaging Service SID the spec's pattern refuses gets a 422."""
    mark = prism.log_mark()

    outcome = messaging.send_sms(to=RECIPIENT, messaging_service_sid="MG-not-a-sid", body="x")

    assert isinstance(outcome, FinalFailure)
    assert outcome.http_status == 422
    violations = "\n".join(prism.violations_since(mark))
    assert "MessagingServiceSid" in violations


def test_contract_rejects_a_request_without_credentials(prism: Prism) -> None:
    with TwilioMessaging(
        ACCOUNT_SID, "", api_base_url=prism.base_url, retry_policy=RetryPolicy(max_attempts=1)
    ) as anonymous:
        outcome = anonymous.send_sms(to=RECIPIENT, from_=SENDER, body="x")

    assert isinstance(outcome, FinalFailure)
    assert outcome.http_status == 401
