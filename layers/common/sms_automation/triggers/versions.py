"""Stored trigger-file versions: what refuses a push or a rollback (too large, a version
that does not exist, another push made current meanwhile: raised by the store adapter,
``adapters.trigger_store``), and what is built from a version, kept per (account, version).

A pushed version's text never changes, so whatever is derived from it (the parsed file, the
compiled engine) can be kept for the life of a warm Lambda. Parsing and compiling are
imported on first use: a cold start that never reads a trigger file does not load pydantic,
YAML or the engine.

What is kept is bounded twice: at most ``size`` versions, and at most ``memory`` of RE2 memory
for the compiled patterns they hold (their weight: the summed ``memory_held`` of the distinct
patterns a built engine uses, ``Engine.memory_held``; a pattern two kept versions share counts
in each, so the sum is an upper bound). RE2 grows each pattern's automaton lazily, up to that,
as message bodies (anyone can send one) drive it; dropping a version frees its patterns, as
nothing else keeps them. The version just asked for is always kept, even alone over ``memory``
(a stored file skips the file budget: it must still load).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from sms_automation.triggers.engine import Engine
    from sms_automation.triggers.model import TriggerSet

CACHE_SIZE = 32

MAX_SOURCE_BYTES: Final = 300 * 1024
"""Largest trigger file stored (UTF-8 bytes): the version item must stay well under DynamoDB's
400 KB item limit with its other attributes."""


class TriggerSourceTooLarge(ValueError):
    def __init__(self, size: int) -> None:
        super().__init__(
            f"the trigger file is {size} bytes; at most {MAX_SOURCE_BYTES} bytes can be stored "
            "(DynamoDB items are limited to 400 KB): split long texts or remove unused triggers"
        )
        self.size = size


class TriggerVersionNotFound(LookupError):
    def __init__(self, account: str, version: int) -> None:
        super().__init__(f"account {account!r} has no trigger set version {version}")
        self.account = account
        self.version = version


class ConcurrentTriggerChange(Exception):
    """Another push or rollback made a new version current between our read and our write."""

    def __init__(self, account: str, expected_version: int) -> None:
        super().__init__(
            f"the triggers of {account!r} changed while this push ran (version "
            f"{expected_version} was current when it started); nothing was stored: "
            "look at the new current version and push again"
        )
        self.account = account
        self.expected_version = expected_version


class StoredTriggers(Protocol):
    """A stored version of an account's trigger file (see ``adapters.trigger_store``)."""

    @property
    def version(self) -> int: ...

    @property
    def fingerprint(self) -> str: ...

    @property
    def source(self) -> str: ...


class PerVersion[T]:
    """``build(parsed file)`` once per (account, version), least recently used dropped beyond
    ``size`` versions or beyond ``memory`` bytes of RE2 memory held (``weigh``)."""

    def __init__(
        self,
        build: Callable[[TriggerSet], T],
        size: int = CACHE_SIZE,
        *,
        weigh: Callable[[T], int] = lambda _: 0,
        memory: int | None = None,
    ) -> None:
        self._build = build
        self._size = size
        self._weigh = weigh
        self._memory = memory
        self._built: OrderedDict[tuple[str, int], T] = OrderedDict()

    @property
    def memory_held(self) -> int:
        """The most RE2 memory the kept versions' patterns can hold together."""
        return sum(self._weigh(built) for built in self._built.values())

    def get(self, account: str, stored: StoredTriggers) -> T:
        key = (account, stored.version)
        if key not in self._built:
            from sms_automation.triggers.loader import parse_trigger_text

            parsed = parse_trigger_text(
                stored.source, filename=f"{account} v{stored.version}", stored=True
            )
            self._built[key] = self._build(parsed)
        self._built.move_to_end(key)
        self._drop_beyond_bounds()
        return self._built[key]

    def _drop_beyond_bounds(self) -> None:
        """Drop the least recently used until within both bounds, never the one just asked
        for (weighed on every call: an engine grows when it first runs an automation)."""
        if self._memory is None:
            from sms_automation.triggers.patterns import PROCESS_PATTERN_MEMORY

            self._memory = PROCESS_PATTERN_MEMORY
        while len(self._built) > 1 and (
            len(self._built) > self._size or self.memory_held > self._memory
        ):
            self._built.popitem(last=False)


def parsed_trigger_files() -> PerVersion[TriggerSet]:
    """The parsed files themselves (automations and their schedules are read from them)."""
    return PerVersion(lambda parsed: parsed)


def engines() -> PerVersion[Engine]:
    """Compiled engines: compiling 1,000 triggers takes ~0.5 s."""
    return PerVersion(_compile, weigh=_memory_held)


def _compile(parsed: TriggerSet) -> Engine:
    from sms_automation.triggers.engine import Engine

    return Engine(parsed)


def _memory_held(engine: Engine) -> int:
    return engine.memory_held
