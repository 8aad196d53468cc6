"""``dead_letters.invoker.ProcessorInvoker`` on AWS Lambda: the deployed trigger processor invoked
synchronously (``RequestResponse``). A failed invoke (denied, throttled, no connection) is a
still-failing message, its error redacted, like a function error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from sms_automation.dead_letters.invoker import InvocationResult, redact, result_from_response


class LambdaClient(Protocol):
    """The one Lambda call used here (a boto3 ``lambda`` client)."""

    def invoke(
        self, *, FunctionName: str, InvocationType: str, Payload: bytes
    ) -> Mapping[str, Any]: ...


class LambdaInvoker:
    def __init__(self, client: LambdaClient, function_name: str) -> None:
        self._client = client
        self.function_name = function_name

    def invoke(self, event: Mapping[str, Any]) -> InvocationResult:
        try:
            response = self._client.invoke(
                FunctionName=self.function_name,
                InvocationType="RequestResponse",
                Payload=json.dumps(event).encode(),
            )
        except (ClientError, BotoCoreError) as error:
            return InvocationResult(function_error=redact(f"the invoke failed: {error}"))
        raw = response["Payload"].read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        error_kind = response.get("FunctionError")
        if error_kind:
            return InvocationResult(function_error=_function_error(payload, str(error_kind)))
        return result_from_response(payload)


def _function_error(payload: Any, kind: str) -> str:
    if isinstance(payload, dict) and payload.get("errorMessage"):
        name = payload.get("errorType") or kind
        return redact(f"{name}: {payload['errorMessage']}")
    return f"{kind} function error"
