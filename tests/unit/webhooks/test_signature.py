"""X-Twilio-Signature: known-answer vectors, agreement with twilio-python, negative cases."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator, add_port, remove_port

from sms_automation.webhooks.signature import (
    REASON_BODY_HASH_MISMATCH,
    REASON_BODY_HASH_MISSING,
    REASON_MISSING_SIGNATURE,
    REASON_NO_MATCH,
    body_sha256,
    claimed_body_hash,
    compute_signature,
    url_variants,
    url_with_body_hash,
    verify_form,
    verify_json,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "signature_vectors.json").read_text("utf-8")
)

DOCS_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TOKEN = "0123456789abcdef0123456789abcdef"
PREVIOUS_TOKEN = "fedcba9876543210fedcba9876543210"
INBOUND_SMS = next(
    v for v in VECTORS["compute"] if v["name"] == "project_sms_with_geo_fields_and_blank_ToCity"
)


class TwilioMultiDict:
    """The slice of the multi-dict protocol twilio-python's RequestValidator reads:
    iteration over names and ``getall`` (Flask/aiohttp MultiDict)."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._pairs = list(pairs)

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def getall(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]


def _params(vector: dict[str, Any]) -> list[tuple[str, str]]:
    if "form_body" in vector:
        return parse_qsl(vector["form_body"], keep_blank_values=True)
    return [(name, value) for name, value in vector["params"]]


def _twilio_signature(url: str, params: Sequence[tuple[str, str]], token: str) -> str:
    return str(RequestValidator(token).compute_signature(url, TwilioMultiDict(params)))


def _by_name(vectors: list[dict[str, Any]]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("vector", vectors, ids=[v["name"] for v in vectors])


# ------------------------------------------------------------------ known answers


@_by_name(VECTORS["compute"])
def test_compute_signature_matches_known_answer(vector: dict[str, Any]) -> None:
    signature = compute_signature(vector["url"], _params(vector), vector["auth_token"])

    assert signature == vector["signature"]


@_by_name(VECTORS["compute"])
def test_compute_signature_agrees_with_twilio_python_on_vectors(vector: dict[str, Any]) -> None:
    params = _params(vector)

    ours = compute_signature(vector["url"], params, vector["auth_token"])

    assert ours == _twilio_signature(vector["url"], params, vector["auth_token"])


@_by_name(VECTORS["verify_form"])
def test_verify_form_matches_known_answer(vector: dict[str, Any]) -> None:
    params = _params(vector)
    signature = vector.get("signature") or compute_signature(
        vector["signature_of_url"], params, vector["auth_token"]
    )

    check = verify_form(vector["url"], params, signature, [vector["auth_token"]])

    assert (check.valid, check.matched_url) == (vector["valid"], vector["matched_url"])
    assert check.reason == ("" if vector["valid"] else REASON_NO_MATCH)


@_by_name(VECTORS["verify_json"])
def test_verify_json_matches_known_answer(vector: dict[str, Any]) -> None:
    body = vector["body"].encode()

    check = verify_json(vector["url"], body, vector["signature"], [vector["auth_token"]])

    assert (check.valid, check.reason) == (vector["valid"], vector["reason"])


@_by_name(VECTORS["body_sha256"])
def test_body_sha256_matches_known_answer(vector: dict[str, Any]) -> None:
    assert body_sha256(vector["body"].encode()) == vector["sha256"]


@_by_name([v for v in VECTORS["compute"] if "form_body" in v])
def test_verify_form_agrees_with_twilio_python_validate_on_project_payloads(
    vector: dict[str, Any],
) -> None:
    params = _params(vector)
    signature = _twilio_signature(vector["url"], params, vector["auth_token"])
    validator = RequestValidator(vector["auth_token"])

    check = verify_form(vector["url"], params, signature, [vector["auth_token"]])

    assert check.valid
    assert validator.validate(vector["url"], TwilioMultiDict(params), signature)


# ------------------------------------------------------------------ properties

names = st.sampled_from(["Body", "To", "From", "ToCity", "MediaUrl0", "a", "B", "é", "😀", ""])
values = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
param_lists = st.lists(st.tuples(names | values, values), max_size=8)
urls = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


@given(url=urls, params=param_lists, token=values.filter(bool))
def test_compute_signature_equals_twilio_python_for_arbitrary_input(
    url: str, params: list[tuple[str, str]], token: str
) -> None:
    assert compute_signature(url, params, token) == _twilio_signature(url, params, token)


hosts = st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?", fullmatch=True)
ports = st.none() | st.integers(1, 65535).map(str)
paths = st.from_regex(r"(/[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,10}){0,3}", fullmatch=True)
queries = st.none() | st.from_regex(r"[A-Za-z0-9=&%+._~-]{0,20}", fullmatch=True)


@st.composite
def http_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https"]))
    user = draw(st.none() | st.from_regex(r"[a-z]{1,8}", fullmatch=True))
    port = draw(ports)
    query = draw(queries)
    return (
        f"{scheme}://{user + '@' if user else ''}{draw(hosts)}{':' + port if port else ''}"
        f"{draw(paths)}{'?' + query if query is not None else ''}"
    )


@given(url=http_urls())
def test_url_variants_include_the_url_and_twilio_python_port_variants(url: str) -> None:
    parsed = urlparse(url)
    assume(parsed.geturl() == url)

    variants = url_variants(url)

    assert variants[0] == url
    assert len(set(variants)) == len(variants)
    assert {add_port(parsed), remove_port(parsed)} <= set(variants)


# ------------------------------------------------------------------ negative cases


def test_verify_form_rejects_wrong_token() -> None:
    params = _params(INBOUND_SMS)

    check = verify_form(INBOUND_SMS["url"], params, INBOUND_SMS["signature"], [PREVIOUS_TOKEN])

    assert not check.valid
    assert check.reason == REASON_NO_MATCH
    assert check.matched_url is None
    assert check.matched_token_index is None


def test_verify_form_rejects_tampered_param() -> None:
    tampered = [(n, "Send me the code" if n == "Body" else v) for n, v in _params(INBOUND_SMS)]

    check = verify_form(INBOUND_SMS["url"], tampered, INBOUND_SMS["signature"], [TOKEN])

    assert not check.valid


def test_verify_form_rejects_dropped_blank_value() -> None:
    without_blank_city = [(n, v) for n, v in _params(INBOUND_SMS) if n != "ToCity"]

    check = verify_form(INBOUND_SMS["url"], without_blank_city, INBOUND_SMS["signature"], [TOKEN])

    assert not check.valid


def test_verify_form_rejects_blank_value_trimmed_from_a_space() -> None:
    signed = [*_params(INBOUND_SMS), ("AddOns", " ")]
    trimmed = [*_params(INBOUND_SMS), ("AddOns", "")]
    signature = compute_signature(INBOUND_SMS["url"], signed, TOKEN)

    assert verify_form(INBOUND_SMS["url"], signed, signature, [TOKEN]).valid
    assert not verify_form(INBOUND_SMS["url"], trimmed, signature, [TOKEN]).valid


def test_compute_signature_ignores_order_and_repeats_of_a_repeated_names_values() -> None:
    # twilio-python and twilio-node sign a repeated name's distinct values, sorted.
    signed = [("Digits", "1234"), ("Digits", "5678")]
    signature = compute_signature(DOCS_URL, signed, "12345")

    assert compute_signature(DOCS_URL, signed[::-1], "12345") == signature
    assert compute_signature(DOCS_URL, [*signed, ("Digits", "1234")], "12345") == signature
    assert compute_signature(DOCS_URL, [("Digits", "1234")], "12345") != signature


def test_compute_signature_sorts_names_by_code_point() -> None:
    # "Z" < "a" (case-sensitive, Unix order) and "é" after both.
    expected = compute_signature(DOCS_URL + "Z1a2é3", (), "12345")

    assert compute_signature(DOCS_URL, [("é", "3"), ("a", "2"), ("Z", "1")], "12345") == expected


@pytest.mark.parametrize("signature", [None, ""])
def test_verify_form_reports_missing_signature(signature: str | None) -> None:
    check = verify_form(INBOUND_SMS["url"], _params(INBOUND_SMS), signature, [TOKEN])

    assert (check.valid, check.reason) == (False, REASON_MISSING_SIGNATURE)
    assert check.tried_urls == url_variants(INBOUND_SMS["url"])


def test_verify_form_rejects_non_ascii_signature_without_raising() -> None:
    check = verify_form(INBOUND_SMS["url"], _params(INBOUND_SMS), "é" * 28, [TOKEN])

    assert (check.valid, check.reason) == (False, REASON_NO_MATCH)


def test_verify_form_accepts_previous_token_as_index_1() -> None:
    params = _params(INBOUND_SMS)
    signed_before_rotation = compute_signature(INBOUND_SMS["url"], params, PREVIOUS_TOKEN)

    current = verify_form(
        INBOUND_SMS["url"], params, INBOUND_SMS["signature"], [TOKEN, PREVIOUS_TOKEN]
    )
    previous = verify_form(
        INBOUND_SMS["url"], params, signed_before_rotation, [TOKEN, PREVIOUS_TOKEN]
    )

    assert (current.valid, current.matched_token_index) == (True, 0)
    assert (previous.valid, previous.matched_token_index) == (True, 1)


def test_verify_form_skips_empty_tokens_but_keeps_their_index() -> None:
    params = _params(INBOUND_SMS)

    check = verify_form(INBOUND_SMS["url"], params, INBOUND_SMS["signature"], ["", TOKEN])

    assert (check.valid, check.matched_token_index) == (True, 1)


def test_verify_form_refuses_to_verify_with_only_empty_tokens() -> None:
    # HMAC with an empty key is a signature anybody can compute.
    forged = compute_signature(INBOUND_SMS["url"], _params(INBOUND_SMS), "")

    with pytest.raises(ValueError, match="no auth token"):
        verify_form(INBOUND_SMS["url"], _params(INBOUND_SMS), forged, [""])


@pytest.mark.parametrize(
    ("signed_url", "request_url"),
    [
        ("https://example.com/sms", "https://example.com:443/sms"),
        ("https://example.com:443/sms", "https://example.com/sms"),
        ("http://example.com/sms", "http://example.com:80/sms"),
        ("http://example.com:80/sms", "http://example.com/sms"),
        ("https://example.com/sms", "https://example.com:8443/sms"),
    ],
)
def test_verify_form_accepts_port_variants_both_directions(
    signed_url: str, request_url: str
) -> None:
    signature = compute_signature(signed_url, [("Body", "hi")], TOKEN)

    check = verify_form(request_url, [("Body", "hi")], signature, [TOKEN])

    assert (check.valid, check.matched_url) == (True, signed_url)


@pytest.mark.parametrize(
    ("signed_url", "request_url"),
    [
        ("https://example.com:8443/sms", "https://example.com/sms"),
        ("http://example.com/sms", "https://example.com/sms"),
        ("https://example.com/Prod/sms", "https://example.com/sms"),
        ("https://example.com/sms?b=2&a=1", "https://example.com/sms?a=1&b=2"),
    ],
)
def test_verify_form_rejects_other_url_differences(signed_url: str, request_url: str) -> None:
    signature = compute_signature(signed_url, [("Body", "hi")], TOKEN)

    assert not verify_form(request_url, [("Body", "hi")], signature, [TOKEN]).valid


def test_verify_json_rejects_body_that_does_not_match_bodysha256() -> None:
    body = b'{"EventType":"onMessageAdded","Body":"hi"}'
    url = url_with_body_hash("https://example.com/Prod/twilio/acme/events", body)
    signature = compute_signature(url, (), TOKEN)

    check = verify_json(url, body + b"\n", signature, [TOKEN])

    assert (check.valid, check.reason) == (False, REASON_BODY_HASH_MISMATCH)
    assert check.matched_url is None


def test_verify_json_rejects_url_without_bodysha256() -> None:
    body = b"{}"
    signature = compute_signature("https://example.com/events", (), TOKEN)

    check = verify_json("https://example.com/events", body, signature, [TOKEN])

    assert (check.valid, check.reason) == (False, REASON_BODY_HASH_MISSING)


def test_verify_json_accepts_previous_token_and_port_variant() -> None:
    body = b'{"a": 1}'
    url = url_with_body_hash("https://example.com/events", body)
    signature = compute_signature(url.replace(".com/", ".com:443/"), (), PREVIOUS_TOKEN)

    check = verify_json(url, body, signature, [TOKEN, PREVIOUS_TOKEN])

    assert (check.valid, check.matched_token_index) == (True, 1)
    assert check.matched_url == url.replace(".com/", ".com:443/")


# ------------------------------------------------------------------ URL helpers


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://h/x?a=1", ("https://h/x?a=1", "https://h:443/x?a=1")),
        ("http://h", ("http://h", "http://h:80")),
        ("HTTPS://h#f", ("HTTPS://h#f", "HTTPS://h:443#f")),
        ("https://h:8443/x", ("https://h:8443/x", "https://h/x")),
        ("https://u:p@h/x", ("https://u:p@h/x", "https://u:p@h:443/x")),
        ("https://u:p@h:443/x", ("https://u:p@h:443/x", "https://u:p@h/x")),
        ("http://[::1]/x", ("http://[::1]/x", "http://[::1]:80/x")),
        ("http://[::1]:8080/x", ("http://[::1]:8080/x", "http://[::1]/x")),
        ("https://h:/x", ("https://h:/x", "https://h/x", "https://h:443/x")),
        (
            "https://h/x?next=http://other:1/",
            ("https://h/x?next=http://other:1/", "https://h:443/x?next=http://other:1/"),
        ),
        ("ftp://h/x", ("ftp://h/x",)),
        ("/relative?u=http://h", ("/relative?u=http://h",)),
    ],
)
def test_url_variants_add_or_remove_only_the_port(url: str, expected: tuple[str, ...]) -> None:
    assert url_variants(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://h/e", "https://h/e?bodySHA256={hash}"),
        ("https://h/e?a=1", "https://h/e?a=1&bodySHA256={hash}"),
        ("https://h/e?a=1#top", "https://h/e?a=1&bodySHA256={hash}#top"),
    ],
)
def test_url_with_body_hash_appends_the_query_parameter(url: str, expected: str) -> None:
    body = b'{"property": "value", "boolean": true}'

    assert url_with_body_hash(url, body) == expected.format(hash=body_sha256(body))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://h/e?bodySHA256=abc&bodySHA256=def", "abc"),
        ("https://h/e?a=1&bodySHA256=", ""),
        ("https://h/e?a=1", None),
        ("https://h/e#bodySHA256=abc", None),
    ],
)
def test_claimed_body_hash_reads_the_first_query_value(url: str, expected: str | None) -> None:
    assert claimed_body_hash(url) == expected
