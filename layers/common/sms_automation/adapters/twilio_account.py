"""``console.account_settings.TwilioAccount`` on Twilio's REST API: the verification
``accounts verify`` makes (``twilio_verify``) and the numbers ``numbers list|connect`` read and
set (``twilio_numbers``), at one API base URL with one timeout. A failure of the numbers API
becomes ``TwilioFailure`` (its detail: HTTP status, Twilio error code and message, never the
token). The twilio client is imported on the first call (``twilio_numbers``, ``twilio_verify``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from sms_automation.adapters.twilio_numbers import (
    NumberNotFound,
    PhoneNumber,
    TwilioNumbersError,
    connect_number,
    list_numbers,
)
from sms_automation.adapters.twilio_verify import AccountVerification, verify_twilio_account
from sms_automation.console.account_settings import TwilioFailure

CONSOLE_TIMEOUT_SECONDS: Final = 5.0
"""Well inside the console API's function timeout (15 s): a page waits at most this long."""


class TwilioAccountApi:
    def __init__(self, base_url: str, *, timeout: float = CONSOLE_TIMEOUT_SECONDS) -> None:
        self._base_url = base_url
        self._timeout = timeout

    def verify(self, account_sid: str, auth_token: str) -> AccountVerification:
        return verify_twilio_account(
            account_sid, auth_token, base_url=self._base_url, timeout=self._timeout
        )

    def numbers(self, account_sid: str, auth_token: str) -> list[PhoneNumber]:
        return _numbers_call(
            lambda: list_numbers(
                account_sid, auth_token, base_url=self._base_url, timeout=self._timeout
            )
        )

    def connect(
        self, account_sid: str, auth_token: str, number: str, *, sms_url: str, status_url: str
    ) -> PhoneNumber:
        return _numbers_call(
            lambda: connect_number(
                account_sid,
                auth_token,
                number,
                base_url=self._base_url,
                sms_url=sms_url,
                status_callback=status_url,
                timeout=self._timeout,
            )
        )


def _numbers_call[T](call: Callable[[], T]) -> T:
    try:
        return call()
    except NumberNotFound as missing:
        raise TwilioFailure(str(missing), unreachable=False, not_found=True) from None
    except TwilioNumbersError as error:
        raise TwilioFailure(str(error), unreachable=error.unreachable) from None
