"""An account's send cap: automatic sends to one contact from one sender per rolling window
(enforced by ``send_guard``). Its own module, so the account model carries it without the
guard (the webhooks read accounts and never send)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

MAX_CAP_COUNT: Final = 100
"""The largest cap an account may set: it bounds the counter item (one slot per send)."""
MAX_WINDOW_SECONDS: Final = 24 * 3600


@dataclass(frozen=True, slots=True)
class SendCap:
    count: int
    window_seconds: int

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_CAP_COUNT:
            raise ValueError(f"a send cap is 1 to {MAX_CAP_COUNT} messages, not {self.count}")
        if not 60 <= self.window_seconds <= MAX_WINDOW_SECONDS or self.window_seconds % 60:
            raise ValueError(
                f"a send cap's window is whole minutes, 1 to {MAX_WINDOW_SECONDS // 60}"
            )

    @property
    def window_minutes(self) -> int:
        return self.window_seconds // 60

    def describe(self) -> str:
        return f"{self.count} per {self.window_minutes} minutes"


DEFAULT_SEND_CAP: Final = SendCap(count=10, window_seconds=600)
