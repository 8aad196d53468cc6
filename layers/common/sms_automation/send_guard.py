"""The flood guard: automatic sends to one contact from one sender, capped per rolling window.

Two auto-responders that answer each other (two deployments, ours and any bot) would exchange
messages without end. Every automatic SMS (a trigger's ``send_sms``, a conversation's prompt,
reminder or re-ask, an automation's message) is first *counted* on its lane (account, sender,
contact): at most ``SendCap.count`` in the last ``SendCap.window_seconds``. A send over the cap
is not made; the step finishes failed with ``Refusal.detail`` in the action log.

The count is exactly-once like the send: each send holds one *slot*, named by its step's
idempotency key, so a replayed or retried step finds its slot and is not counted again. Only
slots inside the window are kept (the lane holds at most ``count`` of them), so the counter's
item stays small. The rule is pure (``decide``); ``SendGuard`` runs it over a ``SendCounter``
(adapter: ``adapters.send_counter``) with optimistic concurrency: read the lane, decide, write
it back only if nobody wrote it meanwhile, else read again. Standard library only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Protocol

from sms_automation.pii import mask_phone
from sms_automation.send_cap import SendCap

WRITE_ATTEMPTS: Final = 5
"""How often a lane written meanwhile by a concurrent send is read and decided again."""


@dataclass(frozen=True, slots=True)
class Lane:
    """Who sends to whom: one counter per account, sender (number or Messaging Service SID)
    and contact."""

    account: str
    sender: str
    contact: str


@dataclass(frozen=True, slots=True)
class LaneCount:
    """A lane as stored: its slots (slot -> when it was counted, epoch milliseconds) and the
    version the next write is conditional on (0: no item yet)."""

    slots: Mapping[str, int] = field(default_factory=dict)
    version: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    admitted: bool
    slots: Mapping[str, int]
    """What the lane should hold now (the window's slots, this send's included if admitted)."""
    changed: bool
    """Whether ``slots`` differ from what was read (a write is due)."""
    counted: int
    """Sends in the window before this one (a refusal's count)."""


def slot_of(idempotency_key: str) -> str:
    """A short, stable name for a step's slot (64 bits of its idempotency key's hash)."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]


def decide(lane: LaneCount, slot: str, now_ms: int, cap: SendCap) -> Decision:
    """The rule: slots older than the window are dropped; a slot already there is the same
    step again (admitted, not counted twice); else a send is admitted while the window holds
    fewer than ``cap.count``."""
    since = now_ms - cap.window_seconds * 1000
    recent = {name: at for name, at in lane.slots.items() if at > since}
    pruned = len(recent) != len(lane.slots)
    if slot in recent:
        return Decision(True, recent, pruned, len(recent) - 1)
    if len(recent) >= cap.count:
        return Decision(False, recent, pruned, len(recent))
    return Decision(True, {**recent, slot: now_ms}, True, len(recent))


class SendCounter(Protocol):
    """The lanes' storage (adapter: ``adapters.send_counter.DynamoSendCounter``). Raises
    ``CounterUnavailable`` when the store cannot answer for now."""

    def read(self, lane: Lane) -> LaneCount: ...

    def write(self, lane: Lane, slots: Mapping[str, int], *, seen: int, expires_at: int) -> bool:
        """Store ``slots`` if the lane is still at version ``seen``; ``False`` if it moved on.
        ``expires_at`` (epoch seconds): when the lane may be forgotten."""
        ...


class CounterUnavailable(Exception):
    """The counter could not be read or written for now: the send is not made, and retried."""


@dataclass(frozen=True, slots=True)
class Refusal:
    lane: Lane
    counted: int
    cap: SendCap

    @property
    def detail(self) -> str:
        return (
            f"not sent: {self.counted} automatic messages to {mask_phone(self.lane.contact)} "
            f"from {mask_phone(self.lane.sender)} in the last {self.cap.window_minutes} minutes "
            "(the account's send cap)"
        )


class SendGuard:
    def __init__(
        self,
        counter: SendCounter,
        cap: Callable[[str], SendCap],
        clock: Callable[[], datetime],
        on_refused: Callable[[Refusal], None] = lambda refusal: None,
    ) -> None:
        """``cap``: the account's cap, by account name."""
        self._counter = counter
        self._cap = cap
        self._clock = clock
        self._on_refused = on_refused

    def admit(self, lane: Lane, idempotency_key: str) -> Refusal | None:
        """Count this send on its lane: ``None`` when it may be made, else why not. Raises
        ``CounterUnavailable`` (for now) when it cannot be counted."""
        cap = self._cap(lane.account)
        slot = slot_of(idempotency_key)
        for _ in range(WRITE_ATTEMPTS):
            now_ms = int(self._clock().timestamp() * 1000)
            stored = self._counter.read(lane)
            decision = decide(stored, slot, now_ms, cap)
            if decision.changed:
                expires_at = now_ms // 1000 + cap.window_seconds + 60
                written = self._counter.write(
                    lane, decision.slots, seen=stored.version, expires_at=expires_at
                )
                if not written:
                    continue  # a concurrent send wrote the lane: decide again on what it holds
            if decision.admitted:
                return None
            refusal = Refusal(lane, decision.counted, cap)
            self._on_refused(refusal)
            return refusal
        raise CounterUnavailable(f"the send counter stayed busy for {WRITE_ATTEMPTS} attempts")
