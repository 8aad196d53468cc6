"""An account's phone numbers through Twilio's IncomingPhoneNumbers API, with the official client.

``list_numbers`` reads every number of the account (all pages) with where its SMS webhook points;
``connect_number`` sets ``SmsUrl`` (POST), optionally ``SmsFallbackUrl`` (POST), and
``StatusCallback`` on one number. The client is pointed at the configurable API base URL exactly
as ``twilio_verify`` does it (``client.api.base_url``; ``edge``/``region`` cleared so
``TWILIO_EDGE``/``TWILIO_REGION`` cannot rewrite the host). ``twilio`` is imported inside the
functions: the rest of the CLI starts without it, and no Lambda function imports this module.

Failures raise ``TwilioNumbersError`` with the HTTP status and Twilio error code when Twilio
answered, ``unreachable`` when it did not. Nothing here puts the auth token in a message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from sms_automation.adapters.twilio_verify import DEFAULT_TIMEOUT_SECONDS

POST: Final = "POST"


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    sid: str
    phone_number: str
    friendly_name: str | None
    sms_url: str | None
    sms_method: str | None
    sms_fallback_url: str | None
    status_callback: str | None
    sms_application_sid: str | None

    def points_at(self, messaging_request_url: str) -> bool:
        """Twilio POSTs this number's messages to exactly ``messaging_request_url``.

        A number served by a TwiML App (``SmsApplicationSid``) ignores its own ``SmsUrl``.
        """
        return (
            self.sms_application_sid is None
            and self.sms_url == messaging_request_url
            and (self.sms_method or POST).upper() == POST
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "phone_number": self.phone_number,
            "friendly_name": self.friendly_name,
            "sms_url": self.sms_url,
            "sms_method": self.sms_method,
            "sms_fallback_url": self.sms_fallback_url,
            "status_callback": self.status_callback,
            "sms_application_sid": self.sms_application_sid,
        }


class TwilioNumbersError(Exception):
    def __init__(
        self,
        detail: str,
        *,
        http_status: int | None = None,
        twilio_code: int | None = None,
        unreachable: bool = False,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.http_status = http_status
        self.twilio_code = twilio_code
        self.unreachable = unreachable or (http_status is not None and http_status >= 500)

    def __str__(self) -> str:
        parts = [f"HTTP {self.http_status}"] if self.http_status is not None else []
        if self.twilio_code is not None:
            parts.append(f"error {self.twilio_code}")
            parts.append(self.detail)
            parts.append(f"see https://www.twilio.com/docs/errors/{self.twilio_code}")
        else:
            parts.append(self.detail)
        return ", ".join(parts)


class NumberNotFound(TwilioNumbersError):
    """The account has no such number (HTTP 404 or absent from the listing)."""


def list_numbers(
    account_sid: str,
    auth_token: str,
    *,
    base_url: str,
    phone_number: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> list[PhoneNumber]:
    """Every incoming number of the account (or the one ``phone_number``), all pages."""
    numbers = _numbers_resource(account_sid, auth_token, base_url, timeout)
    filters = {"phone_number": phone_number} if phone_number else {}
    return [_phone_number(item) for item in _call(lambda: numbers.list(**filters), timeout)]


def connect_number(
    account_sid: str,
    auth_token: str,
    phone_number: str,
    *,
    base_url: str,
    sms_url: str,
    status_callback: str,
    fallback_url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> PhoneNumber:
    """Points ``phone_number``'s SMS webhook (POST) and status callback at this deployment."""
    found = list_numbers(
        account_sid, auth_token, base_url=base_url, phone_number=phone_number, timeout=timeout
    )
    match = [number for number in found if number.phone_number == phone_number]
    if not match:
        raise NumberNotFound(f"the account has no number {phone_number}")
    settings: dict[str, str] = {
        "sms_url": sms_url,
        "sms_method": POST,
        "status_callback": status_callback,
        "status_callback_method": POST,
    }
    if fallback_url is not None:
        settings["sms_fallback_url"] = fallback_url
        settings["sms_fallback_method"] = POST
    numbers = _numbers_resource(account_sid, auth_token, base_url, timeout)
    updated = _call(lambda: numbers(match[0].sid).update(**settings), timeout)
    return _phone_number(updated)


def _numbers_resource(account_sid: str, auth_token: str, base_url: str, timeout: float) -> Any:
    from twilio.http.http_client import TwilioHttpClient  # type: ignore[import-untyped]
    from twilio.rest import Client  # type: ignore[import-untyped]

    client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
    client.edge = client.region = None
    client.api.base_url = base_url.rstrip("/")
    return client.api.v2010.accounts(account_sid).incoming_phone_numbers


def _call(operation: Any, timeout: float) -> Any:
    import requests
    from twilio.base.exceptions import (  # type: ignore[import-untyped]
        TwilioException,
        TwilioRestException,
        TwilioServiceException,
    )

    try:
        return operation()
    except (TwilioRestException, TwilioServiceException) as error:
        status = _int_or_none(error.status)
        code = _int_or_none(error.code)
        if code == status:  # the client's stand-in when the body carries no code
            code = None
        message = str(getattr(error, "msg", None) or getattr(error, "title", "") or "refused")
        kind = NumberNotFound if status == 404 else TwilioNumbersError
        raise kind(message, http_status=status, twilio_code=code) from None
    except TwilioException as error:  # a list page's error answer: (message, response)
        raise _page_error(error) from None
    except requests.Timeout:
        raise TwilioNumbersError(f"no answer within {timeout:g} s", unreachable=True) from None
    except requests.RequestException as error:
        detail = f"cannot connect ({type(error).__name__})"
        raise TwilioNumbersError(detail, unreachable=True) from None
    except ValueError:  # a 2xx answer that is not JSON: not a Twilio API
        raise TwilioNumbersError("the answer is not Twilio API JSON", unreachable=True) from None


def _page_error(error: Exception) -> TwilioNumbersError:
    """``Page.process_response`` raises ``TwilioException("Unable to fetch page", response)``."""
    response = error.args[1] if len(error.args) > 1 else None
    status = _int_or_none(getattr(response, "status_code", None))
    try:
        body = json.loads(getattr(response, "text", "") or "{}")
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    code = _int_or_none(body.get("code"))
    message = str(body.get("message") or error.args[0] if error.args else "refused")
    kind = NumberNotFound if status == 404 else TwilioNumbersError
    return kind(message, http_status=status, twilio_code=code)


def _phone_number(instance: Any) -> PhoneNumber:
    return PhoneNumber(
        sid=str(instance.sid),
        phone_number=str(instance.phone_number),
        friendly_name=_str_or_none(instance.friendly_name),
        sms_url=_str_or_none(instance.sms_url) or None,
        sms_method=_str_or_none(instance.sms_method),
        sms_fallback_url=_str_or_none(instance.sms_fallback_url) or None,
        status_callback=_str_or_none(instance.status_callback) or None,
        sms_application_sid=_str_or_none(instance.sms_application_sid) or None,
    )


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value: object) -> int | None:
    try:
        return None if value is None else int(str(value))
    except ValueError:
        return None
