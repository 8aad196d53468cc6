"""Parsing API Gateway events into Twilio webhook requests: every way a request can be wrong."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms_automation.webhooks.rejections import (
    MalformedRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from sms_automation.webhooks.request import (
    FORM,
    JSON,
    WebhookRequest,
    form_params,
    json_params,
    parse_webhook_event,
    signed_url,
)
from tests.support.events import api_url, inbound_example, webhook_event

LIMIT = 65_536


def parse(event: dict[str, Any], public_base_url: str = "") -> WebhookRequest:
    return parse_webhook_event(event, public_base_url=public_base_url, max_body_bytes=LIMIT)


def test_parse_form_keeps_every_param_in_order_with_blank_values() -> None:
    example = inbound_example("sms_plain")
    request = parse(webhook_event("acme", example["raw_body"]))
    assert [list(pair) for pair in request.params] == example["params"]
    assert ("ToCity", "") in request.params


def test_parse_base64_body_is_decoded_to_the_same_params() -> None:
    example = inbound_example("sms_emoji_multisegment")
    plain = parse(webhook_event("acme", example["raw_body"]))
    encoded = parse(webhook_event("acme", example["raw_body"], base64_encoded=True))
    assert encoded.params == plain.params
    assert encoded.body == example["raw_body"].encode()


def test_parse_whitespace_body_is_never_trimmed() -> None:
    request = parse(webhook_event("acme", inbound_example("sms_whitespace_body")["raw_body"]))
    assert dict(request.params)["Body"] == "  yes\nplease  "


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
def test_parse_rejects_methods_other_than_post(method: str) -> None:
    with pytest.raises(MethodNotAllowed):
        parse(webhook_event("acme", "", method=method))


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "multipart/form-data; boundary=x", "application/xml", "form"],
)
def test_parse_rejects_unsupported_content_types(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType):
        parse(webhook_event("acme", "a=b", content_type=content_type))


def test_parse_rejects_a_charset_other_than_utf8() -> None:
    with pytest.raises(UnsupportedMediaType, match="latin-1"):
        parse(webhook_event("acme", "a=b", content_type=f"{FORM}; charset=latin-1"))


@pytest.mark.parametrize(
    "content_type",
    [FORM, f"{FORM}; charset=utf-8", f"{FORM};charset=UTF-8", "Application/X-WWW-Form-Urlencoded"],
)
def test_parse_accepts_form_content_type_spellings(content_type: str) -> None:
    assert parse(webhook_event("acme", "a=b", content_type=content_type)).media_type == FORM


def test_parse_finds_headers_whatever_their_case() -> None:
    event = webhook_event("acme", "a=b", content_type=None, headers={"content-TYPE": JSON})
    event["headers"]["x-twilio-signature"] = "abc"
    request = parse(event)
    assert request.media_type == JSON
    assert request.signature == "abc"


def test_parse_rejects_a_body_over_the_limit() -> None:
    with pytest.raises(PayloadTooLarge):
        parse(webhook_event("acme", "a=" + "x" * LIMIT))


def test_parse_rejects_a_base64_body_over_the_limit_before_decoding() -> None:
    with pytest.raises(PayloadTooLarge):
        parse(webhook_event("acme", "a=" + "x" * LIMIT, base64_encoded=True))


def test_parse_accepts_a_body_exactly_at_the_limit() -> None:
    body = "a=" + "x" * (LIMIT - 2)
    assert len(parse(webhook_event("acme", body)).body) == LIMIT


def test_parse_rejects_invalid_base64() -> None:
    event = webhook_event("acme", "a=b")
    event["body"], event["isBase64Encoded"] = "not base64!!", True
    with pytest.raises(MalformedRequest, match="base64"):
        parse(event)


def test_parse_rejects_percent_encoded_bytes_that_are_not_utf8() -> None:
    with pytest.raises(MalformedRequest, match="UTF-8"):
        parse(webhook_event("acme", "Body=%FF%FE"))


def test_parse_rejects_raw_non_ascii_bytes_in_a_form() -> None:
    event = webhook_event("acme", "x")
    event["body"], event["isBase64Encoded"] = base64.b64encode(b"Body=\xff").decode(), True
    with pytest.raises(MalformedRequest):
        parse(event)


def test_parse_rejects_a_form_field_without_equals_sign() -> None:
    with pytest.raises(MalformedRequest):
        form_params(b"Body=hi&garbage")


def test_parse_reports_the_method_before_the_content_type() -> None:
    with pytest.raises(MethodNotAllowed):
        parse(webhook_event("acme", "a", method="GET", content_type="text/plain"))


def test_parse_empty_body_gives_no_params() -> None:
    assert parse(webhook_event("acme", None)).params == ()


def test_json_params_flattens_top_level_fields() -> None:
    params = json_params(b'{"MessageSid": "SM1", "NumMedia": 2, "Media": [{"a": 1}]}')
    assert params == (("MessageSid", "SM1"), ("NumMedia", "2"), ("Media", '[{"a":1}]'))


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b"\xff\xfe"])
def test_json_params_rejects_anything_but_an_object(body: bytes) -> None:
    with pytest.raises(MalformedRequest):
        json_params(body)


def test_signed_url_is_the_api_url_by_default() -> None:
    event = webhook_event("acme", "a=b")
    assert signed_url(event, {}, "") == api_url("acme")


def test_signed_url_uses_the_public_base_url_when_configured() -> None:
    event = webhook_event("acme", "a=b")
    url = signed_url(event, {}, "https://sms.example.com/")
    assert url == "https://sms.example.com/twilio/acme/sms"


def test_signed_url_keeps_the_query_string() -> None:
    event = webhook_event("acme", "{}", query={"bodySHA256": "abc123"})
    assert signed_url(event, {}, "https://sms.example.com") == (
        "https://sms.example.com/twilio/acme/sms?bodySHA256=abc123"
    )


def test_signed_url_falls_back_to_the_host_header_without_a_domain_name() -> None:
    event = webhook_event("acme", "a=b")
    del event["requestContext"]["domainName"]
    headers = {"host": "tunnel.example.net", "x-forwarded-proto": "https"}
    assert signed_url(event, headers, "") == "https://tunnel.example.net/twilio/acme/sms"


_FORM_TEXT = st.text(
    alphabet=st.sampled_from("ab=&+%2F0Ffz9 .~-_") | st.characters(max_codepoint=0x7F),
    max_size=40,
)


@given(
    text=_FORM_TEXT
    | st.builds(
        "".join,
        st.lists(st.sampled_from(["%E2%82%AC", "%FF", "%", "%4", "+", "=", "&", "a"]), max_size=12),
    )
)
def test_form_params_is_strict_parse_qsl_with_blank_values(text: str) -> None:
    try:
        expected: object = tuple(
            parse_qsl(
                text, keep_blank_values=True, strict_parsing=True, encoding="utf-8", errors="strict"
            )
        )
    except (ValueError, UnicodeDecodeError):  # UnicodeDecodeError is a ValueError too
        expected = MalformedRequest
    try:
        actual: object = form_params(text.encode("ascii"))
    except MalformedRequest:
        actual = MalformedRequest
    assert actual == expected


def test_form_params_refuses_more_fields_than_the_limit_with_a_400() -> None:
    assert len(form_params(b"&".join([b"a=1"] * 5), max_fields=5)) == 5
    with pytest.raises(MalformedRequest, match="more than 5 fields"):
        form_params(b"&".join([b"a=1"] * 6), max_fields=5)


def test_parse_refuses_a_flood_of_tiny_fields_within_the_size_limit() -> None:
    body = "&".join(["a="] * 2000)  # 6 KB: under the size limit, over the field limit
    with pytest.raises(MalformedRequest, match="more than 1000 fields"):
        parse(webhook_event("acme", body))
