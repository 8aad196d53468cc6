"""What the trigger processor writes: a line per record (its metrics embedded, none that counts
0), an ERROR line per failed record with what could be read of it, and a line for a batch in
which a record failed, counting the failures. A batch that went fine writes its records' lines
only (docs/cost.md). The real processor on moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sms_automation.composition.runtime import Runtime
from tests.support.conversation_world import World

pytestmark = pytest.mark.integration


def lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def processor_lines(output: str) -> list[dict[str, Any]]:
    return [line for line in lines(output) if line["service"] == "trigger-processor"]


def test_a_batch_with_a_poison_record_writes_a_line_each_and_counts_the_failure(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    sid = world.receive("hello")
    [good] = world.stream.inserts_of_inbound_messages()
    poison = {**good, "dynamodb": {**good["dynamodb"], "NewImage": {"kind": {"S": "x"}}}}
    poison["dynamodb"]["SequenceNumber"] = "999"
    capsys.readouterr()

    assert world.deliver([good, poison]) == {"batchItemFailures": [{"itemIdentifier": "999"}]}

    processed, failed, batch = processor_lines(capsys.readouterr().out)
    assert (processed["message"], processed["correlation_id"]) == ("message processed", sid)
    assert processed["MessagesProcessed"] == 1
    assert (failed["level"], failed["message"]) == ("ERROR", "record failed; reported for retry")
    assert failed["exception_name"] == "NotAnInboundMessage"
    assert "account" not in failed
    assert "correlation_id" not in failed
    assert (batch["level"], batch["message"]) == ("WARNING", "batch processed, records failed")
    assert (batch["records"], batch["failed"], batch["RecordsFailed"]) == (2, 1, 1)


def test_a_record_failing_once_read_names_its_account_and_sid(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = world.receive("hello")

    def unavailable(self: Runtime, message: dict[str, Any]) -> Any:
        raise RuntimeError("DynamoDB is throttling")

    monkeypatch.setattr(Runtime, "handle_inbound", unavailable)
    capsys.readouterr()

    assert world.deliver()["batchItemFailures"] != []

    failed, batch = processor_lines(capsys.readouterr().out)
    assert (failed["account"], failed["correlation_id"]) == ("acme", sid)
    assert failed["exception"].endswith("RuntimeError: DynamoDB is throttling")
    assert batch["RecordsFailed"] == 1


def test_a_batch_that_went_fine_writes_its_records_lines_and_no_zero(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.receive("hello")
    capsys.readouterr()
    assert world.deliver() == {"batchItemFailures": []}
    [processed] = processor_lines(capsys.readouterr().out)
    assert processed["message"] == "message processed"
    [directive] = processed["_aws"]["CloudWatchMetrics"]
    assert [metric["Name"] for metric in directive["Metrics"]] == ["MessagesProcessed"]
    for zero in ("SendsCapped", "OptOuts", "OptIns", "SendsToOptedOut", "RecordsFailed"):
        assert zero not in processed
