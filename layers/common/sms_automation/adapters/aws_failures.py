"""Whether an AWS call that failed may succeed if tried again: the one answer every caller uses.

Transient: throttling (the codes botocore's standard retry mode retries, any service; any 429),
DynamoDB's own errors (any HTTP 5xx), a transaction conflict, and botocore giving up on the
connection (refused, timed out, dropped). These are worth a retry (a 503, Lambda's retry, "try
again").

Permanent: everything else. ``AccessDeniedException``, ``ResourceNotFoundException``,
``ValidationException``, missing credentials, a parameter botocore refuses: a misconfigured
role or table, or a bug. The same call fails the same way until someone changes something, so a
retry only delays the error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

TRANSIENT_ERROR_CODES: Final = frozenset(
    {
        # The throttling and timeout codes botocore's standard retry mode retries, for every
        # service the code and the CLI call (DynamoDB, CloudFormation, SQS, Lambda, ...).
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "RequestTimeout",
        "RequestTimeoutException",
        # DynamoDB's own: a transaction that lost a race, its server-side errors.
        "TransactionConflictException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
"""Error codes a retry may get past (a 429 or any 5xx is transient by its status too)."""


AWS_ERRORS: Final = (ClientError, BotoCoreError)
"""Every failure of a botocore call: an AWS error answer, or botocore's own."""


def error_code(error: BaseException) -> str:
    """A ``ClientError``'s AWS error code, else the class name (``EndpointConnectionError``)."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "Unknown")
    return type(error).__name__


def is_transient(error: BaseException) -> bool:
    """True when the same call may succeed later; False for every other failure."""
    if isinstance(error, ClientError):
        status = _status(error)
        return error_code(error) in TRANSIENT_ERROR_CODES or status == 429 or status >= 500
    return isinstance(error, BotoConnectionError | HTTPClientError)


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


ONE_TRY: Final = Config(connect_timeout=2, read_timeout=10, retries={"total_max_attempts": 1})
"""For an action's call with no idempotency key (SES, EventBridge, Lambda): no retry inside
botocore, which could perform it twice; the step ledger decides what is tried again."""


def call_once[T](call: Callable[[], T]) -> T:
    """``call()``'s answer; its failure as ``CallRefused`` (certainly not performed: a 4xx error
    answer, or no connection made) or ``CallUnanswered`` (maybe performed: sent, no answer; or
    a 5xx, a server failure that may come after the work was done, as rule 3 of
    ``sms_automation.outbound`` says for Twilio)."""
    # Imported here, when an action adapter (SES, EventBridge, Lambda) first calls: the many
    # adapters that use only ``AWS_ERRORS`` and ``is_transient`` do not load the processing
    # ports (and the step ledger's model) on their function's cold start.
    from sms_automation.processing.ports import CallRefused, CallUnanswered

    try:
        return call()
    except ClientError as error:
        if _status(error) >= 500:
            raise CallUnanswered(error_code(error)) from None
        raise CallRefused(error_code(error), transient=is_transient(error)) from None
    except (EndpointConnectionError, ConnectTimeoutError) as error:  # never reached the service
        raise CallRefused(error_code(error), transient=True) from None
    except BotoCoreError as error:
        if is_transient(error):  # sent, then the connection dropped or the answer timed out
            raise CallUnanswered(error_code(error)) from None
        raise CallRefused(error_code(error), transient=False) from None
