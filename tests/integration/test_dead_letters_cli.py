"""``sms-automation dead-letters list|redrive`` end to end in one process, on moto.

A message stored by the real webhook sits on moto's DynamoDB stream; a DLQ entry shaped like
Lambda's on-failure invocation record describes its stream record; the redrive replays it
through the real processor handler (called in process instead of ``lambda:Invoke``) against
a Twilio-like server on 127.0.0.1 that, like api.twilio.com, ignores idempotency tokens.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.inbound_webhook import handler as inbound
from functions.trigger_processor import handler as processor
from sms_automation.adapters.evaluation_store import DynamoEvaluationStore
from sms_automation.dead_letters.invoker import HandlerInvoker
from sms_automation_cli import dead_letters
from sms_automation_cli.context import CliContext
from sms_automation_cli.main import build_parser, main
from tests.support.aws import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    FakeLambdaContext,
    clear_cached_dependencies,
    use_dummy_aws_credentials,
)
from tests.support.events import inbound_example, signed_webhook_event
from tests.support.moto_stack import deploy, push_triggers
from tests.support.streams import TableStream, stream_event
from tests.support.twilio_server import TwilioTestServer, rate_limited

pytestmark = pytest.mark.integration

RECORD_PATH = (
    Path(__file__).resolve().parents[1] / "fixtures" / "dead_letter_invocation_record.json"
)
SMS_SID = "SM11111111111111111111111111111111"
SENDER = "+14155550101"
TRIGGERS = """
version: 1
triggers:
  - name: auto-reply
    actions:
      - type: send_sms
        body: "Thanks, we got: %Body%"
"""


@dataclass
class World:
    twilio: TwilioTestServer
    table: str
    queue_url: str
    stream: TableStream
    capsys: pytest.CaptureFixture[str]

    def receive(self, example_id: str = "sms_plain") -> dict[str, Any]:
        """Twilio posts a signed inbound message; the webhook stores it; its stream record."""
        body = inbound_example(example_id)["raw_body"]
        response = inbound.lambda_handler(
            signed_webhook_event("acme", body, TEST_AUTH_TOKEN), FakeLambdaContext()
        )
        assert response["statusCode"] == 200
        [record] = self.stream.inserts_of_inbound_messages()
        return record

    def dead_letter(self, *records: dict[str, Any]) -> None:
        """What Lambda sends the on-failure destination when it gives up on these records."""
        self.send(json.dumps(invocation_record(list(records))))

    def send(self, body: str) -> None:
        boto3.client("sqs").send_message(QueueUrl=self.queue_url, MessageBody=body)

    def queue_bodies(self) -> list[str]:
        sqs = boto3.client("sqs")
        messages = sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        return [m["Body"] for m in messages]

    def cli(self, *argv: str) -> tuple[int, str]:
        self.capsys.readouterr()
        code = main(list(argv))
        return code, self.capsys.readouterr().out

    def redrive(self, *argv: str) -> tuple[int, str]:
        """``dead-letters redrive`` with lambda:Invoke replaced by the real handler, in process."""
        self.capsys.readouterr()
        args = build_parser().parse_args(["dead-letters", "redrive", *argv])
        args.context = CliContext()
        invoker = HandlerInvoker(processor.lambda_handler, FakeLambdaContext())
        code = dead_letters.redrive_command(args, invoker=invoker)
        return code, self.capsys.readouterr().out

    def run_status(self, sid: str = SMS_SID) -> str | None:
        run = DynamoEvaluationStore(self.table, boto3.client("dynamodb")).get(sid)
        return None if run is None else run.status


def invocation_record(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The documented shape (tests/fixtures), describing these stream records."""
    document: dict[str, Any] = json.loads(RECORD_PATH.read_text(encoding="utf-8"))
    stream_arn = records[0]["eventSourceARN"]
    streams = boto3.client("dynamodbstreams")
    [shard] = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    arrivals = [
        datetime.fromtimestamp(r["dynamodb"]["ApproximateCreationDateTime"], UTC) for r in records
    ]
    document["DDBStreamBatchInfo"].update(
        shardId=shard["ShardId"],
        startSequenceNumber=records[0]["dynamodb"]["SequenceNumber"],
        endSequenceNumber=records[-1]["dynamodb"]["SequenceNumber"],
        approximateArrivalOfFirstRecord=arrivals[0].strftime("%Y-%m-%dT%H:%M:%SZ"),
        approximateArrivalOfLastRecord=arrivals[-1].strftime("%Y-%m-%dT%H:%M:%SZ"),
        batchSize=len(records),
        streamArn=stream_arn,
    )
    return document


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[World]:
    use_dummy_aws_credentials(monkeypatch)
    # Like api.twilio.com: a repeated create makes a second message, whatever its headers.
    real_twilio = TwilioTestServer(
        {TEST_ACCOUNT_SID: TEST_AUTH_TOKEN}, honour_idempotency_token=False
    )
    with mock_aws(), real_twilio as twilio:
        deployed = deploy(monkeypatch, twilio_base_url=twilio.base_url)
        queue_url = boto3.client("sqs").create_queue(QueueName="trigger-processor-dlq")["QueueUrl"]
        for name, value in {
            "SMS_AUTOMATION_TABLE": deployed.table,
            "SMS_AUTOMATION_DLQ_URL": queue_url,
            "SMS_AUTOMATION_PROCESSOR_FUNCTION": "test-trigger-processor",
        }.items():
            monkeypatch.setenv(name, value)
        for module in (inbound, processor):
            clear_cached_dependencies(module)
        push_triggers(deployed.table, TRIGGERS)
        stream = TableStream(deployed.table)
        stream.new_records()  # skip the account and trigger writes
        yield World(twilio, deployed.table, queue_url, stream, capsys)
        for module in (inbound, processor):
            clear_cached_dependencies(module)


def test_dead_letters_list_shows_the_failed_batch_with_its_message_sid(world: World) -> None:
    record = world.receive()
    world.dead_letter(record)

    code, out = world.cli("dead-letters", "list", "--json")

    assert code == 0
    [entry] = [json.loads(line) for line in out.splitlines()]
    assert entry["condition"] == "RetryAttemptsExhausted"
    assert entry["attempts"] == 4
    assert entry["start_sequence_number"] == record["dynamodb"]["SequenceNumber"]
    assert entry["stream"] == "held"
    assert entry["messages"] == [{"message_sid": SMS_SID, "account": "acme"}]
    assert len(world.queue_bodies()) == 1  # listing leaves the entry where it was


def test_dlq_still_works_as_a_hidden_alias_with_a_one_line_deprecation_notice(
    world: World,
) -> None:
    world.dead_letter(world.receive())

    code, out = world.cli("dead-letters", "list", "--json")
    assert (code, world.capsys.readouterr().err) == (0, "")
    assert main(["dlq", "list", "--json"]) == 0
    aliased = world.capsys.readouterr()

    assert aliased.out == out
    assert aliased.err == f"{dead_letters.DEPRECATION_NOTICE}\n"
    assert "sms-automation dead-letters" in dead_letters.DEPRECATION_NOTICE


def test_the_help_lists_dead_letters_but_not_the_deprecated_dlq(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    listed = capsys.readouterr().out.split()
    assert "dead-letters" in listed
    assert "dlq" not in listed


def test_dead_letters_list_text_names_the_message_never_its_body_or_numbers(
    world: World,
) -> None:
    world.dead_letter(world.receive())

    code, out = world.cli("dead-letters", "list")

    assert code == 0
    assert f"message    {SMS_SID} acme" in out
    assert "RetryAttemptsExhausted after 4 attempts, function error Unhandled" in out
    assert "Hello" not in out
    assert "4155550101" not in out
    assert "5005550006" not in out


def test_dead_letters_redrive_processes_the_message_and_deletes_the_entry(world: World) -> None:
    world.dead_letter(world.receive())

    code, out = world.redrive("--yes")

    assert code == 0, out
    [sms] = world.twilio.messages()
    assert (sms["to"], sms["body"]) == (SENDER, "Thanks, we got: Hello there")
    assert world.run_status() == "completed"
    assert f"{SMS_SID} acme processed" in out
    assert "1 entry: 1 deleted, 0 kept; messages: 1 processed" in out
    assert world.queue_bodies() == []


def test_dead_letters_redrive_of_a_processed_message_sends_nothing_twice(
    world: World,
) -> None:
    record = world.receive()
    assert processor.lambda_handler(stream_event([record]), FakeLambdaContext()) == {
        "batchItemFailures": []
    }
    assert len(world.twilio.messages()) == 1
    world.dead_letter(record)

    code, out = world.redrive("--yes")

    assert code == 0, out
    assert len(world.twilio.messages()) == 1
    assert world.queue_bodies() == []


def test_dead_letters_redrive_keeps_an_entry_whose_message_still_fails(world: World) -> None:
    world.dead_letter(world.receive())
    # Rate limited until the adapter gives up: certainly not sent, so the step is released.
    world.twilio.fail_next(*[rate_limited(retry_after="0")] * 3)

    code, out = world.redrive("--yes")

    assert code == dead_letters.EXIT_LEFT_OVER
    assert f"{SMS_SID} acme still failing: the processor failed it again" in out
    assert "kept: 1 of 1 messages not processed" in out
    assert world.twilio.messages() == []
    assert len(world.queue_bodies()) == 1

    code, out = world.redrive("--yes")  # Twilio is back: the same entry now goes through

    assert code == 0, out
    assert len(world.twilio.messages()) == 1
    assert world.queue_bodies() == []


def test_dead_letters_redrive_reports_the_function_error_and_keeps_the_entry(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.dead_letter(world.receive())

    def broken(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError(f"cannot reach {SENDER}")

    monkeypatch.setattr(processor, "lambda_handler", broken)
    code, out = world.redrive("--yes")

    assert code == dead_letters.EXIT_LEFT_OVER
    assert "still failing: RuntimeError: cannot reach +1********01" in out
    assert len(world.queue_bodies()) == 1


def test_dead_letters_redrive_dry_run_changes_nothing(world: World) -> None:
    world.dead_letter(world.receive())

    code, out = world.redrive("--dry-run")

    assert code == 0
    assert f"{SMS_SID} acme would replay: no run yet" in out
    assert "kept: dry run" in out
    assert world.twilio.messages() == []
    assert world.run_status() is None
    assert len(world.queue_bodies()) == 1


def test_dead_letters_redrive_leaves_a_malformed_entry_in_the_queue(world: World) -> None:
    world.send('{"Records": []}')

    code, out = world.redrive("--yes")

    assert code == dead_letters.EXIT_LEFT_OVER
    assert "kept: malformed: no requestContext" in out
    assert world.queue_bodies() == ['{"Records": []}']
    code, out = world.cli("dead-letters", "list")
    assert "malformed  no requestContext" in out


def test_dead_letters_redrive_message_gone_from_the_table_is_not_found(world: World) -> None:
    world.dead_letter(world.receive())
    boto3.client("dynamodb").delete_item(
        TableName=world.table, Key={"pk": {"S": f"MSG#{SMS_SID}"}, "sk": {"S": "MSG"}}
    )

    code, out = world.redrive("--yes")

    assert code == dead_letters.EXIT_LEFT_OVER
    assert f"{SMS_SID} acme not found" in out
    assert len(world.queue_bodies()) == 1


def test_dead_letters_redrive_without_yes_and_without_a_terminal_refuses(world: World) -> None:
    world.dead_letter(world.receive())

    code, _ = world.redrive()

    assert code == dead_letters.EXIT_USAGE
    assert world.twilio.messages() == []
    assert len(world.queue_bodies()) == 1


def test_dead_letters_redrive_since_replays_unfinished_messages_of_the_window(world: World) -> None:
    world.receive()  # never processed: no DLQ entry needed (its stream record is long gone)

    code, out = world.redrive("--since", "2000-01-01T00:00:00Z", "--account", "acme", "--yes")

    assert code == 0, out
    assert f"{SMS_SID} acme processed" in out
    assert len(world.twilio.messages()) == 1

    code, out = world.redrive("--since", "2000-01-01T00:00:00Z", "--yes")  # every account

    assert code == 0, out
    assert "no messages" in out  # the finished run is not replayed
    assert len(world.twilio.messages()) == 1


def test_dead_letters_redrive_since_excludes_messages_received_after_until(
    world: World,
) -> None:
    world.receive()

    code, out = world.redrive(
        "--since", "2000-01-01T00:00:00Z", "--until", "2000-01-02T00:00:00Z", "--yes"
    )

    assert code == 0, out
    assert "no messages" in out
    assert world.twilio.messages() == []
