"""DLQ entries → their messages replayed; an entry is deleted only when all of them processed.

Entries are received first (hidden for the visibility timeout so nobody else replays them
meanwhile), then handled one by one; each is deleted or made visible again as soon as it is
done, and whatever an error or Ctrl-C leaves unhandled is made visible again too.

A survey (listing) holds the entries only while it receives them: they are made visible again
before their batches are read back from the stream, so another listing or a redrive misses
them only for that moment. SQS cannot receive an entry by its id, so a redrive of one entry
(``select``) receives the queue once and releases the others at once, untouched, their batches
never read; ``allow`` then decides on that entry alone, its messages read back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sms_automation.dead_letters.ports import DeadLetterQueue
from sms_automation.dead_letters.queue import DeadLetter
from sms_automation.dead_letters.replay import MessageReport, Outcome, Replayer
from sms_automation.dead_letters.stream import BatchResolver, Resolution, StreamState

# Listing holds entries only while it reads them (they are released right after).
LIST_VISIBILITY_TIMEOUT = 60


@dataclass(frozen=True, slots=True)
class SurveyedEntry:
    entry: DeadLetter
    resolution: Resolution | None  # None: malformed, nothing to resolve


@dataclass(frozen=True, slots=True)
class EntryReport:
    entry: DeadLetter
    resolution: Resolution | None
    messages: tuple[MessageReport, ...] = ()
    deleted: bool = False
    kept_because: str = ""  # why it stays in the queue ("" when deleted)


@dataclass(frozen=True, slots=True)
class Survey:
    entries: list[SurveyedEntry]
    held_elsewhere: int
    """Entries hidden by someone else (another listing, a redrive) as this one received the
    queue: not among ``entries``, so the listing is not complete."""


def survey(queue: DeadLetterQueue, resolver: BatchResolver, *, limit: int) -> list[SurveyedEntry]:
    """Every entry with the messages it covers; the queue is left as it was (released as soon
    as it is received, before the batches are read back)."""
    return take_survey(queue, resolver, limit=limit).entries


def take_survey(
    queue: DeadLetterQueue,
    resolver: BatchResolver,
    *,
    limit: int,
    in_flight: Callable[[], int] | None = None,
) -> Survey:
    """As ``survey``; ``in_flight``: how many entries the queue holds hidden (SQS's approximate
    count), asked while this survey holds what it received, to tell the others'."""
    entries = list(queue.receive_all(visibility_timeout=LIST_VISIBILITY_TIMEOUT, limit=limit))
    try:
        elsewhere = max(0, in_flight() - len(entries)) if in_flight is not None else 0
    finally:
        queue.release_all(entries)
    return Survey(surveyed(entries, resolver), elsewhere)


def surveyed(entries: list[DeadLetter], resolver: BatchResolver) -> list[SurveyedEntry]:
    """Each entry with the messages its batch covers, read back from the stream."""
    return [SurveyedEntry(e, resolver.resolve(e.batch) if e.batch else None) for e in entries]


class DeadLetterRedrive:
    def __init__(self, queue: DeadLetterQueue, resolver: BatchResolver, replayer: Replayer) -> None:
        self._queue = queue
        self._resolver = resolver
        self._replayer = replayer

    def run(
        self,
        *,
        dry_run: bool,
        visibility_timeout: int,
        limit: int,
        select: Callable[[DeadLetter], bool] | None = None,
        allow: Callable[[SurveyedEntry], bool] | None = None,
    ) -> Iterator[EntryReport]:
        """Redrive the entries received (``select``: only those it picks; the others are made
        visible again at once, untouched). ``allow``: asked of each picked entry once its
        messages are read back; one it refuses is made visible again, nothing replayed, and
        not reported."""
        received = list(self._queue.receive_all(visibility_timeout=visibility_timeout, limit=limit))
        entries = [e for e in received if select is None or select(e)]
        self._queue.release_all(e for e in received if e not in entries)
        pending = list(entries)
        try:
            for entry in entries:
                report = self._redrive(entry, dry_run=dry_run, allow=allow)
                if report is None:
                    self._queue.release(entry)
                    pending.remove(entry)
                    continue
                if report.deleted:
                    self._queue.delete(entry)
                else:
                    self._queue.release(entry)
                pending.remove(entry)
                yield report
        finally:
            self._queue.release_all(pending)

    def _redrive(
        self, entry: DeadLetter, *, dry_run: bool, allow: Callable[[SurveyedEntry], bool] | None
    ) -> EntryReport | None:
        batch = entry.batch
        resolution = self._resolver.resolve(batch) if batch is not None else None
        if allow is not None and not allow(SurveyedEntry(entry, resolution)):
            return None
        if batch is None or resolution is None:
            return EntryReport(entry, None, kept_because=f"malformed: {entry.problem}")
        if resolution.state is StreamState.EXPIRED:
            return EntryReport(entry, resolution, kept_because=resolution.detail)
        messages = self._replayer.replay(
            resolution.messages, stream_arn=batch.stream_arn, dry_run=dry_run
        )
        kept_because = _kept_because(resolution, messages, dry_run=dry_run)
        return EntryReport(
            entry, resolution, messages, deleted=not kept_because, kept_because=kept_because
        )


def _kept_because(
    resolution: Resolution, messages: tuple[MessageReport, ...], *, dry_run: bool
) -> str:
    if dry_run:
        return "dry run"
    if resolution.state is not StreamState.HELD:
        return resolution.detail
    if not messages:
        return "no inbound message in the batch's sequence range"
    unprocessed = [m for m in messages if m.outcome is not Outcome.PROCESSED]
    if unprocessed:
        return f"{len(unprocessed)} of {len(messages)} messages not processed"
    return ""
