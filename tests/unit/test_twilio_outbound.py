"""The outbound domain: limits, error classification, the retry rule, backoff and Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from sms_automation.outbound import (
    MAX_BODY_CHARS,
    MAX_MEDIA_URLS,
    MAX_TWIML_CHARS,
    AttemptFailed,
    AttemptFailure,
    CallRequest,
    ErrorAnswer,
    ErrorClass,
    FinalFailure,
    NoAnswer,
    NotSent,
    OutboundRequestInvalid,
    OutcomeUnknown,
    RetryableFailure,
    RetryPolicy,
    SmsRequest,
    Verdict,
    backoff_delay,
    check_call,
    check_idempotency_key,
    check_sms,
    classify_error_answer,
    mask_phone_numbers,
    parse_error_answer,
    parse_retry_after,
    retry_delay,
    run_with_retries,
    verdict,
)

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
SENDER = "+15557654321"
RECIPIENT = "+15551230001"


def sms(**overrides: object) -> SmsRequest:
    fields: dict[str, object] = {"to": RECIPIENT, "from_": SENDER, "body": "hello"}
    fields.update(overrides)
    return SmsRequest(**fields)  # type: ignore[arg-type]


# --- limits -----------------------------------------------------------------------------------


def test_check_sms_accepts_body_at_the_limit() -> None:
    request = sms(body="x" * MAX_BODY_CHARS)
    assert check_sms(request) is request


def test_check_sms_refuses_body_over_the_limit_with_its_length() -> None:
    with pytest.raises(
        OutboundRequestInvalid, match=r"1601 characters; Twilio accepts at most 1600"
    ):
        check_sms(sms(body="x" * (MAX_BODY_CHARS + 1)))


def test_check_sms_counts_characters_not_bytes() -> None:
    assert check_sms(sms(body="é" * MAX_BODY_CHARS))


def test_check_sms_accepts_ten_media_urls() -> None:
    assert check_sms(sms(media_urls=tuple(f"https://x.test/{i}.png" for i in range(10))))


def test_check_sms_refuses_eleven_media_urls() -> None:
    urls = tuple(f"https://x.test/{i}.png" for i in range(MAX_MEDIA_URLS + 1))
    with pytest.raises(OutboundRequestInvalid, match=r"11 media URLs; Twilio accepts at most 10"):
        check_sms(sms(media_urls=urls))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"to": ""}, "no 'To'"),
        ({"from_": None}, "'From' number or a Messaging Service SID"),
        ({"body": ""}, "neither a body nor media"),
        ({"media_urls": ("",)}, "media URL is empty"),
    ],
)
def test_check_sms_refuses_incomplete_messages(overrides: dict[str, object], reason: str) -> None:
    with pytest.raises(OutboundRequestInvalid, match=reason):
        check_sms(sms(**overrides))


def test_check_sms_accepts_messaging_service_without_from() -> None:
    assert check_sms(sms(from_=None, messaging_service_sid="MG" + "0" * 32))


def test_check_sms_accepts_media_without_body() -> None:
    assert check_sms(sms(body="", media_urls=("https://x.test/a.png",)))


def test_check_call_accepts_twiml_at_the_limit() -> None:
    assert check_call(CallRequest(to=RECIPIENT, from_=SENDER, twiml="x" * MAX_TWIML_CHARS))


def test_check_call_refuses_twiml_over_the_limit() -> None:
    request = CallRequest(to=RECIPIENT, from_=SENDER, twiml="x" * (MAX_TWIML_CHARS + 1))
    with pytest.raises(
        OutboundRequestInvalid, match=r"4001 characters; Twilio accepts at most 4000"
    ):
        check_call(request)


def test_check_call_refuses_missing_twiml() -> None:
    with pytest.raises(OutboundRequestInvalid, match="no TwiML"):
        check_call(CallRequest(to=RECIPIENT, from_=SENDER, twiml=""))


def test_twiml_limit_agrees_with_the_trigger_twiml_builder() -> None:
    from sms_automation.triggers.twiml import MAX_TWIML_CHARS as BUILDER_LIMIT

    assert MAX_TWIML_CHARS == BUILDER_LIMIT


@pytest.mark.parametrize("key", ["SM0123/trigger-1/step-2", "a", "k" * 255])
def test_check_idempotency_key_accepts_visible_ascii(key: str) -> None:
    assert check_idempotency_key(key) == key


@pytest.mark.parametrize("key", ["", "has space", "line\nbreak", "é", "k" * 256])
def test_check_idempotency_key_refuses_what_cannot_be_a_header_value(key: str) -> None:
    with pytest.raises(OutboundRequestInvalid, match="idempotency key"):
        check_idempotency_key(key)


def test_request_reprs_mask_numbers_and_hide_bodies() -> None:
    text = repr(sms(body="my secret appointment")) + repr(
        CallRequest(to=RECIPIENT, from_=SENDER, twiml="<Response/>")
    )
    assert RECIPIENT not in text
    assert SENDER not in text
    assert "secret" not in text


# --- classification and the retry rule --------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, 21610),  # opted out
        (400, 21211),  # invalid To
        (400, 21614),  # not a mobile number
        (400, 21408),  # region not enabled
        (401, 20003),  # authentication
        (400, 21606),  # From not valid for the account
        (400, 21659),  # From not owned
        (404, 20404),
        (400, None),  # unknown 4xx
        (403, 99999),
        (301, None),
    ],
)
def test_classify_error_answer_final(status: int, code: int | None) -> None:
    assert classify_error_answer(status, code) is ErrorClass.FINAL


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (429, None), (400, 20429)])
def test_classify_error_answer_rate_limited(status: int, code: int | None) -> None:
    assert classify_error_answer(status, code) is ErrorClass.RATE_LIMITED


@pytest.mark.parametrize(("status", "code"), [(500, 20500), (502, None), (503, 20503), (504, None)])
def test_classify_error_answer_server_error(status: int, code: int | None) -> None:
    assert classify_error_answer(status, code) is ErrorClass.SERVER_ERROR


SERVER_ERROR = ErrorAnswer(500, 20500, "Internal Server Error")
RATE_LIMITED = ErrorAnswer(429, 20429, "Too Many Requests", retry_after_seconds=2.0)
OPTED_OUT = ErrorAnswer(400, 21610, "Attempt to send to unsubscribed recipient")


@pytest.mark.parametrize(
    ("failure", "idempotent", "expected"),
    [
        (NotSent("refused"), False, Verdict.RETRY),
        (NotSent("refused"), True, Verdict.RETRY),
        (RATE_LIMITED, False, Verdict.RETRY),
        (SERVER_ERROR, True, Verdict.RETRY),
        (NoAnswer("read timeout"), True, Verdict.RETRY),
        (SERVER_ERROR, False, Verdict.UNKNOWN),
        (NoAnswer("read timeout"), False, Verdict.UNKNOWN),
        (OPTED_OUT, True, Verdict.FINAL),
        (OPTED_OUT, False, Verdict.FINAL),
    ],
)
def test_verdict_retries_only_what_cannot_happen_twice(
    failure: AttemptFailure, idempotent: bool, expected: Verdict
) -> None:
    assert verdict(failure, idempotent=idempotent) is expected


# --- backoff and Retry-After ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failed_attempts", "low", "high"),
    [(1, 0.25, 0.5), (2, 0.5, 1.0), (3, 1.0, 2.0), (4, 2.0, 4.0), (5, 2.0, 4.0), (9, 2.0, 4.0)],
)
@pytest.mark.parametrize("draw", [0.0, 0.5, 0.999999])
def test_backoff_delay_stays_within_equal_jitter_bounds(
    failed_attempts: int, low: float, high: float, draw: float
) -> None:
    delay = backoff_delay(RetryPolicy(), failed_attempts, lambda: draw)
    assert low <= delay < high


def test_backoff_delay_uses_the_random_draw() -> None:
    low = backoff_delay(RetryPolicy(), 2, lambda: 0.0)
    high = backoff_delay(RetryPolicy(), 2, lambda: 0.9)
    assert low == 0.5
    assert high == pytest.approx(0.95)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2", 2.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        ("Sun, 01 Mar 2026 12:00:05 -0000", 5.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),  # in the past
    ],
)
def test_parse_retry_after_reads_seconds_and_http_dates(value: str, seconds: float) -> None:
    assert parse_retry_after(value, NOW) == seconds


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5", "Mon, 99 Foo 2026"])
def test_parse_retry_after_ignores_what_it_cannot_read(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None


def test_retry_delay_honours_a_longer_retry_after() -> None:
    assert retry_delay(RetryPolicy(), 1, RATE_LIMITED, lambda: 0.5) == 2.0


def test_retry_delay_keeps_the_backoff_when_retry_after_is_shorter() -> None:
    failure = ErrorAnswer(429, 20429, "slow down", retry_after_seconds=0.0)
    assert retry_delay(RetryPolicy(), 2, failure, lambda: 0.0) == 0.5


# --- error answers ----------------------------------------------------------------------------


def test_parse_error_answer_reads_twilio_error_json() -> None:
    body = (
        '{"code": 21211, "message": "Invalid \'To\' Phone Number", '
        '"more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}'
    )
    answer = parse_error_answer(400, body, None, NOW)
    assert answer == ErrorAnswer(
        400, 21211, "Invalid 'To' Phone Number", "https://www.twilio.com/docs/errors/21211"
    )


def test_parse_error_answer_reads_retry_after() -> None:
    answer = parse_error_answer(429, '{"code": 20429, "message": "Too Many Requests"}', "3", NOW)
    assert (answer.code, answer.retry_after_seconds) == (20429, 3.0)
    assert answer.more_info == "https://www.twilio.com/docs/errors/20429"


@pytest.mark.parametrize("body", ["<html>Bad Gateway</html>", "", "[1, 2]", '{"code": "x"}'])
def test_parse_error_answer_tolerates_bodies_that_are_not_twilio_errors(body: str) -> None:
    answer = parse_error_answer(502, body, None, NOW)
    assert (answer.http_status, answer.code, answer.more_info) == (502, None, None)
    assert answer.message == "HTTP 502 without a Twilio error body"


def test_mask_phone_numbers_masks_numbers_quoted_in_messages() -> None:
    text = mask_phone_numbers("The 'To' number +15551230001 is not a valid phone number.")
    assert text == "The 'To' number +1********01 is not a valid phone number."


# --- the loop ---------------------------------------------------------------------------------


class Script:
    """An attempt that fails as scripted, then succeeds; a clock that sleeping advances."""

    def __init__(self, *failures: AttemptFailure, request_seconds: float = 0.0) -> None:
        self.failures = list(failures)
        self.calls = 0
        self.now = 0.0
        self.request_seconds = request_seconds
        self.slept: list[float] = []

    def attempt(self) -> str:
        self.calls += 1
        self.now += self.request_seconds
        if self.failures:
            raise AttemptFailed(self.failures.pop(0))
        return "SM-created"

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def run(
        self, *, idempotent: bool = True, policy: RetryPolicy | None = None
    ) -> str | FinalFailure | RetryableFailure | OutcomeUnknown:
        return run_with_retries(
            self.attempt,
            policy=policy or RetryPolicy(),
            idempotent=idempotent,
            sleep=self.sleep,
            clock=lambda: self.now,
            random=lambda: 0.0,  # the lowest jitter: exact sums
        )


def test_run_with_retries_returns_first_success_without_sleeping() -> None:
    script = Script()
    assert script.run() == "SM-created"
    assert (script.calls, script.slept) == (1, [])


def test_run_with_retries_retries_server_error_then_succeeds() -> None:
    script = Script(SERVER_ERROR)
    assert script.run() == "SM-created"
    assert (script.calls, script.slept) == (2, [0.25])


def test_run_with_retries_sleeps_for_retry_after() -> None:
    script = Script(RATE_LIMITED)
    assert script.run(idempotent=False) == "SM-created"
    assert script.slept == [2.0]


def test_run_with_retries_never_retries_a_final_error() -> None:
    script = Script(
        ErrorAnswer(400, 21610, "Attempt to send to unsubscribed recipient +15551230001")
    )
    outcome = script.run()
    assert outcome == FinalFailure(
        400, 21610, "Attempt to send to unsubscribed recipient +1********01", None
    )
    assert isinstance(outcome, FinalFailure)
    assert "opted out" in outcome.explanation
    assert (script.calls, script.slept) == (1, [])


def test_run_with_retries_reports_unknown_instead_of_resending_without_a_token() -> None:
    script = Script(NoAnswer("read timeout"))
    outcome = script.run(idempotent=False)
    assert isinstance(outcome, OutcomeUnknown)
    assert outcome.attempts == 1
    assert script.calls == 1


def test_run_with_retries_stops_after_max_attempts() -> None:
    script = Script(NotSent("refused"), NotSent("refused"), NotSent("refused"), NotSent("x"))
    outcome = script.run(policy=RetryPolicy(max_attempts=3))
    assert isinstance(outcome, RetryableFailure)
    assert outcome.attempts == 3
    assert "refused" in outcome.detail
    assert (script.calls, script.slept) == (3, [0.25, 0.5])


def test_run_with_retries_does_not_wait_past_the_time_budget() -> None:
    script = Script(ErrorAnswer(429, 20429, "Too Many Requests", retry_after_seconds=30.0))
    outcome = script.run(policy=RetryPolicy(max_elapsed_seconds=8.0))
    assert outcome == RetryableFailure(
        "gave up after 1 attempt: HTTP 429, Twilio error 20429: Too Many Requests",
        1,
        429,
        20429,
        30.0,
    )
    assert (script.calls, script.slept) == (1, [])


def test_run_with_retries_counts_request_time_against_the_budget() -> None:
    script = Script(SERVER_ERROR, SERVER_ERROR, request_seconds=4.0)
    outcome = script.run(policy=RetryPolicy(max_attempts=5, max_elapsed_seconds=8.0))
    assert isinstance(outcome, RetryableFailure)
    assert script.calls == 2  # 4 s + 0.25 s + 4 s, and the next wait would end past 8 s


def test_run_with_retries_reports_each_retry() -> None:
    script = Script(SERVER_ERROR)
    seen: list[tuple[AttemptFailure, int, float]] = []
    run_with_retries(
        script.attempt,
        policy=RetryPolicy(),
        idempotent=True,
        sleep=script.sleep,
        clock=lambda: script.now,
        random=lambda: 0.0,
        on_retry=lambda failure, attempts, delay: seen.append((failure, attempts, delay)),
    )
    assert seen == [(SERVER_ERROR, 1, 0.25)]


@pytest.mark.parametrize(
    "policy",
    [
        {"max_attempts": 0},
        {"max_elapsed_seconds": -1.0},
        {"base_delay_seconds": 2.0, "max_delay_seconds": 1.0},
    ],
)
def test_retry_policy_refuses_nonsense(policy: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"must|cannot"):
        RetryPolicy(**policy)  # type: ignore[arg-type]
