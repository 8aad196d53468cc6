"""Outbound SMS and calls: the requests, Twilio's limits, the outcomes and the retry rule.

Pure: the standard library and ``sms_automation.pii`` only; time, sleep and randomness come in
as arguments. The Twilio adapter (``adapters.twilio_messaging``) turns HTTP into the
``AttemptFailure`` values below and runs ``run_with_retries``.

The retry rule: who may send a create twice
-------------------------------------------
Creating a message or a call is retried only when a repeat cannot make a second one:

1. **Not sent** (connection refused, connect timeout, name resolution): nothing reached
   Twilio. Always retried.
2. **Rate limited** (HTTP 429, Twilio error 20429): Twilio refused before doing anything.
   Always retried, after ``Retry-After`` when the answer carries one.
3. **Maybe done**: a 5xx answer, a read timeout or a connection dropped after the request was
   written, an unreadable 2xx answer. Twilio may have created the message. Retried only when
   the request carries an idempotency token *and the API is known to honour it* (a repeat is
   answered with the resource the first one made). Otherwise the outcome is ``OutcomeUnknown``
   at once: never resent, because a resend may text or call someone twice; the caller settles
   it by looking the message up (``TwilioMessaging.find_messages`` / ``find_calls``;
   which one is the step's: ``processing.port``).
4. **Final** (any other 4xx: opted out, invalid number, authentication, ...): never retried.

Whether a token is honoured is the adapter's setting (``TwilioMessaging(...,
idempotency_token_honoured=...)``), off by default: the token is sent as
``I-Twilio-Idempotency-Token`` on every create, but Twilio's published OpenAPI spec for API
2010-04-01 declares no idempotency mechanism for Messages or Calls (only an ``IdempotencyKey``
field on Payments and user-defined messages), so against api.twilio.com rule 3 is not relied on.
The test server and the local sandbox honour the header, and there the setting is on.

Reads (``fetch``, lists) change nothing and count as idempotent. Retries are bounded by
``RetryPolicy.max_attempts`` and by ``RetryPolicy.max_elapsed_seconds``: no attempt starts after
the budget, and a wait (backoff or ``Retry-After``) that would end past it is not taken. What is
left then is a ``RetryableFailure``. With the token not relied on, it means the message was
certainly not created (every attempt was not sent or rate limited); with it relied on, the
caller must retry with the *same* idempotency key, so that a maybe-done attempt is answered
with the resource it made.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Final

from sms_automation.pii import mask_phone

MAX_BODY_CHARS: Final = 1_600
"""Twilio's limit for a message body (error 21617 beyond it), counted in characters."""
MAX_MEDIA_URLS: Final = 10
"""Twilio's limit of ``MediaUrl`` parameters per message (error 21623 beyond it)."""
MAX_TWIML_CHARS: Final = 4_000
"""Twilio's limit for inline ``Twiml`` on a call; the same as ``triggers.twiml.MAX_TWIML_CHARS``
(not imported: that package pulls in pydantic)."""

TWILIO_ERROR_DOCS: Final = "https://www.twilio.com/docs/errors/{code}"
IDEMPOTENCY_KEY_PATTERN: Final = re.compile(r"^[\x21-\x7e]{1,255}$")
"""Visible ASCII, at most 255 characters: the key travels verbatim as an HTTP header value."""

RATE_LIMITED_CODE: Final = 20429
SENDER_OVERLOADED_CODES: Final = frozenset({RATE_LIMITED_CODE, 21611, 63017})
"""Twilio's "slow down" answers to a create: 20429 too many requests (HTTP 429), 21611 the
'From' number's queue holds more than Twilio queues (a 400: nothing was created), 63017 the
account's combined rate exceeded. The send was certainly not made; its sender is slowed
(``processing.pacing``) and the send retried later. 30001 (queue overflow) is a delivery
error of a message already created, reported by its status callback, which slows the sender
too (``webhooks.receive_status.overflowed_sender``)."""
FINAL_ERROR_CODES: Final[Mapping[int, str]] = {
    20003: "authentication failed: wrong Account SID or auth token",
    20404: "the resource was not found",
    21211: "the 'To' number is not a valid phone number",
    21408: "the account has no permission to send to this region (geo permissions)",
    21606: "the 'From' number is not a valid, message-capable number for this account",
    21610: "the recipient has opted out (replied STOP); Twilio will not send to them",
    21612: "Twilio cannot route a message between these 'To' and 'From' numbers",
    21614: "the 'To' number is not a mobile number",
    21617: "the message body is longer than 1,600 characters",
    21623: "the message has more media URLs than Twilio allows",
    21659: "the 'From' number is not a Twilio number of this account",
    21210: "the caller id ('From') is not verified for this account",
    21215: "the account has no permission to call this region (geo permissions)",
    21216: "the call was blocked: the 'To' number is on a blocklist",
}
"""Known errors that a repeat of the same request cannot fix, with a plain explanation.

Every 4xx other than 429 is final whether or not it is listed here; the list gives the common
ones a sentence. Delivery failures (30003 unreachable, 30005 unknown, 30006 landline, 30007
filtered, 30008 unknown error) are not API errors: they arrive later, in the message's
``error_code`` (status callbacks, ``fetch_message``)."""

_PHONE_NUMBER_IN_TEXT: Final = re.compile(r"\+?\d[\d\s().-]{5,}\d")


class OutboundRequestInvalid(ValueError):
    """A message or call Twilio would refuse, refused before calling Twilio."""


def mask_phone_numbers(text: str) -> str:
    """Masks every phone-number-like run in free text (Twilio's error messages quote numbers)."""
    return _PHONE_NUMBER_IN_TEXT.sub(
        lambda match: mask_phone(re.sub(r"[\s().-]", "", match.group())), text
    )


# --- requests ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsRequest:
    to: str
    body: str = ""
    from_: str | None = None
    messaging_service_sid: str | None = None
    media_urls: tuple[str, ...] = ()
    status_callback: str | None = None

    def __repr__(self) -> str:  # numbers and bodies are personal data: keep them out of logs
        return (
            f"SmsRequest(to={mask_phone(self.to)!r}, from_={mask_phone(self.from_)!r}, "
            f"messaging_service_sid={self.messaging_service_sid!r}, body=<{len(self.body)} chars>, "
            f"media_urls=<{len(self.media_urls)}>)"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRequest:
    to: str
    from_: str
    twiml: str
    status_callback: str | None = None

    def __repr__(self) -> str:
        return (
            f"CallRequest(to={mask_phone(self.to)!r}, from_={mask_phone(self.from_)!r}, "
            f"twiml=<{len(self.twiml)} chars>)"
        )


def check_sms(request: SmsRequest) -> SmsRequest:
    """Raises ``OutboundRequestInvalid`` for what Twilio would refuse; returns the request.

    The body is counted in characters (code points), as Twilio states its limit; should Twilio
    count differently for some text, its 21617 answer is a ``FinalFailure`` all the same.
    """
    if not request.to:
        raise OutboundRequestInvalid("the message has no 'To' number")
    if not request.from_ and not request.messaging_service_sid:
        raise OutboundRequestInvalid("the message needs a 'From' number or a Messaging Service SID")
    if not request.body and not request.media_urls:
        raise OutboundRequestInvalid("the message has neither a body nor media")
    if len(request.body) > MAX_BODY_CHARS:
        raise OutboundRequestInvalid(
            f"the message body is {len(request.body)} characters; "
            f"Twilio accepts at most {MAX_BODY_CHARS}"
        )
    if len(request.media_urls) > MAX_MEDIA_URLS:
        raise OutboundRequestInvalid(
            f"the message has {len(request.media_urls)} media URLs; "
            f"Twilio accepts at most {MAX_MEDIA_URLS}"
        )
    if any(not url for url in request.media_urls):
        raise OutboundRequestInvalid("a media URL is empty")
    return request


def check_call(request: CallRequest) -> CallRequest:
    """Raises ``OutboundRequestInvalid`` for what Twilio would refuse; returns the request."""
    if not request.to or not request.from_:
        raise OutboundRequestInvalid("the call needs both a 'To' and a 'From' number")
    if not request.twiml:
        raise OutboundRequestInvalid("the call has no TwiML")
    if len(request.twiml) > MAX_TWIML_CHARS:
        raise OutboundRequestInvalid(
            f"the call's TwiML is {len(request.twiml)} characters; "
            f"Twilio accepts at most {MAX_TWIML_CHARS}"
        )
    return request


def check_idempotency_key(key: str | None) -> str | None:
    if key is not None and not IDEMPOTENCY_KEY_PATTERN.fullmatch(key):
        raise OutboundRequestInvalid(
            "an idempotency key is 1-255 visible ASCII characters (it is sent as a header)"
        )
    return key


# --- outcomes ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message Twilio holds: accepted on create (``queued``/``accepted``) or as fetched."""

    sid: str
    status: str
    date_created: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    num_segments: str | None = None


@dataclass(frozen=True, slots=True)
class PlacedCall:
    sid: str
    status: str
    date_created: str | None = None


@dataclass(frozen=True, slots=True)
class FinalFailure:
    """Twilio refused, and the same request would be refused again: record it, never retry."""

    http_status: int
    code: int | None
    message: str
    """Twilio's message with phone numbers masked."""
    more_info: str | None

    @property
    def explanation(self) -> str:
        known = FINAL_ERROR_CODES.get(self.code) if self.code is not None else None
        return known or self.message


@dataclass(frozen=True, slots=True)
class RetryableFailure:
    """Every attempt failed in a way a later retry (with the same idempotency key) may fix."""

    detail: str
    attempts: int
    http_status: int | None = None
    code: int | None = None
    retry_after_seconds: float | None = None
    """What Twilio (or the backoff) asked for when the budget ran out."""


@dataclass(frozen=True, slots=True)
class OutcomeUnknown:
    """The request may have been acted on and carried no idempotency token: do not resend
    blindly; look the message up (status callback, ``fetch``) or ask a human."""

    detail: str
    attempts: int


Failure = FinalFailure | RetryableFailure | OutcomeUnknown
SmsOutcome = SentMessage | Failure
CallOutcome = PlacedCall | Failure
FetchOutcome = SentMessage | FinalFailure | RetryableFailure


# --- one attempt's failure, and what to do about it -------------------------------------------


@dataclass(frozen=True, slots=True)
class NotSent:
    """The request never reached Twilio (refused, connect timeout, unresolvable host)."""

    detail: str


@dataclass(frozen=True, slots=True)
class NoAnswer:
    """The request may have reached Twilio but no readable answer came back."""

    detail: str


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """Twilio answered with an HTTP error."""

    http_status: int
    code: int | None
    message: str
    more_info: str | None = None
    retry_after_seconds: float | None = None


AttemptFailure = NotSent | NoAnswer | ErrorAnswer


class AttemptFailed(Exception):
    """Raised by one attempt (the adapter's) to hand its ``AttemptFailure`` to the retry loop."""

    def __init__(self, failure: AttemptFailure) -> None:
        super().__init__(failure)
        self.failure = failure


class ErrorClass(StrEnum):
    FINAL = "final"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"


def classify_error_answer(http_status: int, code: int | None) -> ErrorClass:
    """By HTTP status and Twilio error code, never by message text."""
    if http_status == 429 or code == RATE_LIMITED_CODE:
        return ErrorClass.RATE_LIMITED
    if http_status >= 500:
        return ErrorClass.SERVER_ERROR
    return ErrorClass.FINAL


class Verdict(StrEnum):
    FINAL = "final"
    RETRY = "retry"
    UNKNOWN = "unknown"


def verdict(failure: AttemptFailure, *, idempotent: bool) -> Verdict:
    """The retry rule of this module's docstring, for one failed attempt."""
    match failure:
        case NotSent():
            return Verdict.RETRY
        case ErrorAnswer(http_status=status, code=code):
            error_class = classify_error_answer(status, code)
            if error_class is ErrorClass.FINAL:
                return Verdict.FINAL
            if error_class is ErrorClass.RATE_LIMITED:
                return Verdict.RETRY
    # maybe done: a server error, or no readable answer to a request that was sent
    return Verdict.RETRY if idempotent else Verdict.UNKNOWN


# --- backoff ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 3
    max_elapsed_seconds: float = 8.0
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 4.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.max_elapsed_seconds < 0 or self.base_delay_seconds < 0:
            raise ValueError("delays and budgets cannot be negative")
        if self.max_delay_seconds < self.base_delay_seconds:
            raise ValueError("max_delay_seconds must be at least base_delay_seconds")


def backoff_delay(policy: RetryPolicy, failed_attempts: int, random: Callable[[], float]) -> float:
    """Exponential backoff with equal jitter after ``failed_attempts`` (1, 2, ...) failures.

    The ceiling doubles from ``base_delay_seconds`` up to ``max_delay_seconds``; the delay is
    drawn from ``[ceiling / 2, ceiling)`` (``random()`` in ``[0, 1)``): spaced out enough to let
    Twilio recover, spread enough that many Lambdas do not retry in step.
    """
    ceiling = min(
        policy.max_delay_seconds, policy.base_delay_seconds * 2.0 ** max(failed_attempts - 1, 0)
    )
    return ceiling / 2 + random() * ceiling / 2


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds from ``now``: delta-seconds or an HTTP-date; ``None`` if absent
    or unreadable; a date in the past is 0."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000": RFC 5322 for "UTC, source unknown"
        moment = moment.replace(tzinfo=UTC)
    return max((moment - now).total_seconds(), 0.0)


def retry_delay(
    policy: RetryPolicy, failed_attempts: int, failure: AttemptFailure, random: Callable[[], float]
) -> float:
    """The wait before the next attempt: the backoff, or longer when Twilio said so."""
    delay = backoff_delay(policy, failed_attempts, random)
    if isinstance(failure, ErrorAnswer) and failure.retry_after_seconds is not None:
        return max(delay, failure.retry_after_seconds)
    return delay


# --- the loop ---------------------------------------------------------------------------------


def run_with_retries[T](
    attempt: Callable[[], T],
    *,
    policy: RetryPolicy,
    idempotent: bool,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    random: Callable[[], float],
    on_retry: Callable[[AttemptFailure, int, float], None] = lambda failure, attempts, delay: None,
) -> T | Failure:
    """Calls ``attempt`` until it returns, fails finally, or the policy's budget is spent.

    ``attempt`` returns the result or raises ``AttemptFailed``. ``on_retry(failure, attempts,
    delay)`` is told about each retry before its wait (for a log line).
    """
    started = clock()
    attempts = 0
    while True:
        attempts += 1
        try:
            return attempt()
        except AttemptFailed as failed:
            failure = failed.failure
        decision = verdict(failure, idempotent=idempotent)
        if decision is Verdict.FINAL:
            assert isinstance(failure, ErrorAnswer)
            return FinalFailure(
                failure.http_status,
                failure.code,
                mask_phone_numbers(failure.message),
                failure.more_info,
            )
        if decision is Verdict.UNKNOWN:
            return OutcomeUnknown(
                f"{describe(failure)}; the request may have been acted on and carried no "
                "idempotency token, so it is not resent",
                attempts,
            )
        delay = retry_delay(policy, attempts, failure, random)
        out_of_attempts = attempts >= policy.max_attempts
        out_of_time = clock() - started + delay > policy.max_elapsed_seconds
        if out_of_attempts or out_of_time:
            return _retryable(failure, attempts, delay)
        on_retry(failure, attempts, delay)
        sleep(delay)


def describe(failure: AttemptFailure) -> str:
    match failure:
        case ErrorAnswer(http_status=status, code=code, message=message):
            coded = f", Twilio error {code}" if code is not None else ""
            return f"HTTP {status}{coded}: {mask_phone_numbers(message)}"
        case NotSent(detail=detail):
            return f"not sent: {detail}"
        case NoAnswer(detail=detail):
            return f"no answer: {detail}"


def _retryable(failure: AttemptFailure, attempts: int, delay: float) -> RetryableFailure:
    detail = f"gave up after {attempts} attempt{'s' if attempts != 1 else ''}: {describe(failure)}"
    if isinstance(failure, ErrorAnswer):
        return RetryableFailure(detail, attempts, failure.http_status, failure.code, delay)
    return RetryableFailure(detail, attempts, retry_after_seconds=delay)


def sender_overloaded(failure: FinalFailure | RetryableFailure) -> bool:
    """Twilio asked us to send slower (``SENDER_OVERLOADED_CODES``, or a bare HTTP 429)."""
    return failure.code in SENDER_OVERLOADED_CODES or failure.http_status == 429


def more_info_for(code: int | None) -> str | None:
    return TWILIO_ERROR_DOCS.format(code=code) if code is not None else None


def parse_error_answer(
    http_status: int, body: str, retry_after: str | None, now: datetime
) -> ErrorAnswer:
    """An HTTP error answer from Twilio's ``{"code", "message", "more_info", "status"}`` body.

    Tolerates any body (a proxy's HTML page, RFC 9457 problem JSON): the HTTP status alone then
    decides, and the message says what little is known.
    """
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    fields: dict[str, object] = data if isinstance(data, dict) else {}
    raw_code = fields.get("code")
    code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
    message = next(
        (
            value
            for value in (fields.get(name) for name in ("message", "detail", "title"))
            if isinstance(value, str) and value
        ),
        f"HTTP {http_status} without a Twilio error body",
    )
    more_info = fields.get("more_info")
    return ErrorAnswer(
        http_status,
        code,
        message,
        more_info if isinstance(more_info, str) else more_info_for(code),
        parse_retry_after(retry_after, now),
    )
