"""The URL Twilio signed keeps its query string byte for byte (payload 2.0 ``rawQueryString``).

Held to the known-answer vectors (tests/fixtures/signature_vectors.json) through a whole
HTTP API event, and to the four queries a rebuild from parsed parameters got wrong.

A query string rebuilt from parsed parameters is a different URL whenever a name repeats
around another (``a=1&b=2&a=3``), a name has no ``=`` (``?debug``), a space is written ``+``
or an unreserved character is escaped (``%7E``): Twilio signed what it was configured with,
so each of those rebuilds turned a genuine request into a 403.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from sms_automation.webhooks.request import FORM, JSON, parse_webhook_event
from sms_automation.webhooks.signature import verify_form, verify_json
from tests.support.events import FIXTURES, api_url, http_api_event, signed_webhook_event

TOKEN = "query-token-0123456789abcdef0123"
BODY = "MessageSid=SM0123&From=%2B15550001111&Body=hi"
PUBLIC_BASE = "https://sms.example.com"

QUERIES = [
    pytest.param("a=1&b=2&a=3", id="repeated-name-around-another"),
    pytest.param("debug", id="name-without-equals"),
    pytest.param("q=a+b", id="plus-for-space"),
    pytest.param("x=%7E", id="escaped-unreserved"),
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("public_base_url", ["", PUBLIC_BASE])
def test_signed_url_is_the_url_twilio_called_query_and_all(
    query: str, public_base_url: str
) -> None:
    base = f"{public_base_url}/twilio/acme/sms" if public_base_url else api_url("acme")
    url = f"{base}?{query}"
    event = signed_webhook_event("acme", BODY, TOKEN, url=url, raw_query=query)

    request = parse_webhook_event(event, public_base_url=public_base_url, max_body_bytes=65_536)

    assert request.url == url
    assert verify_form(request.url, request.params, request.signature, [TOKEN]).valid


def _vectors(kind: str) -> list[Any]:
    document = json.loads((FIXTURES / "signature_vectors.json").read_text("utf-8"))
    return [pytest.param(vector, id=vector["name"]) for vector in document[kind]]


def _event_for(
    url: str, body: str, content_type: str, signature: str
) -> tuple[dict[str, Any], str]:
    """The HTTP API event of a request to ``url``, and the public base URL in front of its path."""
    parts = urlsplit(url)
    event = http_api_event(
        "POST",
        "ANY /{proxy+}",
        parts.path,
        path_parameters={"account": "acme"},
        headers={"Content-Type": content_type, "X-Twilio-Signature": signature},
        body=base64.b64encode(body.encode("utf-8")).decode("ascii"),
        base64_encoded=True,
        raw_query=parts.query,
    )
    return event, f"{parts.scheme}://{parts.netloc}"


@pytest.mark.parametrize("vector", _vectors("compute"))
def test_known_answer_form_vectors_pass_through_the_http_api_event(vector: dict[str, Any]) -> None:
    body = vector.get("form_body") or urlencode([tuple(pair) for pair in vector["params"]])
    event, base = _event_for(vector["url"], body, FORM, vector["signature"])

    request = parse_webhook_event(event, public_base_url=base, max_body_bytes=65_536)

    assert request.url == vector["url"]
    assert verify_form(request.url, request.params, request.signature, [vector["auth_token"]]).valid


@pytest.mark.parametrize("vector", _vectors("verify_json"))
def test_known_answer_json_vectors_pass_through_the_http_api_event(vector: dict[str, Any]) -> None:
    event, base = _event_for(vector["url"], vector["body"], JSON, vector["signature"])

    request = parse_webhook_event(event, public_base_url=base, max_body_bytes=65_536)

    assert request.url == vector["url"]
    check = verify_json(request.url, request.body, request.signature, [vector["auth_token"]])
    assert check.valid is vector["valid"]
