"""The URL Twilio signed keeps its query string byte for byte (payload 2.0 ``rawQueryString``).

A query string rebuilt from parsed parameters is a different URL whenever a name repeats
around another (``a=1&b=2&a=3``), a name has no ``=`` (``?debug``), a space is written ``+``
or an unreserved character is escaped (``%7E``): Twilio signed what it was configured with,
so each of those rebuilds turned a genuine request into a 403.
"""

from __future__ import annotations

import pytest

from sms_automation.inbound.request import parse_webhook_event
from sms_automation.signature import verify_form
from tests.support.events import api_url, signed_webhook_event

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
def test_signed_url_is_the_url_twilio_called_query_and_all(query: str, public_base_url: str) -> None:
    base = f"{public_base_url}/twilio/acme/sms" if public_base_url else api_url("acme")
    url = f"{base}?{query}"
    event = signed_webhook_event("acme", BODY, TOKEN, url=url, raw_query=query)

    request = parse_webhook_event(event, public_base_url=public_base_url, max_body_bytes=65_536)

    assert request.url == url
    assert verify_form(request.url, request.params, request.signature, [TOKEN]).valid
