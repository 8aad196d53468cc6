"""AWS faults injected at the client seam: every client created through ``boto3.client`` while
installed answers chosen calls with an AWS error (after botocore's retries, as the caller sees
it) or raises a connection error, and lets every other call through to its endpoint (moto).

    faults = AwsFaults.install(monkeypatch)
    faults.fail("dynamodb", "PutItem", error="ProvisionedThroughputExceededException")
    faults.fail("dynamodb", "UpdateItem", when=lambda params: ..., times=1)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

from tests.support.aws import hook_every_client

CONNECTION_ERROR = "connection"
"""``error=CONNECTION_ERROR``: the endpoint cannot be reached (``EndpointConnectionError``)."""


@dataclass
class _Fault:
    service: str
    operation: str
    error: str
    when: Callable[[Mapping[str, Any]], bool]
    remaining: int


class AwsFaults:
    def __init__(self) -> None:
        self._faults: list[_Fault] = []
        self.injected: list[str] = []

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> Self:
        faults = cls()
        hook_every_client(monkeypatch, "before-call.*.*", faults._answer, first=True)
        return faults

    def fail(
        self,
        service: str,
        operation: str,
        *,
        error: str = "ProvisionedThroughputExceededException",
        when: Callable[[Mapping[str, Any]], bool] = lambda params: True,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``service``/``operation`` matching ``when`` fail."""
        self._faults.append(_Fault(service, operation, error, when, times))

    def pending(self) -> int:
        return sum(fault.remaining for fault in self._faults)

    def _answer(self, model: Any, params: Mapping[str, Any], **_: Any) -> Any:
        service, operation = model.service_model.service_name, model.name
        for fault in self._faults:
            if (
                fault.remaining
                and (fault.service, fault.operation) == (service, operation)
                and fault.when(_api_parameters(params))
            ):
                fault.remaining -= 1
                self.injected.append(f"{service}.{operation}: {fault.error}")
                if fault.error == CONNECTION_ERROR:
                    raise EndpointConnectionError(endpoint_url=f"https://{service}.invalid")
                body = {
                    "Error": {"Code": fault.error, "Message": "injected"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                }
                headers: Any = {}
                return AWSResponse(f"https://{service}.invalid", 400, headers, None), body
        return None


def _api_parameters(request: Mapping[str, Any]) -> Mapping[str, Any]:
    """The call's parameters as sent: ``before-call`` sees the serialised request, whose body is
    the parameters' JSON for the JSON protocols (DynamoDB, Secrets Manager), and already a
    mapping for the query protocol (CloudFormation)."""
    body = request.get("body") or b"{}"
    if isinstance(body, Mapping):
        return body
    try:
        parameters = json.loads(body)
    except ValueError:
        return {}
    return parameters if isinstance(parameters, dict) else {}
