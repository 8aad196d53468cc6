"""Broadcast executions on Step Functions (``BroadcastStateMachine``): started by name (a
second start of the same name starts nothing), stopped, and their Distributed Map's progress."""

from __future__ import annotations

import json
from typing import Any, Final

from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code

_ALREADY: Final = frozenset({"ExecutionAlreadyExists"})
_NOT_RUNNING: Final = frozenset({"ExecutionDoesNotExist", "ValidationException"})


class StepFunctionsBroadcastEngine:
    def __init__(self, state_machine_arn: str, client: Any) -> None:
        self._machine = state_machine_arn
        self._client = client

    def execution_arn(self, name: str) -> str:
        return self._machine.replace(":stateMachine:", ":execution:") + f":{name}"

    def start(self, execution_name: str, broadcast_id: str) -> None:
        try:
            self._client.start_execution(
                stateMachineArn=self._machine,
                name=execution_name,
                input=json.dumps({"broadcast_id": broadcast_id}),
            )
        except AWS_ERRORS as error:
            if error_code(error) not in _ALREADY:
                raise

    def stop(self, execution_name: str) -> None:
        try:
            self._client.stop_execution(
                executionArn=self.execution_arn(execution_name),
                cause="broadcast paused or cancelled",
            )
        except AWS_ERRORS as error:
            if error_code(error) not in _NOT_RUNNING:
                raise

    def progress(self, execution_name: str) -> dict[str, Any]:
        arn = self.execution_arn(execution_name)
        try:
            status = self._client.describe_execution(executionArn=arn)["status"]
        except AWS_ERRORS as error:
            if error_code(error) != "ExecutionDoesNotExist":
                raise
            return {"execution": "NOT_STARTED", "rows_done": 0, "rows_total": 0}
        if status != "RUNNING":  # ended: its Map Run (if any) is done with every row it read
            return {"execution": status}
        runs = self._client.list_map_runs(executionArn=arn).get("mapRuns", [])
        if not runs:
            return {"execution": status, "rows_done": 0, "rows_total": 0}
        counts = self._client.describe_map_run(mapRunArn=runs[0]["mapRunArn"])["itemCounts"]
        done = sum(
            int(counts.get(name, 0)) for name in ("succeeded", "failed", "timedOut", "aborted")
        )
        return {"execution": status, "rows_done": done, "rows_total": int(counts.get("total", 0))}
