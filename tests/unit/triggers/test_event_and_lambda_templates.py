"""``publish_event`` and ``invoke_lambda`` rendering: the detail and payload as ``http_request``'s
``json:`` (each string a template, JSON-encoded, so any message text parses back), bounded; the
detail-type one line; the bus and function written out, never from a variable."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sms_automation.triggers.engine import MAX_EVENT_DETAIL_BYTES, MAX_LAMBDA_PAYLOAD_BYTES
from sms_automation.triggers.plan import InvokeLambda, PublishEvent, Step
from tests.unit.triggers.builders import SENDER, evaluate, message, trigger_set

EVENT = {"type": "publish_event", "bus": "orders", "detail_type": "SMS received"}
INVOKE = {"type": "invoke_lambda", "function": "lookup-customer"}


def one(action: dict[str, Any], **message_fields: str) -> Step:
    evaluation = evaluate({"name": "t", "actions": [action]}, message(**message_fields))
    assert evaluation.errors == ()
    [step] = evaluation.plan
    return step


def refusal(action: dict[str, Any], **message_fields: str) -> str:
    evaluation = evaluate({"name": "t", "actions": [action]}, message(**message_fields))
    assert evaluation.plan == ()
    [error] = evaluation.errors
    return str(error)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_any_message_text_in_a_detail_or_payload_parses_back_exactly(body: str) -> None:
    shape = {"text": "%Body%", "from": "%From%", "n": 2, "tags": ["sms", "%Body%"], "ok": True}
    event = one({**EVENT, "detail": shape}, Body=body)
    invoke = one({**INVOKE, "payload": shape}, Body=body)
    expected = {"text": body, "from": SENDER, "n": 2, "tags": ["sms", body], "ok": True}
    assert isinstance(event, PublishEvent)
    assert isinstance(invoke, InvokeLambda)
    assert json.loads(event.detail) == expected
    assert json.loads(invoke.payload) == expected


def test_the_steps_as_written() -> None:
    event = one({**EVENT, "detail_type": "SMS from %From%"})
    assert (event.bus, event.detail_type, event.detail) == ("orders", f"SMS from {SENDER}", "{}")
    invoke = one({**INVOKE, "invocation": "async"})
    assert isinstance(invoke, InvokeLambda)
    assert (invoke.function, invoke.asynchronous, invoke.payload) == ("lookup-customer", True, "{}")


def test_a_detail_type_with_a_line_break_or_too_long_is_refused() -> None:
    assert "control character" in refusal({**EVENT, "detail_type": "a %Body%"}, Body="x\ny")
    assert "1 to 128" in refusal({**EVENT, "detail_type": "%Body%"}, Body="x" * 129)


def test_a_detail_or_payload_over_the_bound_is_refused() -> None:
    body = "y" * (MAX_EVENT_DETAIL_BYTES // 4 + 1)
    huge = {"a": "%Body%", "b": "%Body%", "c": "%Body%", "d": "%Body%"}
    assert "over" in refusal({**EVENT, "detail": huge}, Body=body)
    assert MAX_LAMBDA_PAYLOAD_BYTES == MAX_EVENT_DETAIL_BYTES
    assert "over" in refusal({**INVOKE, "payload": huge}, Body=body)


@pytest.mark.parametrize(
    ("action", "problem"),
    [
        ({**EVENT, "bus": "%bus%"}, "bus"),
        ({**INVOKE, "function": "%Body%"}, "function"),
        ({**INVOKE, "invocation": "async", "into": "r"}, "needs invocation: sync"),
        ({**EVENT, "detail": ["not", "an", "object"]}, "detail"),
        ({**INVOKE, "timeout_seconds": 31}, "timeout_seconds"),
    ],
)
def test_refused_at_load(action: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        trigger_set({"name": "t", "actions": [action]})
