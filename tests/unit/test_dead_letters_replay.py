"""Replaying DLQ entries on in-memory ports: the queue, the stream, the table's items and run
records, the processor. What is deleted, what stays, what each message became."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sms_automation.dead_letters.batch import parse_failed_batch
from sms_automation.dead_letters.invoker import InvocationResult
from sms_automation.dead_letters.pending import unfinished_messages
from sms_automation.dead_letters.ports import MessageRef, StreamPosition, StreamRecordsGone
from sms_automation.dead_letters.queue import DeadLetter
from sms_automation.dead_letters.redrive import DeadLetterRedrive, SurveyedEntry, survey
from sms_automation.dead_letters.replay import FAILED_AGAIN, Outcome, Replayer
from sms_automation.dead_letters.stream import BatchResolver, StreamState
from tests.support.fakes import (
    InMemoryDeadLetterQueue,
    InMemoryEvaluationStates,
    InMemoryReceivedMessages,
    InMemoryStoredMessages,
    RecordingInvoker,
)

RECORD = (
    Path(__file__).resolve().parents[1] / "fixtures" / "dead_letter_invocation_record.json"
).read_text(encoding="utf-8")
BATCH = parse_failed_batch(RECORD)
START, END = int(BATCH.start_sequence_number), int(BATCH.end_sequence_number)
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def image(sid: str, account: str = "acme") -> dict[str, Any]:
    return {
        "pk": {"S": f"MSG#{sid}"},
        "sk": {"S": "MSG"},
        "kind": {"S": "inbound_message"},
        "message_sid": {"S": sid},
        "account": {"S": account},
    }


class Stream:
    """``dead_letters.ports.StreamRecords``: one shard's positions, or gone."""

    def __init__(self, *positions: tuple[int, str | None], gone: str = "") -> None:
        self.positions = positions
        self.gone = gone

    def read_from(
        self, stream_arn: str, shard_id: str, sequence_number: str
    ) -> Iterator[StreamPosition]:
        if self.gone:
            raise StreamRecordsGone(self.gone)
        for number, sid in self.positions:
            if number >= int(sequence_number):
                ref = MessageRef(sid, "acme", str(number)) if sid else None
                yield StreamPosition(str(number), ref)


def replayer(
    messages: InMemoryStoredMessages, invoker: RecordingInvoker | None, **runs: str
) -> Replayer:
    return Replayer(
        messages=messages,
        evaluations=InMemoryEvaluationStates(**runs),
        invoker=invoker,
        clock=lambda: NOW,
    )


def test_resolver_names_the_messages_of_the_range_only() -> None:
    stream = Stream(
        (START - 1, "SM0"), (START, "SM1"), (START + 1, None), (END, "SM2"), (END + 1, "SM3")
    )

    resolution = BatchResolver(stream).resolve(BATCH)

    assert resolution.state is StreamState.HELD
    assert [m.message_sid for m in resolution.messages] == ["SM1", "SM2"]


def test_resolver_gone_records_are_expired_and_a_short_shard_incomplete() -> None:
    expired = BatchResolver(Stream(gone="TrimmedDataAccessException")).resolve(BATCH)
    short = BatchResolver(Stream((START, "SM1"))).resolve(BATCH)

    assert expired.state is StreamState.EXPIRED
    assert "TrimmedDataAccessException" in expired.detail
    assert (short.state, [m.message_sid for m in short.messages]) == (
        StreamState.INCOMPLETE,
        ["SM1"],
    )


def test_replay_sends_the_stored_item_as_an_insert_of_the_original_sequence_number() -> None:
    invoker = RecordingInvoker()

    report = replayer(InMemoryStoredMessages(image("SM1")), invoker).replay_one(
        MessageRef("SM1", "", str(START)), stream_arn=BATCH.stream_arn, dry_run=False
    )

    assert (report.outcome, report.account) == (Outcome.PROCESSED, "acme")
    [record] = invoker.events[0]["Records"]
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["NewImage"] == image("SM1")
    assert record["dynamodb"]["SequenceNumber"] == str(START)
    assert json.loads(json.dumps(invoker.events[0])) == invoker.events[0]


def test_replay_outcomes_not_found_still_failing_and_dry_run() -> None:
    invoker = RecordingInvoker(
        {
            "SM2": InvocationResult(failed_items=(str(START),)),
            "SM3": InvocationResult(function_error="Boom: +1415******01"),
        }
    )
    messages = InMemoryStoredMessages(image("SM2"), image("SM3"), image("SM4"))
    replay = replayer(messages, invoker, SM4="completed")

    def outcome(sid: str, *, dry_run: bool = False) -> tuple[Outcome, str]:
        report = replay.replay_one(MessageRef(sid), stream_arn=BATCH.stream_arn, dry_run=dry_run)
        return report.outcome, report.detail

    assert outcome("SM1")[0] is Outcome.NOT_FOUND
    assert outcome("SM2") == (Outcome.STILL_FAILING, FAILED_AGAIN)
    assert outcome("SM3") == (Outcome.STILL_FAILING, "Boom: +1415******01")
    assert outcome("SM4", dry_run=True) == (Outcome.WOULD_REPLAY, "run completed")
    assert len(invoker.events) == 2


def test_replay_invokes_a_message_met_twice_once() -> None:
    invoker = RecordingInvoker()
    replay = replayer(InMemoryStoredMessages(image("SM1")), invoker)

    reports = replay.replay([MessageRef("SM1"), MessageRef("SM1")], stream_arn="arn", dry_run=False)

    assert [r.outcome for r in reports] == [Outcome.PROCESSED, Outcome.PROCESSED]
    assert len(invoker.events) == 1


def test_redrive_deletes_an_entry_only_when_all_its_messages_processed() -> None:
    queue = InMemoryDeadLetterQueue(RECORD, RECORD.replace(str(END), str(END - 1)), "not json")
    invoker = RecordingInvoker({"SM2": InvocationResult(failed_items=("x",))})
    stream = Stream((START, "SM1"), (END - 1, "SM2"), (END, "SM3"))
    messages = InMemoryStoredMessages(image("SM1"), image("SM2"), image("SM3"))
    redrive = DeadLetterRedrive(queue, BatchResolver(stream), replayer(messages, invoker))

    reports = list(redrive.run(dry_run=False, visibility_timeout=60, limit=10))

    assert [r.deleted for r in reports] == [False, False, False]
    assert reports[0].kept_because == "1 of 3 messages not processed"
    assert reports[2].kept_because.startswith("malformed: not JSON")
    assert queue.visible() == ["m1", "m2", "m3"]


def test_redrive_deletes_processed_entries_and_a_dry_run_deletes_none() -> None:
    queue = InMemoryDeadLetterQueue(RECORD)
    stream = Stream((START, "SM1"), (END, "SM2"))
    messages = InMemoryStoredMessages(image("SM1"), image("SM2"))

    dry = list(
        DeadLetterRedrive(queue, BatchResolver(stream), replayer(messages, None)).run(
            dry_run=True, visibility_timeout=60, limit=10
        )
    )
    done = list(
        DeadLetterRedrive(queue, BatchResolver(stream), replayer(messages, RecordingInvoker())).run(
            dry_run=False, visibility_timeout=60, limit=10
        )
    )

    assert (dry[0].deleted, dry[0].kept_because) == (False, "dry run")
    assert done[0].deleted
    assert queue.visible() == []


def test_redrive_of_selected_entries_leaves_the_others_visible_and_untouched() -> None:
    queue = InMemoryDeadLetterQueue(RECORD, RECORD, "not json")
    invoker = RecordingInvoker()
    stream = Stream((START, "SM1"), (END, "SM2"))
    messages = InMemoryStoredMessages(image("SM1"), image("SM2"))
    redrive = DeadLetterRedrive(queue, BatchResolver(stream), replayer(messages, invoker))

    def second(entry: DeadLetter) -> bool:
        return entry.message_id == "m2"

    reports = list(redrive.run(dry_run=False, visibility_timeout=60, limit=10, select=second))

    assert [(r.entry.message_id, r.deleted) for r in reports] == [("m2", True)]
    assert len(invoker.events) == 2
    assert queue.visible() == ["m1", "m3"]


def test_redrive_stopped_midway_makes_the_unhandled_entries_visible_again() -> None:
    queue = InMemoryDeadLetterQueue(RECORD, RECORD)
    stream = Stream((START, "SM1"), (END, "SM2"))
    messages = InMemoryStoredMessages(image("SM1"), image("SM2"))
    runs = DeadLetterRedrive(queue, BatchResolver(stream), replayer(messages, RecordingInvoker()))

    reports = runs.run(dry_run=False, visibility_timeout=60, limit=10)
    next(reports)
    reports.close()  # Ctrl-C after the first entry

    assert queue.visible() == ["m2"]


def test_survey_leaves_the_queue_as_it_was_even_when_a_release_fails() -> None:
    queue = InMemoryDeadLetterQueue(RECORD, "{}")
    queue.failing_releases.add("m2/1")

    surveyed = survey(queue, BatchResolver(Stream((START, "SM1"), (END, "SM2"))), limit=10)

    assert [len(s.resolution.messages) if s.resolution else None for s in surveyed] == [2, None]
    assert queue.visible() == ["m1"]


def test_survey_releases_what_it_received_before_reading_the_batches_back() -> None:
    """The queue is hidden only while it is received: another listing or a redrive meanwhile
    does not miss the entries while this one reads their batches back from the stream."""
    queue = InMemoryDeadLetterQueue(RECORD, RECORD)
    seen: list[list[str]] = []

    class Watching(Stream):
        def read_from(self, *args: str) -> Iterator[StreamPosition]:
            seen.append(queue.visible())
            return super().read_from(*args)

    survey(queue, BatchResolver(Watching((START, "SM1"), (END, "SM2"))), limit=10)

    assert seen == [["m1", "m2"], ["m1", "m2"]]


def test_a_redrive_refused_for_the_entry_it_picked_replays_nothing_and_keeps_it() -> None:
    queue = InMemoryDeadLetterQueue(RECORD, RECORD)
    invoker = RecordingInvoker()
    stream = Stream((START, "SM1"), (END, "SM2"))
    messages = InMemoryStoredMessages(image("SM1"), image("SM2"))
    redrive = DeadLetterRedrive(queue, BatchResolver(stream), replayer(messages, invoker))
    asked: list[str] = []

    def refuse(surveyed: SurveyedEntry) -> bool:
        asked.append(surveyed.entry.message_id)
        return surveyed.resolution is not None and not surveyed.resolution.messages

    def second(entry: DeadLetter) -> bool:
        return entry.message_id == "m2"

    reports = list(
        redrive.run(dry_run=False, visibility_timeout=60, limit=10, select=second, allow=refuse)
    )

    assert (reports, asked, invoker.events) == ([], ["m2"], [])
    assert queue.visible() == ["m1", "m2"]


def test_unfinished_messages_are_those_of_the_window_without_a_finished_run() -> None:
    at = datetime(2026, 11, 26, 9, tzinfo=UTC)
    received = InMemoryReceivedMessages(
        ("acme", at, "SM1"),
        ("acme", at.replace(minute=5), "SM2"),
        ("acme", at.replace(minute=10), "SM3"),
        ("acme", at.replace(hour=11), "SM4"),
        ("globex", at, "SM5"),
    )
    runs = InMemoryEvaluationStates(SM1="completed", SM2="running")

    found = unfinished_messages(received, runs, "acme", since=at, until=at.replace(hour=10))

    assert list(found) == [MessageRef("SM2", "acme"), MessageRef("SM3", "acme")]
