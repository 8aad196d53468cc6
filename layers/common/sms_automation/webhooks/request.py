"""Turn an HTTP API event (API Gateway v2, payload format 2.0) into the request Twilio sent.

Raw body, form params and the URL Twilio signed. Pure functions of the event: no AWS, no clock.
Everything here runs before the signature is checked, so it trusts nothing and fails with a
``WebhookRejected`` that says what was wrong.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from sms_automation.webhooks.rejections import (
    MalformedRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
_ACCEPTED_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
MAX_FORM_FIELDS = 1000
"""Twilio's richest webhook (an MMS with ten media) has well under 100 fields."""

# The headers kept with every stored message (Twilio's names).
KEPT_HEADERS = ("User-Agent", "X-Twilio-Signature", "I-Twilio-Idempotency-Token")


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """What Twilio posted, decoded but not yet trusted."""

    account_name: str
    url: str  # the URL Twilio signed (see ``signed_url``)
    media_type: str  # FORM or JSON
    body: bytes
    params: tuple[tuple[str, str], ...]  # form pairs in the order sent; JSON: top-level fields
    headers: Mapping[str, str]  # lower-cased names
    fields: Mapping[str, str] = field(default_factory=dict)
    """``first_values(params)`` of a form, computed once; empty for JSON (read once trusted)."""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def signature(self) -> str | None:
        return self.header("X-Twilio-Signature")


def first_values(params: Sequence[tuple[str, str]]) -> dict[str, str]:
    """One value per name: the first, as Twilio never repeats a messaging parameter."""
    values: dict[str, str] = {}
    for name, value in params:
        values.setdefault(name, value)
    return values


def lower_case_headers(event: Mapping[str, Any]) -> dict[str, str]:
    """Header names are case-insensitive: HTTP APIs lower-case them, a test or a proxy may not."""
    return {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}


def http_method(event: Mapping[str, Any]) -> str:
    """The request's method, upper-case (``requestContext.http.method``), or "" when absent."""
    http = (event.get("requestContext") or {}).get("http") or {}
    return str(http.get("method") or "").upper()


def ensure_post(event: Mapping[str, Any]) -> None:
    method = http_method(event)
    if method != "POST":
        raise MethodNotAllowed(f"method {method or '(none)'} is not allowed: Twilio POSTs")


def media_type_of(headers: Mapping[str, str]) -> str:
    """The media type, or ``UnsupportedMediaType`` unless it is a form or JSON in UTF-8."""
    content_type = headers.get("content-type", "")
    media_type, _, parameters = content_type.partition(";")
    media_type = media_type.strip().lower()
    if media_type not in (FORM, JSON):
        shown = media_type or "(none)"
        raise UnsupportedMediaType(f"content type {shown} is not supported: send {FORM} or {JSON}")
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
            if charset not in _ACCEPTED_CHARSETS:
                raise UnsupportedMediaType(f"charset {charset} is not supported: send UTF-8")
    return media_type


def raw_body(event: Mapping[str, Any], max_bytes: int) -> bytes:
    """The body's bytes exactly as posted: base64-decoded when API Gateway encoded it."""
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedRequest("the body is not text")
    if event.get("isBase64Encoded"):
        # 4 base64 characters carry 3 bytes: refuse obvious giants before decoding them.
        if len(body) > (max_bytes + 2) // 3 * 4 + 4:
            raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes")
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as error:
            raise MalformedRequest("the body is marked base64 but is not valid base64") from error
    else:
        if len(body) > max_bytes:  # each character is at least one byte
            raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes")
        try:
            data = body.encode("utf-8")
        except UnicodeEncodeError as error:  # lone surrogates from a broken client
            raise MalformedRequest("the body is not valid UTF-8") from error
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes")
    return data


def form_params(body: bytes, max_fields: int = MAX_FORM_FIELDS) -> tuple[tuple[str, str], ...]:
    """Every ``key=value`` pair in order, blank values kept, nothing trimmed: ``parse_qsl``,
    strict (a pair without ``=`` or an escape that is not UTF-8 is a 400), at most
    ``max_fields`` pairs (Twilio sends a few dozen; a flood of tiny pairs is a 400 too)."""
    try:
        text = body.decode("ascii")  # a urlencoded body is ASCII; UTF-8 hides in %XX escapes
    except UnicodeDecodeError as error:
        raise MalformedRequest("the form body is not valid UTF-8 once decoded") from error
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=max_fields,
        )
    except UnicodeDecodeError as error:  # a ValueError too: caught first
        raise MalformedRequest("the form body is not valid UTF-8 once decoded") from error
    except ValueError as error:
        if text.count("&") + 1 > max_fields:
            raise MalformedRequest(f"the form body has more than {max_fields} fields") from error
        raise MalformedRequest("the form body is not application/x-www-form-urlencoded") from error
    return tuple(pairs)


def json_params(body: bytes) -> tuple[tuple[str, str], ...]:
    """Top-level fields of a JSON object body, as text (nested values as compact JSON)."""
    try:
        document = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise MalformedRequest("the JSON body is not valid UTF-8") from error
    except ValueError as error:
        raise MalformedRequest("the body is not valid JSON") from error
    if not isinstance(document, dict):
        raise MalformedRequest("the JSON body must be an object")
    return tuple(
        (str(key), value if isinstance(value, str) else json.dumps(value, separators=(",", ":")))
        for key, value in document.items()
    )


def route_path(event: Mapping[str, Any]) -> str:
    """The path that was called, without a stage: ``/twilio/acme/sms``, ``.../status``.

    ``rawPath`` as the HTTP API received it. The stack serves the ``$default`` stage, whose
    rawPath has no stage segment (on AWS and the emulator alike); a named stage's segment, which
    AWS puts in rawPath, is taken off so a public base URL is followed by the route alone.
    """
    path = str(event.get("rawPath") or "")
    stage = str((event.get("requestContext") or {}).get("stage") or "$default")
    prefix = f"/{stage}"
    if stage != "$default" and (path == prefix or path.startswith(prefix + "/")):
        path = path[len(prefix) :]
    return path


def signed_url(event: Mapping[str, Any], headers: Mapping[str, str], public_base_url: str) -> str:
    """The URL Twilio signed: as configured in Twilio (a Messaging Request URL, a StatusCallback).

    With a public base URL (custom domain, tunnel, local emulator) it is that base plus the
    route; otherwise the API's own address: ``https://{domain}{rawPath}``. The query string is
    ``rawQueryString``, byte for byte as received: re-encoding parsed parameters would sign a
    different URL (``a=1&b=2&a=3``, ``debug``, ``a+b``, ``%7E`` all change).
    """
    raw_query = str(event.get("rawQueryString") or "")
    query = f"?{raw_query}" if raw_query else ""
    if public_base_url:
        return f"{public_base_url.rstrip('/')}{route_path(event)}{query}"
    context = event.get("requestContext") or {}
    domain = context.get("domainName") or headers.get("host", "")
    scheme = headers.get("x-forwarded-proto", "https")
    return f"{scheme}://{domain}{event.get('rawPath') or ''}{query}"


def parse_webhook_event(
    event: Mapping[str, Any], *, public_base_url: str, max_body_bytes: int
) -> WebhookRequest:
    """Method, then media type, then size, then encoding: the first problem found is reported."""
    ensure_post(event)
    headers = lower_case_headers(event)
    media_type = media_type_of(headers)
    body = raw_body(event, max_body_bytes)
    params = form_params(body) if media_type == FORM else ()
    account = (event.get("pathParameters") or {}).get("account")
    if not isinstance(account, str) or not account:
        raise MalformedRequest("the URL has no account segment")
    return WebhookRequest(
        account_name=account,
        url=signed_url(event, headers, public_base_url),
        media_type=media_type,
        body=body,
        params=params,
        headers=headers,
        fields=first_values(params),
    )
