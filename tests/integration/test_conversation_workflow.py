"""The Step Functions side of the conversations on moto: is an execution still running."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from sms_automation.adapters.conversation_workflow import StepFunctionsConversationWorkflow
from tests.support.aws import use_dummy_aws_credentials

pytestmark = pytest.mark.integration

_WAITING = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}}}


def test_running_is_true_for_a_running_execution_and_false_for_a_stopped_or_unknown_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        client = boto3.client("stepfunctions")
        machine = client.create_state_machine(
            name="conversation",
            definition=json.dumps(_WAITING),
            roleArn="arn:aws:iam::123456789012:role/states",
        )["stateMachineArn"]
        workflow = StepFunctionsConversationWorkflow(machine, client)
        started = workflow.start("SM1-ask-1", {"message_sid": "SM1"})

        assert workflow.running(started) is True
        assert workflow.running(workflow.execution_arn("never-started")) is False
        client.stop_execution(executionArn=started)
        assert workflow.running(started) is False


def test_running_raises_what_it_cannot_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refusal other than an unknown execution (a missing permission) is not a "no": it raises,
    so the reply is retried rather than taken for a new message."""
    use_dummy_aws_credentials(monkeypatch)
    client = boto3.client("stepfunctions")
    workflow = StepFunctionsConversationWorkflow(
        "arn:aws:states:us-east-1:123456789012:stateMachine:conversation", client
    )
    with Stubber(client) as stub:
        stub.add_client_error("describe_execution", service_error_code="AccessDeniedException")
        with pytest.raises(ClientError, match="AccessDeniedException"):
            workflow.running(workflow.execution_arn("SM1-ask-1"))
