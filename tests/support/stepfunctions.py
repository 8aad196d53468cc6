"""moto's Step Functions executor running our real state machine, with our Lambda handlers
invoked in-process for its Lambda tasks (moto would otherwise need Docker to run them).

moto's executor calls Lambda through ``boto_client_for(service="lambda")``; we hand it a client
whose ``invoke`` finds the handler by function name and answers like Lambda does, including
``FunctionError`` for a raised exception (so ``Retry``/``Catch`` see it as on AWS).
"""

from __future__ import annotations

import io
import json
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.aws import REGION, FakeLambdaContext

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = ROOT / "statemachines" / "conversation.asl.json"
ACCOUNT_ID = "123456789012"
_LAMBDA_UTILS = "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils"

Handler = Callable[[dict[str, Any], Any], Any]


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"


def definition(substitutions: dict[str, str]) -> str:
    text = DEFINITION.read_text("utf-8")
    for name, value in substitutions.items():
        text = text.replace("${" + name + "}", value)
    assert "${" not in text, "a DefinitionSubstitutions placeholder is left"
    return text


class InProcessLambda:
    """Stands in for moto's Lambda client: handlers by function name (or ARN)."""

    def __init__(self, handlers: dict[str, Handler]) -> None:
        self.handlers = handlers
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.returned: list[tuple[str, dict[str, Any]]] = []
        self.fail_next: dict[str, int] = {}
        self.lock = threading.Lock()

    def invoke(self, FunctionName: str, Payload: Any = None, **_: Any) -> dict[str, Any]:
        name = FunctionName.rsplit(":", 1)[-1]
        event = json.loads(Payload) if Payload else {}
        with self.lock:
            self.calls.append((name, event))
            failing = self.fail_next.get(name, 0)
            if failing:
                self.fail_next[name] = failing - 1
        try:
            if failing:
                raise RuntimeError(f"{name} failed on purpose")
            result = self.handlers[name](event, FakeLambdaContext(function_name=name))
        except Exception as error:  # Lambda reports it as a function error
            body = {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
                "stackTrace": traceback.format_exception(error),
            }
            return {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": io.BytesIO(json.dumps(body).encode()),
            }
        with self.lock:
            self.returned.append((name, event))
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(result).encode())}

    def succeeded(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [event for called, event in self.returned if called == name]

    def invoked(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [event for called, event in self.calls if called == name]


@contextmanager
def in_process_lambda(
    monkeypatch: pytest.MonkeyPatch, handlers: dict[str, Handler]
) -> Iterator[InProcessLambda]:
    fake = InProcessLambda(handlers)
    monkeypatch.setattr(f"{_LAMBDA_UTILS}.boto_client_for", lambda **_: fake)
    yield fake


def create_state_machine(name: str, substitutions: dict[str, str]) -> str:
    sfn = boto3.client("stepfunctions")
    response = sfn.create_state_machine(
        name=name,
        definition=definition(substitutions),
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/conversation",
        type="STANDARD",
    )
    return str(response["stateMachineArn"])


def wait_until(
    predicate: Callable[[], Any], *, timeout: float = 15.0, what: str = "condition"
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def task_failures(arn: str) -> list[str]:
    """The execution's failed tasks, each its error and the start of its cause: what a
    timed-out wait names (a task failing on every retry keeps an execution running)."""
    history = boto3.client("stepfunctions").get_execution_history(executionArn=arn)
    return [
        f"{failed['error']}: {failed.get('cause', '')[:300]}"
        for event in history["events"]
        if (failed := event.get("taskFailedEventDetails"))
    ]


def execution_status(arn: str) -> str:
    return str(boto3.client("stepfunctions").describe_execution(executionArn=arn)["status"])


def executions(state_machine_arn: str) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions")
    return list(sfn.list_executions(stateMachineArn=state_machine_arn)["executions"])
