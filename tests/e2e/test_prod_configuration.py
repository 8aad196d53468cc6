"""The prod configuration of samconfig.toml deploys: the same built template with the prod
parameter set, as a second stack in the session's emulator (cheaper than a second emulator)."""

from __future__ import annotations

import shlex
import tomllib

import boto3
import pytest

from sms_automation_local import sam
from sms_automation_local.layout import ROOT, Layout
from sms_automation_local.state import LocalState

pytestmark = pytest.mark.e2e


def prod_parameters() -> dict[str, str]:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    overrides = config["prod"]["deploy"]["parameters"]["parameter_overrides"]
    return dict(item.split("=", 1) for item in shlex.split(overrides))


def test_prod_configuration_deploys_to_the_emulator(
    local_stack: LocalState, local_layout: Layout
) -> None:
    parameters = prod_parameters()
    assert parameters["Stage"] == "prod"
    stack_name = "sms-automation-prod-e2e"

    with sam.build_lock(local_layout):
        sam.deploy(
            local_layout,
            endpoint_url=local_stack.endpoint_url,
            region=local_stack.region,
            stack_name=stack_name,
            parameters=parameters,
        )

    cloudformation = boto3.client(
        "cloudformation",
        endpoint_url=local_stack.endpoint_url,
        region_name=local_stack.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    assert stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    # The HTTP API's $default stage: the Stage parameter (prod) is not part of the URL.
    assert outputs["MessagingRequestUrlPattern"] == (
        f"https://{outputs['ApiId']}.execute-api.{local_stack.region}.amazonaws.com"
        "/twilio/{account}/sms"
    )
    assert {"TableName", "DashboardUrl", "AlarmTopicArn", "TriggerProcessorDLQUrl"} <= set(outputs)
