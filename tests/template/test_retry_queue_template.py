"""The trigger processor's retry queue (processing.deferral): encrypted, kept long enough,
redriven to its own alarmed DLQ, consumed by the processor with partial batch responses, and
written to by the processor's role only with sqs:SendMessage."""

from __future__ import annotations

from typing import Any

import pytest

from sms_automation.processing.deferral import MAX_DEFERRED_FOR, MAX_DELAY_SECONDS
from sms_automation.processing.port import GIVE_UP
from tests.support.template import resolved
from tests.template import checks

pytestmark = pytest.mark.template

QUEUE = "TriggerProcessorRetryQueue"
DLQ = "TriggerProcessorRetryDLQ"


def _resources(raw_template: dict[str, Any]) -> dict[str, Any]:
    resources: dict[str, Any] = raw_template["Resources"]
    return resources


def test_both_queues_are_encrypted(raw_template: dict[str, Any]) -> None:
    for logical_id in (QUEUE, DLQ):
        assert _resources(raw_template)[logical_id]["Properties"]["SqsManagedSseEnabled"] is True


def test_the_queue_keeps_a_deferral_past_every_bound(raw_template: dict[str, Any]) -> None:
    queue = _resources(raw_template)[QUEUE]["Properties"]
    retention = queue["MessageRetentionPeriod"]
    assert retention >= GIVE_UP.total_seconds()
    assert retention >= MAX_DEFERRED_FOR.total_seconds()
    assert retention > MAX_DELAY_SECONDS + 3 * queue["VisibilityTimeout"]
    dlq = resolved(_resources(raw_template)[DLQ]["Properties"], stack_name="test")
    assert dlq["MessageRetentionPeriod"] >= retention  # a moved message keeps its enqueue time


def test_a_failing_deferral_ends_in_the_alarmed_dlq(raw_template: dict[str, Any]) -> None:
    resources = _resources(raw_template)
    queue = resources[QUEUE]["Properties"]
    processor = resources["TriggerProcessorFunction"]["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [DLQ, "Arn"]},
        "maxReceiveCount": 3,
    }
    assert queue["VisibilityTimeout"] >= processor["Timeout"]  # SAM refuses less
    watched = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]: alarm["Properties"]
        for alarm in resources.values()
        if alarm["Type"] == "AWS::CloudWatch::Alarm"
        and alarm["Properties"].get("Namespace") == "AWS/SQS"
    }
    assert watched[DLQ]["Threshold"] == 1
    assert watched[QUEUE]["Statistic"] == "Minimum"  # due messages left untaken: stalled


def test_the_processor_defers_to_the_queue_and_consumes_it(raw_template: dict[str, Any]) -> None:
    processor = _resources(raw_template)["TriggerProcessorFunction"]["Properties"]
    assert processor["Environment"]["Variables"]["RETRY_QUEUE_URL"] == {"Ref": QUEUE}
    [event] = [e["Properties"] for e in processor["Events"].values() if e["Type"] == "SQS"]
    assert event["Queue"] == {"Fn::GetAtt": [QUEUE, "Arn"]}
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    statements = [
        statement
        for logical_id, statement in checks.policy_statements(raw_template)
        if logical_id == "TriggerProcessorFunction"
        and any(str(action).startswith("sqs:") for action in statement["Action"])
    ]
    assert statements == [
        {
            "Sid": "DeferRecords",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage"],
            "Resource": {"Fn::GetAtt": [QUEUE, "Arn"]},
        }
    ]
