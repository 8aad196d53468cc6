"""A console write's body is bounded on its raw bytes, before anything is decoded or parsed
(``console.json_body``), with each route's own limit."""

from __future__ import annotations

import base64
import json

import pytest

from sms_automation.console import http, trigger_requests, writes
from sms_automation.console.queries import BadRequest
from sms_automation.console.trigger_files import TooLarge


def test_a_reply_body_is_measured_in_bytes_not_characters() -> None:
    # 2 bytes each: fewer characters than the limit, more bytes.
    text = json.dumps({"body": "é" * (writes.MAX_REQUEST_BYTES // 2)}, ensure_ascii=False)
    assert len(text) < writes.MAX_REQUEST_BYTES < len(text.encode())
    with pytest.raises(BadRequest, match="larger than"):
        writes.parse_body({"body": text})


def test_a_base64_body_too_long_is_refused_before_it_is_decoded() -> None:
    # Not even base64: refused for its size alone, never decoded.
    for route_body, limit, refusal in (
        (writes.parse_body, writes.MAX_REQUEST_BYTES, BadRequest),
        (http.object_body, http.MAX_BODY_BYTES, BadRequest),
        (trigger_requests.json_body, trigger_requests.MAX_BODY_BYTES, TooLarge),
    ):
        event = {"body": "!" * (limit * 4 // 3 + 5), "isBase64Encoded": True}
        with pytest.raises(refusal, match="larger than"):
            route_body(event)


def test_each_route_takes_a_json_object_up_to_its_limit() -> None:
    for route_body, limit in (
        (writes.parse_body, writes.MAX_REQUEST_BYTES),
        (http.object_body, http.MAX_BODY_BYTES),
        (trigger_requests.json_body, trigger_requests.MAX_BODY_BYTES),
    ):
        exact = json.dumps({"x": "a" * (limit - 9)})
        assert len(exact.encode()) == limit
        assert route_body({"body": exact}) == {"x": "a" * (limit - 9)}
        encoded = base64.b64encode(exact.encode()).decode()
        assert route_body({"body": encoded, "isBase64Encoded": True})["x"] == "a" * (limit - 9)
        with pytest.raises(BadRequest, match="JSON object"):
            route_body({"body": "[1]"})
        with pytest.raises(BadRequest, match="not valid JSON"):  # the trigger routes' word
            route_body({"body": "{not json"})
    assert writes.parse_body({}) == {}  # a thread write may come without a body
    with pytest.raises(BadRequest):
        http.object_body({})
