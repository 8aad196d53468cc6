"""Hypothesis strategies for requests to our webhook routes, derived from
``docs/openapi/webhooks.yaml``: the routes, methods, media types, path parameter and body schemas
come from the description, so a route or field added there is fuzzed without touching the test.
"""

from __future__ import annotations

import random
import re._constants as re_constants  # type: ignore[import-not-found]
import re._parser as re_parser  # type: ignore[import-not-found]
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

SPEC_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi" / "webhooks.yaml"
FREE_TEXT = st.integers(0, 2**64 - 1).map(lambda seed: _text(random.Random(seed), 24))  # noqa: S311


@cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text("utf-8"))
    return loaded


def resolve(node: Any) -> Any:
    """Follow ``$ref`` (local references only, as the description uses)."""
    while isinstance(node, Mapping) and "$ref" in node:
        target: Any = spec()
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def route_of(path: str) -> str:
    """``/twilio/{account}/sms`` -> ``sms``."""
    return path.rstrip("/").rsplit("/", 1)[-1]


def operations(path: str) -> dict[str, dict[str, Any]]:
    item = spec()["paths"][path]
    methods = ("get", "put", "post", "delete", "patch", "head", "options")
    return {method.upper(): resolve(item[method]) for method in methods if method in item}


def documented_statuses(path: str, method: str) -> dict[int, str | None]:
    """Status code -> the response's media type (None: no body described)."""
    documented: dict[int, str | None] = {}
    for code, response in operations(path)[method]["responses"].items():
        content = resolve(response).get("content") or {}
        documented[int(code)] = next(iter(content), None)
    return documented


def request_media_types(path: str) -> list[str]:
    body = resolve(operations(path)["POST"]["requestBody"])
    return list(body["content"])


def body_schema(path: str, media_type: str) -> dict[str, Any]:
    body = resolve(operations(path)["POST"]["requestBody"])
    schema: dict[str, Any] = resolve(body["content"][media_type]["schema"])
    return schema


def path_parameter_schema(path: str, name: str) -> dict[str, Any]:
    for reference in spec()["paths"][path].get("parameters", []):
        parameter = resolve(reference)
        if parameter["in"] == "path" and parameter["name"] == name:
            schema: dict[str, Any] = resolve(parameter["schema"])
            return schema
    raise KeyError(name)


def from_schema(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Values that conform to a (string or object) schema of the description.

    Hypothesis draws one seed; the value is built from it with ``random`` (``generate``):
    drawing a 34-character Sid character by character through Hypothesis costs more than the
    handler that receives it, and 10,000 requests must stay quick.
    """
    resolved = resolve(schema)
    seeded = random.Random
    return st.integers(0, 2**64 - 1).map(lambda seed: generate(resolved, seeded(seed)))


def generate(schema: Mapping[str, Any], rnd: random.Random) -> Any:
    schema = resolve(schema)
    if "enum" in schema:
        return rnd.choice(schema["enum"])
    if schema.get("type", "string") == "object":
        if "oneOf" in schema:
            base = {name: value for name, value in schema.items() if name != "oneOf"}
            return generate(_merged(base, resolve(rnd.choice(schema["oneOf"]))), rnd)
        return _object(schema, rnd)
    if "pattern" in schema:
        return matching(schema["pattern"], rnd)
    if schema.get("format") == "uri":
        return f"https://media.example.com/{matching('[A-Za-z0-9/]{0,20}', rnd)}"
    return _text(rnd, min(int(schema.get("maxLength", 40)), 40))


def _merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **base,
        **extra,
        "properties": {**base.get("properties", {}), **extra.get("properties", {})},
        "required": [*base.get("required", ()), *extra.get("required", ())],
    }


def _object(schema: Mapping[str, Any], rnd: random.Random) -> dict[str, Any]:
    properties = {name: resolve(value) for name, value in schema.get("properties", {}).items()}
    required = set(schema.get("required", ()))
    value: dict[str, Any] = {}
    extra = schema.get("additionalProperties")
    if extra:
        for _ in range(rnd.randrange(3)):
            name = matching("[A-Z][A-Za-z0-9]{0,15}", rnd)
            if name not in properties:
                value[name] = generate(extra if isinstance(extra, Mapping) else {}, rnd)
    for name, property_schema in properties.items():
        if name in required or rnd.random() < 0.5:
            value[name] = generate(property_schema, rnd)
    return value


_ALPHABETS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    " \t\n+%&=;#?/:@!\"'<>{}[]|^~`$*().,-_",
    "éüñçßøå€£¥中文日本語한국어Ωπ\U0001f600\u200b\u00a0\u202e",  # astral, zero-width, bidi
)


def _text(rnd: random.Random, max_size: int) -> str:
    """Free text: mostly letters and digits, with punctuation, URL-significant and non-ASCII."""
    return "".join(
        rnd.choice(_ALPHABETS[min(2, int(rnd.random() ** 3 * 3))])
        for _ in range(rnd.randrange(max_size + 1))
    )


# --- random strings matching the description's regular expressions ----------------------------

_UNBOUNDED = 8  # * and + repeat at most this often


def matching(pattern: str, rnd: random.Random) -> str:
    """A random string matching ``pattern`` (``re.fullmatch``), for the subset of regular
    expressions the description uses: literals, classes, ranges, groups, alternation, repeats,
    anchors."""
    out: list[str] = []
    _emit(_compiled(pattern), rnd, out)
    return "".join(out)


# A compiled pattern: a tuple of nodes, each a string (choose one character of it), a
# ("repeat", low, high, nodes) or a ("branch", (nodes, ...)).
_Node = str | tuple[Any, ...]


@cache
def _compiled(pattern: str) -> tuple[_Node, ...]:
    return _compile(re_parser.parse(pattern))


def _compile(items: Any) -> tuple[_Node, ...]:
    nodes: list[_Node] = []
    for op, argument in items:
        if op is re_constants.LITERAL:
            nodes.append(chr(argument))
        elif op is re_constants.IN:
            nodes.append(_class(argument))
        elif op is re_constants.ANY:
            nodes.append(_ALPHABETS[0])
        elif op in (re_constants.MAX_REPEAT, re_constants.MIN_REPEAT):
            low, high, inner = argument
            high = low + _UNBOUNDED if high is re_constants.MAXREPEAT else high
            nodes.append(("repeat", low, high, _compile(inner)))
        elif op is re_constants.SUBPATTERN:
            nodes.extend(_compile(argument[-1]))
        elif op is re_constants.BRANCH:
            nodes.append(("branch", tuple(_compile(branch) for branch in argument[1])))
        elif op is not re_constants.AT:
            raise NotImplementedError(f"regex construct {op} in the description")
    return tuple(nodes)


def _class(members: Any) -> str:
    choices: list[str] = []
    for op, argument in members:
        if op is re_constants.LITERAL:
            choices.append(chr(argument))
        elif op is re_constants.RANGE:
            choices.extend(chr(code) for code in range(argument[0], argument[1] + 1))
        else:
            raise NotImplementedError(f"regex class member {op} in the description")
    return "".join(choices)


def _emit(nodes: tuple[_Node, ...], rnd: random.Random, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node if len(node) == 1 else rnd.choice(node))
        elif node[0] == "repeat":
            for _ in range(rnd.randint(node[1], node[2])):
                _emit(node[3], rnd, out)
        else:
            _emit(rnd.choice(node[1]), rnd, out)
