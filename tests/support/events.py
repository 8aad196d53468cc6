"""Builders for API Gateway (REST proxy) events carrying Twilio webhook requests.

Requests are signed with twilio-python's own ``RequestValidator``, an implementation
independent of ours, so a test that passes proves we agree with Twilio's library.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FORM = "application/x-www-form-urlencoded"

API_DOMAIN = "abc123defg.execute-api.us-east-1.amazonaws.com"
STAGE = "dev"


def inbound_examples() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "inbound_messages.json").read_text("utf-8"))
    return data


def inbound_example(example_id: str) -> dict[str, Any]:
    for example in inbound_examples()["examples"]:
        if example["id"] == example_id:
            return dict(example)
    raise KeyError(example_id)


def api_url(
    account: str, *, domain: str = API_DOMAIN, stage: str = STAGE, route: str = "sms"
) -> str:
    return f"https://{domain}/{stage}/twilio/{account}/{route}"


def twilio_signature(url: str, raw_body: str, auth_token: str) -> str:
    params = dict(parse_qsl(raw_body, keep_blank_values=True))
    return str(RequestValidator(auth_token).compute_signature(url, params))


def webhook_event(
    account: str,
    body: str | None,
    *,
    method: str = "POST",
    headers: dict[str, str] | None = None,
    content_type: str | None = FORM,
    base64_encoded: bool = False,
    domain: str = API_DOMAIN,
    stage: str = STAGE,
    query: dict[str, str] | None = None,
    raw_query: str | None = None,
    route: str = "sms",
) -> dict[str, Any]:
    """An API Gateway REST proxy event as AWS delivers it for ``/twilio/{account}/{route}``
    (``sms``: inbound messages, ``status``: status callbacks)."""
    all_headers = {"Host": domain, "User-Agent": "TwilioProxy/1.1", "X-Forwarded-Proto": "https"}
    if content_type is not None:
        all_headers["Content-Type"] = content_type
    all_headers.update(headers or {})
    if base64_encoded and body is not None:
        body = base64.b64encode(body.encode("utf-8")).decode("ascii")
    multi_query: dict[str, list[str]] | None = (
        {k: [v] for k, v in query.items()} if query else None
    )
    if raw_query is not None:
        multi_query = {}
        for name, value in parse_qsl(raw_query, keep_blank_values=True):
            multi_query.setdefault(name, []).append(value)
        query = {k: v[-1] for k, v in multi_query.items()}
    return {
        "resource": f"/twilio/{{account}}/{route}",
        "path": f"/twilio/{account}/{route}",
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"account": account},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": f"/twilio/{{account}}/{route}",
            "httpMethod": method,
            "path": f"/{stage}/twilio/{account}/{route}",
            "stage": stage,
            "domainName": domain,
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        },
        "body": body,
        "isBase64Encoded": base64_encoded,
    }


def signed_webhook_event(
    account: str,
    raw_body: str,
    auth_token: str,
    *,
    url: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    signed = url or api_url(
        account,
        domain=kwargs.get("domain", API_DOMAIN),
        stage=kwargs.get("stage", STAGE),
        route=kwargs.get("route", "sms"),
    )
    headers = {
        "X-Twilio-Signature": twilio_signature(signed, raw_body, auth_token),
        "I-Twilio-Idempotency-Token": "2f0c7a1e-1b7e-4c55-9d5b-3d3d1b1e0c11",
        **kwargs.pop("headers", {}),
    }
    return webhook_event(account, raw_body, headers=headers, **kwargs)


def assert_empty_twiml(response: dict[str, Any]) -> None:
    """What Twilio must get on success: 200, text/xml, an empty ``<Response/>``."""
    from sms_automation.inbound.responses import EMPTY_TWIML

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/xml"
    assert response["body"] == EMPTY_TWIML


def assert_error(response: dict[str, Any], status: int, reason: str) -> None:
    assert response["statusCode"] == status
    assert response["headers"]["Content-Type"] == "application/json"
    assert json.loads(response["body"])["error"] == reason
