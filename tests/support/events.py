"""Builders for API Gateway HTTP API (payload format 2.0) events carrying Twilio webhook requests.

Requests are signed with twilio-python's own ``RequestValidator``, an implementation
independent of ours, so a test that passes proves we agree with Twilio's library.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from twilio.request_validator import RequestValidator

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FORM = "application/x-www-form-urlencoded"

API_ID = "abc123defg"
API_DOMAIN = f"{API_ID}.execute-api.us-east-1.amazonaws.com"
STAGE = "$default"
"""The stack's HTTP APIs serve their ``$default`` stage: no stage segment in URLs or rawPath."""


def inbound_examples() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "inbound_messages.json").read_text("utf-8"))
    return data


def inbound_example(example_id: str) -> dict[str, Any]:
    for example in inbound_examples()["examples"]:
        if example["id"] == example_id:
            return dict(example)
    raise KeyError(example_id)


def stage_prefix(stage: str) -> str:
    """The path segment a stage adds: none for ``$default``, ``/{stage}`` for a named one."""
    return "" if stage == "$default" else f"/{stage}"


def api_url(
    account: str, *, domain: str = API_DOMAIN, stage: str = STAGE, route: str = "sms"
) -> str:
    return f"https://{domain}{stage_prefix(stage)}/twilio/{account}/{route}"


def twilio_signature(url: str, raw_body: str, auth_token: str) -> str:
    params = dict(parse_qsl(raw_body, keep_blank_values=True))
    return str(RequestValidator(auth_token).compute_signature(url, params))


def http_api_event(
    method: str,
    route_key: str,
    raw_path: str,
    *,
    path_parameters: dict[str, str] | None,
    headers: dict[str, str],
    body: str | None,
    base64_encoded: bool = False,
    raw_query: str = "",
    domain: str = API_DOMAIN,
    stage: str = STAGE,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An HTTP API (API Gateway v2) Lambda proxy event, payload format 2.0, as AWS documents it:
    lower-case header names, ``rawPath`` with a named stage's segment (none for ``$default``),
    ``rawQueryString`` as sent, parsed parameters with repeated values joined by commas."""
    query: dict[str, list[str]] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query.setdefault(name, []).append(value)
    path = f"{stage_prefix(stage)}{raw_path}"
    lower = {name.lower(): value for name, value in headers.items()}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": lower,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": domain.split(".", 1)[0],
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": lower.get("user-agent", ""),
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": route_key,
            "stage": stage,
            "time": "07/Dec/2026:00:00:00 +0000",
            "timeEpoch": 1796601600000,
        },
        "isBase64Encoded": base64_encoded,
    }
    if query:
        event["queryStringParameters"] = {k: ",".join(v) for k, v in query.items()}
    if path_parameters:
        event["pathParameters"] = path_parameters
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    if body is not None:
        event["body"] = body
    return event


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
    """The HTTP API event AWS delivers for ``/twilio/{account}/{route}`` (``sms``: inbound
    messages, ``status``: status callbacks); ``raw_query`` as sent, or ``query`` encoded."""
    all_headers = {
        "Host": domain,
        "User-Agent": "TwilioProxy/1.1",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Port": "443",
    }
    if content_type is not None:
        all_headers["Content-Type"] = content_type
    all_headers.update(headers or {})
    if base64_encoded and body is not None:
        body = base64.b64encode(body.encode("utf-8")).decode("ascii")
    if raw_query is None:
        raw_query = urlencode(query or {})
    return http_api_event(
        method,
        f"ANY /twilio/{{account}}/{route}",
        f"/twilio/{account}/{route}",
        path_parameters={"account": account},
        headers=all_headers,
        body=body,
        base64_encoded=base64_encoded,
        raw_query=raw_query,
        domain=domain,
        stage=stage,
    )


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
    from sms_automation.webhooks.responses import EMPTY_TWIML

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/xml"
    assert response["body"] == EMPTY_TWIML


def assert_error(response: dict[str, Any], status: int, reason: str) -> None:
    assert response["statusCode"] == status
    assert response["headers"]["Content-Type"] == "application/json"
    assert json.loads(response["body"])["error"] == reason


def automations_api_event(
    method: str,
    account: str,
    name: str,
    *,
    run_id: str | None = None,
    headers: dict[str, str] | None = None,
    body: str | None = None,
    base64_encoded: bool = False,
    raw_query: str = "",
    caller_arn: str | None = "arn:aws:iam::123456789012:role/booking",
    stage: str = STAGE,
    encoded_name: str | None = None,
) -> dict[str, Any]:
    """The HTTP API event of an IAM-authorised call to the automations API: ``authorizer.iam``
    holds the principal API Gateway authenticated, as AWS documents for payload 2.0.
    ``encoded_name``: the name as it appears in the path (percent-encoded), default ``name``."""
    template = "/automations/{account}/{name}/runs" + ("/{run_id}" if run_id else "")
    in_path = encoded_name if encoded_name is not None else name
    path = f"/automations/{account}/{in_path}/runs" + (f"/{run_id}" if run_id else "")
    parameters = {"account": account, "name": name} | ({"run_id": run_id} if run_id else {})
    iam = (
        {
            "accessKey": "ASIAEXAMPLE",
            "accountId": "123456789012",
            "callerId": "AROAEXAMPLE:booking",
            "principalOrgId": None,
            "userArn": caller_arn,
            "userId": "AROAEXAMPLE:booking",
        }
        if caller_arn is not None
        else None
    )
    return http_api_event(
        method,
        f"{method} {template}",
        path,
        path_parameters=parameters,
        headers=headers or {},
        body=body,
        base64_encoded=base64_encoded,
        raw_query=raw_query,
        stage=stage,
        authorizer={"iam": iam} if iam is not None else None,
    )


def console_api_event(
    route: str,
    path_parameters: dict[str, str] | None = None,
    *,
    groups: str | None = "[viewer]",
    raw_query: str = "",
    email: str = "ann@example.com",
    method: str = "GET",
    body: str | None = None,
) -> dict[str, Any]:
    """A console API event as API Gateway passes it after its JWT authorizer accepted the
    token: the claims under ``authorizer.jwt.claims``, ``cognito:groups`` stringified as AWS
    does (``"[admin account:acme]"``); ``groups`` None: a user in no group (no claim).
    ``method`` and ``body``: a write route's (``POST``, its JSON text)."""
    raw_path = route
    for name, value in (path_parameters or {}).items():
        raw_path = raw_path.replace("{" + name + "}", quote(value, safe=""))
    claims: dict[str, Any] = {"email": email, "token_use": "id", "sub": "0f1e2d3c"}
    if groups is not None:
        claims["cognito:groups"] = groups
    headers = {"authorization": "Bearer eyJ.redacted.sig"}
    if body is not None:
        headers["content-type"] = "application/json"
    return http_api_event(
        method,
        f"{method} {route}",
        raw_path,
        path_parameters=path_parameters,
        headers=headers,
        body=body,
        raw_query=raw_query,
        stage="$default",
        authorizer={"jwt": {"claims": claims, "scopes": None}},
    )
