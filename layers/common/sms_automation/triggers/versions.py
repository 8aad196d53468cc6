"""What is built from a stored trigger-file version, kept per (account, version).

A pushed version's text never changes, so whatever is derived from it (the parsed file, the
compiled engine) can be kept for the life of a warm Lambda. Parsing and compiling are
imported on first use: a cold start that never reads a trigger file does not load pydantic,
YAML or the engine.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sms_automation.triggers.engine import Engine
    from sms_automation.triggers.model import TriggerSet

CACHE_SIZE = 32


class StoredTriggers(Protocol):
    """A stored version of an account's trigger file (see ``adapters.trigger_store``)."""

    @property
    def version(self) -> int: ...

    @property
    def fingerprint(self) -> str: ...

    @property
    def source(self) -> str: ...


class PerVersion[T]:
    """``build(parsed file)`` once per (account, version), least recently used dropped."""

    def __init__(self, build: Callable[[TriggerSet], T], size: int = CACHE_SIZE) -> None:
        self._build = build
        self._size = size
        self._built: OrderedDict[tuple[str, int], T] = OrderedDict()

    def get(self, account: str, stored: StoredTriggers) -> T:
        key = (account, stored.version)
        if key not in self._built:
            from sms_automation.triggers.loader import parse_trigger_text

            parsed = parse_trigger_text(
                stored.source, filename=f"{account} v{stored.version}", stored=True
            )
            self._built[key] = self._build(parsed)
            if len(self._built) > self._size:
                self._built.popitem(last=False)
        self._built.move_to_end(key)
        return self._built[key]


def parsed_trigger_files() -> PerVersion[TriggerSet]:
    """The parsed files themselves (automations and their schedules are read from them)."""
    return PerVersion(lambda parsed: parsed)


def engines() -> PerVersion[Engine]:
    """Compiled engines: compiling 1,000 triggers takes ~0.5 s."""
    return PerVersion(_compile)


def _compile(parsed: TriggerSet) -> Engine:
    from sms_automation.triggers.engine import Engine

    return Engine(parsed)
