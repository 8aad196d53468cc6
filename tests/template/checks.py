"""House conventions for template.yaml, as functions: template in, list of violations out.

Each checker takes a template dict in long form (``{"Ref": ...}``, ``{"Fn::Sub": ...}``): the raw
SAM template loaded with tests.support.template.load_template, or the transformed
CloudFormation JSON. An empty list means the template complies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sms_automation import keys

SERVERLESS_FUNCTION = "AWS::Serverless::Function"
LAMBDA_FUNCTION = "AWS::Lambda::Function"
FUNCTION_TYPES = (SERVERLESS_FUNCTION, LAMBDA_FUNCTION)
LAYER_LOGICAL_ID = "CommonLayer"
ARCHITECTURE_REF = {"Ref": "Architecture"}
RETENTION_REF = {"Ref": "LogRetentionDays"}

# (resource logical id, statement Sid) -> why that statement needs Resource "*".
# Add an entry only with the reason; a wildcard anywhere else fails the suite.
WILDCARD_RESOURCE_ALLOWLIST: dict[tuple[str, str], str] = {
    **{
        (logical_id, "DeliverExecutionLogs"): (
            "Step Functions log delivery (logs:CreateLogDelivery and friends) only accepts '*'"
        )
        # The raw template's state machine, and the role SAM generates for it.
        for logical_id in (
            "ConversationStateMachine",
            "ConversationStateMachineRole",
            "BroadcastStateMachine",
            "BroadcastStateMachineRole",
        )
    },
    **{
        (logical_id, "ListSchedules"): (
            "scheduler:ListSchedules has no resource type: IAM accepts only '*' (the schedule "
            "sync lists its own group's schedules; it may change only that group's)"
        )
        for logical_id in ("ScheduleSyncFunction", "ScheduleSyncFunctionRole")
    },
}

# Access-log variables that identify the caller beyond Twilio's IP and user agent, or that
# could carry message content; a variable is forbidden if it is one of these or nested under one.
FORBIDDEN_ACCESS_LOG_VARIABLES = (
    "$context.identity.caller",
    "$context.identity.user",
    "$context.identity.userArn",
    "$context.identity.accountId",
    "$context.identity.apiKey",
    "$context.identity.apiKeyId",
    "$context.identity.cognitoAuthenticationProvider",
    "$context.identity.cognitoAuthenticationType",
    "$context.identity.cognitoIdentityId",
    "$context.identity.cognitoIdentityPoolId",
    "$context.identity.clientCert",
    "$context.authorizer",
    "$context.requestOverride",
    "$context.responseOverride",
    "$input",
)
_LOG_VARIABLE = re.compile(r"\$(?:context|input)(?:\.[A-Za-z0-9_]+)*")


Template = dict[str, Any]


def resources(template: Template, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in sorted(template.get("Resources", {}).items()):
        if isinstance(resource, dict) and (not types or resource.get("Type") in types):
            yield logical_id, resource


def _properties(resource: dict[str, Any]) -> dict[str, Any]:
    properties = resource.get("Properties")
    return properties if isinstance(properties, dict) else {}


def _global_function(template: Template) -> dict[str, Any]:
    globals_section = template.get("Globals", {})
    function = globals_section.get("Function", {}) if isinstance(globals_section, dict) else {}
    return function if isinstance(function, dict) else {}


def _merge_globals(global_value: Any, own: Any) -> Any:
    """SAM's Globals rule: maps merge recursively, lists concatenate, anything else overrides."""
    if isinstance(global_value, dict) and isinstance(own, dict):
        merged = dict(global_value)
        for key, value in own.items():
            merged[key] = _merge_globals(global_value[key], value) if key in merged else value
        return merged
    if isinstance(global_value, list) and isinstance(own, list):
        return global_value + own
    return own


def effective_function_properties(template: Template, resource: dict[str, Any]) -> dict[str, Any]:
    """Function properties with SAM Globals applied."""
    if resource.get("Type") != SERVERLESS_FUNCTION:
        return _properties(resource)
    merged: dict[str, Any] = _merge_globals(_global_function(template), _properties(resource))
    return merged


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _ref_target(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"Ref"} and isinstance(value["Ref"], str):
        return value["Ref"]
    return None


def _sub_string(value: Any) -> str | None:
    """The literal or ``Fn::Sub`` string of a name property (None for other intrinsics)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return value["Fn::Sub"]
    return None


# --- functions ---------------------------------------------------------------------------------


def functions_without_common_layer(template: Template) -> list[str]:
    """Every function loads the shared layer (the sms_automation package lives only there)."""
    layer_ids = {
        logical_id
        for logical_id, _ in resources(
            template, "AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"
        )
    }
    problems = []
    for logical_id, resource in resources(template, *FUNCTION_TYPES):
        layers = effective_function_properties(template, resource).get("Layers", [])
        refs = {_ref_target(layer) for layer in _as_list(layers)}
        # After the SAM transform the layer's logical id gains a content hash suffix.
        if not any(ref and ref.startswith(LAYER_LOGICAL_ID) and ref in layer_ids for ref in refs):
            problems.append(f"{logical_id}: Layers does not include !Ref {LAYER_LOGICAL_ID}")
    return problems


def architecture_not_parameterised(template: Template) -> list[str]:
    """Functions and the layer follow the Architecture parameter: one build, one architecture."""
    problems = []
    for logical_id, resource in resources(template, *FUNCTION_TYPES):
        architectures = effective_function_properties(template, resource).get("Architectures")
        if architectures != [ARCHITECTURE_REF]:
            problems.append(
                f"{logical_id}: Architectures is {architectures!r}, not [!Ref Architecture]"
            )
    for logical_id, resource in resources(template, "AWS::Serverless::LayerVersion"):
        if _properties(resource).get("CompatibleArchitectures") != [ARCHITECTURE_REF]:
            problems.append(f"{logical_id}: CompatibleArchitectures is not [!Ref Architecture]")
        if resource.get("Metadata", {}).get("BuildArchitecture") != ARCHITECTURE_REF:
            problems.append(
                f"{logical_id}: Metadata.BuildArchitecture is not !Ref Architecture "
                "(sam build would compile its native wheels for x86_64)"
            )
    return problems


def functions_without_log_group(template: Template) -> list[str]:
    """Every function logs to a template-owned /aws/lambda/<name> group with bounded retention.

    Otherwise Lambda creates the group on first write, with no retention (logs kept forever).
    """
    log_groups = dict(resources(template, "AWS::Logs::LogGroup"))
    problems = []
    for logical_id, resource in resources(template, *FUNCTION_TYPES):
        properties = effective_function_properties(template, resource)
        target = _ref_target(properties.get("LoggingConfig", {}).get("LogGroup"))
        if target is None or target not in log_groups:
            problems.append(f"{logical_id}: LoggingConfig.LogGroup is not !Ref to a LogGroup")
            continue
        group = _properties(log_groups[target])
        function_name = _sub_string(properties.get("FunctionName"))
        group_name = _sub_string(group.get("LogGroupName"))
        if function_name is None or group_name != f"/aws/lambda/{function_name}":
            problems.append(
                f"{logical_id}: log group {target} is named {group_name!r}, "
                f"not /aws/lambda/<FunctionName {function_name!r}>"
            )
        if group.get("RetentionInDays") != RETENTION_REF:
            problems.append(f"{target}: RetentionInDays is not !Ref LogRetentionDays")
    return problems


def log_groups_without_retention(template: Template) -> list[str]:
    return [
        f"{logical_id}: RetentionInDays is not !Ref LogRetentionDays"
        for logical_id, resource in resources(template, "AWS::Logs::LogGroup")
        if _properties(resource).get("RetentionInDays") != RETENTION_REF
    ]


def handler_module_path(code_dir: Path, handler: str) -> Path:
    """``handler.lambda_handler`` -> ``<code_dir>/handler.py``; ``a.b.f`` -> ``a/b.py``."""
    module, _, _function = handler.rpartition(".")
    return code_dir.joinpath(*module.split(".")).with_suffix(".py")


def functions_without_code(template: Template, root: Path) -> list[str]:
    """CodeUri exists and holds the module Handler names (else sam build ships an empty zip)."""
    problems = []
    for logical_id, resource in resources(template, SERVERLESS_FUNCTION):
        properties = effective_function_properties(template, resource)
        code_uri, handler = properties.get("CodeUri"), properties.get("Handler")
        if not isinstance(code_uri, str) or not isinstance(handler, str) or "." not in handler:
            problems.append(f"{logical_id}: CodeUri {code_uri!r} / Handler {handler!r} unusable")
            continue
        code_dir = root / code_uri
        if not code_dir.is_dir():
            problems.append(f"{logical_id}: CodeUri {code_uri} is not a directory")
        elif not handler_module_path(code_dir, handler).is_file():
            problems.append(f"{logical_id}: {code_uri} has no module for Handler {handler}")
    for logical_id, resource in resources(template, "AWS::Serverless::LayerVersion"):
        content = _properties(resource).get("ContentUri")
        if not isinstance(content, str) or not (root / content / "sms_automation").is_dir():
            problems.append(f"{logical_id}: ContentUri {content!r} has no sms_automation package")
        elif not (root / content / "requirements.txt").is_file():
            problems.append(f"{logical_id}: ContentUri {content} has no requirements.txt")
    return problems


# --- IAM ---------------------------------------------------------------------------------------


def policy_statements(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every permission statement: SAM inline Policies, IAM roles, policies and managed policies.

    Trust policies (AssumeRolePolicyDocument) are not permissions and are left out.
    """
    documents: list[tuple[str, Any]] = []
    for logical_id, resource in resources(template):
        properties = _properties(resource)
        kind = resource.get("Type")
        if kind in (SERVERLESS_FUNCTION, "AWS::Serverless::StateMachine"):
            for policy in _as_list(properties.get("Policies", [])):
                if isinstance(policy, dict) and "Statement" in policy:
                    documents.append((logical_id, policy))
        elif kind == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                documents.append((logical_id, policy.get("PolicyDocument", {})))
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents.append((logical_id, properties.get("PolicyDocument", {})))
    for logical_id, document in documents:
        for statement in _as_list(document.get("Statement", [])):
            for branch in _branches(statement):
                yield logical_id, branch


def _branches(statement: Any) -> list[dict[str, Any]]:
    """A statement, or both statements of a conditional one (``Fn::If``: a parameter decides
    whether it exists); ``AWS::NoValue`` is none."""
    if not isinstance(statement, dict):
        return []
    if set(statement) == {"Fn::If"}:
        _, when_true, when_false = statement["Fn::If"]
        return _branches(when_true) + _branches(when_false)
    if statement == {"Ref": "AWS::NoValue"}:
        return []
    return [statement]


_SERVICE_WILDCARD = re.compile(r"^[A-Za-z0-9-]+:\*$")


def wildcard_actions(template: Template) -> list[str]:
    """No ``*`` or ``service:*`` action, and no NotAction (an allow-all-but list)."""
    problems = []
    for logical_id, statement in policy_statements(template):
        sid = statement.get("Sid", "<no Sid>")
        if "NotAction" in statement:
            problems.append(f"{logical_id}/{sid}: NotAction grants everything not listed")
        for action in _as_list(statement.get("Action", [])):
            if action == "*" or (isinstance(action, str) and _SERVICE_WILDCARD.match(action)):
                problems.append(f"{logical_id}/{sid}: wildcard action {action!r}")
    return problems


def wildcard_resources(
    template: Template,
    allowlist: dict[tuple[str, str], str] = WILDCARD_RESOURCE_ALLOWLIST,
) -> list[str]:
    """No ``Resource: "*"`` (nor NotResource) outside the allow-list."""
    problems = []
    for logical_id, statement in policy_statements(template):
        sid = statement.get("Sid", "")
        if "NotResource" in statement:
            problems.append(f"{logical_id}/{sid or '<no Sid>'}: NotResource")
        if "*" in _as_list(statement.get("Resource", [])) and (logical_id, sid) not in allowlist:
            problems.append(
                f"{logical_id}/{sid or '<no Sid>'}: Resource '*' (add it to "
                "WILDCARD_RESOURCE_ALLOWLIST with the reason if it is unavoidable)"
            )
    return problems


# --- data --------------------------------------------------------------------------------------


def table_mismatches(template: Template, logical_id: str = "AppTable") -> list[str]:
    """The table matches the key layout in sms_automation/keys.py and the durability settings."""
    resource = template.get("Resources", {}).get(logical_id)
    if not isinstance(resource, dict) or resource.get("Type") != "AWS::DynamoDB::Table":
        return [f"{logical_id}: no AWS::DynamoDB::Table"]
    p = _properties(resource)
    expected: list[tuple[str, Any, Any]] = [
        (
            "KeySchema",
            p.get("KeySchema"),
            [
                {"AttributeName": keys.PK, "KeyType": "HASH"},
                {"AttributeName": keys.SK, "KeyType": "RANGE"},
            ],
        ),
        (
            "AttributeDefinitions",
            sorted(p.get("AttributeDefinitions", []), key=lambda a: str(a.get("AttributeName"))),
            sorted(
                (
                    {"AttributeName": name, "AttributeType": "S"}
                    for name in (
                        keys.PK,
                        keys.SK,
                        keys.GSI1_PK,
                        keys.GSI1_SK,
                        keys.GSI2_PK,
                        keys.GSI2_SK,
                    )
                ),
                key=lambda a: a["AttributeName"],
            ),
        ),
        (
            "GlobalSecondaryIndexes",
            p.get("GlobalSecondaryIndexes"),
            [
                {
                    "IndexName": keys.GSI1,
                    "KeySchema": [
                        {"AttributeName": keys.GSI1_PK, "KeyType": "HASH"},
                        {"AttributeName": keys.GSI1_SK, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                },
                {
                    "IndexName": keys.GSI2,
                    "KeySchema": [
                        {"AttributeName": keys.GSI2_PK, "KeyType": "HASH"},
                        {"AttributeName": keys.GSI2_SK, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                },
            ],
        ),
        ("BillingMode", p.get("BillingMode"), "PAY_PER_REQUEST"),
        ("StreamSpecification", p.get("StreamSpecification"), {"StreamViewType": "NEW_IMAGE"}),
        (
            "TimeToLiveSpecification",
            p.get("TimeToLiveSpecification"),
            {"AttributeName": keys.EXPIRES_AT, "Enabled": True},
        ),
        (
            "PointInTimeRecoverySpecification",
            p.get("PointInTimeRecoverySpecification"),
            {"PointInTimeRecoveryEnabled": True},
        ),
        ("SSESpecification", p.get("SSESpecification"), {"SSEEnabled": True}),
        ("DeletionPolicy", resource.get("DeletionPolicy"), "Retain"),
        ("UpdateReplacePolicy", resource.get("UpdateReplacePolicy"), "Retain"),
    ]
    return [
        f"{logical_id}.{name}: {actual!r} != expected {want!r}"
        for name, actual, want in expected
        if actual != want
    ]


# --- API ---------------------------------------------------------------------------------------


HTTP_API = "AWS::ApiGatewayV2::Api"
HTTP_API_STAGE = "AWS::ApiGatewayV2::Stage"
HTTP_API_INTEGRATION = "AWS::ApiGatewayV2::Integration"
HTTP_API_ROUTE = "AWS::ApiGatewayV2::Route"
LAMBDA_PERMISSION = "AWS::Lambda::Permission"
# SAM's API types: the local emulator ignores an HttpApi's generated OpenAPI body (no route), and
# a REST API costs 3.5 times as much (docs/cost.md).
GENERATED_API_TYPES = (
    "AWS::Serverless::Api",
    "AWS::Serverless::HttpApi",
    "AWS::ApiGateway::RestApi",
)


def api_logging_problems(template: Template) -> list[str]:
    """HTTP APIs: declared explicitly, each served by one ``$default`` stage that throttles every
    route by parameters and writes a JSON access log (to a group with retention) without
    caller identity, bodies or anything an authorizer adds."""
    problems = [
        f"{logical_id}: {resource['Type']} (declare AWS::ApiGatewayV2::* resources)"
        for logical_id, resource in resources(template, *GENERATED_API_TYPES)
    ]
    stages_of: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for logical_id, resource in resources(template, HTTP_API_STAGE):
        stages_of.setdefault(str(_ref_target(_properties(resource).get("ApiId"))), []).append(
            (logical_id, _properties(resource))
        )
    for api_id, api in resources(template, HTTP_API):
        if _properties(api).get("ProtocolType") != "HTTP":
            problems.append(f"{api_id}: ProtocolType is not HTTP")
        if "Body" in _properties(api) or "BodyS3Location" in _properties(api):
            problems.append(f"{api_id}: an OpenAPI body (the emulator ignores its routes)")
        stages = stages_of.get(api_id, [])
        if len(stages) != 1:
            problems.append(f"{api_id}: {len(stages)} stages, not one $default stage")
        for logical_id, p in stages:
            problems.extend(_stage_problems(template, logical_id, p))
    return problems


def _stage_problems(template: Template, logical_id: str, p: dict[str, Any]) -> list[str]:
    problems = []
    if p.get("StageName") != "$default" or p.get("AutoDeploy") is not True:
        problems.append(f"{logical_id}: not the auto-deployed $default stage")
    settings = p.get("DefaultRouteSettings") or {}
    for limit in ("ThrottlingBurstLimit", "ThrottlingRateLimit"):
        if _ref_target(settings.get(limit)) is None:
            problems.append(f"{logical_id}: {limit} is not a parameter")
    access = p.get("AccessLogSettings") or {}
    destination = access.get("DestinationArn")
    group = destination.get("Fn::GetAtt", [None])[0] if isinstance(destination, dict) else None
    group_properties = _properties(template.get("Resources", {}).get(group) or {})
    if "RetentionInDays" not in group_properties:
        problems.append(f"{logical_id}: access log group {group!r} without retention")
    fmt = access.get("Format")
    if not isinstance(fmt, str):
        problems.append(f"{logical_id}: no AccessLogSettings.Format")
        return problems
    try:
        json.loads(re.sub(r"\$context\.[A-Za-z0-9.]+", "x", fmt))
    except json.JSONDecodeError as error:
        problems.append(f"{logical_id}: access log format is not JSON ({error})")
    problems.extend(
        f"{logical_id}: access log records {variable}"
        for variable in sorted(set(_LOG_VARIABLE.findall(fmt)))
        if any(
            variable == forbidden or variable.startswith(f"{forbidden}.")
            for forbidden in FORBIDDEN_ACCESS_LOG_VARIABLES
        )
    )
    return problems


def http_api_routes(template: Template) -> dict[str, dict[str, Any]]:
    """Route key -> {api, authorization, function, payload} of every HTTP API route."""
    all_resources = template.get("Resources", {})
    routes = {}
    for _, route in resources(template, HTTP_API_ROUTE):
        p = _properties(route)
        target = _sub_string(p.get("Target")) or ""
        integration = _properties(
            all_resources.get(target.removeprefix("integrations/${")[:-1]) or {}
        )
        function = integration.get("IntegrationUri", {}).get("Fn::GetAtt", [None])[0]
        routes[p["RouteKey"]] = {
            "api": _ref_target(p.get("ApiId")),
            "authorization": p.get("AuthorizationType"),
            "function": function,
            "integration_api": _ref_target(integration.get("ApiId")),
            "integration_type": integration.get("IntegrationType"),
            "payload": integration.get("PayloadFormatVersion"),
        }
    return routes


def http_api_wiring_problems(template: Template) -> list[str]:
    """Every route reaches a Lambda function through an AWS_PROXY payload 2.0 integration of its
    own API, and that function lets exactly this API invoke it (a Lambda::Permission whose
    SourceArn names the API)."""
    problems = []
    permitted = {
        (_ref_target(p.get("FunctionName")), api)
        for _, permission in resources(template, LAMBDA_PERMISSION)
        for p in [_properties(permission)]
        if p.get("Principal") == "apigateway.amazonaws.com"
        and p.get("Action") == "lambda:InvokeFunction"
        for api in re.findall(r":\$\{(\w+)\}/", _sub_string(p.get("SourceArn")) or "")
    }
    for key, route in sorted(http_api_routes(template).items()):
        if route["function"] is None:
            problems.append(f"{key}: its Target is not integrations/${{<an integration>}}")
            continue
        if route["integration_api"] != route["api"]:
            problems.append(f"{key}: its integration belongs to another API")
        if (route["integration_type"], route["payload"]) != ("AWS_PROXY", "2.0"):
            problems.append(f"{key}: not an AWS_PROXY integration with payload format 2.0")
        if (route["function"], route["api"]) not in permitted:
            problems.append(f"{key}: {route['function']} has no permission for {route['api']}")
    return problems


# --- wiring ------------------------------------------------------------------------------------


def missing_outputs(template: Template, names: list[str]) -> list[str]:
    outputs = template.get("Outputs", {})
    return [f"Outputs: no {name}" for name in names if name not in outputs]


def missing_environment(template: Template, logical_id: str, names: list[str]) -> list[str]:
    resource = template.get("Resources", {}).get(logical_id)
    if not isinstance(resource, dict):
        return [f"{logical_id}: no such resource"]
    environment = effective_function_properties(template, resource).get("Environment", {})
    variables = environment.get("Variables", {}) if isinstance(environment, dict) else {}
    return [f"{logical_id}: environment lacks {name}" for name in names if name not in variables]


def secrets_prefix_problems(template: Template) -> list[str]:
    """One secrets prefix: what functions are told, what they may read, what the CLI writes to."""
    env = _global_function(template).get("Environment", {}).get("Variables", {})
    prefix = _sub_string(env.get("SECRETS_PREFIX"))
    output = _sub_string(template.get("Outputs", {}).get("SecretsPrefix", {}).get("Value"))
    if prefix is None:
        return ["Globals.Function: SECRETS_PREFIX is not a string or !Sub"]
    problems = []
    if output != prefix:
        problems.append(f"Outputs.SecretsPrefix {output!r} != SECRETS_PREFIX {prefix!r}")
    for logical_id, resource in resources(template, SERVERLESS_FUNCTION):
        for policy in _as_list(_properties(resource).get("Policies", [])):
            if (
                not isinstance(policy, dict)
                or "AWSSecretsManagerGetSecretValuePolicy" not in policy
            ):
                continue
            arn = _sub_string(policy["AWSSecretsManagerGetSecretValuePolicy"].get("SecretArn"))
            if arn is None or not arn.endswith(f":secret:{prefix}/*"):
                problems.append(f"{logical_id}: SecretArn {arn!r} is not <...>:secret:{prefix}/*")
    return problems
