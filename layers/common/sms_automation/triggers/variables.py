"""Variables and ``%name%`` templates (ThinkAutomation syntax).

A template is parsed once, when the trigger file is loaded, into literal text and variable
references; rendering only looks names up and joins strings, so it can never run code.

- ``%name%`` is replaced by the variable's value; ``%%`` is a literal ``%``; any other ``%``
  (``50% off``) is kept as written.
- Names are case-insensitive (``%from%``, ``%From%`` and ``%FROM%`` are the same variable).
- ``%a.b.c%`` walks into nested values: mapping keys, and list indexes (``%items.0%``).
- An unknown variable renders as empty text and is reported to the caller (a warning).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

type VarValue = str | int | float | bool | Mapping[str, VarValue] | Sequence[VarValue] | None

VARIABLE_NAME_PATTERN: Final = r"[A-Za-z_][A-Za-z0-9_]*"
"""A variable a trigger defines (``set_variable``, ``extract``, ``into``)."""

_REFERENCE_PATTERN: Final = rf"{VARIABLE_NAME_PATTERN}(?:\.[A-Za-z0-9_\-]+)*"
_TOKEN: Final = re.compile(rf"%%|%({_REFERENCE_PATTERN})%")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
"""What a lookup returns for a name that no layer defines (distinct from an empty value)."""


def fold(name: str) -> str:
    """The key every variable layer is stored under: names are case-insensitive."""
    return name.casefold()


def to_text(value: VarValue | _Missing) -> str:
    """How a value reads inside a template or a text condition."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, _Missing):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass(frozen=True, slots=True)
class VariableRef:
    """``%head.path...%``: ``head`` folded for lookup, ``path`` kept for nested keys."""

    name: str
    head: str
    path: tuple[str, ...]

    @classmethod
    def parse(cls, name: str) -> VariableRef:
        head, *path = name.split(".")
        return cls(name=name, head=fold(head), path=tuple(path))


class Scope:
    """Variable layers searched in order (most specific first), each keyed by folded name."""

    __slots__ = ("_layers",)

    def __init__(self, *layers: Mapping[str, VarValue]) -> None:
        self._layers = layers

    def get(self, folded_name: str) -> VarValue | _Missing:
        for layer in self._layers:
            if folded_name in layer:
                return layer[folded_name]
        return MISSING

    def resolve(self, ref: VariableRef) -> VarValue | _Missing:
        value = self.get(ref.head)
        for key in ref.path:
            value = _child(value, key)
            if value is MISSING:
                break
        return value


def _child(value: VarValue | _Missing, key: str) -> VarValue | _Missing:
    if isinstance(value, Mapping):
        if key in value:
            child: VarValue = value[key]
            return child
        folded = fold(key)
        for candidate, child in value.items():
            if fold(candidate) == folded:
                return child
        return MISSING
    if isinstance(value, Sequence) and not isinstance(value, str):
        try:
            return value[int(key)]
        except (ValueError, IndexError):
            return MISSING
    return MISSING


UnknownVariableHandler = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Template:
    """A text setting parsed once: literal strings interleaved with variable references."""

    source: str
    parts: tuple[str | VariableRef, ...]

    @property
    def is_constant(self) -> bool:
        return all(isinstance(part, str) for part in self.parts)

    @property
    def literal_text(self) -> str:
        """The text of a constant template (with ``%%`` already read as ``%``)."""
        return "".join(part for part in self.parts if isinstance(part, str))

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(part.name for part in self.parts if isinstance(part, VariableRef))

    def render(
        self,
        scope: Scope,
        on_unknown: UnknownVariableHandler,
        escape: Callable[[str], str] | None = None,
    ) -> str:
        """The text, each variable's value passed through ``escape`` when given (the literal
        text never is: it is the author's)."""
        pieces: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            value = scope.resolve(part)
            if value is MISSING:
                on_unknown(part.name)
            text = to_text(value)
            pieces.append(escape(text) if escape is not None else text)
        return "".join(pieces)


def parse_template(source: str) -> Template:
    parts: list[str | VariableRef] = []
    literal: list[str] = []
    position = 0
    for token in _TOKEN.finditer(source):
        literal.append(source[position : token.start()])
        position = token.end()
        name = token.group(1)
        if name is None:  # "%%"
            literal.append("%")
            continue
        if literal_text := "".join(literal):
            parts.append(literal_text)
        literal = []
        parts.append(VariableRef.parse(name))
    literal.append(source[position:])
    if literal_text := "".join(literal):
        parts.append(literal_text)
    return Template(source=source, parts=tuple(parts))


def render_text(source: str, variables: Mapping[str, VarValue]) -> tuple[str, list[str]]:
    """Render ``source`` against plain ``variables``; returns the text and the unknown names."""
    unknown: list[str] = []
    scope = Scope({fold(name): value for name, value in variables.items()})
    return parse_template(source).render(scope, unknown.append), unknown
