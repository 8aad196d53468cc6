"""The status-callback function in template.yaml: its route, budget, environment and grants."""

from __future__ import annotations

from typing import Any

import pytest

from tests.template import checks

pytestmark = pytest.mark.template

Template = dict[str, Any]

STATUS_ENVIRONMENT = [
    "TABLE_NAME",
    "SECRETS_PREFIX",
    "PUBLIC_BASE_URL",
    "MAX_BODY_BYTES",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "LOG_LEVEL",
]


def test_status_callback_is_routed_on_the_webhook_api(raw_template: Template) -> None:
    routes = {
        key: (route["api"], route["authorization"])
        for key, route in checks.http_api_routes(raw_template).items()
        if route["function"] == "StatusCallbackFunction"
    }
    assert routes == {"ANY /twilio/{account}/status": ("WebhookApi", "NONE")}
    function = raw_template["Resources"]["StatusCallbackFunction"]["Properties"]
    assert "Events" not in function


def test_status_callback_answers_inside_twilios_budget(raw_template: Template) -> None:
    function = raw_template["Resources"]["StatusCallbackFunction"]["Properties"]
    assert function["Timeout"] < 15
    assert function["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-status-callback"}


def test_status_callback_has_the_webhook_environment(raw_template: Template) -> None:
    assert (
        checks.missing_environment(raw_template, "StatusCallbackFunction", STATUS_ENVIRONMENT) == []
    )


def test_status_callback_url_pattern_is_an_output(raw_template: Template) -> None:
    value = raw_template["Outputs"]["StatusCallbackUrlPattern"]["Value"]["Fn::Sub"]
    assert value[0] == "${Base}/twilio/{account}/status"


def test_status_callback_role_grants_only_what_the_handler_uses(
    transformed_template: Template,
) -> None:
    actions = sorted(
        action
        for logical_id, statement in checks.policy_statements(transformed_template)
        if logical_id == "StatusCallbackFunctionRole"
        for action in checks._as_list(statement["Action"])
    )
    # Query, DeleteItem and SendTaskFailure: a failed prompt ends its conversation.
    assert actions == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "secretsmanager:GetSecretValue",
        "states:SendTaskFailure",
    ]
