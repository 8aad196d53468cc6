"""Invoking the trigger processor with a stream event: the port and its in-process adapter.

``adapters.lambda_invoker.LambdaInvoker`` calls the deployed function synchronously;
:class:`HandlerInvoker` calls a handler in this process (tests, local runs). Both answer with
the records the processor reported as failed and the function's own error, if any.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sms_automation.pii import mask_phone

_PHONE_LIKE = re.compile(r"(?<!\w)\+?\d{7,15}\b")
_MAX_ERROR = 300


@dataclass(frozen=True, slots=True)
class InvocationResult:
    failed_items: tuple[str, ...] = ()  # batchItemFailures' itemIdentifier (sequence numbers)
    function_error: str = ""  # "ErrorType: message", phone numbers masked

    @property
    def succeeded(self) -> bool:
        return not self.failed_items and not self.function_error


class ProcessorInvoker(Protocol):
    def invoke(self, event: Mapping[str, Any]) -> InvocationResult: ...


class HandlerInvoker:
    """A Lambda handler called in this process, as the Lambda service would call it."""

    def __init__(self, handler: Callable[[dict[str, Any], Any], Any], context: Any) -> None:
        self._handler = handler
        self._context = context

    def invoke(self, event: Mapping[str, Any]) -> InvocationResult:
        try:
            response = self._handler(json.loads(json.dumps(event)), self._context)
        except Exception as error:  # the Lambda service reports it as an "Unhandled" error
            return InvocationResult(function_error=redact(f"{type(error).__name__}: {error}"))
        return result_from_response(response)


def result_from_response(response: Any) -> InvocationResult:
    """A partial batch response; anything else is an unexpected answer, not a success."""
    if response is None:
        return InvocationResult()
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if failures is None and isinstance(response, dict) and not response:
        return InvocationResult()
    if not isinstance(failures, list):
        return InvocationResult(function_error="unexpected answer (no batchItemFailures list)")
    return InvocationResult(
        failed_items=tuple(
            str(failure.get("itemIdentifier", "")) if isinstance(failure, dict) else ""
            for failure in failures
        )
    )


def redact(text: str) -> str:
    """Error texts may quote a phone number: masked, and cut to one short line."""
    flat = " ".join(_PHONE_LIKE.sub(lambda m: mask_phone(m.group()), text).split())
    return flat if len(flat) <= _MAX_ERROR else flat[: _MAX_ERROR - 1] + "…"
