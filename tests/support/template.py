"""template.yaml as data: a CloudFormation-aware YAML loader, and the table schema for moto.

Tests create the DynamoDB table from the template's own definition, so a key or index change in
template.yaml reaches every integration test and the schema cannot drift between them::

    dynamodb.create_table(**create_table_kwargs())
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

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


def granted_actions(function: str, template: dict[str, Any] | None = None) -> set[str]:
    """The actions a function's inline policy statements grant (SAM policy templates aside)."""
    granted: set[str] = set()
    for policy in (template or _template())["Resources"][function]["Properties"]["Policies"]:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            action = statement["Action"]
            granted.update([action] if isinstance(action, str) else action)
    return granted


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
