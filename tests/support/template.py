"""template.yaml as data: a CloudFormation-aware YAML loader, and the table schema for moto.

Tests create the DynamoDB table from the template's own definition, so a key or index change in
template.yaml reaches every integration test and the schema cannot drift between them::

    dynamodb.create_table(**create_table_kwargs())
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.support.aws import ACCOUNT_ID, REGION, AwsCall

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
TABLE_LOGICAL_ID = "AppTable"
DEFAULT_TEST_TABLE_NAME = "sms-automation-test"

# Short-form tags whose long form is not "Fn::<Tag>".
_LONG_FORM = {"Ref": "Ref", "Condition": "Condition"}


class CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation short forms: ``!Sub x`` loads as ``{"Fn::Sub": "x"}``."""


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    key = _LONG_FORM.get(tag_suffix, f"Fn::{tag_suffix}")
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)  # !GetAtt Res.Attr == Fn::GetAtt: [Res, Attr]
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {key: value}


CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """Parse a CloudFormation/SAM YAML template into plain dicts in long (``Fn::``) form."""
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=CloudFormationLoader)  # noqa: S506
    if not isinstance(document, dict):
        raise TypeError(f"{path}: a template is a mapping, got {type(document).__name__}")
    return document


@cache
def _template() -> dict[str, Any]:
    return load_template()


def table_resource(
    template: dict[str, Any] | None = None, logical_id: str = TABLE_LOGICAL_ID
) -> dict[str, Any]:
    """A table resource of ``template`` (default: the repository's ``AppTable``), as a copy."""
    resources = (template or _template())["Resources"]
    resource = resources[logical_id]
    if resource.get("Type") != "AWS::DynamoDB::Table":
        raise TypeError(f"{logical_id} is a {resource.get('Type')}, not a DynamoDB table")
    return copy.deepcopy(resource)


def table_definition(
    template: dict[str, Any] | None = None, logical_id: str = TABLE_LOGICAL_ID
) -> dict[str, Any]:
    """The table's CloudFormation ``Properties``, intrinsics left as they are in the template."""
    properties: dict[str, Any] = table_resource(template, logical_id)["Properties"]
    return properties


def ttl_attribute(template: dict[str, Any] | None = None) -> str:
    """The attribute the table expires items by (``update_time_to_live`` in moto)."""
    spec = table_definition(template)["TimeToLiveSpecification"]
    attribute: str = spec["AttributeName"]
    return attribute


def create_table_kwargs(
    table_name: str = DEFAULT_TEST_TABLE_NAME,
    template: dict[str, Any] | None = None,
    logical_id: str = TABLE_LOGICAL_ID,
) -> dict[str, Any]:
    """``dynamodb.create_table(**kwargs)`` arguments equivalent to the template's ``AppTable``.

    CloudFormation and the API spell a few settings differently (``SSEEnabled`` vs ``Enabled``,
    an implied ``StreamEnabled``). TTL and point-in-time recovery are separate API calls
    (``update_time_to_live`` with :func:`ttl_attribute`, ``update_continuous_backups``), and
    ``DeletionProtectionEnabled`` is left out: it depends on the Stage parameter and would only
    get in the way of test teardown.
    """
    properties = table_definition(template, logical_id)
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties["BillingMode"],
    }
    if "GlobalSecondaryIndexes" in properties:
        kwargs["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    stream = properties.get("StreamSpecification")
    if stream:
        kwargs["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    sse = properties.get("SSESpecification")
    if sse:
        kwargs["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled"))}
    _reject_intrinsics(kwargs)
    return kwargs


def _reject_intrinsics(value: Any, where: str = "create_table kwargs") -> None:
    """Fail loudly if a value the API needs literally is an intrinsic in the template."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" or key.startswith("Fn::"):
                raise ValueError(f"{where} has an intrinsic ({key}); moto needs literal values")
            _reject_intrinsics(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _reject_intrinsics(item, f"{where}[{index}]")


# --- a function's role, as IAM would evaluate it --------------------------------------------------

# SAM policy templates (``- DynamoDBCrudPolicy: {TableName: …}``) as SAM expands them: entries of
# aws-sam-translator's policy_templates.json, copied verbatim (tests/template checks them against
# the copy in .venv-tools). A template missing here fails loudly: copy its entry from there.
SAM_POLICY_TEMPLATES_PATH = Path(__file__).with_name("sam_policy_templates.json")

# A test deployment's partition; its region and account are the tests' (tests/support/aws.py).
PARTITION = "aws"

_NO_VALUE = object()  # AWS::NoValue: dropped from the list that holds it

# Where a resource type keeps its physical name, and its ARN (``{name}`` filled in).
_NAME_PROPERTY = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::Events::EventBus": "Name",
    "AWS::Serverless::StateMachine": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::S3::Bucket": "BucketName",
}
_ARN = {
    ("AWS::DynamoDB::Table", "Arn"): "arn:{p}:dynamodb:{r}:{a}:table/{name}",
    # The stream's label is a timestamp only AWS knows: any stream of the table.
    ("AWS::DynamoDB::Table", "StreamArn"): "arn:{p}:dynamodb:{r}:{a}:table/{name}/stream/*",
    ("AWS::SQS::Queue", "Arn"): "arn:{p}:sqs:{r}:{a}:{name}",
    ("AWS::Serverless::Function", "Arn"): "arn:{p}:lambda:{r}:{a}:function:{name}",
    ("AWS::Lambda::Function", "Arn"): "arn:{p}:lambda:{r}:{a}:function:{name}",
    ("AWS::IAM::Role", "Arn"): "arn:{p}:iam::{a}:role/{name}",
    ("AWS::Scheduler::ScheduleGroup", "Arn"): "arn:{p}:scheduler:{r}:{a}:schedule-group/{name}",
    ("AWS::Events::EventBus", "Arn"): "arn:{p}:events:{r}:{a}:event-bus/{name}",
    ("AWS::Serverless::StateMachine", "Arn"): "arn:{p}:states:{r}:{a}:stateMachine:{name}",
    ("AWS::StepFunctions::StateMachine", "Arn"): "arn:{p}:states:{r}:{a}:stateMachine:{name}",
    ("AWS::S3::Bucket", "Arn"): "arn:{p}:s3:::{name}",
}


@cache
def sam_policy_templates() -> dict[str, Any]:
    """The vendored SAM policy templates, by name."""
    templates: dict[str, Any] = json.loads(SAM_POLICY_TEMPLATES_PATH.read_text("utf-8"))[
        "Templates"
    ]
    return templates


# The functions whose arguments are resolved first, then combined.
_SIMPLE_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "Fn::Join": lambda a: a[0].join(str(item) for item in a[1]),
    "Fn::Split": lambda a: a[1].split(a[0]),
    "Fn::Select": lambda a: a[1][int(a[0])],
    "Fn::Equals": lambda a: a[0] == a[1],
    "Fn::Not": lambda a: not a[0],
    "Fn::And": all,
    "Fn::Or": any,
}


class _Resolver:
    """CloudFormation intrinsics of a test deployment: pseudo parameters, parameter defaults,
    conditions, and resources by the physical names the test gave them (``names``, logical id →
    name), else by their name property (``FunctionName: !Sub ${AWS::StackName}-x``), else by a
    name made up as CloudFormation would (``<stack>-<LogicalId>-GENERATED``)."""

    def __init__(
        self,
        template: dict[str, Any],
        stack_name: str,
        names: Mapping[str, str],
        parameters: Mapping[str, Any] | None = None,
        pseudo: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template
        self.names = names
        self.parameters = parameters or {}
        self.pseudo = {
            "AWS::Partition": PARTITION,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": stack_name,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": _NO_VALUE,
            **(pseudo or {}),
        }

    def resolve(self, value: Any, refs: Mapping[str, Any] | None = None) -> Any:
        refs = refs or {}
        if isinstance(value, list):
            items = [self.resolve(item, refs) for item in value]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(key, argument)] = value.items()
            if key == "Ref":
                return self.ref(argument, refs)
            if key == "Condition":
                return self.condition(argument)
            if key.startswith("Fn::"):
                return self.function(key, argument, refs)
        return {key: self.resolve(item, refs) for key, item in value.items()}

    def function(self, name: str, argument: Any, refs: Mapping[str, Any]) -> Any:
        if name == "Fn::GetAtt":
            logical_id, attribute = argument
            return self.attribute(logical_id, attribute)
        if name == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            scope = {**refs, **{k: self.resolve(v, refs) for k, v in variables.items()}}
            return re.sub(r"\$\{([^}!][^}]*)\}", lambda m: str(self.sub_name(m[1], scope)), text)
        if name == "Fn::If":
            condition, when_true, when_false = argument
            return self.resolve(when_true if self.condition(condition) else when_false, refs)
        simple = _SIMPLE_FUNCTIONS.get(name)
        if simple is None:
            raise NotImplementedError(f"{name} is not resolved by tests/support/template.py")
        return simple(self.resolve(argument, refs))

    def sub_name(self, name: str, scope: Mapping[str, Any]) -> Any:
        if name in scope:
            return scope[name]
        if "." in name and name not in self.pseudo:
            logical_id, attribute = name.split(".", 1)
            return self.attribute(logical_id, attribute)
        return self.ref(name, scope)

    def ref(self, name: str, refs: Mapping[str, Any]) -> Any:
        if name in refs:
            return refs[name]
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        parameter = self.template.get("Parameters", {}).get(name)
        if parameter is not None:
            default = parameter.get("Default")
            if default is None:
                raise ValueError(f"parameter {name} has no default: the test must give one")
            if parameter.get("Type") == "CommaDelimitedList":
                return str(default).split(",")
            return default
        return self.physical_name(name)

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def physical_name(self, logical_id: str) -> str:
        if logical_id in self.names:
            return self.names[logical_id]
        resource = self.template["Resources"][logical_id]
        name_property = _NAME_PROPERTY.get(resource["Type"])
        name = resource.get("Properties", {}).get(name_property) if name_property else None
        if name is None:  # CloudFormation makes one up: stack-LogicalId-RANDOM
            return f"{self.pseudo['AWS::StackName']}-{logical_id}-GENERATED"
        return str(self.resolve(name))

    def attribute(self, logical_id: str, attribute: str) -> str:
        resource_type = self.template["Resources"][logical_id]["Type"]
        arn = _ARN.get((resource_type, attribute))
        if arn is None:
            raise NotImplementedError(f"Fn::GetAtt {logical_id}.{attribute} ({resource_type})")
        return arn.format(p=PARTITION, r=REGION, a=ACCOUNT_ID, name=self.physical_name(logical_id))


def _statements(policy: Any, resolver: _Resolver) -> list[dict[str, Any]]:
    """One entry of a function's ``Policies``: an inline document, or a SAM policy template."""
    if isinstance(policy, dict) and "Statement" in policy:
        statements: list[dict[str, Any]] = resolver.resolve(policy["Statement"])
        return statements
    if isinstance(policy, dict) and len(policy) == 1:
        [(name, parameters)] = policy.items()
        template = sam_policy_templates().get(name)
        if template is None:
            raise KeyError(
                f"SAM policy template {name} is not in {SAM_POLICY_TEMPLATES_PATH.name}: copy its"
                " entry from aws-sam-translator's policy_templates.json"
            )
        # SAM puts the values (intrinsics included) where the template refers to its
        # parameters; CloudFormation then resolves the result.
        values = {key: resolver.resolve(value) for key, value in (parameters or {}).items()}
        missing = set(template.get("Parameters", {})) - set(values)
        if missing:
            raise ValueError(f"{name} lacks its parameters {sorted(missing)}")
        resolved: list[dict[str, Any]] = resolver.resolve(
            template["Definition"]["Statement"], values
        )
        return resolved
    raise NotImplementedError(f"a policy the helper cannot read (managed policy?): {policy!r}")


def _as_tuple(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _pattern(text: str, *, ignore_case: bool) -> re.Pattern[str]:
    """IAM's wildcards: ``*`` any run of characters (``/`` and ``:`` included), ``?`` one."""
    body = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in text
    )
    return re.compile(body, re.IGNORECASE if ignore_case else 0)


LEADING_KEYS_CONDITION = ("ForAllValues:StringLike", "dynamodb:LeadingKeys")
"""The one ``Condition`` the reader evaluates: the item partition keys a statement is for."""


def _leading_key_patterns(condition: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    """A statement's ``ForAllValues:StringLike`` ``dynamodb:LeadingKeys`` patterns (``None``:
    it has none). ``dynamodb:LeadingKeys`` under any other operator is refused, not guessed."""
    operator, key = LEADING_KEYS_CONDITION
    for name, tests in (condition or {}).items():
        if key in tests and name != operator:
            raise NotImplementedError(f"{name} on {key}: only {operator} is modelled")
    patterns = (condition or {}).get(operator, {}).get(key)
    return None if patterns is None else _as_tuple(patterns)


@dataclass(frozen=True)
class Grant:
    """One Allow statement: actions (IAM is case-insensitive about them) on resources, and for
    a ``dynamodb:LeadingKeys`` condition the partition keys (``StringLike`` patterns, case
    sensitive) every key of the request must match."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    leading_keys: tuple[str, ...] | None = None

    def allows(
        self, action: str, resource: str | None, leading_keys: tuple[str, ...] | None = None
    ) -> bool:
        if not any(_pattern(a, ignore_case=True).fullmatch(action) for a in self.actions):
            return False
        if resource is not None and not any(
            _pattern(r, ignore_case=False).fullmatch(resource) for r in self.resources
        ):
            return False
        if self.leading_keys is None or leading_keys is None:  # ForAllValues of no key: true
            return True
        patterns = [_pattern(p, ignore_case=False) for p in self.leading_keys]
        return all(any(p.fullmatch(key) for p in patterns) for key in leading_keys)


@dataclass(frozen=True)
class RolePolicy:
    """What a function's ``Policies`` allow, as IAM evaluates identity policies: an action on a
    resource is allowed when an Allow statement names both (wildcards as IAM reads them).

    Only what a function's own code calls is modelled: what SAM adds for the function's events
    (stream reads, logs, X-Ray) is left out, and so are statements' ``Condition`` blocks (an
    allowed call is allowed whatever the condition: a looser check, never a false failure) but
    one: ``ForAllValues:StringLike`` on ``dynamodb:LeadingKeys``, evaluated against each call's
    partition keys (``AwsCall.leading_keys``; a call that names none passes it, as on AWS).
    A call on ``"*"`` (its request names no resource) is allowed only by a statement on
    ``"*"``; a task token's call (resource ``None``) by any statement granting its action."""

    function: str
    grants: tuple[Grant, ...]

    def allows(
        self, action: str, resource: str | None, leading_keys: tuple[str, ...] | None = None
    ) -> bool:
        return any(grant.allows(action, resource, leading_keys) for grant in self.grants)

    def denied(self, calls: Iterable[AwsCall]) -> list[AwsCall]:
        """The calls this role would be refused (AccessDenied on AWS), in a stable order."""
        refused = [
            call for call in calls if not self.allows(call.action, call.resource, call.leading_keys)
        ]
        return sorted(
            refused, key=lambda call: (call.action, call.resource or "", call.leading_keys or ())
        )


def resolved(
    value: Any,
    *,
    stack_name: str,
    parameters: Mapping[str, Any] | None = None,
    template: dict[str, Any] | None = None,
    pseudo: Mapping[str, str] | None = None,
) -> Any:
    """A piece of the template (a resource's properties, a rule's pattern) with its intrinsics
    resolved as in the stack ``stack_name``: parameters at their defaults unless ``parameters``
    gives them (a ``CommaDelimitedList`` as a list), pseudo parameters as in
    tests/support/aws.py unless ``pseudo`` gives them (``{"AWS::Partition": "aws-cn"}``)."""
    return _Resolver(template or _template(), stack_name, {}, parameters, pseudo).resolve(value)


def role_policy(
    function: str,
    *,
    stack_name: str,
    names: Mapping[str, str] | None = None,
    template: dict[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> RolePolicy:
    """The function's role policy in a test deployment: the stack named ``stack_name`` (its
    ``!Sub …${AWS::StackName}…`` ARNs), parameters at their defaults, and the resources in
    ``names`` (logical id → physical name, e.g. ``{"AppTable": "sms-automation-test"}``) as
    the test created them; ``parameters`` overrides defaults (``{"EmailSenders": [...]}``)."""
    document = template or _template()
    resolver = _Resolver(document, stack_name, names or {}, parameters)
    grants: list[Grant] = []
    for policy in document["Resources"][function]["Properties"].get("Policies", []):
        for statement in _statements(policy, resolver):
            if statement.get("Effect") != "Allow" or {"NotAction", "NotResource"} & set(statement):
                raise NotImplementedError(f"{function}: only Allow/Action/Resource is modelled")
            grants.append(
                Grant(
                    _as_tuple(statement["Action"]),
                    _as_tuple(statement["Resource"]),
                    _leading_key_patterns(statement.get("Condition")),
                )
            )
    return RolePolicy(function, tuple(grants))
