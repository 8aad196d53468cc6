"""The AWS actions' adapters as the processor's runtime builds them (``send_email``'s SES mailer,
``publish_event``'s EventBridge publisher, ``invoke_lambda``'s functions), on moto, when the
call fails: each failure becomes the exception the step ledger decides on
(``aws_failures.call_once``) and botocore makes exactly one try (``ONE_TRY``: none of these
calls has an idempotency key, so a retry inside botocore could perform it twice).

A failure is put on the wire where botocore sends (``before-send``, ahead of moto): an error
answer of the service's own protocol, or the connection errors botocore raises there. The same
hook counts the tries; with botocore's default retries the same failures are tried again, so
the count is the one try ``ONE_TRY`` makes, not the hook missing the retries.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from moto import mock_aws

from sms_automation.composition.runtime import Runtime
from sms_automation.processing.ports import CallRefused, CallUnanswered
from tests.support.action_targets import create_targets
from tests.support.aws import hook_every_client, use_dummy_aws_credentials

pytestmark = pytest.mark.integration

BUS = "orders"
KB_64 = 64 * 1024  # the limit the docs promise for a function's result


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> AWSResponse:
    """What the service would send back: ``status`` and a JSON ``body``."""
    raw = json.dumps(body).encode()
    return AWSResponse("https://aws.invalid/", status, headers or {}, _Raw(raw))  # type: ignore[arg-type]


Failure = Callable[..., AWSResponse]


def json_error(code: str, status: int) -> Failure:
    """An error answer of the JSON protocols (EventBridge, SES v2 and Lambda read it alike)."""
    return lambda **_: answer(status, {"__type": code, "message": "m"}, {"x-amzn-ErrorType": code})


def connection_refused(request: Any, **_: Any) -> AWSResponse:
    raise EndpointConnectionError(endpoint_url=request.url)


def read_timed_out(request: Any, **_: Any) -> AWSResponse:
    raise ReadTimeoutError(endpoint_url=request.url)


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws(config={"lambda": {"use_docker": False}}):
        create_targets()  # the function "lookup" (answers with its payload), the bus "orders"
        environ = {**os.environ, "TABLE_NAME": "t", "RECORDS_TABLE": "r"}
        yield Runtime.from_environ({**environ, "WEBHOOK_BASE_URL": "https://hooks.invalid"})


def failing(monkeypatch: pytest.MonkeyPatch, event: str, failure: Failure) -> list[str]:
    """Every call to ``event`` (``before-send.SERVICE.OPERATION``) fails with ``failure``;
    the list grows by one each try. Install before the adapter makes its client."""
    tries: list[str] = []

    def send(**kwargs: Any) -> AWSResponse:
        tries.append(event)
        return failure(**kwargs)

    hook_every_client(monkeypatch, event, send, first=True)
    return tries


def publish(runtime: Runtime) -> str:
    return runtime.event_publisher.publish(
        bus=BUS, source="sms-automation", detail_type="SMS received", detail="{}"
    )


def invoke(runtime: Runtime, payload: str = "{}") -> Any:
    return runtime.lambda_functions.invoke(
        function="lookup", payload=payload, asynchronous=False, timeout_seconds=5
    )


def email(runtime: Runtime) -> str:
    return runtime.mailer.send_email(
        from_="bot@example.com",
        to=["desk@example.com"],
        reply_to=None,
        subject="s",
        text="t",
        html=None,
    )


CALLS: dict[str, tuple[str, Callable[[Runtime], Any]]] = {
    "publish_event": ("before-send.eventbridge.PutEvents", publish),
    "invoke_lambda": ("before-send.lambda.Invoke", invoke),
    "send_email": ("before-send.sesv2.SendEmail", email),
}


@pytest.mark.parametrize("action", sorted(CALLS))
@pytest.mark.parametrize(
    ("failure", "code", "transient"),
    [
        (json_error("AccessDeniedException", 400), "AccessDeniedException", False),
        (json_error("ValidationException", 400), "ValidationException", False),
        (json_error("ThrottlingException", 400), "ThrottlingException", True),
        (json_error("TooManyRequestsException", 429), "TooManyRequestsException", True),
        (connection_refused, "EndpointConnectionError", True),
    ],
    ids=["denied", "invalid", "throttled", "429", "no-connection"],
)
def test_an_error_answer_or_no_connection_is_refused_after_exactly_one_try(
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    action: str,
    failure: Failure,
    code: str,
    transient: bool,
) -> None:
    event, call = CALLS[action]
    tries = failing(monkeypatch, event, failure)

    with pytest.raises(CallRefused) as refused:
        call(runtime)

    assert (refused.value.code, refused.value.transient) == (code, transient)
    assert len(tries) == 1


@pytest.mark.parametrize("action", sorted(CALLS))
@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (read_timed_out, "ReadTimeoutError"),
        # A server failure may come after the work was done (rule 3 of sms_automation.outbound).
        (json_error("ServiceException", 500), "ServiceException"),
    ],
    ids=["read-timeout", "500"],
)
def test_a_read_timeout_or_a_5xx_is_unanswered_maybe_performed_after_exactly_one_try(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, action: str, failure: Failure, code: str
) -> None:
    event, call = CALLS[action]
    tries = failing(monkeypatch, event, failure)

    with pytest.raises(CallUnanswered, match=code):
        call(runtime)

    assert len(tries) == 1


@pytest.mark.parametrize(
    "failure", [json_error("ServiceException", 500), connection_refused, read_timed_out]
)
def test_botocore_s_default_retries_would_try_the_same_failures_again(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, failure: Failure
) -> None:
    """The control: the hook sees every try, so the one try above is ``ONE_TRY``'s doing."""
    tries = failing(monkeypatch, "before-send.eventbridge.PutEvents", failure)
    client = boto3.client("events")  # the default configuration: retries on

    with pytest.raises(Exception):  # noqa: B017, PT011 (whichever botocore gives up with)
        client.put_events(Entries=[{"EventBusName": BUS, "Source": "s", "DetailType": "d"}])

    assert len(tries) > 1


@pytest.mark.parametrize(
    ("code", "transient"),
    [("InternalFailure", True), ("ThrottlingException", True), ("AccessDeniedException", False)],
)
def test_an_entry_the_bus_refused_is_refused_with_its_code_transient_when_the_bus_says_so(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, code: str, transient: bool
) -> None:
    body = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": code, "ErrorMessage": "m"}]}
    tries = failing(monkeypatch, "before-send.eventbridge.PutEvents", lambda **_: answer(200, body))

    with pytest.raises(CallRefused) as refused:
        publish(runtime)

    assert (refused.value.code, refused.value.transient) == (code, transient)
    assert len(tries) == 1


def test_the_bus_accepting_the_entry_gives_its_event_id(runtime: Runtime) -> None:
    assert publish(runtime)


def test_a_function_result_over_64_kb_is_not_kept_and_one_at_the_limit_is_read(
    runtime: Runtime,
) -> None:
    """The function ran either way: a result over the limit is marked too large (the step
    fails, not repeated), never refused as if the call had not been made."""

    def payload_of(size: int) -> str:
        text = json.dumps({"pad": ""})
        return json.dumps({"pad": "x" * (size - len(text))})

    at_limit = invoke(runtime, payload_of(KB_64))  # moto answers with the payload
    assert len(at_limit.payload) == KB_64
    assert (at_limit.status, at_limit.result_too_large) == (200, False)

    over = invoke(runtime, payload_of(KB_64 + 1))

    assert (over.status, over.result_too_large, over.payload) == (200, True, b"")
