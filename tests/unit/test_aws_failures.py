"""``aws_failures``: which failed AWS calls a retry may get past (throttling, 5xx, the
connection) and which it cannot (permissions, a missing table, a bad request, no credentials);
and, for a call tried once, which failures certainly performed nothing."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from sms_automation.adapters.aws_failures import AWS_ERRORS, call_once, error_code, is_transient
from sms_automation.processing.ports import CallRefused, CallUnanswered
from tests.support.aws import client_error


@pytest.mark.parametrize(
    "code",
    [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "InternalServerError",
        "ServiceUnavailable",
    ],
)
def test_throttling_and_server_error_codes_are_transient(code: str) -> None:
    assert is_transient(client_error(code))


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("Throttling", 400),  # CloudFormation (the CLI's stack lookup)
        ("RequestThrottled", 403),  # SQS (the DLQ commands)
        ("TooManyRequestsException", 429),  # Lambda (dead-letters redrive)
        ("TransactionInProgressException", 400),  # DynamoDB
        ("SlowDown", 503),
        ("SomethingNew", 429),  # any 429, whatever its code
    ],
)
def test_other_services_throttling_is_transient_as_botocore_retries_it(
    code: str, status: int
) -> None:
    assert is_transient(client_error(code, status))


@pytest.mark.parametrize(
    "code",
    [
        "AccessDeniedException",
        "ResourceNotFoundException",
        "ValidationException",
        "UnrecognizedClientException",
        "ConditionalCheckFailedException",
        "SomethingNewException",
    ],
)
def test_every_other_code_is_permanent(code: str) -> None:
    assert not is_transient(client_error(code))


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_any_5xx_answer_is_transient_whatever_its_code(status: int) -> None:
    assert is_transient(client_error("SomethingNewException", status))


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://dynamodb.invalid"),
        ConnectTimeoutError(endpoint_url="https://dynamodb.invalid"),
        ReadTimeoutError(endpoint_url="https://dynamodb.invalid"),
    ],
)
def test_connection_and_timeout_errors_are_transient(error: Exception) -> None:
    assert is_transient(error)
    assert isinstance(error, AWS_ERRORS)


@pytest.mark.parametrize(
    "error", [NoCredentialsError(), ParamValidationError(report="TableName: missing")]
)
def test_botocore_errors_no_retry_fixes_are_permanent(error: Exception) -> None:
    assert not is_transient(error)
    assert isinstance(error, AWS_ERRORS)


def test_error_code_names_the_aws_code_else_the_botocore_error() -> None:
    assert error_code(client_error("AccessDeniedException")) == "AccessDeniedException"
    assert error_code(NoCredentialsError()) == "NoCredentialsError"


def fail(error: Exception) -> None:
    raise error


@pytest.mark.parametrize(("code", "status"), [("InternalFailure", 500), ("ServiceException", 503)])
def test_a_5xx_answer_to_a_call_tried_once_may_have_performed_it(code: str, status: int) -> None:
    with pytest.raises(CallUnanswered, match=code):
        call_once(lambda: fail(client_error(code, status)))


def test_a_4xx_answer_or_no_connection_certainly_performed_nothing() -> None:
    with pytest.raises(CallRefused) as throttled:
        call_once(lambda: fail(client_error("ThrottlingException")))
    with pytest.raises(CallRefused) as denied:
        call_once(lambda: fail(client_error("AccessDeniedException")))
    with pytest.raises(CallRefused) as unreachable:
        call_once(lambda: fail(EndpointConnectionError(endpoint_url="https://x.invalid")))
    assert (throttled.value.transient, denied.value.transient) == (True, False)
    assert unreachable.value.transient is True
