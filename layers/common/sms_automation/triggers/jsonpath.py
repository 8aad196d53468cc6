"""A small, safe subset of JSON path: ``$``, ``.key``, ``[index]``, ``["key"]`` / ``['key']``.

No filters, wildcards or recursion: a path names at most one value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

from sms_automation.triggers.variables import MISSING, VarValue, _Missing

_STEP: Final = re.compile(
    r"""\.(?P<name>[A-Za-z0-9_\-]+)
      | \[(?P<index>-?\d+)\]
      | \[(?P<quote>["'])(?P<key>(?:(?!(?P=quote)).)*)(?P=quote)\]""",
    re.VERBOSE,
)

type PathStep = str | int


def parse_json_path(path: str) -> tuple[PathStep, ...]:
    if not path.startswith("$"):
        raise ValueError(f"a JSON path starts with '$', e.g. '$.order.id'; got {path!r}")
    steps: list[PathStep] = []
    position = 1
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None:
            raise ValueError(
                f"cannot read the JSON path {path!r} at character {position + 1}: use "
                "'.key', '[0]' or '[\"key\"]' steps"
            )
        if match.group("name") is not None:
            steps.append(match.group("name"))
        elif match.group("index") is not None:
            steps.append(int(match.group("index")))
        else:
            steps.append(match.group("key"))
        position = match.end()
    return tuple(steps)


def select(document: VarValue, steps: tuple[PathStep, ...]) -> VarValue | _Missing:
    value: VarValue = document
    for step in steps:
        if isinstance(step, str) and isinstance(value, Mapping) and step in value:
            value = value[step]
            continue
        if (
            isinstance(step, int)
            and isinstance(value, Sequence)
            and not isinstance(value, str)
            and -len(value) <= step < len(value)
        ):
            value = value[step]
            continue
        return MISSING
    return value
