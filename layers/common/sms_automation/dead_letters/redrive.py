"""DLQ entries → their messages replayed; an entry is deleted only when all of them processed.

Entries are received first (hidden for the visibility timeout so nobody else replays them
meanwhile), then handled one by one; each is deleted or made visible again as soon as it is
done, and whatever an error or Ctrl-C leaves unhandled is made visible again too.
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


def survey(queue: DeadLetterQueue, resolver: BatchResolver, *, limit: int) -> list[SurveyedEntry]:
    """Every entry with the messages it covers; the queue is left as it was."""
    entries = list(queue.receive_all(visibility_timeout=LIST_VISIBILITY_TIMEOUT, limit=limit))
    try:
        return [SurveyedEntry(e, resolver.resolve(e.batch) if e.batch else None) for e in entries]
    finally:
        queue.release_all(entries)


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
    ) -> Iterator[EntryReport]:
        """Redrive the entries received (``select``: only those it picks; the others are made
        visible again at once, untouched)."""
        received = list(self._queue.receive_all(visibility_timeout=visibility_timeout, limit=limit))
        entries = [e for e in received if select is None or select(e)]
        self._queue.release_all(e for e in received if e not in entries)
        pending = list(entries)
        try:
            for entry in entries:
                report = self._redrive(entry, dry_run=dry_run)
                if report.deleted:
                    self._queue.delete(entry)
                else:
                    self._queue.release(entry)
                pending.remove(entry)
                yield report
        finally:
            self._queue.release_all(pending)

    def _redrive(self, entry: DeadLetter, *, dry_run: bool) -> EntryReport:
        batch = entry.batch
        if batch is None:
            return EntryReport(entry, None, kept_because=f"malformed: {entry.problem}")
        resolution = self._resolver.resolve(batch)
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
