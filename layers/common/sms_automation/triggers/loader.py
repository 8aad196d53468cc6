"""Trigger files: YAML -> ``TriggerSet``, with every problem reported as ``file:line: message``.

The YAML is read with PyYAML's safe loader (plain data only: no tags that build objects),
keeping the node tree so that each pydantic error's location can be traced back to a line.
Duplicate keys, which YAML would silently collapse, are errors too.

Plain scalars follow YAML 1.2's core schema rather than PyYAML's YAML 1.1 defaults, so the
classic surprises do not happen: ``yes``/``no``/``on``/``off`` stay text (only ``true``/``false``
are booleans), ``17:30`` stays text (not the base-60 number 1050), ``+15005550006`` and ``007``
stay text (a phone number keeps its ``+``), and dates stay text for the models to read.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sms_automation.triggers import model
from sms_automation.triggers.model import ACTION_TYPES, OPERATORS, TriggerSet
from sms_automation.triggers.patterns import PATTERN_BUDGET_CONTEXT, PatternBudget

MAX_FILE_BYTES = 1_048_576
MAX_DEPTH = 64
"""Deepest nesting of YAML collections a file may use (a real trigger file uses about 20)."""
MAX_VALUES = 1_000_000
"""Most values (scalars, lists, mappings) a file may expand to, aliases counted each time
they are used: a file of ``MAX_FILE_BYTES`` without aliases stays below it, while a
"billion laughs" file (aliases of aliases) is refused before anything walks its expansion."""


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    """1-based; 0: the whole file (it cannot be read, or is too large)."""
    message: str
    column: int = 0
    """1-based column of the YAML node (or key) the problem points at; 0: not known."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class TriggerFileError(ValueError):
    """Every problem found in a trigger file, each with its line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = tuple(problems)


def load_trigger_file(path: str | Path, *, app_table: str | None = None) -> TriggerSet:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise TriggerFileError(
            [Problem(str(path), 0, f"cannot read the file: {error.strerror}")]
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise TriggerFileError(
            [Problem(str(path), 0, f"the file is {len(raw)} bytes; at most {MAX_FILE_BYTES}")]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise TriggerFileError([Problem(str(path), 0, f"the file is not UTF-8: {error}")]) from None
    return parse_trigger_text(text, filename=str(path), app_table=app_table)


def parse_trigger_text(
    text: str, *, filename: str = "<triggers>", app_table: str | None = None, stored: bool = False
) -> TriggerSet:
    """``app_table``: the deployment's own table, when known: a ``record`` naming it is a
    problem of the file. ``stored``: a version already stored, read to run it (checks that
    depend on the clock are left to the engine). The file's regular expressions share one
    ``PatternBudget``."""
    root, data = _read_yaml(text, filename)
    context = {
        model.APP_TABLE_CONTEXT: app_table,
        model.STORED_CONTEXT: stored,
        PATTERN_BUDGET_CONTEXT: PatternBudget(),
    }
    try:
        return TriggerSet.model_validate(data, context=context)
    except ValidationError as error:
        raise TriggerFileError(
            [_problem(filename, root, data, detail) for detail in error.errors(include_url=False)]
        ) from None


# ---------------------------------------------------------------------------------------------
# YAML with positions
# ---------------------------------------------------------------------------------------------


def read_yaml(text: str) -> Any:
    """Plain data from YAML text, read the way trigger files are read."""
    return yaml.load(text, Loader=TriggerYamlLoader)  # noqa: S506 (a SafeLoader subclass)


_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class TriggerYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 core-schema booleans and numbers, and no dates;
    bounded: at most ``MAX_DEPTH`` levels of nesting and ``MAX_VALUES`` values once aliases
    are expanded (``yaml.composer.ComposerError`` beyond, at the node that went over)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._values: dict[int, int] = {}  # id(node) -> values it expands to (nodes stay alive)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self._depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_DEPTH} levels", mark
            )
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is None:
            return None
        values = self._values.get(id(node))
        if values is None:  # composed just now (an alias gives back a node already counted)
            values = 1 + sum(self._values[id(child)] for child in _children(node))
            self._values[id(node)] = values
        if values > MAX_VALUES:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"expands to more than {MAX_VALUES:,} values (aliases of aliases?)",
                node.start_mark,
            )
        return node

    yaml_implicit_resolvers = {  # noqa: RUF012 (PyYAML reads it from the class)
        first: [
            resolver
            for resolver in resolvers
            if resolver[0] not in (_BOOL_TAG, _INT_TAG, _FLOAT_TAG, _TIMESTAMP_TAG)
        ]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


TriggerYamlLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
TriggerYamlLoader.add_implicit_resolver(
    _INT_TAG, re.compile(r"^-?(?:0|[1-9][0-9]*)$"), list("-0123456789")
)
TriggerYamlLoader.add_implicit_resolver(
    _FLOAT_TAG,
    re.compile(r"^-?(?:(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)$"),
    list("-.0123456789"),
)


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        yield from node.value
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value


def _read_yaml(text: str, filename: str) -> tuple[yaml.Node, Any]:
    loader = TriggerYamlLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise TriggerFileError(
                [Problem(filename, 1, "the file is empty: start with 'version: 1'")]
            )
        duplicates = list(_duplicate_keys(root))
        if duplicates:
            raise TriggerFileError(
                [
                    Problem(filename, mark.line + 1, message, mark.column + 1)
                    for mark, message in duplicates
                ]
            )
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = " ".join(part for part in (error.context, error.problem) if part)
        raise TriggerFileError(
            [Problem(filename, line, f"not valid YAML: {problem}", column)]
        ) from None
    except yaml.YAMLError as error:
        raise TriggerFileError([Problem(filename, 0, f"not valid YAML: {error}")]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise TriggerFileError(
            [Problem(filename, 1, "the file must be a mapping: 'version: 1' and 'triggers: [...]'")]
        )
    return root, data


def _duplicate_keys(node: yaml.Node) -> Iterator[tuple[yaml.Mark, str]]:
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                line = key.start_mark.line + 1
                if key.value in seen:
                    message = f"duplicate key {key.value!r} (first on line {seen[key.value]})"
                    yield key.start_mark, message
                seen.setdefault(key.value, line)
            yield from _duplicate_keys(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item)


def position_of(
    root: yaml.Node, loc: tuple[int | str, ...], *, key: bool = False
) -> tuple[int, int]:
    """The line and column (1-based) of the deepest node pydantic's error path ``loc``
    reaches, skipping its union tags (``send_sms``, ``function-after[...]``, which are not in
    the file); ``key``: the key of the last mapping entry reached rather than its value."""
    node = root
    mark = root.start_mark
    for element in loc:
        if isinstance(node, yaml.MappingNode):
            entry = next((pair for pair in node.value if pair[0].value == element), None)
            if entry is None:
                continue  # a union tag, or a missing key: stay on this mapping
            mark = (entry[0] if key else entry[1]).start_mark
            node = entry[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(element, int):
            if not 0 <= element < len(node.value):
                break
            node = node.value[element]
            mark = node.start_mark
    return mark.line + 1, mark.column + 1


# ---------------------------------------------------------------------------------------------
# Plain explanations
# ---------------------------------------------------------------------------------------------


def _problem(filename: str, root: yaml.Node, data: Any, detail: ErrorDetails) -> Problem:
    loc = tuple(detail["loc"])
    kind = detail["type"]
    context, field_path = _describe(data, loc, absent_last=kind == "missing")
    last = str(loc[-1]) if loc else ""
    line, column = position_of(root, loc, key=kind == "extra_forbidden")
    if kind == "extra_forbidden":
        field_path = field_path[:-1]
        message = f"unknown field {last!r}{_suggestion(last, _KNOWN_KEYS)}"
    elif kind == "missing":
        field_path = field_path[:-1]
        message = f"missing required field {last!r}"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        message = _union_message(detail)
        line, column = position_of(root, (*loc, "type"))
    else:
        message = detail["msg"].removeprefix("Value error, ")
        if kind == "string_type" and isinstance(detail["input"], bool | int | float):
            message += f" (got {detail['input']!r}: quote the value in YAML)"
    where = [*context, ".".join(field_path)] if field_path else context
    return Problem(filename, line, ": ".join([*filter(None, where), message]), column)


def _union_message(detail: ErrorDetails) -> str:
    error_context = detail.get("ctx") or {}
    tag = error_context.get("tag")
    if tag is None:
        return f"missing 'type': one of {', '.join(ACTION_TYPES)}"
    choices = ", ".join(ACTION_TYPES)
    return f"unknown action type {tag!r}{_suggestion(str(tag), ACTION_TYPES)} (one of {choices})"


def _describe(
    data: Any, loc: tuple[int | str, ...], *, absent_last: bool
) -> tuple[list[str], list[str]]:
    """Split ``loc`` into readable context (trigger, action, extraction) and a field path.

    Elements that are not in the data are pydantic's union tags and are skipped, except a last
    element named by a ``missing`` error (``absent_last``).
    """
    context: list[str] = []
    path: list[str] = []
    node = data
    index = 0
    while index < len(loc):
        element = loc[index]
        if isinstance(node, dict) and element in node:
            child = node[element]
            following = loc[index + 1] if index + 1 < len(loc) else None
            if (
                isinstance(child, list)
                and isinstance(following, int)
                and 0 <= following < len(child)
            ):
                label = _list_item_label(str(element), following, child[following])
                if label is None:
                    path.append(f"{element}[{following + 1}]")
                else:
                    context.append(label)
                    path = []
                node = child[following]
                index += 2
                continue
            path.append(str(element))
            node = child
        elif isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node):
            if path:
                path[-1] += f"[{element + 1}]"
            else:
                path.append(f"[{element + 1}]")
            node = node[element]
        elif absent_last and index == len(loc) - 1:
            path.append(str(element))
        index += 1
    return context, path


def _list_item_label(key: str, position: int, item: Any) -> str | None:
    mapping = item if isinstance(item, dict) else {}
    if key == "triggers":
        name = mapping.get("name")
        return f"trigger {name!r}" if isinstance(name, str) else f"trigger {position + 1}"
    if key in ("actions", "then", "else"):
        prefix = "" if key == "actions" else f"{key} "
        kind = mapping.get("type")
        return f"{prefix}action {position + 1}" + (f" ({kind})" if isinstance(kind, str) else "")
    if key == "extract":
        return f"extract {position + 1}"
    return None


def _suggestion(word: str, vocabulary: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, vocabulary, n=1, cutoff=0.7)
    return f" — did you mean {close[0]!r}?" if close else ""


def _model_keys() -> list[str]:
    keys: set[str] = set(OPERATORS)
    for candidate in vars(model).values():
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            for name, info in candidate.model_fields.items():
                keys.add(info.alias or name)
    return sorted(keys)


_KNOWN_KEYS = _model_keys()
