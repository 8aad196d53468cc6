"""Invoking the processor: what counts as processed, what as still failing."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

import pytest

from sms_automation.adapters.lambda_invoker import LambdaInvoker
from sms_automation.dead_letters.invoker import (
    HandlerInvoker,
    InvocationResult,
    redact,
    result_from_response,
)

EVENT = {"Records": [{"eventName": "INSERT"}]}


class FakeLambda:
    def __init__(self, payload: Any, function_error: str = "") -> None:
        self.payload = payload
        self.function_error = function_error
        self.calls: list[dict[str, Any]] = []

    def invoke(
        self, *, FunctionName: str, InvocationType: str, Payload: bytes
    ) -> Mapping[str, Any]:
        self.calls.append(
            {"name": FunctionName, "type": InvocationType, "event": json.loads(Payload)}
        )
        response: dict[str, Any] = {
            "StatusCode": 200,
            "Payload": io.BytesIO(json.dumps(self.payload).encode()),
        }
        if self.function_error:
            response["FunctionError"] = self.function_error
        return response


def test_lambda_invoker_invokes_synchronously_with_the_event() -> None:
    client = FakeLambda({"batchItemFailures": []})
    result = LambdaInvoker(client, "stack-trigger-processor").invoke(EVENT)
    assert client.calls == [
        {"name": "stack-trigger-processor", "type": "RequestResponse", "event": EVENT}
    ]
    assert result.succeeded


def test_lambda_invoker_reports_failed_records() -> None:
    client = FakeLambda({"batchItemFailures": [{"itemIdentifier": "42"}]})
    result = LambdaInvoker(client, "f").invoke(EVENT)
    assert result == InvocationResult(failed_items=("42",))
    assert not result.succeeded


def test_lambda_invoker_reports_the_function_error_with_phone_numbers_masked() -> None:
    payload = {"errorType": "LookupError", "errorMessage": "no route for +14155550101"}
    result = LambdaInvoker(FakeLambda(payload, "Unhandled"), "f").invoke(EVENT)
    assert result.function_error == "LookupError: no route for +1********01"
    assert not result.succeeded


def test_handler_invoker_turns_an_exception_into_a_function_error() -> None:
    def crashing(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("boom")

    result = HandlerInvoker(crashing, context=None).invoke(EVENT)
    assert result.function_error == "RuntimeError: boom"


def test_handler_invoker_passes_a_copy_of_the_event() -> None:
    seen: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        seen.append(event)
        event["Records"].clear()
        return {"batchItemFailures": []}

    assert HandlerInvoker(handler, context=None).invoke(EVENT).succeeded
    assert EVENT["Records"]  # untouched


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (None, InvocationResult()),
        ({}, InvocationResult()),
        ({"batchItemFailures": []}, InvocationResult()),
        ({"batchItemFailures": [{"itemIdentifier": "1"}]}, InvocationResult(("1",))),
        ({"statusCode": 200}, InvocationResult(function_error="unexpected answer")),
        ("ok", InvocationResult(function_error="unexpected answer")),
    ],
)
def test_result_from_response_only_an_empty_failure_list_is_success(
    response: Any, expected: InvocationResult
) -> None:
    result = result_from_response(response)
    assert result.failed_items == expected.failed_items
    assert result.function_error.startswith(expected.function_error)
    assert result.succeeded is expected.succeeded


def test_redact_masks_numbers_but_keeps_sids() -> None:
    text = redact("SM11111111111111111111111111111111 to whatsapp:+447700900123 from 4155550101")
    assert text == "SM11111111111111111111111111111111 to whatsapp:+4*********23 from 4*******01"
