"""Twilio's OpenAPI 3.0 document as JSON Schema: response schemas to validate answers against.

OpenAPI 3.0 schemas are *almost* JSON Schema draft 4: ``nullable: true`` is theirs alone. It is
translated (``type: [T, "null"]``, ``null`` added to an ``enum``, ``anyOf`` around a ``$ref``)
and the whole document is registered under one URI, so ``$ref``s into
``#/components/schemas`` resolve. Twilio's own formats are checked where they matter to a
client: ``date-time-rfc-2822`` must parse as an RFC 2822 date.
"""

from __future__ import annotations

import copy
import json
from email.utils import parsedate_to_datetime
from functools import cache
from pathlib import Path
from typing import Any, Final

from jsonschema import Draft4Validator, FormatChecker  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

ROOT: Final = Path(__file__).resolve().parents[2]
SPEC_TOOLS_DIR: Final = ROOT / "tools" / "twilio-spec"
SPEC_PATH: Final = (
    SPEC_TOOLS_DIR / "node_modules/@twilio-alpha/mcp/twilio-oai/spec/json/twilio_api_v2010.json"
)
_DOCUMENT_URI: Final = "urn:twilio:api:v2010"

FORMATS: Final = FormatChecker()


def _is_rfc2822_date(value: object) -> bool:
    return not isinstance(value, str) or parsedate_to_datetime(value).tzinfo is not None


FORMATS.checks("date-time-rfc-2822", raises=(TypeError, ValueError))(_is_rfc2822_date)


@cache
def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return spec


def with_explicit_form_encoding(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with OpenAPI 3.0's default form encoding for arrays written out.

    In an ``application/x-www-form-urlencoded`` body an array property defaults to ``style:
    form, explode: true``: repeated keys, ``MediaUrl=a&MediaUrl=b``, which is what Twilio and
    its client use. Prism 5.14 applies that default only when the ``encoding`` is explicit
    (stoplightio/prism#2473, open): without it every ``MediaUrl`` fails "must be array". Writing
    the default out changes no meaning of the contract.
    """
    patched = copy.deepcopy(spec)
    for path_item in patched["paths"].values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            content = operation.get("requestBody", {}).get("content", {})
            form = content.get("application/x-www-form-urlencoded")
            if form is None:
                continue
            encoding = form.setdefault("encoding", {})
            for name, schema in form["schema"].get("properties", {}).items():
                if schema.get("type") == "array":
                    encoding.setdefault(name, {"style": "form", "explode": True})
    return patched


def without_nullable(node: Any) -> Any:
    """A deep copy of an OpenAPI 3.0 schema with every ``nullable: true`` made JSON Schema."""
    if isinstance(node, list):
        return [without_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: without_nullable(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is not True:
        return copy
    if "$ref" in copy:
        return {"anyOf": [copy, {"type": "null"}]}
    if isinstance(copy.get("type"), str):
        copy["type"] = [copy["type"], "null"]
    if isinstance(copy.get("enum"), list):
        copy["enum"] = [*copy["enum"], None]
    return copy


@cache
def _registry() -> Registry[Any]:
    document = without_nullable(load_spec())
    resource: Resource[Any] = Resource.from_contents(document, default_specification=DRAFT4)
    registry: Registry[Any] = Registry().with_resource(_DOCUMENT_URI, resource)
    return registry


def response_schema_pointer(path: str, method: str, status: int) -> str:
    """The JSON pointer of an operation's ``application/json`` response schema."""
    escaped = path.replace("~", "~0").replace("/", "~1")
    return f"#/paths/{escaped}/{method.lower()}/responses/{status}/content/application~1json/schema"


def response_validator(path: str, method: str, status: int) -> Draft4Validator:
    pointer = response_schema_pointer(path, method, status)
    return Draft4Validator(
        {"$ref": f"{_DOCUMENT_URI}{pointer}"}, registry=_registry(), format_checker=FORMATS
    )


def response_properties(path: str, method: str, status: int) -> set[str]:
    """The property names the spec declares for a response (through one ``$ref``)."""
    schema = load_spec()["paths"][path][method.lower()]["responses"][str(status)]["content"][
        "application/json"
    ]["schema"]
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = load_spec()["components"]["schemas"][name]
    return set(schema["properties"])
