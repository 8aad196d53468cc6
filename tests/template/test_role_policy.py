"""The role-policy reader the integration tests check AWS calls with (tests/support/template.py):
SAM policy templates expanded as SAM does, ARNs matched as IAM matches them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.aws import STACK_NAME, AwsCall, authorisations
from tests.support.template import (
    ROOT,
    SAM_POLICY_TEMPLATES_PATH,
    Grant,
    RolePolicy,
    load_template,
    role_policy,
    sam_policy_templates,
)

pytestmark = pytest.mark.template

NAMES = {"AppTable": "app", "RecordsTable": "records"}
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/app"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:test-conversation"


def functions() -> list[str]:
    resources: dict[str, Any] = load_template()["Resources"]
    return [name for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"]


def sam_translator_templates() -> Path:
    found = sorted(
        (ROOT / ".venv-tools" / "lib").glob(
            "python*/site-packages/samtranslator/policy_templates_data/policy_templates.json"
        )
    )
    if not found:
        pytest.skip(".venv-tools has no aws-sam-translator: run `make tools`")
    return found[-1]


def test_the_vendored_sam_policy_templates_are_aws_sam_translators() -> None:
    theirs = json.loads(sam_translator_templates().read_text("utf-8"))["Templates"]
    for name, ours in sam_policy_templates().items():
        assert ours == theirs[name], f"{SAM_POLICY_TEMPLATES_PATH.name}: {name} differs"


@pytest.mark.parametrize("function", functions())
def test_every_functions_policies_are_readable(function: str) -> None:
    """Every SAM policy template the template uses is vendored, every intrinsic resolves."""
    assert role_policy(function, stack_name=STACK_NAME, names=NAMES).grants


def test_a_sam_policy_template_grants_its_actions_on_its_resource() -> None:
    policy = role_policy("InboundWebhookFunction", stack_name=STACK_NAME, names=NAMES)
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:sms-automation/{}/x-a1B2c3"
    assert policy.allows("secretsmanager:GetSecretValue", secret.format("test"))
    assert not policy.allows("secretsmanager:GetSecretValue", secret.format("other"))
    assert not policy.allows("secretsmanager:PutSecretValue", secret.format("test"))


def test_a_query_on_an_index_needs_the_index_arn() -> None:
    [query] = authorisations("dynamodb", "Query", {"TableName": "app", "IndexName": "gsi2"})
    assert query == AwsCall("dynamodb:Query", f"{TABLE}/index/gsi2")
    table_only = role_policy("StatusCallbackFunction", stack_name=STACK_NAME, names=NAMES)
    with_index = role_policy("AutomationApiFunction", stack_name=STACK_NAME, names=NAMES)
    assert table_only.allows("dynamodb:Query", TABLE)
    assert table_only.denied([query]) == [query]
    assert with_index.denied([query]) == []
    other_index = AwsCall("dynamodb:Query", f"{TABLE}/index/gsi1")
    assert with_index.denied([other_index]) == [other_index]  # the index it names, no other


def test_a_transaction_needs_each_items_own_action() -> None:
    items = [
        {"Update": {"TableName": "app"}},
        {"Put": {"TableName": "records"}},
        {"ConditionCheck": {"TableName": "app"}},
    ]
    made = authorisations("dynamodb", "TransactWriteItems", {"TransactItems": items})
    assert made == [
        AwsCall("dynamodb:UpdateItem", TABLE),
        AwsCall("dynamodb:PutItem", TABLE.replace("/app", "/records")),
        AwsCall("dynamodb:ConditionCheckItem", TABLE),
    ]
    processor = role_policy("TriggerProcessorFunction", stack_name=STACK_NAME, names=NAMES)
    assert processor.denied(made) == [AwsCall("dynamodb:ConditionCheckItem", TABLE)]


def test_state_machine_and_execution_arns_are_told_apart() -> None:
    processor = role_policy("TriggerProcessorFunction", stack_name=STACK_NAME, names=NAMES)
    execution = MACHINE.replace(":stateMachine:", ":execution:") + ":run-1"
    assert processor.allows("states:StartExecution", MACHINE)
    assert processor.allows("states:DescribeExecution", execution)
    assert not processor.allows("states:DescribeExecution", MACHINE)
    assert not processor.allows("states:StartExecution", MACHINE.replace("test-", "other-"))
    # A task token names no resource: the action alone is checked.
    [wake] = authorisations("states", "SendTaskSuccess", {"taskToken": "t", "output": "{}"})
    assert wake == AwsCall("states:SendTaskSuccess", None)
    assert processor.allows("states:SendTaskSuccess", None)
    assert not role_policy("ConversationResumeFunction", stack_name=STACK_NAME, names=NAMES).allows(
        "states:SendTaskSuccess", None
    )


def test_a_request_naming_no_resource_needs_a_statement_on_any_resource() -> None:
    """IAM's rule for an action without resource type; also how a call of a service the
    recorder does not model is checked: never allowed by a statement on some other ARN."""
    bus = "arn:aws:events:us-east-1:123456789012:event-bus/default"
    [put_events] = authorisations("events", "PutEvents", {"Entries": []})
    [list_tables] = authorisations("dynamodb", "ListTables", {})
    assert (put_events.resource, list_tables.resource) == ("*", "*")
    on_arns = RolePolicy("F", (Grant(("events:PutEvents", "dynamodb:*"), (bus, TABLE)),))
    on_any = RolePolicy("F", (Grant(("events:PutEvents", "dynamodb:*"), ("*",)),))
    assert on_arns.denied([put_events, list_tables]) == [list_tables, put_events]
    assert on_any.denied([put_events, list_tables]) == []
    [list_schedules] = authorisations("scheduler", "ListSchedules", {"GroupName": "g"})
    webhook = role_policy("InboundWebhookFunction", stack_name=STACK_NAME, names=NAMES)
    sync = role_policy("ScheduleSyncFunction", stack_name=STACK_NAME, names=NAMES)
    assert webhook.denied([list_schedules]) == [list_schedules]
    assert sync.denied([list_schedules]) == []


def test_a_leading_keys_condition_is_evaluated_on_each_items_partition_key() -> None:
    """``ForAllValues:StringLike`` on ``dynamodb:LeadingKeys`` (the console's writes): every
    partition key a request names must match one pattern; a request naming none passes, as on
    AWS (ForAllValues of no value); another condition on the key is not guessed."""
    console = role_policy("ConsoleApiFunction", stack_name=STACK_NAME, names=NAMES)
    [reply] = authorisations(
        "dynamodb", "PutItem", {"TableName": "app", "Item": {"pk": {"S": "MSG#r-1"}}}
    )
    assert reply == AwsCall("dynamodb:PutItem", TABLE, ("MSG#r-1",))
    assert console.denied([reply]) == []
    [counter] = authorisations(
        "dynamodb", "UpdateItem", {"TableName": "app", "Key": {"pk": {"S": "SENDS#acme#a#b"}}}
    )
    assert console.denied([counter]) == [counter]
    pushed = authorisations("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "app", "Item": {"pk": {"S": "ACCOUNT#acme"}}}},
        {"Put": {"TableName": "app", "Item": {"pk": {"S": "BROADCAST#b"}}}},
    ]})  # fmt: skip
    assert console.denied(pushed) == [pushed[1]]  # each item of a transaction on its own key
    [batch] = authorisations("dynamodb", "BatchWriteItem", {"RequestItems": {"app": [
        {"PutRequest": {"Item": {"pk": {"S": "MSG#m"}}}},
        {"DeleteRequest": {"Key": {"pk": {"S": "BROADCAST#b"}}}},
    ]}})  # fmt: skip
    assert batch.leading_keys == ("BROADCAST#b", "MSG#m")
    assert not Grant(("dynamodb:BatchWriteItem",), (TABLE,), ("MSG#*",)).allows(
        batch.action, batch.resource, batch.leading_keys
    )  # every key must match
    assert console.allows("dynamodb:PutItem", TABLE)  # no key named: ForAllValues holds
    assert not console.allows("dynamodb:PutItem", TABLE, ("msg#r-1",))  # case sensitive


def test_a_leading_keys_condition_under_another_operator_is_refused_not_guessed() -> None:
    template = copy.deepcopy(load_template())
    [write] = [
        statement
        for statement in template["Resources"]["ConsoleApiFunction"]["Properties"]["Policies"][0][
            "Statement"
        ]
        if statement["Sid"] == "WriteAppTable"
    ]
    write["Condition"] = {"ForAnyValue:StringLike": write["Condition"]["ForAllValues:StringLike"]}
    with pytest.raises(NotImplementedError):
        role_policy("ConsoleApiFunction", stack_name=STACK_NAME, names=NAMES, template=template)
