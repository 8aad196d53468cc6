"""The conversation state machine, as the conversations see it: start, wake, give up.

``SendTaskSuccess``/``SendTaskFailure`` answer ``False`` for the final errors (the task timed
out, the execution is gone, the token is not one): retrying them can never succeed, so they
must never hold up the caller (a stream record, a status callback).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

FINAL_TOKEN_ERRORS: Final = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class StepFunctionsConversationWorkflow:
    def __init__(self, state_machine_arn: str, client: SFNClient | Callable[[], SFNClient]) -> None:
        """``client``: a Step Functions client, or a function making one on first use (most
        invocations of the conversation functions never call Step Functions)."""
        self._arn = state_machine_arn
        self._client_or_factory = client

    @cached_property
    def _client(self) -> SFNClient:
        given = self._client_or_factory
        return given() if callable(given) else given

    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        """Start the execution ``name`` (or find it started): its ARN."""
        try:
            response = self._client.start_execution(
                stateMachineArn=self._arn, name=name, input=json.dumps(dict(payload))
            )
        except ClientError as error:
            if _code(error) != "ExecutionAlreadyExists":
                raise
            return self.execution_arn(name)
        return response["executionArn"]

    def execution_arn(self, name: str) -> str:
        prefix, _, machine = self._arn.rpartition(":stateMachine:")
        return f"{prefix}:execution:{machine}:{name}"

    def wake(self, token: str, output: Mapping[str, Any]) -> bool:
        try:
            self._client.send_task_success(taskToken=token, output=json.dumps(dict(output)))
        except ClientError as error:
            if _code(error) in FINAL_TOKEN_ERRORS:
                return False
            raise
        return True

    def running(self, execution_arn: str) -> bool:
        """Whether the execution is still running (an unknown one is not)."""
        try:
            response = self._client.describe_execution(executionArn=execution_arn)
        except ClientError as error:
            if _code(error) == "ExecutionDoesNotExist":
                return False
            raise
        return response["status"] == "RUNNING"

    def fail(self, token: str, error_name: str, cause: str) -> bool:
        try:
            self._client.send_task_failure(taskToken=token, error=error_name, cause=cause[:32768])
        except ClientError as error:
            if _code(error) in FINAL_TOKEN_ERRORS:
                return False
            raise
        return True
