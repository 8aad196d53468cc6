"""``invoke_lambda`` steps through Lambda ``Invoke`` (``processing.ports.FunctionInvoker``).

``RequestResponse`` for a synchronous step (the client's read timeout is the step's), ``Event``
for an asynchronous one; one try either way (botocore's retry after a timeout could run the
function twice). The answer is read up to ``MAX_RESULT_BYTES``: a larger one is not kept
(``Invocation.result_too_large``; the function did run).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sms_automation.adapters.aws_failures import call_once
from sms_automation.processing.ports import MAX_RESULT_BYTES, Invocation

ClientFor = Callable[[float], Any]
"""A boto3 ``lambda`` client whose read timeout is the given seconds, one try per call."""


class LambdaFunctions:
    def __init__(self, client_for: ClientFor) -> None:
        self._client_for = client_for
        self._clients: dict[float, Any] = {}

    def invoke(
        self, *, function: str, payload: str, asynchronous: bool, timeout_seconds: float
    ) -> Invocation:
        client = self._client(timeout_seconds)
        answer = call_once(
            lambda: client.invoke(
                FunctionName=function,
                InvocationType="Event" if asynchronous else "RequestResponse",
                Payload=payload.encode(),
            )
        )
        body = answer.get("Payload")
        raw = body.read(MAX_RESULT_BYTES + 1) if body is not None else b""
        too_large = len(raw) > MAX_RESULT_BYTES
        return Invocation(
            status=int(answer.get("StatusCode") or 0),
            payload=b"" if too_large else raw,
            function_error=str(answer.get("FunctionError") or ""),
            result_too_large=too_large,
        )

    def _client(self, timeout_seconds: float) -> Any:
        if timeout_seconds not in self._clients:
            self._clients[timeout_seconds] = self._client_for(timeout_seconds)
        return self._clients[timeout_seconds]
