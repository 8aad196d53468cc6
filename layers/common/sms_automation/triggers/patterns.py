"""Regular expressions from trigger files: compiled once at load, run in linear time on RE2.

Every user pattern (``when: regex``, ``extract: regex``, ``expect: {regex}``) runs on RE2
(``google-re2``), whose matching time grows linearly with the text whatever the pattern: there
is no backtracking for a crafted message to blow up. ``regex_syntax`` rewrites the pattern from
the Python syntax people write (with its Unicode ``\\w``, ``\\d``, ``\\s``) and refuses, naming
it, a feature RE2 lacks. Limits, each a clear error at load:

- a pattern is at most ``MAX_PATTERN_CHARS`` characters;
- its compiled program must fit ``RE2_MAX_MEM`` (repetition counts multiply a pattern's size:
  ``\\w{1,40}`` is forty copies of a class of every letter and digit);
- it then runs with ``pattern_memory(program size)`` for RE2 (program, reversed program and the
  automata RE2 builds lazily while matching, kept as long as the compiled pattern): what a large
  program needs for its automaton to fit (``\\w{1,10}!`` and ``^(\\w+\\s?){1,40}$`` fall back
  to RE2's slow NFA at a flat 4 MiB), little for a small one;
- the distinct patterns of one trigger file may together be given at most
  ``MAX_FILE_PATTERN_MEMORY`` (``PatternBudget``, charged by the models' validators when the
  loader gives one in the validation context): the worst case a file can make the processor hold;
- a pattern only ever sees the first ``MAX_SUBJECT_CHARS`` characters of a value (inbound bodies
  are at most 64 KiB; longer values are cut and a warning is recorded).

A compiled pattern lives as long as what uses it (an engine's predicates, a parsed file that
validated it) and no longer: ``compile_pattern`` shares one still alive (a ``WeakValueDictionary``)
but keeps none itself, and RE2's own module cache is emptied after each compile. So what drops
an engine (``versions.PerVersion``, which keeps the process within
``PROCESS_PATTERN_MEMORY``) frees its automata. ``collecting_patterns`` tells what a piece of
code compiled or shared (an engine's weight); ``keep_alive`` ties patterns to an owner.

``re2`` is imported on the first compile, so a function that never evaluates a pattern (the
inbound webhook) never loads it.
"""

from __future__ import annotations

import contextlib
import functools
import re
import weakref
from collections.abc import Iterator, Mapping
from typing import Any, Final, Protocol

from sms_automation.triggers.regex_syntax import UnsupportedPattern, to_re2

MAX_PATTERN_CHARS: Final = 1_000
MAX_SUBJECT_CHARS: Final = 65_536
RE2_MAX_MEM: Final = 4 << 20
"""Compiling: the largest program accepted is the one RE2 fits in this (its default is 8 MiB)."""
MEMORY_PER_INSTRUCTION: Final = 2 << 10
"""Running: RE2 memory given per program instruction. A DFA state holds an int per instruction
it may be at and a pointer per byte class, and a program can have a state per instruction, so
a larger program needs more; measured on the bench's bodies, what keeps the automaton out of
RE2's slow NFA: ``a{1,300}$`` (605 instructions) 1 MiB, ``\\w{1,10}!`` (13,400) 8 MiB,
``^(\\w+\\s?){1,40}$`` (54,600) 32 MiB (bench/RESULTS.md). A small program needs little: its
NFA is fast too."""
MIN_PATTERN_MEMORY: Final = 64 << 10
MAX_PATTERN_MEMORY: Final = 40 << 20
MAX_FILE_PATTERN_MEMORY: Final = 256 << 20
"""RE2 memory for all the distinct patterns of one trigger file (the processor has 512 MB)."""
PROCESS_PATTERN_MEMORY: Final = MAX_FILE_PATTERN_MEMORY
"""RE2 memory the compiled engines kept by one process may hold together (``PerVersion``):
the one-file maximum, so the largest file always fits, and half the processor's 512 MB, the
other half for Python, the SDK and the parsed files. A stored file over it still loads,
alone."""
PATTERN_BUDGET_CONTEXT: Final = "pattern_budget"
"""The validation-context key of the file's ``PatternBudget``."""

_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")
"""A code point UTF-8 cannot encode (JSON may carry one); matched as U+FFFD instead."""

__all__ = [
    "MAX_FILE_PATTERN_MEMORY",
    "MAX_PATTERN_CHARS",
    "MAX_SUBJECT_CHARS",
    "PATTERN_BUDGET_CONTEXT",
    "PROCESS_PATTERN_MEMORY",
    "HeldPatterns",
    "PatternBudget",
    "PatternMatch",
    "UnsupportedPattern",
    "UserPattern",
    "bounded_subject",
    "collecting_patterns",
    "compile_pattern",
    "keep_alive",
    "pattern_memory",
    "validate_pattern",
]


class PatternMatch(Protocol):
    """The part of a match the triggers read (``re2``'s match object has it)."""

    def group(self, group: int | str = 0, /) -> str | None: ...


def pattern_memory(program_size: int) -> int:
    """The RE2 memory a compiled program of ``program_size`` instructions runs with."""
    wanted = program_size * MEMORY_PER_INSTRUCTION
    return min(MAX_PATTERN_MEMORY, max(MIN_PATTERN_MEMORY, wanted))


class UserPattern:
    """A user's pattern compiled for RE2: ``search`` for named groups and the whole match,
    ``matches`` for yes or no (the same compiled program when there are no named groups)."""

    def __init__(self, pattern: str, *, case_sensitive: bool) -> None:
        self.pattern = pattern
        self.case_sensitive = case_sensitive
        self.translated = to_re2(pattern)
        sized = _compile(self.translated, case_sensitive, captures=True, max_mem=RE2_MAX_MEM)
        self.program_size: int = sized.programsize
        """RE2 instructions of the compiled program: what matching costs grows with it."""
        self.memory = pattern_memory(self.program_size)
        """RE2 memory for each of its compiled programs (``pattern_memory``)."""
        self._groups = _ready(
            _compile(self.translated, case_sensitive, captures=True, max_mem=self.memory)
        )

    @property
    def memory_held(self) -> int:
        """The most RE2 memory this pattern can hold: one compiled program, two with named
        groups (``matches`` then runs one without them)."""
        return self.memory * (2 if self._groups.groupindex else 1)

    @property
    def groupindex(self) -> Mapping[str, int]:
        """Named group -> number, as ``re.Pattern.groupindex`` (unnamed groups are not counted:
        they capture nothing, ``regex_syntax``)."""
        return dict(self._groups.groupindex)

    def search(self, text: str) -> PatternMatch | None:
        """The first match anywhere in ``text`` (``re.search``): its named groups and the whole
        match (group 0)."""
        found: PatternMatch | None = _run(self._groups.search, text)
        return found

    def matches(self, text: str) -> bool:
        """Whether the pattern matches anywhere in ``text``: no groups, so the fastest path."""
        return _run(self._yes_no.search, text) is not None

    @functools.cached_property
    def _yes_no(self) -> Any:
        if not self._groups.groupindex:  # no group to report: the same program
            return self._groups
        return _ready(
            _compile(self.translated, self.case_sensitive, captures=False, max_mem=self.memory)
        )


class PatternBudget:
    """The RE2 memory of one trigger file's distinct patterns, held to
    ``MAX_FILE_PATTERN_MEMORY``."""

    def __init__(self) -> None:
        self._charged: set[tuple[str, bool]] = set()
        self.total = 0

    def charge(self, pattern: UserPattern) -> None:
        key = (pattern.pattern, pattern.case_sensitive)
        if key in self._charged:
            return
        self._charged.add(key)
        self.total += pattern.memory_held
        if self.total > MAX_FILE_PATTERN_MEMORY:
            raise UnsupportedPattern(
                f"the file's regular expressions need {self.total >> 20} MiB to run with this "
                f"one ({pattern.memory_held >> 20} MiB, {pattern.program_size:,} RE2 "
                f"instructions); at most {MAX_FILE_PATTERN_MEMORY >> 20} MiB for one file: use "
                "fewer counted repetitions of \\w, \\d or \\s (each copy of \\w is ~1,300 "
                "instructions), or + and *"
            )


_alive: weakref.WeakValueDictionary[tuple[str, bool], UserPattern] = weakref.WeakValueDictionary()
"""Every compiled pattern something still uses, to share it: validation and the engine built
from the validated file, two versions of one account, a conversation and its engine."""
_collecting: list[HeldPatterns] = []
_kept: dict[int, HeldPatterns] = {}


def compile_pattern(pattern: str, *, case_sensitive: bool) -> UserPattern:
    """Compile a user pattern, or raise ``ValueError`` with a plain explanation.

    The same compiled pattern while one is alive anywhere; nothing here keeps it alive."""
    compiled = _alive.get((pattern, case_sensitive))
    if compiled is None:
        if len(pattern) > MAX_PATTERN_CHARS:
            raise UnsupportedPattern(
                f"the pattern is {len(pattern)} characters; at most {MAX_PATTERN_CHARS}"
            )
        compiled = UserPattern(pattern, case_sensitive=case_sensitive)
        _alive[(pattern, case_sensitive)] = compiled
    for held in _collecting:
        held.add(compiled)
    return compiled


class HeldPatterns:
    """Distinct compiled patterns, kept alive by this object."""

    def __init__(self) -> None:
        self._patterns: dict[tuple[str, bool], UserPattern] = {}
        self.memory_held = 0
        """The most RE2 memory these patterns can hold together (``UserPattern.memory_held``)."""

    def add(self, pattern: UserPattern) -> None:
        key = (pattern.pattern, pattern.case_sensitive)
        if key not in self._patterns:
            self._patterns[key] = pattern
            self.memory_held += pattern.memory_held

    def __len__(self) -> int:
        return len(self._patterns)


@contextlib.contextmanager
def collecting_patterns(into: HeldPatterns | None = None) -> Iterator[HeldPatterns]:
    """Every pattern ``compile_pattern`` gives (compiled or shared) inside the block, added
    to ``into`` (or a new ``HeldPatterns``)."""
    held = into if into is not None else HeldPatterns()
    _collecting.append(held)
    try:
        yield held
    finally:
        _collecting.remove(held)


def keep_alive(owner: object, held: HeldPatterns) -> None:
    """Keep ``held``'s patterns alive exactly as long as ``owner`` (which must be weakly
    referable): a parsed file keeps what its validation compiled, so an engine built from it
    shares them instead of compiling them again."""
    if not held:
        return
    _kept[id(owner)] = held
    weakref.finalize(owner, _kept.pop, id(owner), None)


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


def _compile(translated: str, case_sensitive: bool, *, captures: bool, max_mem: int) -> Any:
    import re2  # google-re2 has no type information: Any, wrapped by UserPattern

    options = re2.Options()
    options.max_mem = max_mem
    options.case_sensitive = case_sensitive
    options.never_capture = not captures
    options.log_errors = False  # the error is raised below; RE2 would also print it to stderr
    try:
        return re2.compile(translated, options)
    except re2.error as error:
        raise UnsupportedPattern(_explain(error)) from None
    finally:
        re2.purge()  # its module cache would keep 128 compiled patterns (and their automata)


def _ready(compiled: Any) -> Any:
    """RE2 builds the reversed program (which finds where a match starts) on the first match:
    build it now, at load, so the first matching message does not pay for it (~8 ms for
    ``\\w{1,10}!``, ~30 ms for ``^(\\w+\\s?){1,40}$``: bench/RESULTS.md)."""
    compiled.reverseprogramsize  # noqa: B018 (the size is not needed, the program is)
    return compiled


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
