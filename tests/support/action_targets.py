"""An exactly-once world (``exactly_once_world``) with what ``invoke_lambda`` and
``publish_event`` steps reach on moto: the function ``lookup`` (moto's Lambda without docker
answers with its payload), the bus ``orders`` and a rule sending the project's events to a
queue; both named in the processor's settings as the deployment's parameters would."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest

from tests.support.exactly_once_world import World, running_world

BUS_ARN = "arn:aws:events:us-east-1:123456789012:event-bus/orders"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:lookup"


@contextmanager
def running_world_with_targets(
    monkeypatch: pytest.MonkeyPatch, triggers: str
) -> Iterator[tuple[World, str]]:
    """The world with ``triggers`` pushed, and the URL of the queue the bus's rule feeds."""
    monkeypatch.setenv("EVENT_BUS_ARNS", BUS_ARN)
    monkeypatch.setenv("INVOKE_FUNCTION_ARNS", FUNCTION_ARN)
    with running_world(monkeypatch, triggers) as running:
        yield running, create_targets()


def create_targets() -> str:
    role = boto3.client("iam").create_role(RoleName="lookup-role", AssumeRolePolicyDocument="{}")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    boto3.client("lambda").create_function(
        FunctionName="lookup",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="index.handler",
        Code={"ZipFile": code.getvalue()},
    )
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name="orders")
    queue = sqs.create_queue(QueueName="orders-events")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    events.put_rule(
        Name="sms", EventBusName="orders", EventPattern=json.dumps({"source": ["sms-automation"]})
    )
    events.put_targets(
        Rule="sms",
        EventBusName="orders",
        Targets=[{"Id": "queue", "Arn": attributes["Attributes"]["QueueArn"]}],
    )
    return queue


def delivered_events(queue: str) -> list[dict[str, object]]:
    answer = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]
