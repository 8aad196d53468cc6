"""Pacing: each sender's sends held to the rate Twilio sends at, shared by every Lambda.

Twilio queues what a sender cannot send at once (a long code about 1 segment a second,
toll-free 3, a short code 100; a Messaging Service as its pool allows) and fails what waited
too long (30001, queue overflow); a burst of creates meets 429 / 20429 (too many requests).
So every automatic SMS takes its segments from its sender's **token bucket** first
(docs/decisions/0002-pacing.md says why a bucket in DynamoDB and not a paced queue).

The bucket, per account and sender (a number or a Messaging Service SID), is kept as a
theoretical arrival time (GCRA): ``tat``, when the bucket would be full again. At a rate of
``r`` segments a second it holds ``burst`` segments (one second's worth, at least one); a send
of ``c`` segments may go when ``c`` segments are in it, and moves ``tat`` on by ``c / r``.

Replies first: a send carries a ``Priority``. **Bulk** (a broadcast's row, and the prompt and
reminders of a conversation the row opened) may only take what the bucket holds, and may book it
at most ``MAX_INLINE_WAIT_MS`` ahead. A **reply** (answering an inbound message, a
conversation's reprompt, what a row sends once its contact answered, a console reply: the
default) may also take the **overdraft** (``Limits.overdraft``: one second's worth and one
segment more): so however long the bulk backlog, a reply goes at once, never behind it. A reply
longer than its allowance (``burst + overdraft``: 3 segments on a long code) needs only the
allowance free and takes all its segments (the bucket moves on by every one): else it would wait
until bulk left the bucket idle, the whole backlog. The price is a bound a little above the rate
while replies and bulk overlap: over any window of ``w`` seconds a sender sends at most
``r * w + burst + overdraft`` segments (bulk alone: ``r * w + burst``), plus a long reply's
segments beyond its allowance; Twilio's own queue absorbs that.

A bulk send that cannot go now takes a place in the sender's **queue** (``queue``: when the
next waiting bulk send is due), is deferred until then, and holds that place
(``PaceStore.hold``, with the place's time): coming back at its place, it competes for the
bucket instead of joining the end of the queue again; coming back earlier (SQS delays 900 s at
most, so a place further ahead is reached in several deferrals) it is deferred to its place
again, never ahead of earlier places. A backlog of thousands is so deferred about once each
(once more for every 15 minutes its place is ahead), not retried in a herd. A
reply admitted while bulk sends wait pushes the queue on by its segments, so the queue stays in
step with what the bucket can give. A reply that finds no capacity (replies alone above the
rate) waits for it; it never queues.

No capacity within ``MAX_INLINE_WAIT`` is ``SendPaced`` (a ``RetryLater``): the step's claim is
released and the record (or task) is retried at ``retry_at`` (a console reply is answered
503 ``not_sent`` with the wait, and the person sends it again: ``console.writes``); never a
long wait inside a Lambda. A wait shorter than that is slept through (the bucket already
counts the send).

A 429 from Twilio **slows the sender** (``slowed``), and so does a message that failed with
30001 (its queue at Twilio overflowed: reported by its status callback): its rate is halved
(down to ``MIN_FACTOR``), at most once per ``SLOW_DOWN_SPACING`` (many Lambdas meet the same
burst), and recovers by ``RECOVERY_PER_MINUTE`` of the configured rate each minute.

The bucket is one DynamoDB item written conditionally on the version read (``Pacer``; adapter
``adapters.pace_store``): of two Lambdas racing for the last segment exactly one gets it, the
other decides again on what the winner wrote. Pure: the standard library only; time and sleep
come in as arguments.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final, Protocol

from sms_automation.pii import mask_phone
from sms_automation.processing.retry_later import Waiting
from sms_automation.segments import segments as count_segments
from sms_automation.send_settings import rate_for


class Priority(StrEnum):
    REPLY = "reply"
    BULK = "bulk"


MAX_INLINE_WAIT_MS: Final = 1000
"""The longest wait slept through inside a Lambda; longer is a deferral."""
BURST_SECONDS: Final = 1.0
MIN_FACTOR: Final = 1 / 16
SLOW_DOWN_SPACING_MS: Final = 2000
RECOVERY_PER_MINUTE: Final = 0.1
WRITE_ATTEMPTS: Final = 5
IDLE_EXPIRY_SECONDS: Final = 86_400
"""A bucket (and a held place) is forgotten a day after it was last due."""


def segments(body: str) -> int:
    """How many segments Twilio bills (and paces) ``body`` as (``sms_automation.segments``); a
    message with media only is one."""
    return max(1, count_segments(body).count)


# --- the rule ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limits:
    rate: float
    """Configured segments a second."""

    @property
    def burst(self) -> float:
        return max(1.0, self.rate * BURST_SECONDS)

    @property
    def overdraft(self) -> float:
        """Segments a reply may take beyond the bucket: what bulk can book ahead (one inline
        wait's worth) and one segment more, so a reply never waits for bulk."""
        return self.rate * MAX_INLINE_WAIT_MS / 1000 + 1.0


@dataclass(frozen=True, slots=True)
class Bucket:
    """One sender's bucket as stored; times in epoch milliseconds. ``version`` 0: no item."""

    tat: int = 0
    queue: int = 0
    factor: float = 1.0
    slowed: int = 0
    version: int = 0


@dataclass(frozen=True, slots=True)
class Go:
    """Send after ``wait_ms`` (at most ``MAX_INLINE_WAIT_MS``); ``bucket``: to write."""

    wait_ms: int
    bucket: Bucket


@dataclass(frozen=True, slots=True)
class Later:
    """Not now: try again at ``at_ms``. ``bucket`` to write: a place taken in the queue (the
    send then holds it, due at ``at_ms``); ``None``: nothing to write."""

    at_ms: int
    bucket: Bucket | None


def factor_at(bucket: Bucket, now_ms: int) -> float:
    """The share of the configured rate the sender has now (1 unless a 429 slowed it)."""
    if bucket.factor >= 1.0:
        return 1.0
    recovered = max(0, now_ms - bucket.slowed) / 60_000 * RECOVERY_PER_MINUTE
    return min(1.0, bucket.factor + recovered)


def decide(
    bucket: Bucket,
    *,
    now_ms: int,
    cost: int,
    priority: Priority,
    limits: Limits,
    held_place: int | None,
) -> Go | Later:
    """The rule of this module's docstring for one send of ``cost`` segments.

    ``held_place``: when the place a bulk send took in the queue is due (``None``: it holds
    none)."""
    per_segment = 1000.0 / (limits.rate * factor_at(bucket, now_ms))
    allowance = limits.burst + (limits.overdraft if priority is Priority.REPLY else 0.0)
    # A reply longer than its allowance needs only the allowance free: Twilio's queue takes the
    # rest (the bucket still counts every segment), or it would wait out the whole bulk backlog.
    needed = min(cost, allowance) if priority is Priority.REPLY else cost
    earliest = max(now_ms, math.ceil(bucket.tat - (allowance - needed) * per_segment))
    inline = earliest - now_ms <= MAX_INLINE_WAIT_MS
    waiting = bucket.queue > now_ms + MAX_INLINE_WAIT_MS  # bulk sends hold places ahead
    if priority is Priority.BULK and held_place is None and (waiting or not inline):
        place = max(earliest, bucket.queue)
        queue = math.ceil(place + cost * per_segment)
        return Later(place, replace(bucket, queue=queue))
    if held_place is not None and held_place - now_ms > MAX_INLINE_WAIT_MS:
        return Later(held_place, None)  # back before its place (a delay SQS could not give)
    if not inline:
        return Later(earliest, None)
    taken = math.ceil(max(bucket.tat, earliest) + cost * per_segment)
    queue = bucket.queue
    if priority is Priority.REPLY and queue > now_ms:
        queue = math.ceil(queue + cost * per_segment)  # the reply went ahead of the queue
    return Go(earliest - now_ms, replace(bucket, tat=taken, queue=queue))


def slowed(bucket: Bucket, now_ms: int) -> Bucket | None:
    """The bucket after a 429: half the rate it has now; ``None`` when it was slowed too
    recently to slow again (the same burst, met by another Lambda)."""
    if bucket.slowed and now_ms - bucket.slowed < SLOW_DOWN_SPACING_MS:
        return None
    factor = max(MIN_FACTOR, factor_at(bucket, now_ms) / 2)
    return replace(bucket, factor=factor, slowed=now_ms)


# --- the use case -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sender:
    account: str
    sender: str
    """A number or a Messaging Service SID."""


class PaceStore(Protocol):
    """The buckets' storage (adapter: ``adapters.pace_store.DynamoPaceStore``). Raises
    ``PacingUnavailable`` when the store cannot answer for now."""

    def read(self, sender: Sender) -> Bucket: ...

    def write(self, sender: Sender, bucket: Bucket, *, seen: int, expires_at: int) -> bool:
        """Store ``bucket`` (as version ``seen + 1``) if the item is still at ``seen``;
        ``False`` when another send wrote it meanwhile."""
        ...

    def held_place(self, sender: Sender, place: str) -> int | None:
        """When the place in the queue that ``place`` (a send's, ``place_of``) holds is due
        (epoch milliseconds); ``None`` when it holds none."""
        ...

    def hold(self, sender: Sender, place: str, *, at_ms: int, expires_at: int) -> None:
        """``place`` holds the place in the queue due at ``at_ms``."""
        ...


class PacingUnavailable(Exception):
    """The bucket could not be read or written for now: nothing is sent; retried."""


class SendPaced(Waiting):
    """The sender has no capacity for this send now: nothing was sent, retried at
    ``retry_at`` (the stream processor defers the record; a conversation task is retried)."""


def place_of(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]


class Pacer:
    def __init__(
        self,
        store: PaceStore,
        rates: Callable[[str], Mapping[str, float]],
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
    ) -> None:
        """``rates``: the account's configured rates (by sender or sender type)."""
        self._store = store
        self._rates = rates
        self._clock = clock
        self._sleep = sleep

    def limits(self, sender: Sender) -> Limits:
        return Limits(rate_for(sender.sender, self._rates(sender.account)))

    def admit(self, sender: Sender, *, cost: int, priority: Priority, key: str) -> int:
        """Take ``cost`` segments from the sender's bucket; returns when the send may be made
        (after sleeping a short wait; the milliseconds slept). Raises ``SendPaced`` when it must
        wait longer, ``PacingUnavailable`` when the bucket cannot be read or written."""
        limits = self.limits(sender)
        place = place_of(key)
        held: int | None = None
        looked_up = False  # the held place: looked up once, only when bulk sends wait
        for _ in range(WRITE_ATTEMPTS):
            now_ms = _ms(self._clock())
            bucket = self._store.read(sender)
            if not looked_up and priority is Priority.BULK and bucket.queue > now_ms:
                held, looked_up = self._store.held_place(sender, place), True
            decision = decide(
                bucket,
                now_ms=now_ms,
                cost=cost,
                priority=priority,
                limits=limits,
                held_place=held,
            )
            if decision.bucket is not None and not self._write(sender, bucket, decision.bucket):
                continue  # another send took from the bucket: decide again on what it holds
            if isinstance(decision, Later):
                if decision.bucket is not None:  # a place taken in the queue: held
                    expires = decision.at_ms // 1000 + IDLE_EXPIRY_SECONDS
                    self._store.hold(sender, place, at_ms=decision.at_ms, expires_at=expires)
                raise SendPaced(
                    f"{mask_phone(sender.sender)} is at its send rate "
                    f"({limits.rate:g} segments/s{self._slowed_note(bucket, now_ms)}); "
                    f"{priority.value} send retried later",
                    retry_at=datetime.fromtimestamp(decision.at_ms / 1000, UTC),
                )
            if decision.wait_ms > 0:
                self._sleep(decision.wait_ms / 1000)
            return decision.wait_ms
        raise PacingUnavailable(f"the send rate's bucket stayed busy for {WRITE_ATTEMPTS} attempts")

    def slow_down(self, sender: Sender) -> bool:
        """Twilio answered 429: halve the sender's rate (once per burst). True if slowed."""
        for _ in range(WRITE_ATTEMPTS):
            now_ms = _ms(self._clock())
            bucket = self._store.read(sender)
            after = slowed(bucket, now_ms)
            if after is None:
                return False
            if self._write(sender, bucket, after):
                return True
        return False

    def _write(self, sender: Sender, seen: Bucket, bucket: Bucket) -> bool:
        due = max(bucket.tat, bucket.queue, bucket.slowed)
        return self._store.write(
            sender, bucket, seen=seen.version, expires_at=due // 1000 + IDLE_EXPIRY_SECONDS
        )

    @staticmethod
    def _slowed_note(bucket: Bucket, now_ms: int) -> str:
        factor = factor_at(bucket, now_ms)
        return "" if factor >= 1.0 else f", slowed to {factor:.0%} after a 429"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
