"""Regular expressions from trigger files: compiled once at load, guarded against blow-ups.

Python's ``re`` backtracks and has no timeout, so a pattern like ``(a+)+$`` can take
exponential time on a crafted message. Two guards:

1. At load, a pattern whose unbounded repetition contains another unbounded repetition with
   nothing required around it (``(a+)+``, ``(a*)*``, ``(\\w+\\s?)*``, ``(a+|b)+``) is refused. A
   separator that must match (``(\\d+,)*``) keeps a pattern acceptable. This is a heuristic: it
   catches the classic catastrophic shapes, not every slow pattern.
2. At evaluation, a pattern only ever sees the first ``MAX_SUBJECT_CHARS`` characters of a value
   (inbound bodies are at most 64 KiB; longer values are cut and a warning is recorded).
"""

from __future__ import annotations

import functools
import importlib
import re
from typing import Any, Final

MAX_PATTERN_CHARS: Final = 1_000
MAX_SUBJECT_CHARS: Final = 65_536

_parser: Any = importlib.import_module("re._parser")  # the stdlib's own parser, untyped
_constants: Any = importlib.import_module("re._constants")
_UNBOUNDED: Final = _constants.MAXREPEAT
_BACKTRACKING_REPEATS: Final = (_constants.MAX_REPEAT, _constants.MIN_REPEAT)
_ALL_REPEATS: Final = (*_BACKTRACKING_REPEATS, _constants.POSSESSIVE_REPEAT)
_ONE_CHARACTER: Final = (
    _constants.LITERAL,
    _constants.NOT_LITERAL,
    _constants.ANY,
    _constants.IN,
    _constants.CATEGORY,
    _constants.RANGE,
)


class UnsafePattern(ValueError):
    pass


@functools.lru_cache(maxsize=4096)  # validation and compilation both ask; parse once
def compile_pattern(pattern: str, *, case_sensitive: bool) -> re.Pattern[str]:
    """Compile a user pattern, or raise ``ValueError`` with a plain explanation."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise UnsafePattern(
            f"the pattern is {len(pattern)} characters; at most {MAX_PATTERN_CHARS}"
        )
    flags = 0 if case_sensitive else re.IGNORECASE
    try:
        compiled = re.compile(pattern, flags)
    except re.error as error:
        raise ValueError(f"invalid regular expression: {error}") from None
    if _has_catastrophic_repeat(_parser.parse(pattern, flags)):
        raise UnsafePattern(
            "the pattern nests one unbounded repetition inside another (like '(a+)+'), which "
            "can take exponential time; rewrite it without the nesting, e.g. '(a+)+' -> 'a+'"
        )
    return compiled


def bounded_subject(text: str) -> tuple[str, bool]:
    """The part of ``text`` a pattern may see, and whether it was cut."""
    if len(text) <= MAX_SUBJECT_CHARS:
        return text, False
    return text[:MAX_SUBJECT_CHARS], True


def _has_catastrophic_repeat(items: Any) -> bool:
    for op, argument in items:
        for sub in _children(op, argument):
            if _has_catastrophic_repeat(sub):
                return True
        if _is_unbounded_backtracking(op, argument) and _starves_on_inner_repeat(list(argument[2])):
            return True
    return False


def _is_unbounded_backtracking(op: Any, argument: Any) -> bool:
    return op in _BACKTRACKING_REPEATS and argument[1] == _UNBOUNDED


def _children(op: Any, argument: Any) -> list[Any]:
    """The sub-patterns nested in one parsed item."""
    if op in _ALL_REPEATS:
        children = [argument[2]]
    elif op == _constants.SUBPATTERN:
        children = [argument[3]]
    elif op == _constants.BRANCH:
        children = list(argument[1])
    elif op in (_constants.ASSERT, _constants.ASSERT_NOT):
        children = [argument[1]]
    elif op == _constants.ATOMIC_GROUP:
        children = [argument]
    elif op == _constants.GROUPREF_EXISTS:
        children = [branch for branch in argument[1:] if branch is not None]
    else:
        children = []
    return children


def _starves_on_inner_repeat(items: list[Any]) -> bool:
    """Whether this sequence can be matched by an inner unbounded repeat alone."""
    for index, (op, argument) in enumerate(items):
        others = items[:index] + items[index + 1 :]
        if any(_min_width(other) > 0 for other in others):
            continue
        if _is_unbounded_backtracking(op, argument):
            return True
        if op == _constants.SUBPATTERN and _starves_on_inner_repeat(list(argument[3])):
            return True
        if op == _constants.BRANCH and any(
            _starves_on_inner_repeat(list(branch)) for branch in argument[1]
        ):
            return True
    return False


def _min_width(item: Any) -> int:
    op, argument = item
    if op in _ONE_CHARACTER:
        return 1
    if op in _ALL_REPEATS:
        return int(argument[0]) * sum(_min_width(sub) for sub in argument[2])
    if op == _constants.SUBPATTERN:
        return sum(_min_width(sub) for sub in argument[3])
    if op == _constants.ATOMIC_GROUP:
        return sum(_min_width(sub) for sub in argument)
    if op == _constants.BRANCH:
        return min(sum(_min_width(sub) for sub in branch) for branch in argument[1])
    return 0
