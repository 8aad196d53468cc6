"""The Step Functions side of the conversations on moto: is an execution still running."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from sms_automation.adapters.wait_workflow import StepFunctionsWaitWorkflow
from tests.support.aws import use_dummy_aws_credentials

pytestmark = pytest.mark.integration

_WAITING = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}}}


def test_running_is_true_for_a_running_execution_and_false_for_an_unknown_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        client = boto3.client("stepfunctions")
        machine = client.create_state_machine(
            name="wait-for-reply",
            definition=json.dumps(_WAITING),
            roleArn="arn:aws:iam::123456789012:role/states",
        )["stateMachineArn"]
        workflow = StepFunctionsWaitWorkflow(machine, client)
        started = workflow.start("SM1-ask-1", {"message_sid": "SM1"})

        assert workflow.running(started) is True
        assert workflow.running(workflow.execution_arn("never-started")) is False
