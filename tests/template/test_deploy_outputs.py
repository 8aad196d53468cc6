"""The outputs a deployer opens or copies: ``DashboardUrl`` opens the CloudWatch console in each
partition (``${AWS::URLSuffix}`` is the API domain, whose ``console.`` host serves nothing), and
``SecretsPrefix`` describes the secrets' real names."""

from __future__ import annotations

from typing import Any

import pytest

from sms_automation.accounts import account_secret_id
from tests.support.template import resolved

pytestmark = pytest.mark.template

STACK = "sms-automation"


@pytest.mark.parametrize(
    ("partition", "region", "console"),
    [
        ("aws", "us-east-1", "https://us-east-1.console.aws.amazon.com"),
        ("aws", "eu-west-1", "https://eu-west-1.console.aws.amazon.com"),
        ("aws-cn", "cn-north-1", "https://console.amazonaws.cn"),
        ("aws-us-gov", "us-gov-west-1", "https://console.amazonaws-us-gov.com"),
    ],
)
def test_dashboard_url_opens_the_cloudwatch_console_of_the_partition(
    raw_template: dict[str, Any], partition: str, region: str, console: str
) -> None:
    url_suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    url = resolved(
        raw_template["Outputs"]["DashboardUrl"]["Value"],
        stack_name=STACK,
        template=raw_template,
        pseudo={"AWS::Partition": partition, "AWS::Region": region, "AWS::URLSuffix": url_suffix},
    )

    assert url == f"{console}/cloudwatch/home?region={region}#dashboards:name={STACK}"


def test_secrets_prefix_output_describes_the_secret_names_the_code_uses(
    raw_template: dict[str, Any],
) -> None:
    output = raw_template["Outputs"]["SecretsPrefix"]
    prefix = resolved(output["Value"], stack_name=STACK, template=raw_template)
    secret = account_secret_id(prefix, "acme")

    shape = secret.replace(prefix, "<prefix>").replace("acme", "<account name>")
    assert shape in " ".join(output["Description"].split())
