"""Turn an API Gateway (REST, proxy) event into the request Twilio sent: raw body, params, URL.

Pure functions of the event: no AWS, no clock. Everything here runs before the signature is
checked, so it trusts nothing and fails with a ``WebhookRejected`` that says what was wrong.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlencode

from sms_automation.inbound.rejections import (
    MalformedRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
_ACCEPTED_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})

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
    """Header names are case-insensitive; API Gateway keeps the client's case, emulators don't."""
    return {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}


def ensure_post(event: Mapping[str, Any]) -> None:
    method = str(event.get("httpMethod") or "").upper()
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


def form_params(body: bytes) -> tuple[tuple[str, str], ...]:
    """Every ``key=value`` pair in order, blank values kept, nothing trimmed.

    Exactly ``parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict")``
    (a property test holds it to that), in half its time: a name or value is unquoted only when
    it holds an escape, and nothing is checked twice (``make bench``, warm webhook).
    """
    try:
        text = body.decode("ascii")  # a urlencoded body is ASCII; UTF-8 hides in %XX escapes
    except UnicodeDecodeError as error:
        raise MalformedRequest("the form body is not valid UTF-8 once decoded") from error
    if not text:
        return ()
    pairs = []
    for pair in text.split("&"):
        name, equals, value = pair.partition("=")
        if not equals:
            raise MalformedRequest("the form body is not application/x-www-form-urlencoded")
        pairs.append((_form_decoded(name), _form_decoded(value)))
    return tuple(pairs)


def _form_decoded(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    if "%" not in text:
        return text
    try:
        return unquote(text, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as error:
        raise MalformedRequest("the form body is not valid UTF-8 once decoded") from error


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


def _query_string(event: Mapping[str, Any]) -> str:
    multi = event.get("multiValueQueryStringParameters") or {}
    if multi:
        pairs = [(k, v) for k, values in multi.items() for v in (values or [])]
    else:
        pairs = list((event.get("queryStringParameters") or {}).items())
    return "?" + urlencode(pairs, quote_via=quote, safe="") if pairs else ""


_PATH_PARAMETER = re.compile(r"\{([^{}+]+)\+?\}")


def route_path(event: Mapping[str, Any]) -> str:
    """The route that was called, without the stage: ``/twilio/acme/sms``, ``.../status``.

    API Gateway's resource template (``/twilio/{account}/status``) with the path parameters
    filled in; a route without a resource (not from API Gateway) is the Messaging webhook's.
    """
    parameters = event.get("pathParameters") or {}
    context = event.get("requestContext") or {}
    template = event.get("resource") or context.get("resourcePath") or "/twilio/{account}/sms"
    return _PATH_PARAMETER.sub(lambda match: str(parameters.get(match.group(1), "")), template)


def signed_url(event: Mapping[str, Any], headers: Mapping[str, str], public_base_url: str) -> str:
    """The URL Twilio signed: as configured in Twilio (a Messaging Request URL, a StatusCallback).

    With a public base URL (custom domain, tunnel, local emulator) it is that base plus the
    route; otherwise the API's own address: ``https://{domain}{path}``, where API Gateway's
    ``requestContext.path`` carries the stage (``/dev/twilio/acme/sms``).
    Query strings are rebuilt from API Gateway's parsed parameters, in the order received.
    """
    query = _query_string(event)
    if public_base_url:
        return f"{public_base_url.rstrip('/')}{route_path(event)}{query}"
    context = event.get("requestContext") or {}
    domain = context.get("domainName") or headers.get("host", "")
    path = context.get("path") or event.get("path") or ""
    scheme = headers.get("x-forwarded-proto", "https")
    return f"{scheme}://{domain}{path}{query}"


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
