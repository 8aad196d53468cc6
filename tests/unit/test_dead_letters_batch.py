"""Lambda's on-failure invocation record for a DynamoDB stream batch → ``FailedBatch``."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sms_automation.dead_letters.batch import MalformedEntry, parse_failed_batch

RECORD_PATH = (
    Path(__file__).resolve().parents[1] / "fixtures" / "dead_letter_invocation_record.json"
)


def record() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(RECORD_PATH.read_text(encoding="utf-8"))
    return document


def test_parse_failed_batch_reads_every_field_of_the_documented_shape() -> None:
    batch = parse_failed_batch(json.dumps(record()))

    assert batch.condition == "RetryAttemptsExhausted"
    assert batch.attempts == 4
    assert batch.function_arn.endswith(":function:sms-automation-trigger-processor")
    assert batch.function_error == "Unhandled"
    assert batch.failed_at == datetime(2025, 6, 5, 18, 22, 26, 479000, tzinfo=UTC)
    assert batch.shard_id == "shardId-00000001749147709000-4f2a9c1e"
    assert (batch.start_sequence_number, batch.end_sequence_number) == (
        "800000000003126276362",
        "800000000003126276399",
    )
    assert batch.first_arrival == datetime(2025, 6, 5, 18, 21, 49, tzinfo=UTC)
    assert batch.last_arrival == datetime(2025, 6, 5, 18, 21, 51, tzinfo=UTC)
    assert batch.batch_size == 2
    assert batch.stream_arn.startswith("arn:aws:dynamodb:us-east-1:123456789012:table/")


def test_parse_failed_batch_without_function_error_when_records_were_reported_failed() -> None:
    document = record()
    del document["responseContext"]["functionError"]  # partial batch response, status 200
    document["requestContext"]["condition"] = "RecordAgeExceeded"

    batch = parse_failed_batch(json.dumps(document))

    assert (batch.condition, batch.function_error) == ("RecordAgeExceeded", "")


def test_failed_batch_covers_its_range_numerically() -> None:
    batch = parse_failed_batch(json.dumps(record()))
    assert batch.covers("800000000003126276362")
    assert batch.covers("800000000003126276399")
    assert not batch.covers("800000000003126276400")
    assert not batch.covers("99999999999999999999")  # shorter, yet larger as a string


def test_failed_batch_past_stream_retention_after_24_hours() -> None:
    batch = parse_failed_batch(json.dumps(record()))
    assert not batch.past_stream_retention(batch.first_arrival + timedelta(hours=23))
    assert batch.past_stream_retention(batch.first_arrival + timedelta(hours=24))


def _without(path: tuple[str, ...]) -> str:
    document = copy.deepcopy(record())
    section = document
    for name in path[:-1]:
        section = section[name]
    del section[path[-1]]
    return json.dumps(document)


def _with(path: tuple[str, ...], value: Any) -> str:
    document = copy.deepcopy(record())
    section = document
    for name in path[:-1]:
        section = section[name]
    section[path[-1]] = value
    return json.dumps(document)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"Records": []}), "no requestContext"),  # an event, not a record
        (_without(("DDBStreamBatchInfo",)), "no DDBStreamBatchInfo"),
        (_with(("DDBStreamBatchInfo",), "x"), "no DDBStreamBatchInfo"),
        (_without(("DDBStreamBatchInfo", "shardId")), "shardId"),
        (_with(("DDBStreamBatchInfo", "startSequenceNumber"), 8), "startSequenceNumber"),
        (_with(("DDBStreamBatchInfo", "endSequenceNumber"), "12ab"), "endSequenceNumber"),
        (_with(("DDBStreamBatchInfo", "endSequenceNumber"), "1"), "after endSequenceNumber"),
        (_with(("DDBStreamBatchInfo", "batchSize"), "2"), "batchSize"),
        (_with(("DDBStreamBatchInfo", "batchSize"), True), "batchSize"),
        (_with(("DDBStreamBatchInfo", "streamArn"), "arn:aws:sqs:x"), "streamArn"),
        (_with(("DDBStreamBatchInfo", "approximateArrivalOfFirstRecord"), "soon"), "ISO 8601"),
        (_without(("requestContext", "condition")), "condition"),
        (_with(("requestContext", "approximateInvokeCount"), -1), "approximateInvokeCount"),
        (_with(("responseContext",), []), "responseContext"),
        (_without(("timestamp",)), "timestamp"),
    ],
)
def test_parse_failed_batch_rejects_malformed_entries(body: str, problem: str) -> None:
    with pytest.raises(MalformedEntry, match=problem):
        parse_failed_batch(body)
