"""The Twilio adapter through the real ``twilio`` client against a Twilio-like API on 127.0.0.1.

The test server is ``tests.support.twilio_server``; sleeping is recorded, never done, and the
jitter draw is fixed, so waits are checked as values and nothing here depends on timing except
the one read timeout a slow answer has to exceed.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sms_automation.adapters.twilio_messaging import (
    IDEMPOTENCY_HEADER,
    TwilioLookupFailed,
    TwilioMessaging,
)
from sms_automation.outbound import (
    FinalFailure,
    OutboundRequestInvalid,
    OutcomeUnknown,
    PlacedCall,
    RetryableFailure,
    RetryPolicy,
    SentMessage,
)
from tests.support.twilio_server import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DropConnectionFault,
    ErrorAnswerFault,
    SlowAnswerFault,
    TwilioTestServer,
    rate_limited,
    server_error,
    twilio_error,
)

pytestmark = pytest.mark.integration

SENDER = "+15557654321"
RECIPIENT = "+15551230001"
SERVICE_SID = "MG" + "1" * 32
CALLBACK = "https://hooks.example.com/twilio/acme/status"
TWIML = "<Response><Say>Your appointment is at 3 pm.</Say></Response>"
READ_TIMEOUT = 0.25  # a slow answer waits far longer; nothing else comes near it
SLOW_ANSWER_SECONDS = 30.0  # released at once when the server stops


CREATED_AT = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
"""The test server's clock: every resource is created at this moment."""


@pytest.fixture
def twilio() -> Iterator[TwilioTestServer]:
    with TwilioTestServer(clock=lambda: CREATED_AT) as server:
        yield server


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def messaging(twilio: TwilioTestServer, sleeps: Sleeps) -> Iterator[TwilioMessaging]:
    with adapter(twilio.base_url, sleeps) as instance:
        yield instance


def adapter(
    base_url: str,
    sleep: Sleeps,
    auth_token: str = DEFAULT_AUTH_TOKEN,
    *,
    token_honoured: bool = True,  # the test server honours I-Twilio-Idempotency-Token
) -> TwilioMessaging:
    return TwilioMessaging(
        DEFAULT_ACCOUNT_SID,
        auth_token,
        api_base_url=base_url,
        read_timeout_seconds=READ_TIMEOUT,
        retry_policy=RetryPolicy(max_attempts=3, max_elapsed_seconds=8.0),
        sleep=sleep,
        random=lambda: 0.0,
        idempotency_token_honoured=token_honoured,
    )


def send(messaging: TwilioMessaging, **overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "to": RECIPIENT,
        "from_": SENDER,
        "body": "Hello from the tests",
        "idempotency_key": "SMinbound/auto-reply/0",
    }
    fields.update(overrides)
    return messaging.send_sms(**fields)


# --- success ----------------------------------------------------------------------------------


def test_send_sms_creates_one_message_and_returns_its_sid(
    messaging: TwilioMessaging, twilio: TwilioTestServer
) -> None:
    outcome = send(messaging, status_callback=CALLBACK)

    assert isinstance(outcome, SentMessage)
    (message,) = twilio.messages()
    assert (outcome.sid, outcome.status) == (message["sid"], "queued")
    assert outcome.sid.startswith("SM")
    assert (message["to"], message["from"], message["body"]) == (
        RECIPIENT,
        SENDER,
        "Hello from the tests",
    )


def test_send_sms_sends_form_params_auth_and_idempotency_token(
    messaging: TwilioMessaging, twilio: TwilioTestServer
) -> None:
    send(
        messaging,
        media_urls=["https://x.test/a.png", "https://x.test/b.png"],
        status_callback=CALLBACK,
    )

    (request,) = twilio.requests()
    assert (request.method, request.path) == (
        "POST",
        f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json",
    )
    assert request.form == {
        "To": [RECIPIENT],
        "From": [SENDER],
        "Body": ["Hello from the tests"],
        "MediaUrl": ["https://x.test/a.png", "https://x.test/b.png"],
        "StatusCallback": [CALLBACK],
    }
    assert request.headers[IDEMPOTENCY_HEADER.lower()] == "SMinbound/auto-reply/0"
    assert request.headers["authorization"].startswith("Basic ")


def test_send_sms_through_a_messaging_service(
    messaging: TwilioMessaging, twilio: TwilioTestServer
) -> None:
    outcome = send(messaging, from_=None, messaging_service_sid=SERVICE_SID)

    assert isinstance(outcome, SentMessage)
    assert outcome.status == "accepted"
    (request,) = twilio.requests()
    assert request.param("MessagingServiceSid") == SERVICE_SID
    assert "From" not in request.form


def test_make_call_places_one_call_with_the_twiml(
    messaging: TwilioMessaging, twilio: TwilioTestServer
) -> None:
    outcome = messaging.make_call(
        to=RECIPIENT, from_=SENDER, twiml=TWIML, status_callback=CALLBACK, idempotency_key="c-1"
    )

    assert isinstance(outcome, PlacedCall)
    (call,) = twilio.calls()
    assert (outcome.sid, outcome.status) == (call["sid"], "queued")
    assert call["twiml"] == TWIML
    assert twilio.requests()[0].idempotency_token == "c-1"


def test_fetch_message_returns_the_current_status(
    messaging: TwilioMessaging, twilio: TwilioTestServer
) -> None:
    sent = send(messaging)

    fetched = messaging.fetch_message(sent.sid)

    assert fetched == sent
    assert twilio.requests()[-1].method == "GET"


def test_api_base_url_wins_over_twilio_edge_and_region_environment(
    messaging: TwilioMessaging, twilio: TwilioTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")

    assert isinstance(send(messaging), SentMessage)
    assert len(twilio.messages()) == 1


# --- retries ----------------------------------------------------------------------------------


def test_send_sms_retries_a_500_and_creates_exactly_one_message(
    messaging: TwilioMessaging, twilio: TwilioTestServer, sleeps: Sleeps
) -> None:
    twilio.fail_next(server_error())

    outcome = send(messaging)

    assert isinstance(outcome, SentMessage)
    assert len(twilio.messages()) == 1
    assert [request.idempotency_token for request in twilio.requests()] == [
        "SMinbound/auto-reply/0"
    ] * 2
    assert sleeps == [0.25]


def test_send_sms_waits_for_retry_after_on_429(
    messaging: TwilioMessaging, twilio: TwilioTestServer, sleeps: Sleeps
) -> None:
    twilio.fail_next(rate_limited(retry_after="2"))

    outcome = send(messaging, idempotency_key=None)  # a 429 is safe to retry even without one

    assert isinstance(outcome, SentMessage)
    assert sleeps == [2.0]
    assert len(twilio.messages()) == 1


def test_send_sms_gives_up_after_max_attempts_of_5xx(
    messaging: TwilioMessaging, twilio: TwilioTestServer
) -> None:
    twilio.fail_next(server_error(503, 20503), server_error(), server_error(502, 20500))

    outcome = send(messaging)

    assert isinstance(outcome, RetryableFailure)
    assert (outcome.attempts, outcome.http_status) == (3, 502)
    assert len(twilio.requests()) == 3
    assert twilio.messages() == []


def test_send_sms_read_timeout_is_retried_with_the_same_token_and_makes_one_message(
    messaging: TwilioMessaging, twilio: TwilioTestServer
) -> None:
    twilio.fail_next(SlowAnswerFault(SLOW_ANSWER_SECONDS))  # the first request creates, then hangs

    outcome = send(messaging)

    assert isinstance(outcome, SentMessage)
    (message,) = twilio.messages()
    assert outcome.sid == message["sid"]
    tokens = [request.idempotency_token for request in twilio.requests()]
    assert tokens == ["SMinbound/auto-reply/0", "SMinbound/auto-reply/0"]


def test_send_sms_dropped_connection_is_retried_with_the_same_token_and_makes_one_message(
    messaging: TwilioMessaging, twilio: TwilioTestServer
) -> None:
    twilio.fail_next(DropConnectionFault(after_processing=True))

    outcome = send(messaging)

    assert isinstance(outcome, SentMessage)
    assert len(twilio.messages()) == 1
    assert len(twilio.requests()) == 2


def test_send_sms_read_timeout_without_token_is_unknown_and_not_resent(
    messaging: TwilioMessaging, twilio: TwilioTestServer
) -> None:
    twilio.fail_next(SlowAnswerFault(SLOW_ANSWER_SECONDS))

    outcome = send(messaging, idempotency_key=None)

    assert isinstance(outcome, OutcomeUnknown)
    assert len(twilio.requests()) == 1
    assert len(twilio.messages()) == 1  # it was created: resending would have texted twice


@pytest.mark.parametrize(
    "fault", [SlowAnswerFault(SLOW_ANSWER_SECONDS), server_error()], ids=["read-timeout", "500"]
)
def test_send_sms_maybe_done_is_unknown_unless_the_token_is_known_to_be_honoured(
    twilio: TwilioTestServer, sleeps: Sleeps, fault: SlowAnswerFault | ErrorAnswerFault
) -> None:
    twilio.fail_next(fault)
    with adapter(twilio.base_url, sleeps, token_honoured=False) as messaging:  # the default
        outcome = send(messaging)

    assert isinstance(outcome, OutcomeUnknown)
    (request,) = twilio.requests()
    assert request.idempotency_token == "SMinbound/auto-reply/0"  # sent all the same


def test_send_sms_not_sent_is_retried_even_when_the_token_is_not_relied_on(
    twilio: TwilioTestServer, sleeps: Sleeps
) -> None:
    twilio.fail_next(rate_limited(retry_after="1"))
    with adapter(twilio.base_url, sleeps, token_honoured=False) as messaging:
        outcome = send(messaging)

    assert isinstance(outcome, SentMessage)
    assert sleeps == [1.0]


def test_send_sms_connection_refused_is_a_retryable_failure(sleeps: Sleeps) -> None:
    with socket.socket() as placeholder:  # a port that was free a moment ago and now is not served
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    with adapter(f"http://127.0.0.1:{port}", sleeps) as messaging:
        outcome = send(messaging, idempotency_key=None)

    assert isinstance(outcome, RetryableFailure)
    assert outcome.attempts == 3
    assert "not sent" in outcome.detail
    assert sleeps == [0.25, 0.5]


# --- final failures ---------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "explanation"), [(21610, "opted out"), (21211, "not a valid")])
def test_send_sms_recipient_refusals_are_final_and_not_retried(
    messaging: TwilioMessaging, twilio: TwilioTestServer, code: int, explanation: str
) -> None:
    twilio.refuse_recipient(RECIPIENT, code)

    outcome = send(messaging)

    assert isinstance(outcome, FinalFailure)
    assert (outcome.http_status, outcome.code) == (400, code)
    assert outcome.more_info == f"https://www.twilio.com/docs/errors/{code}"
    assert explanation in outcome.explanation
    assert len(twilio.requests()) == 1


def test_send_sms_programmed_twilio_error_is_final(
    messaging: TwilioMessaging, twilio: TwilioTestServer
) -> None:
    twilio.fail_next(twilio_error(21614))

    outcome = send(messaging)

    assert isinstance(outcome, FinalFailure)
    assert outcome.code == 21614
    assert len(twilio.requests()) == 1


def test_send_sms_wrong_auth_token_is_final(twilio: TwilioTestServer, sleeps: Sleeps) -> None:
    with adapter(twilio.base_url, sleeps, auth_token="0" * 32) as messaging:
        outcome = send(messaging)

    assert isinstance(outcome, FinalFailure)
    assert (outcome.http_status, outcome.code) == (401, 20003)
    assert len(twilio.requests()) == 1
    assert sleeps == []


def test_send_sms_over_the_body_limit_is_refused_before_calling_twilio(
    messaging: TwilioMessaging, twilio: TwilioTestServer
) -> None:
    with pytest.raises(OutboundRequestInvalid, match="1601 characters"):
        send(messaging, body="x" * 1601)

    assert twilio.requests() == []


def test_make_call_over_the_twiml_limit_is_refused_before_calling_twilio(
    messaging: TwilioMessaging, twilio: TwilioTestServer
) -> None:
    twiml = "<Response><Say>" + "x" * 4000 + "</Say></Response>"
    with pytest.raises(OutboundRequestInvalid, match="TwiML"):
        messaging.make_call(to=RECIPIENT, from_=SENDER, twiml=twiml)

    assert twilio.requests() == []


# --- settling an unknown outcome by looking it up --------------------------------------------

A_MINUTE_AGO = CREATED_AT - timedelta(minutes=1)


def test_find_message_finds_the_message_an_unknown_outcome_created(
    messaging: TwilioMessaging, twilio: TwilioTestServer
) -> None:
    send(messaging, to="+15551239999", body="someone else's")
    twilio.fail_next(SlowAnswerFault(SLOW_ANSWER_SECONDS))
    unknown = send(messaging, idempotency_key=None)
    assert isinstance(unknown, OutcomeUnknown)

    found = messaging.find_message(
        to=RECIPIENT,
        body="Hello from the tests",
        from_=SENDER,
        messaging_service_sid=None,
        created_after=A_MINUTE_AGO,
    )

    (message,) = [m for m in twilio.messages() if m["to"] == RECIPIENT]
    assert found is not None
    assert found.sid == message["sid"]
    lookup = twilio.requests()[-1]
    assert (lookup.method, lookup.query["To"], lookup.query["From"]) == (
        "GET",
        [RECIPIENT],
        [SENDER],
    )


@pytest.mark.parametrize(
    "mismatch",
    [
        {"body": "another text"},
        {"created_after": CREATED_AT + timedelta(seconds=1)},
        {"messaging_service_sid": SERVICE_SID},
        {"to": "+15551239999"},
    ],
    ids=["body", "too-old", "service", "recipient"],
)
def test_find_message_returns_none_when_nothing_matches(
    messaging: TwilioMessaging, mismatch: dict[str, Any]
) -> None:
    send(messaging)
    query: dict[str, Any] = {
        "to": RECIPIENT,
        "body": "Hello from the tests",
        "from_": SENDER,
        "messaging_service_sid": None,
        "created_after": A_MINUTE_AGO,
    }
    query.update(mismatch)

    assert messaging.find_message(**query) is None


def test_find_message_through_a_messaging_service(messaging: TwilioMessaging) -> None:
    sent = send(messaging, from_=None, messaging_service_sid=SERVICE_SID)

    found = messaging.find_message(
        to=RECIPIENT,
        body="Hello from the tests",
        from_=None,
        messaging_service_sid=SERVICE_SID,
        created_after=A_MINUTE_AGO,
    )

    assert found == sent


def test_find_call_finds_the_call(messaging: TwilioMessaging) -> None:
    placed = messaging.make_call(to=RECIPIENT, from_=SENDER, twiml=TWIML)

    found = messaging.find_call(to=RECIPIENT, from_=SENDER, created_after=A_MINUTE_AGO)

    assert found == placed


def test_find_message_raises_when_twilio_cannot_be_asked(
    messaging: TwilioMessaging, twilio: TwilioTestServer
) -> None:
    twilio.fail_next(server_error(), server_error(), server_error())

    with pytest.raises(TwilioLookupFailed, match="gave up after 3 attempts"):
        messaging.find_message(
            to=RECIPIENT,
            body="x",
            from_=SENDER,
            messaging_service_sid=None,
            created_after=A_MINUTE_AGO,
        )


# --- what reaches logs and reprs --------------------------------------------------------------


def test_logs_and_reprs_hold_no_token_and_no_full_number(
    twilio: TwilioTestServer, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    twilio.fail_next(server_error())
    twilio.refuse_recipient(RECIPIENT, 21610)
    caplog.set_level(logging.DEBUG)
    with adapter(twilio.base_url, sleeps) as messaging:
        outcome = send(messaging)
        text = caplog.text + repr(messaging) + repr(outcome)

    assert "twilio message to +1********01" in caplog.text
    assert DEFAULT_AUTH_TOKEN not in text
    assert RECIPIENT not in text
