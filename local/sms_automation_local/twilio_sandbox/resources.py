"""Twilio's resources as api.twilio.com answers them (API 2010-04-01): every field of the OpenAPI
response schema, ``SM``/``CA``/``PN`` + 32 hex SIDs, RFC 2822 dates, errors as
``{"code", "message", "more_info", "status"}``."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Final

API_VERSION: Final = "2010-04-01"
MESSAGING_SERVICE_SENDER: Final = "+15005550006"
"""The ``from`` a message sent through a Messaging Service (without ``From``) ends up with."""

ERROR_MESSAGES: Final[Mapping[int, str]] = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To'",
    21602: "Message body is required.",
    21603: "The 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21606: "The 'From' phone number provided is not a valid message-capable Twilio phone number",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21623: "The number of media files exceeds the maximum of 10.",
    21659: "The 'From' number is not a Twilio phone number or Sender ID in your account.",
    30003: "Unreachable destination handset",
    30008: "Unknown error",
}
STATUS_FOR_CODE: Final[Mapping[int, int]] = {
    20003: 401,
    20404: 404,
    20429: 429,
    20500: 500,
    20503: 503,
}


def twilio_error_body(code: int, status: int, message: str | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "message": message or ERROR_MESSAGES.get(code, f"Twilio error {code}"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC))


def segments(body: str) -> int:
    return 1 if len(body) <= 160 else -(-len(body) // 153)


def message_resource(
    *,
    account: str,
    to: str,
    sender: str | None,
    service: str | None,
    body: str,
    media: list[str],
    now: datetime,
    direction: str = "outbound-api",
    sid: str | None = None,
) -> dict[str, Any]:
    sid = sid or new_sid("MM" if media and direction == "inbound" else "SM")
    created = rfc2822(now)
    uri = f"/{API_VERSION}/Accounts/{account}/Messages/{sid}"
    inbound = direction == "inbound"
    return {
        "account_sid": account,
        "api_version": API_VERSION,
        "body": body,
        "date_created": created,
        "date_sent": created if inbound else None,
        "date_updated": created,
        "direction": direction,
        "error_code": None,
        "error_message": None,
        "from": sender or MESSAGING_SERVICE_SENDER,
        "messaging_service_sid": service,
        "num_media": str(len(media)),
        "num_segments": str(segments(body)),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "received" if inbound else ("queued" if sender else "accepted"),
        "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
        "to": to,
        "uri": f"{uri}.json",
    }


def call_resource(*, account: str, to: str, sender: str, now: datetime) -> dict[str, Any]:
    sid = new_sid("CA")
    created = rfc2822(now)
    uri = f"/{API_VERSION}/Accounts/{account}/Calls/{sid}"
    return {
        "account_sid": account,
        "annotation": None,
        "answered_by": None,
        "api_version": API_VERSION,
        "caller_name": None,
        "date_created": created,
        "date_updated": created,
        "direction": "outbound-api",
        "duration": None,
        "end_time": None,
        "forwarded_from": None,
        "from": sender,
        "from_formatted": sender,
        "group_sid": None,
        "parent_call_sid": None,
        "phone_number_sid": None,
        "price": None,
        "price_unit": "USD",
        "queue_time": "0",
        "sid": sid,
        "start_time": None,
        "status": "queued",
        "subresource_uris": {
            "notifications": f"{uri}/Notifications.json",
            "recordings": f"{uri}/Recordings.json",
        },
        "to": to,
        "to_formatted": to,
        "trunk_sid": None,
        "uri": f"{uri}.json",
    }


def account_resource(account: str, auth_token: str, friendly_name: str) -> dict[str, Any]:
    created = rfc2822(datetime(2024, 1, 1, tzinfo=UTC))
    base = f"/{API_VERSION}/Accounts/{account}"
    return {
        "auth_token": auth_token,
        "date_created": created,
        "date_updated": created,
        "friendly_name": friendly_name,
        "owner_account_sid": account,
        "sid": account,
        "status": "active",
        "subresource_uris": {
            "messages": f"{base}/Messages.json",
            "calls": f"{base}/Calls.json",
            "incoming_phone_numbers": f"{base}/IncomingPhoneNumbers.json",
        },
        "type": "Full",
        "uri": f"{base}.json",
    }


def phone_number_resource(
    *, account: str, phone_number: str, now: datetime, sms_url: str | None = None
) -> dict[str, Any]:
    sid = new_sid("PN")
    created = rfc2822(now)
    uri = f"/{API_VERSION}/Accounts/{account}/IncomingPhoneNumbers/{sid}"
    return {
        "account_sid": account,
        "address_requirements": "none",
        "address_sid": None,
        "api_version": API_VERSION,
        "beta": False,
        "bundle_sid": None,
        "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
        "date_created": created,
        "date_updated": created,
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "emergency_status": "Inactive",
        "friendly_name": phone_number,
        "identity_sid": None,
        "origin": "twilio",
        "phone_number": phone_number,
        "sid": sid,
        "sms_application_sid": None,
        "sms_fallback_method": "POST",
        "sms_fallback_url": None,
        "sms_method": "POST",
        "sms_url": sms_url,
        "status": "in-use",
        "status_callback": None,
        "status_callback_method": "POST",
        "subresource_uris": {"assigned_add_ons": f"{uri}/AssignedAddOns.json"},
        "trunk_sid": None,
        "type": "local",
        "uri": f"{uri}.json",
        "voice_application_sid": None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": None,
        "voice_method": "POST",
        "voice_receive_mode": "voice",
        "voice_url": None,
    }
