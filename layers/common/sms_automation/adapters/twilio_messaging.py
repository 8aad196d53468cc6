"""Send SMS and place calls through Twilio's REST API with the official ``twilio`` client.

``TwilioMessaging`` answers every call with an outcome value (``sms_automation.outbound``):
``SentMessage`` / ``PlacedCall``, ``FinalFailure``, ``RetryableFailure`` or ``OutcomeUnknown``.
It raises only ``OutboundRequestInvalid``, before anything is sent, for a request Twilio would
refuse (a body over 1,600 characters, more than 10 media URLs, TwiML over 4,000 characters).
Retries follow the rule in ``sms_automation.outbound`` (retry only what cannot happen twice);
``find_messages`` / ``find_calls`` list the candidates when settling an ``OutcomeUnknown``.

How the official client is bent, and why this way
-------------------------------------------------
- **API base URL**: ``client.api.base_url``, the public ``Domain.base_url`` attribute every v2010
  URL is built from (``Domain.absolute_url``); the generated resource code stays untouched.
  Rewriting ``https://api.twilio.com`` inside the HTTP client would work too, but hides a string
  replace in the transport. ``edge`` and ``region`` are cleared: ``TWILIO_EDGE`` /
  ``TWILIO_REGION`` in the environment would otherwise rewrite the host we were given.
- **Transport**: a ``twilio.http.HttpClient`` of our own, one per attempt, over one shared
  ``requests.Session`` (connection reuse across attempts and calls). It is needed because, in
  twilio 9.13, the generated ``create()`` methods take no custom headers (the idempotency
  token must be added below them), ``TwilioRestException`` drops the answer's headers
  (``Retry-After``) and ``more_info``, and only the transport can tell "never sent" (connection
  refused, connect timeout) from "sent, no answer" (read timeout, dropped connection), which
  the retry rule depends on. It also takes separate connect and read timeouts, lets urllib3
  retry nothing behind our back, and, unlike ``TwilioHttpClient``, logs nothing itself.
- **Imported on first use**: ``twilio`` and ``requests`` (with ``charset_normalizer``) cost about
  30 ms of a cold start (``make bench``), and the functions that import this module (the
  trigger processor, the conversation functions) often finish their first event without
  sending anything. They are imported when a ``TwilioMessaging`` is built or first sends.

Nothing here puts the auth token in a message or a repr; log lines mask phone numbers.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Final, Self, override

from sms_automation.outbound import (
    AttemptFailed,
    AttemptFailure,
    CallOutcome,
    CallRequest,
    Failure,
    FetchOutcome,
    FinalFailure,
    NoAnswer,
    NotSent,
    OutcomeUnknown,
    PlacedCall,
    RetryableFailure,
    RetryPolicy,
    SentMessage,
    SmsOutcome,
    SmsRequest,
    check_call,
    check_idempotency_key,
    check_sms,
    describe,
    parse_error_answer,
    run_with_retries,
)
from sms_automation.pii import mask_phone

if TYPE_CHECKING:
    import requests

DEFAULT_API_BASE_URL: Final = "https://api.twilio.com"
IDEMPOTENCY_HEADER: Final = "I-Twilio-Idempotency-Token"
DEFAULT_CONNECT_TIMEOUT_SECONDS: Final = 3.05
DEFAULT_READ_TIMEOUT_SECONDS: Final = 10.0
LOOKUP_PAGE_SIZE: Final = 20
"""How many of the newest messages (calls) to a number ``find_*`` looks through."""

_logger = logging.getLogger(__name__)


class TwilioLookupFailed(RuntimeError):
    """Twilio could not be asked (``find_*``): not the same as "there is no such message"."""

    def __init__(self, outcome: FinalFailure | RetryableFailure) -> None:
        detail = outcome.message if isinstance(outcome, FinalFailure) else outcome.detail
        super().__init__(f"cannot look the resource up in Twilio: {detail}")
        self.outcome = outcome


@cache
def _attempt_transport() -> type[Any]:
    """``_AttemptTransport``, a ``twilio.http.HttpClient``: defined when first needed."""
    import requests
    from twilio.http import HttpClient  # type: ignore[import-untyped]
    from twilio.http.response import Response  # type: ignore[import-untyped]

    class _AttemptTransport(HttpClient):  # type: ignore[misc]
        """One attempt's HTTP exchange: adds the idempotency token, keeps the answer, and turns a
        network failure into ``AttemptFailed(NotSent | NoAnswer)``."""

        def __init__(
            self,
            session: requests.Session,
            timeouts: tuple[float, float],
            idempotency_token: str | None,
        ) -> None:
            super().__init__(_logger, is_async=False, timeout=None)
            self._session = session
            self._timeouts = timeouts
            self._idempotency_token = idempotency_token
            self.answer: requests.Response | None = None

        @override
        def request(
            self,
            method: str,
            uri: str,
            params: dict[str, Any] | None = None,
            data: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None,
            auth: tuple[str, str] | None = None,
            timeout: float | None = None,
            allow_redirects: bool = False,
        ) -> Response:
            headers = dict(headers or {})
            if self._idempotency_token is not None:
                headers[IDEMPOTENCY_HEADER] = self._idempotency_token
            as_json = headers.get("Content-Type") == "application/json"
            try:
                answer = self._session.request(
                    method,
                    uri,
                    params=params,
                    data=None if as_json else data,
                    json=data if as_json else None,
                    headers=headers,
                    auth=auth,
                    timeout=self._timeouts if timeout is None else timeout,
                    allow_redirects=allow_redirects,
                )
            except requests.RequestException as error:
                raise AttemptFailed(network_failure(error)) from None
            self.answer = answer
            return Response(answer.status_code, answer.text, answer.headers)

    return _AttemptTransport


def network_failure(error: requests.RequestException) -> NotSent | NoAnswer:
    """``NotSent`` only when no connection was made; anything later may have reached Twilio."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError

    kind = type(error).__name__
    if isinstance(error, requests.ConnectTimeout):
        return NotSent(f"connect timeout ({kind})")
    if isinstance(error, requests.ReadTimeout):
        return NoAnswer(f"no answer in time ({kind})")
    reason = getattr(error.args[0], "reason", None) if error.args else None
    if isinstance(error, requests.ConnectionError) and isinstance(reason, ConnectTimeoutError):
        # NewConnectionError (refused, unreachable, DNS) is a ConnectTimeoutError in urllib3 2
        return NotSent(f"cannot connect ({type(reason).__name__})")
    return NoAnswer(f"connection failed after the request was sent ({kind})")


class TwilioMessaging:
    """Outbound SMS and calls for one Twilio account.

    Build one per account and reuse it (it keeps a connection pool); not for concurrent use
    from several threads. ``sleep``, ``clock`` (monotonic), ``wall_clock`` (for ``Retry-After``
    dates) and ``random`` are injectable so tests neither wait nor guess.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
        read_timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        random: Callable[[], float] = random.random,
        idempotency_token_honoured: bool = False,
    ) -> None:
        """``idempotency_token_honoured``: the API answers a create repeated with the same
        ``I-Twilio-Idempotency-Token`` with the first one's resource, so a create that may have
        been acted on (5xx, read timeout) can be retried. True for the test server and the local
        sandbox; left False for api.twilio.com, whose spec documents no such guarantee for
        Messages or Calls (see ``sms_automation.outbound``)."""
        if connect_timeout_seconds <= 0 or read_timeout_seconds <= 0:
            raise ValueError("timeouts must be positive")
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._api_base_url = api_base_url.rstrip("/")
        self._timeouts = (connect_timeout_seconds, read_timeout_seconds)
        self._policy = retry_policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._random = random
        self._token_honoured = idempotency_token_honoured
        import requests
        from requests.adapters import HTTPAdapter

        self._session = requests.Session()
        no_retries = HTTPAdapter(max_retries=0)  # the retry rule is ours alone
        self._session.mount("https://", no_retries)
        self._session.mount("http://", no_retries)

    def __repr__(self) -> str:
        return f"TwilioMessaging(account_sid={self._account_sid!r}, api={self._api_base_url!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send_sms(
        self,
        *,
        to: str,
        body: str = "",
        from_: str | None = None,
        messaging_service_sid: str | None = None,
        media_urls: Sequence[str] = (),
        status_callback: str | None = None,
        idempotency_key: str | None = None,
    ) -> SmsOutcome:
        """Creates a message (``From`` and/or ``MessagingServiceSid``; body and/or media).

        Raises ``OutboundRequestInvalid`` before sending what Twilio would refuse. Pass an
        ``idempotency_key`` unique to this message (message, trigger, step); it is sent as
        ``I-Twilio-Idempotency-Token``. Without one, or unless the API honours it
        (``idempotency_token_honoured``), an ambiguous failure is ``OutcomeUnknown``, not a retry.
        """
        request = check_sms(
            SmsRequest(
                to=to,
                body=body,
                from_=from_,
                messaging_service_sid=messaging_service_sid,
                media_urls=tuple(media_urls),
                status_callback=status_callback,
            )
        )
        token = check_idempotency_key(idempotency_key)
        return self._run(
            lambda client: _sent_message(self._account(client).messages.create(**_sms(request))),
            idempotency_token=token,
            idempotent=token is not None and self._token_honoured,
            label=f"message to {mask_phone(to)}",
        )

    def make_call(
        self,
        *,
        to: str,
        from_: str,
        twiml: str,
        status_callback: str | None = None,
        idempotency_key: str | None = None,
    ) -> CallOutcome:
        """Places a call that runs the inline ``twiml``; the same rules as ``send_sms``."""
        request = check_call(
            CallRequest(to=to, from_=from_, twiml=twiml, status_callback=status_callback)
        )
        token = check_idempotency_key(idempotency_key)
        return self._run(
            lambda client: _placed_call(self._account(client).calls.create(**_call(request))),
            idempotency_token=token,
            idempotent=token is not None and self._token_honoured,
            label=f"call to {mask_phone(to)}",
        )

    def fetch_message(self, sid: str) -> FetchOutcome:
        """The message's current status and delivery error; a read, so always retried."""
        outcome = self._run(
            lambda client: _sent_message(self._account(client).messages(sid).fetch()),
            idempotency_token=None,
            idempotent=True,
            label=f"fetch of {sid}",
        )
        assert not isinstance(outcome, OutcomeUnknown)  # idempotent: never unknown
        return outcome

    def find_message(
        self,
        *,
        to: str,
        body: str,
        from_: str | None,
        messaging_service_sid: str | None,
        created_after: datetime,
    ) -> SentMessage | None:
        """The newest of ``find_messages``, or ``None``."""
        found = self.find_messages(
            to=to,
            body=body,
            from_=from_,
            messaging_service_sid=messaging_service_sid,
            created_after=created_after,
        )
        return found[0] if found else None

    def find_messages(
        self,
        *,
        to: str,
        body: str,
        from_: str | None,
        messaging_service_sid: str | None,
        created_after: datetime,
    ) -> list[SentMessage]:
        """The messages to ``to`` with this body and sender created at or after
        ``created_after``, newest first: the candidates when settling an ``OutcomeUnknown``.
        Which of them a step made is the caller's question (see ``processing.effects``):
        Twilio's list says nothing of the step.

        Filters by ``To`` (and ``From`` when given) on Twilio's side and by creation time, body
        and Messaging Service here; not by ``DateSent``, which a queued message does not have
        yet. Looks through the newest ``LOOKUP_PAGE_SIZE``. Raises ``TwilioLookupFailed`` when
        Twilio cannot be asked: ``[]`` always means "looked, and there is none".
        """
        filters: dict[str, Any] = {"to": to, "limit": LOOKUP_PAGE_SIZE}
        if from_:
            filters["from_"] = from_
        outcome = self._run(
            lambda client: self._account(client).messages.list(
                **filters, page_size=LOOKUP_PAGE_SIZE
            ),
            idempotency_token=None,
            idempotent=True,
            label=f"lookup of messages to {mask_phone(to)}",
        )
        return [
            _sent_message(instance)
            for instance in _found(outcome)
            if _created_since(instance, created_after)
            and instance.body == body
            and (
                not messaging_service_sid or instance.messaging_service_sid == messaging_service_sid
            )
        ]

    def find_call(self, *, to: str, from_: str, created_after: datetime) -> PlacedCall | None:
        """The newest of ``find_calls``, or ``None``."""
        found = self.find_calls(to=to, from_=from_, created_after=created_after)
        return found[0] if found else None

    def find_calls(self, *, to: str, from_: str, created_after: datetime) -> list[PlacedCall]:
        """The calls from ``from_`` to ``to`` created at or after ``created_after``, newest
        first; the same rules as ``find_messages``."""
        outcome = self._run(
            lambda client: self._account(client).calls.list(
                to=to, from_=from_, limit=LOOKUP_PAGE_SIZE, page_size=LOOKUP_PAGE_SIZE
            ),
            idempotency_token=None,
            idempotent=True,
            label=f"lookup of calls to {mask_phone(to)}",
        )
        return [
            _placed_call(instance)
            for instance in _found(outcome)
            if _created_since(instance, created_after)
        ]

    # --- internals ----------------------------------------------------------------------------

    def _run[T](
        self,
        operation: Callable[[Any], T],
        *,
        idempotency_token: str | None,
        idempotent: bool,
        label: str,
    ) -> T | Failure:
        def attempt() -> T:
            return self._attempt(operation, idempotency_token)

        def log_retry(failure: AttemptFailure, attempts: int, delay: float) -> None:
            _logger.warning(
                "twilio %s: attempt %d failed (%s); retrying in %.2f s",
                label,
                attempts,
                describe(failure),
                delay,
            )

        outcome = run_with_retries(
            attempt,
            policy=self._policy,
            idempotent=idempotent,
            sleep=self._sleep,
            clock=self._clock,
            random=self._random,
            on_retry=log_retry,
        )
        if isinstance(outcome, FinalFailure | RetryableFailure | OutcomeUnknown):
            _logger.warning("twilio %s: %s", label, outcome)
        return outcome

    def _attempt[T](self, operation: Callable[[Any], T], idempotency_token: str | None) -> T:
        from twilio.base.exceptions import TwilioException  # type: ignore[import-untyped]
        from twilio.rest import Client  # type: ignore[import-untyped]

        transport = _attempt_transport()(self._session, self._timeouts, idempotency_token)
        client = Client(self._account_sid, self._auth_token, http_client=transport)
        client.edge = client.region = None
        client.api.base_url = self._api_base_url
        try:
            return operation(client)
        except TwilioException:
            # TwilioRestException / TwilioServiceException for a resource, a bare
            # TwilioException("Unable to fetch page") for a list page: an HTTP error answer
            answer = transport.answer
            if answer is None or answer.ok:
                raise
            raise AttemptFailed(
                parse_error_answer(
                    answer.status_code,
                    answer.text,
                    answer.headers.get("Retry-After"),
                    self._wall_clock(),
                )
            ) from None
        except (json.JSONDecodeError, _UnreadableAnswer):
            raise AttemptFailed(NoAnswer("a success answer that is not Twilio API JSON")) from None

    def _account(self, client: Any) -> Any:
        return client.api.v2010.accounts(self._account_sid)


class _UnreadableAnswer(Exception):
    """A 2xx answer without the resource's SID."""


def _found(outcome: list[Any] | Failure) -> list[Any]:
    if isinstance(outcome, FinalFailure | RetryableFailure):
        raise TwilioLookupFailed(outcome)
    assert not isinstance(outcome, OutcomeUnknown)  # reads are idempotent: never unknown
    return outcome


def _created_since(instance: Any, moment: datetime) -> bool:
    created = instance.date_created
    return isinstance(created, datetime) and created >= moment


def _sms(request: SmsRequest) -> dict[str, Any]:
    params: dict[str, Any] = {"to": request.to}
    optional = {
        "from_": request.from_,
        "messaging_service_sid": request.messaging_service_sid,
        "body": request.body or None,
        "media_url": list(request.media_urls) or None,
        "status_callback": request.status_callback,
    }
    params.update({name: value for name, value in optional.items() if value is not None})
    return params


def _call(request: CallRequest) -> dict[str, Any]:
    params: dict[str, Any] = {"to": request.to, "from_": request.from_, "twiml": request.twiml}
    if request.status_callback is not None:
        params["status_callback"] = request.status_callback
    return params


def _sent_message(instance: Any) -> SentMessage:
    if not instance.sid:
        raise _UnreadableAnswer
    date_created = instance.date_created
    return SentMessage(
        sid=str(instance.sid),
        status=str(instance.status),
        date_created=date_created.isoformat() if isinstance(date_created, datetime) else None,
        error_code=instance.error_code,
        error_message=instance.error_message,
        num_segments=instance.num_segments,
    )


def _placed_call(instance: Any) -> PlacedCall:
    if not instance.sid:
        raise _UnreadableAnswer
    date_created = instance.date_created
    return PlacedCall(
        sid=str(instance.sid),
        status=str(instance.status),
        date_created=date_created.isoformat() if isinstance(date_created, datetime) else None,
    )
