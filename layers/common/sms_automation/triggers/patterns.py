"""Regular expressions from trigger files: compiled once at load, run in linear time on RE2.

Every user pattern (``when: regex``, ``extract: regex``, ``expect: {regex}``) runs on RE2
(``google-re2``), whose matching time grows linearly with the text whatever the pattern: there
is no backtracking for a crafted message to blow up. ``regex_syntax`` rewrites the pattern from
the Python syntax people write (with its Unicode ``\\w``, ``\\d``, ``\\s``) and refuses, naming
it, a feature RE2 lacks. Limits, each a clear error at load:

- a pattern is at most ``MAX_PATTERN_CHARS`` characters;
- its compiled program must fit ``RE2_MAX_MEM`` (repetition counts multiply a pattern's size:
  ``\\w{1,40}`` is forty copies of a class of every letter and digit);
- the distinct patterns of one trigger file compile to at most ``MAX_FILE_PROGRAM_SIZE`` RE2
  instructions together (``PatternBudget``, charged by the models' validators when the loader
  gives one in the validation context): a compiled instruction costs ~20 bytes once matched, so
  a file cannot make the processor run out of memory;
- a pattern only ever sees the first ``MAX_SUBJECT_CHARS`` characters of a value (inbound bodies
  are at most 64 KiB; longer values are cut and a warning is recorded).

``re2`` is imported on the first compile, so a function that never evaluates a pattern (the
inbound webhook) never loads it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, Final, Protocol

from sms_automation.triggers.regex_syntax import UnsupportedPattern, to_re2

MAX_PATTERN_CHARS: Final = 1_000
MAX_SUBJECT_CHARS: Final = 65_536
RE2_MAX_MEM: Final = 4 << 20
"""Memory for one compiled pattern (program and match cache); RE2's own default is 8 MiB."""
MAX_FILE_PROGRAM_SIZE: Final = 2_000_000
"""RE2 instructions for all the distinct patterns of one trigger file (~40 MB once matched)."""
PATTERN_BUDGET_CONTEXT: Final = "pattern_budget"
"""The validation-context key of the file's ``PatternBudget``."""

_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")
"""A code point UTF-8 cannot encode (JSON may carry one); matched as U+FFFD instead."""

__all__ = [
    "MAX_PATTERN_CHARS",
    "MAX_SUBJECT_CHARS",
    "PATTERN_BUDGET_CONTEXT",
    "PatternBudget",
    "PatternMatch",
    "UnsupportedPattern",
    "UserPattern",
    "bounded_subject",
    "compile_pattern",
    "validate_pattern",
]


class PatternMatch(Protocol):
    """The part of a match the triggers read (``re2``'s match object has it)."""

    def group(self, group: int | str = 0, /) -> str | None: ...


class UserPattern:
    """A user's pattern compiled for RE2: ``search`` for groups, ``matches`` for yes or no."""

    def __init__(self, pattern: str, *, case_sensitive: bool) -> None:
        self.pattern = pattern
        self.case_sensitive = case_sensitive
        self.translated = to_re2(pattern)
        self._groups = _compile(self.translated, case_sensitive=case_sensitive, captures=True)

    @property
    def program_size(self) -> int:
        """RE2 instructions of the compiled program: what matching costs grows with it."""
        size: int = self._groups.programsize
        return size

    @property
    def groupindex(self) -> Mapping[str, int]:
        """Named group -> number, as ``re.Pattern.groupindex``."""
        return dict(self._groups.groupindex)

    def search(self, text: str) -> PatternMatch | None:
        """The first match anywhere in ``text`` (``re.search``), with its groups."""
        found: PatternMatch | None = _run(self._groups.search, text)
        return found

    def matches(self, text: str) -> bool:
        """Whether the pattern matches anywhere in ``text``: no groups, so the fastest path."""
        return _run(self._yes_no.search, text) is not None

    @functools.cached_property
    def _yes_no(self) -> Any:
        return _compile(self.translated, case_sensitive=self.case_sensitive, captures=False)


class PatternBudget:
    """The compiled size of one trigger file's distinct patterns, held to
    ``MAX_FILE_PROGRAM_SIZE``."""

    def __init__(self) -> None:
        self._charged: set[tuple[str, bool]] = set()
        self.total = 0

    def charge(self, pattern: UserPattern) -> None:
        key = (pattern.pattern, pattern.case_sensitive)
        if key in self._charged:
            return
        self._charged.add(key)
        self.total += pattern.program_size
        if self.total > MAX_FILE_PROGRAM_SIZE:
            raise UnsupportedPattern(
                f"the file's regular expressions compile to {self.total:,} RE2 instructions "
                f"with this one ({pattern.program_size:,}); at most {MAX_FILE_PROGRAM_SIZE:,} "
                "for one file: use fewer counted repetitions of \\w, \\d or \\s (each copy "
                "of \\w is ~1,300 instructions), or + and *"
            )


@functools.lru_cache(maxsize=4096)  # validation and compilation both ask; compile once
def compile_pattern(pattern: str, *, case_sensitive: bool) -> UserPattern:
    """Compile a user pattern, or raise ``ValueError`` with a plain explanation."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise UnsupportedPattern(
            f"the pattern is {len(pattern)} characters; at most {MAX_PATTERN_CHARS}"
        )
    return UserPattern(pattern, case_sensitive=case_sensitive)


def validate_pattern(
    pattern: str, context: Mapping[str, Any] | None, *, stored_key: str
) -> UserPattern | None:
    """For the models' validators: compile as the processor may (ignoring case, the larger
    program of the two) and charge the file's ``PatternBudget`` when the context has one.

    ``None`` for a version already stored (``context[stored_key]``): one stored before these
    rules must still load, so the engine compiles its patterns and a pattern that cannot run
    makes its condition false, its extraction the default, with the reason as a warning."""
    if (context or {}).get(stored_key):
        return None
    compiled = compile_pattern(pattern, case_sensitive=False)
    budget = (context or {}).get(PATTERN_BUDGET_CONTEXT)
    if isinstance(budget, PatternBudget):
        budget.charge(compiled)
    return compiled


def bounded_subject(text: str) -> tuple[str, bool]:
    """The part of ``text`` a pattern may see, and whether it was cut."""
    if len(text) <= MAX_SUBJECT_CHARS:
        return text, False
    return text[:MAX_SUBJECT_CHARS], True


def _compile(translated: str, *, case_sensitive: bool, captures: bool) -> Any:
    import re2  # google-re2 has no type information: Any, wrapped by UserPattern

    options = re2.Options()
    options.max_mem = RE2_MAX_MEM
    options.case_sensitive = case_sensitive
    options.never_capture = not captures
    options.log_errors = False  # the error is raised below; RE2 would also print it to stderr
    try:
        return re2.compile(translated, options)
    except re2.error as error:
        raise UnsupportedPattern(_explain(error)) from None


def _explain(error: Exception) -> str:
    reason = error.args[0] if error.args else ""
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    if "pattern too large" in str(reason):
        return (
            f"the pattern is too large to run within {RE2_MAX_MEM >> 20} MiB: repetition counts "
            "multiply its size (\\w{1,40} is 40 copies of a class of every letter and digit); "
            "use smaller counts, or + and *"
        )
    if "invalid repetition size" in str(reason):
        return (
            f"invalid regular expression: {reason} (counts nested inside each other multiply, "
            "and the product may be at most 1000)"
        )
    return f"invalid regular expression: {reason}"


def _run(search: Any, text: str) -> Any:
    try:
        return search(text)
    except UnicodeEncodeError:  # a lone surrogate: UTF-8 has no bytes for it
        return search(_LONE_SURROGATE.sub("\ufffd", text))
