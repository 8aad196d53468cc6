"""Verify Twilio Account: fetch ``/2010-04-01/Accounts/{Sid}.json`` with the stored credentials.

Client choice: the official ``twilio`` client. It lets the API domain point at any base URL
through the public ``Domain.base_url`` attribute (``client.api.base_url``), takes an
``HttpClient`` with a timeout, builds the request exactly as every other Twilio integration does
(Basic auth with SID and token, ``Accept: application/json``, its User-Agent) and maps the
account resource for us. Two things are pinned so the base URL given is the one used, verbatim:
``TWILIO_EDGE`` / ``TWILIO_REGION`` from the environment would rewrite the host, so the
client's ``edge`` and ``region`` are cleared. ``twilio`` (and ``requests``) are imported inside
the function: the rest of the CLI starts without paying ~200 ms for them, and the webhook never
imports this module.

The outcome is data (``AccountVerification``), not an exception: the CLI decides exit codes and
wording. Nothing here ever puts the auth token in a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

DEFAULT_TIMEOUT_SECONDS: Final = 10.0
TWILIO_ERROR_DOCS: Final = "https://www.twilio.com/docs/errors/{code}"

AUTHENTICATE_ERROR_CODE: Final = 20003
NOT_FOUND_ERROR_CODE: Final = 20404
ACTIVE_STATUS: Final = "active"


class VerificationOutcome(StrEnum):
    VERIFIED = "verified"
    WRONG_CREDENTIALS = "wrong_credentials"  # HTTP 401 / Twilio 20003
    ACCOUNT_INACTIVE = "account_inactive"  # status suspended or closed
    ACCOUNT_NOT_FOUND = "account_not_found"  # HTTP 404 / Twilio 20404
    REJECTED = "rejected"  # any other 4xx answer
    UNAVAILABLE = "unavailable"  # network failure, timeout, 5xx, unreadable answer


@dataclass(frozen=True, slots=True)
class AccountVerification:
    outcome: VerificationOutcome
    account_sid: str
    base_url: str
    detail: str
    friendly_name: str | None = None
    status: str | None = None
    type: str | None = None
    http_status: int | None = None
    twilio_code: int | None = None

    @property
    def more_info(self) -> str | None:
        return TWILIO_ERROR_DOCS.format(code=self.twilio_code) if self.twilio_code else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "account_sid": self.account_sid,
            "base_url": self.base_url,
            "detail": self.detail,
            "friendly_name": self.friendly_name,
            "status": self.status,
            "type": self.type,
            "http_status": self.http_status,
            "twilio_code": self.twilio_code,
            "more_info": self.more_info,
        }


def verify_twilio_account(
    account_sid: str,
    auth_token: str,
    *,
    base_url: str,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> AccountVerification:
    """Fetches the account resource with (``account_sid``, ``auth_token``) as Basic auth."""
    import requests
    from twilio.base.exceptions import (  # type: ignore[import-untyped]
        TwilioRestException,
        TwilioServiceException,
    )
    from twilio.http.http_client import TwilioHttpClient  # type: ignore[import-untyped]
    from twilio.rest import Client  # type: ignore[import-untyped]

    base_url = base_url.rstrip("/")
    client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
    client.edge = client.region = None
    client.api.base_url = base_url

    def unavailable(detail: str) -> AccountVerification:
        return AccountVerification(VerificationOutcome.UNAVAILABLE, account_sid, base_url, detail)

    try:
        account = client.api.v2010.accounts(account_sid).fetch()
    except TwilioRestException as error:
        message = str(error.msg)
        return classify_error_answer(account_sid, base_url, error.status, error.code, message)
    except TwilioServiceException as error:
        message = str(error.title)
        return classify_error_answer(account_sid, base_url, error.status, error.code, message)
    except requests.Timeout:
        return unavailable(f"no answer within {timeout:g} s")
    except requests.RequestException as error:
        return unavailable(f"cannot connect ({type(error).__name__})")
    except ValueError:  # a 2xx answer that is not JSON: not a Twilio API
        return unavailable("the answer is not Twilio API JSON")

    status = _str_or_none(account.status)
    active = status == ACTIVE_STATUS
    return AccountVerification(
        VerificationOutcome.VERIFIED if active else VerificationOutcome.ACCOUNT_INACTIVE,
        account_sid,
        base_url,
        "credentials accepted" if active else f"the account is {status}",
        friendly_name=_str_or_none(account.friendly_name),
        status=status,
        type=_str_or_none(account.type),
        http_status=200,
    )


def classify_error_answer(
    account_sid: str, base_url: str, http_status: object, code: object, message: str
) -> AccountVerification:
    """Classifies an HTTP error answer by status and Twilio error code (never by message)."""
    status = _int_or_none(http_status) or 0
    twilio_code = _int_or_none(code)
    if twilio_code == status:  # the client's stand-in when the body carries no code
        twilio_code = None
    if status == 401 or twilio_code == AUTHENTICATE_ERROR_CODE:
        outcome = VerificationOutcome.WRONG_CREDENTIALS
    elif status == 404 or twilio_code == NOT_FOUND_ERROR_CODE:
        outcome = VerificationOutcome.ACCOUNT_NOT_FOUND
    elif status >= 500:
        outcome = VerificationOutcome.UNAVAILABLE
    else:
        outcome = VerificationOutcome.REJECTED
    return AccountVerification(
        outcome, account_sid, base_url, message, http_status=status, twilio_code=twilio_code
    )


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value: object) -> int | None:
    try:
        return None if value is None else int(str(value))
    except ValueError:
        return None
