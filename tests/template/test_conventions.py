"""House conventions over template.yaml, raw and after the SAM transform.

Every checker also meets a deliberately broken mini-template (test_checker_catches), so a
checker that silently stopped matching anything would fail here rather than pass vacuously.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sms_automation_cli import context
from tests.support.template import ROOT, table_resource
from tests.template import checks

pytestmark = pytest.mark.template

Template = dict[str, Any]

# The CLI reads the first three (cli/context.py); the rest are for people and scripts.
REQUIRED_OUTPUTS = [
    context.OUTPUT_TABLE,
    context.OUTPUT_SECRETS_PREFIX,
    context.OUTPUT_WEBHOOK_BASE_URL,
    "MessagingRequestUrlPattern",
    "ApiId",
    "InboundWebhookFunctionName",
]
WEBHOOK_ENVIRONMENT = [
    "TABLE_NAME",
    "SECRETS_PREFIX",
    "PUBLIC_BASE_URL",
    "MAX_BODY_BYTES",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "LOG_LEVEL",
]

RAW_CHECKS: dict[str, Callable[[Template], list[str]]] = {
    "common layer": checks.functions_without_common_layer,
    "architecture": checks.architecture_not_parameterised,
    "function log groups": checks.functions_without_log_group,
    "log retention": checks.log_groups_without_retention,
    "code and handler": lambda t: checks.functions_without_code(t, ROOT),
    "wildcard actions": checks.wildcard_actions,
    "wildcard resources": checks.wildcard_resources,
    "table layout": checks.table_mismatches,
    "api logging": checks.api_logging_problems,
    "http api wiring": checks.http_api_wiring_problems,
    "outputs": lambda t: checks.missing_outputs(t, REQUIRED_OUTPUTS),
    "webhook environment": lambda t: checks.missing_environment(
        t, "InboundWebhookFunction", WEBHOOK_ENVIRONMENT
    ),
    "secrets prefix": checks.secrets_prefix_problems,
}

# After the transform: SAM-generated roles, policy templates expanded, Globals merged in.
TRANSFORMED_CHECKS: dict[str, Callable[[Template], list[str]]] = {
    "common layer": checks.functions_without_common_layer,
    "architecture": checks.architecture_not_parameterised,
    "function log groups": checks.functions_without_log_group,
    "log retention": checks.log_groups_without_retention,
    "wildcard actions": checks.wildcard_actions,
    "wildcard resources": checks.wildcard_resources,
    "table layout": checks.table_mismatches,
    "outputs": lambda t: checks.missing_outputs(t, REQUIRED_OUTPUTS),
}


@pytest.mark.parametrize("name", sorted(RAW_CHECKS))
def test_template_follows_convention(name: str, raw_template: Template) -> None:
    assert RAW_CHECKS[name](raw_template) == []


@pytest.mark.parametrize("name", sorted(TRANSFORMED_CHECKS))
def test_transformed_template_follows_convention(name: str, transformed_template: Template) -> None:
    assert TRANSFORMED_CHECKS[name](transformed_template) == []


def test_transform_keeps_three_http_apis_each_on_its_default_stage(
    transformed_template: Template,
) -> None:
    apis = [logical_id for logical_id, _ in checks.resources(transformed_template, checks.HTTP_API)]
    stages = [r for _, r in checks.resources(transformed_template, checks.HTTP_API_STAGE)]
    assert apis == ["AutomationsApi", "ConsoleApi", "WebhookApi"]
    assert [s["Properties"]["StageName"] for s in stages] == ["$default"] * len(apis)
    assert list(checks.resources(transformed_template, *checks.GENERATED_API_TYPES)) == []
    assert list(checks.resources(transformed_template, "AWS::ApiGateway::Stage")) == []


def test_the_webhook_routes_are_open_to_twilio_and_signed_by_it(raw_template: Template) -> None:
    """No authorizer on the webhooks (Twilio cannot sign SigV4): the handlers check
    X-Twilio-Signature; each route reaches its own function."""
    routes = checks.http_api_routes(raw_template)
    webhooks = {key: r for key, r in routes.items() if r["api"] == "WebhookApi"}
    assert {key: (r["authorization"], r["function"]) for key, r in webhooks.items()} == {
        "ANY /twilio/{account}/sms": ("NONE", "InboundWebhookFunction"),
        "ANY /twilio/{account}/status": ("NONE", "StatusCallbackFunction"),
    }


def test_webhook_answers_inside_twilios_budget(raw_template: Template) -> None:
    """Twilio abandons a webhook call after 15 s; the function must give up first."""
    webhook = raw_template["Resources"]["InboundWebhookFunction"]["Properties"]
    assert webhook["Timeout"] < 15
    assert webhook["Environment"]["Variables"]["MAX_BODY_BYTES"] == "65536"


def test_webhook_role_grants_only_what_the_handler_uses(transformed_template: Template) -> None:
    actions = sorted(
        action
        for logical_id, statement in checks.policy_statements(transformed_template)
        if logical_id == "InboundWebhookFunctionRole"
        for action in checks._as_list(statement["Action"])
    )
    assert actions == ["dynamodb:GetItem", "dynamodb:PutItem", "secretsmanager:GetSecretValue"]


# --- every checker can fail ----------------------------------------------------------------------

_DELETE = object()
FN = "Resources.Fn.Properties"
TABLE = "Resources.AppTable.Properties"
STAGE = "Resources.ApiStage.Properties"
MINI_OUTPUTS = ["SecretsPrefix", "TableName"]
MINI_ENVIRONMENT = ["TABLE_NAME", "SECRETS_PREFIX", "MAX_BODY_BYTES"]


def _mini() -> Template:
    """A small template that passes every checker; each case below breaks one thing in it."""
    secret_arn = (
        "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
        "sms-automation/${AWS::StackName}/*"
    )
    return {
        "Globals": {
            "Function": {
                "Architectures": [{"Ref": "Architecture"}],
                "Layers": [{"Ref": "CommonLayer"}],
                "Environment": {
                    "Variables": {
                        "SECRETS_PREFIX": {"Fn::Sub": "sms-automation/${AWS::StackName}"},
                        "TABLE_NAME": {"Ref": "AppTable"},
                    }
                },
            }
        },
        "Resources": {
            # The real table (a copy): the table checker is about drift from keys.py.
            "AppTable": table_resource(),
            "CommonLayer": {
                "Type": "AWS::Serverless::LayerVersion",
                "Metadata": {
                    "BuildMethod": "python3.12",
                    "BuildArchitecture": {"Ref": "Architecture"},
                },
                "Properties": {
                    "ContentUri": "layers/common/",
                    "CompatibleArchitectures": [{"Ref": "Architecture"}],
                },
            },
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "FunctionName": {"Fn::Sub": "${AWS::StackName}-fn"},
                    "CodeUri": "functions/inbound_webhook/",
                    "Handler": "handler.lambda_handler",
                    "LoggingConfig": {"LogGroup": {"Ref": "FnLogs"}},
                    "Environment": {"Variables": {"MAX_BODY_BYTES": "1"}},
                    "Policies": [
                        {
                            "Statement": [
                                {
                                    "Sid": "Table",
                                    "Effect": "Allow",
                                    "Action": ["dynamodb:GetItem"],
                                    "Resource": {"Fn::GetAtt": ["AppTable", "Arn"]},
                                }
                            ]
                        },
                        {
                            "AWSSecretsManagerGetSecretValuePolicy": {
                                "SecretArn": {"Fn::Sub": secret_arn}
                            }
                        },
                    ],
                },
            },
            "FnLogs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {
                    "LogGroupName": {"Fn::Sub": "/aws/lambda/${AWS::StackName}-fn"},
                    "RetentionInDays": {"Ref": "LogRetentionDays"},
                },
            },
            "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "HTTP"}},
            "ApiStage": {
                "Type": "AWS::ApiGatewayV2::Stage",
                "Properties": {
                    "ApiId": {"Ref": "Api"},
                    "StageName": "$default",
                    "AutoDeploy": True,
                    "DefaultRouteSettings": {
                        "ThrottlingBurstLimit": {"Ref": "Burst"},
                        "ThrottlingRateLimit": {"Ref": "Rate"},
                    },
                    "AccessLogSettings": {
                        "DestinationArn": {"Fn::GetAtt": ["ApiLogs", "Arn"]},
                        "Format": '{"id":"$context.requestId","ua":"$context.identity.userAgent"}',
                    },
                },
            },
            "ApiLogs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"RetentionInDays": {"Ref": "LogRetentionDays"}},
            },
            "FnIntegration": {
                "Type": "AWS::ApiGatewayV2::Integration",
                "Properties": {
                    "ApiId": {"Ref": "Api"},
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": {"Fn::GetAtt": ["Fn", "Arn"]},
                    "PayloadFormatVersion": "2.0",
                },
            },
            "FnRoute": {
                "Type": "AWS::ApiGatewayV2::Route",
                "Properties": {
                    "ApiId": {"Ref": "Api"},
                    "RouteKey": "POST /fn",
                    "AuthorizationType": "AWS_IAM",
                    "Target": {"Fn::Sub": "integrations/${FnIntegration}"},
                },
            },
            "FnPermission": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": {"Ref": "Fn"},
                    "Principal": "apigateway.amazonaws.com",
                    "SourceArn": {
                        "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:"
                        "${AWS::AccountId}:${Api}/*/*/fn"
                    },
                },
            },
        },
        "Outputs": {
            "SecretsPrefix": {"Value": {"Fn::Sub": "sms-automation/${AWS::StackName}"}},
            "TableName": {"Value": {"Ref": "AppTable"}},
        },
    }


def _set(path: str, value: Any) -> Callable[[Template], None]:
    """A mutation: set the item at a dotted path (list indexes as numbers); _DELETE removes it."""

    def mutate(template: Template) -> None:
        *parents, last = path.split(".")
        node: Any = template
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) else last
        if value is _DELETE:
            del node[key]
        else:
            node[key] = value

    return mutate


Checker = Callable[..., list[str]]
# (case, checker, extra arguments after the template, mutation that must make it complain)
BROKEN: list[tuple[str, Checker, tuple[Any, ...], Callable[[Template], None]]] = [
    ("no layer", checks.functions_without_common_layer, (), _set("Globals.Function.Layers", [])),
    (
        "hard-coded architecture",
        checks.architecture_not_parameterised,
        (),
        _set("Globals.Function.Architectures", ["x86_64"]),
    ),
    (
        "layer built for the default architecture",
        checks.architecture_not_parameterised,
        (),
        _set("Resources.CommonLayer.Metadata.BuildArchitecture", _DELETE),
    ),
    ("no log group", checks.functions_without_log_group, (), _set(f"{FN}.LoggingConfig", {})),
    (
        "log group named for another function",
        checks.functions_without_log_group,
        (),
        _set("Resources.FnLogs.Properties.LogGroupName", "/aws/lambda/other"),
    ),
    (
        "log group kept forever",
        checks.log_groups_without_retention,
        (),
        _set("Resources.FnLogs.Properties.RetentionInDays", _DELETE),
    ),
    (
        "handler module missing",
        checks.functions_without_code,
        (ROOT,),
        _set(f"{FN}.Handler", "nothere.lambda_handler"),
    ),
    (
        "code directory missing",
        checks.functions_without_code,
        (ROOT,),
        _set(f"{FN}.CodeUri", "functions/does_not_exist/"),
    ),
    (
        "star action",
        checks.wildcard_actions,
        (),
        _set(f"{FN}.Policies.0.Statement.0.Action", "*"),
    ),
    (
        "service-wide action",
        checks.wildcard_actions,
        (),
        _set(f"{FN}.Policies.0.Statement.0.Action", ["dynamodb:*"]),
    ),
    (
        "star resource",
        checks.wildcard_resources,
        (),
        _set(f"{FN}.Policies.0.Statement.0.Resource", "*"),
    ),
    (
        "wrong partition key",
        checks.table_mismatches,
        (),
        _set(f"{TABLE}.KeySchema.0.AttributeName", "id"),
    ),
    (
        "index renamed",
        checks.table_mismatches,
        (),
        _set(f"{TABLE}.GlobalSecondaryIndexes.0.IndexName", "byAccount"),
    ),
    (
        "run index keyed only by account",
        checks.table_mismatches,
        (),
        _set(f"{TABLE}.GlobalSecondaryIndexes.1.KeySchema.0.AttributeName", "gsi1pk"),
    ),
    (
        "run index copying whole items",
        checks.table_mismatches,
        (),
        _set(f"{TABLE}.GlobalSecondaryIndexes.1.Projection.ProjectionType", "ALL"),
    ),
    (
        "message index copying whole items",
        checks.table_mismatches,
        (),
        _set(f"{TABLE}.GlobalSecondaryIndexes.0.Projection.ProjectionType", "ALL"),
    ),
    (
        "stream view changed",
        checks.table_mismatches,
        (),
        _set(f"{TABLE}.StreamSpecification.StreamViewType", "KEYS_ONLY"),
    ),
    (
        "ttl attribute renamed",
        checks.table_mismatches,
        (),
        _set(f"{TABLE}.TimeToLiveSpecification.AttributeName", "ttl"),
    ),
    (
        "table deleted with the stack",
        checks.table_mismatches,
        (),
        _set("Resources.AppTable.DeletionPolicy", "Delete"),
    ),
    (
        "a SAM API whose routes the emulator ignores",
        checks.api_logging_problems,
        (),
        _set("Resources.Generated", {"Type": "AWS::Serverless::HttpApi", "Properties": {}}),
    ),
    (
        "a named stage",
        checks.api_logging_problems,
        (),
        _set(f"{STAGE}.StageName", "dev"),
    ),
    (
        "throttling not a parameter",
        checks.api_logging_problems,
        (),
        _set(f"{STAGE}.DefaultRouteSettings.ThrottlingRateLimit", 100),
    ),
    (
        "access log kept forever",
        checks.api_logging_problems,
        (),
        _set("Resources.ApiLogs.Properties.RetentionInDays", _DELETE),
    ),
    (
        "caller identity in access log",
        checks.api_logging_problems,
        (),
        _set(f"{STAGE}.AccessLogSettings.Format", '{"who":"$context.identity.userArn"}'),
    ),
    (
        "authorizer claims in access log",
        checks.api_logging_problems,
        (),
        _set(f"{STAGE}.AccessLogSettings.Format", '{"who":"$context.authorizer.claims.sub"}'),
    ),
    (
        "access log not JSON",
        checks.api_logging_problems,
        (),
        _set(f"{STAGE}.AccessLogSettings.Format", "$context.requestId $context.status"),
    ),
    (
        "route's function may not be invoked by the API",
        checks.http_api_wiring_problems,
        (),
        _set("Resources.FnPermission", _DELETE),
    ),
    (
        "payload format 1.0",
        checks.http_api_wiring_problems,
        (),
        _set("Resources.FnIntegration.Properties.PayloadFormatVersion", "1.0"),
    ),
    (
        "route without an integration",
        checks.http_api_wiring_problems,
        (),
        _set("Resources.FnRoute.Properties.Target", "arn:aws:lambda:fn"),
    ),
    (
        "output missing",
        checks.missing_outputs,
        (MINI_OUTPUTS,),
        _set("Outputs.TableName", _DELETE),
    ),
    (
        "environment variable missing",
        checks.missing_environment,
        ("Fn", MINI_ENVIRONMENT),
        _set("Globals.Function.Environment.Variables.TABLE_NAME", _DELETE),
    ),
    (
        "secrets policy wider than the prefix",
        checks.secrets_prefix_problems,
        (),
        _set(
            f"{FN}.Policies.1.AWSSecretsManagerGetSecretValuePolicy.SecretArn",
            {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:*:*:secret:*"},
        ),
    ),
    (
        "output prefix differs",
        checks.secrets_prefix_problems,
        (),
        _set("Outputs.SecretsPrefix.Value", "sms-automation"),
    ),
]


@pytest.mark.parametrize(
    ("name", "checker", "args"), [b[:3] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_mini_template_passes(name: str, checker: Checker, args: tuple[Any, ...]) -> None:
    assert checker(_mini(), *args) == [], f"{name}: the unbroken mini-template already fails"


@pytest.mark.parametrize(("name", "checker", "args", "mutate"), BROKEN, ids=[b[0] for b in BROKEN])
def test_checker_catches(
    name: str, checker: Checker, args: tuple[Any, ...], mutate: Callable[[Template], None]
) -> None:
    template = _mini()
    mutate(template)
    assert checker(template, *args), f"{name}: the checker found nothing"


def test_every_checker_has_a_broken_case() -> None:
    """A checker is a public function of checks.py taking the template and returning findings."""
    checkers = {
        function
        for name, function in inspect.getmembers(checks, inspect.isfunction)
        if function.__module__ == checks.__name__
        and not name.startswith("_")
        and next(iter(inspect.signature(function).parameters), None) == "template"
        and inspect.signature(function).return_annotation == "list[str]"
    }
    assert len(checkers) >= 10
    missing = sorted(f.__name__ for f in checkers - {checker for _, checker, _, _ in BROKEN})
    assert missing == [], "add a broken mini-template case to BROKEN for these"


def test_handler_module_path() -> None:
    base = Path("code")
    assert checks.handler_module_path(base, "handler.lambda_handler") == base / "handler.py"
    assert checks.handler_module_path(base, "app.api.main.handle") == base / "app/api/main.py"
