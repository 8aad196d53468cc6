"""The outputs ``sms-automation dead-letters`` reads name the processor's on-failure queue and
its function."""

from __future__ import annotations

import pytest

from sms_automation_cli import context
from tests.support.template import load_template

pytestmark = pytest.mark.template


def test_dead_letters_outputs_name_the_processor_and_its_on_failure_destination() -> None:
    template = load_template()
    outputs = template["Outputs"]
    processor = template["Resources"]["TriggerProcessorFunction"]["Properties"]
    [event] = [e["Properties"] for e in processor["Events"].values() if e.get("Type") == "DynamoDB"]
    destination = event["DestinationConfig"]["OnFailure"]

    assert destination["Type"] == "SQS"
    [queue, _] = destination["Destination"]["Fn::GetAtt"]
    assert outputs[context.OUTPUT_DLQ_URL]["Value"] == {"Ref": queue}
    assert outputs[context.OUTPUT_PROCESSOR_FUNCTION]["Value"] == {
        "Ref": "TriggerProcessorFunction"
    }
