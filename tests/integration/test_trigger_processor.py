"""The trigger processor end to end in one process: a signed webhook stores a message, moto's
DynamoDB stream carries it to the real processor handler, which acts through the real Twilio
adapter against a Twilio-like server on 127.0.0.1. Faults show that nothing is lost and no SMS
is sent twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.inbound_webhook import handler as inbound
from functions.status_callback import handler as status_callback
from functions.trigger_processor import handler as processor
from sms_automation.adapters.contact_store import DynamoContactStore
from sms_automation.adapters.dynamo_json import from_attributes
from sms_automation.adapters.evaluation_store import DynamoEvaluationStore
from sms_automation.adapters.outbound_store import DynamoOutboundStore
from sms_automation.adapters.step_ledger import DynamoStepLedger
from sms_automation.adapters.trigger_store import DynamoTriggerStore
from sms_automation.processing.ledger import StepState
from sms_automation.processing.port import idempotency_key
from sms_automation.processing.runner import MessageProcessor, MissingTriggerVersion
from sms_automation.triggers import ActionPort, DryRunPort
from sms_automation.triggers.versions import engines
from sms_automation_cli.main import main
from tests.support.aws import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    FakeLambdaContext,
    clear_cached_dependencies,
    use_dummy_aws_credentials,
)
from tests.support.events import inbound_example, signed_webhook_event
from tests.support.item_size import item_size
from tests.support.item_size import write_units as write_units_of
from tests.support.moto_stack import deploy, push_triggers
from tests.support.streams import TableStream, stream_event
from tests.support.template import ROOT
from tests.support.twilio_server import (
    DropConnectionFault,
    TwilioTestServer,
    rate_limited,
    server_error,
    twilio_error,
)

pytestmark = pytest.mark.integration

TRIGGERS = """
version: 1
triggers:
  - name: call-me
    when: {field: Body, equals: "call me"}
    actions:
      - type: make_call
        to: "+15005550012"
        say: {text: "Call %From% back"}
  - name: auto-reply
    actions:
      - type: send_sms
        body: "Thanks, we got: %Body%"
      - type: record
        item: {from: "%From%", body: "%Body%"}
"""


@dataclass
class World:
    twilio: TwilioTestServer
    table: str
    records_table: str
    stream: TableStream

    def receive(self, example_id: str, **replace: str) -> dict[str, Any]:
        """Twilio posts a signed inbound message; the webhook stores it."""
        body = inbound_example(example_id)["raw_body"]
        for old, new in replace.items():
            body = body.replace(old, new)
        response = inbound.lambda_handler(
            signed_webhook_event("acme", body, TEST_AUTH_TOKEN), FakeLambdaContext()
        )
        assert response["statusCode"] == 200
        return response

    def deliver(self, records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The event source mapping hands the new records to the processor."""
        batch = self.stream.inserts_of_inbound_messages() if records is None else records
        result: dict[str, Any] = dict(
            processor.lambda_handler(stream_event(batch), FakeLambdaContext())
        )
        return result

    def sms_sent(self) -> list[dict[str, Any]]:
        return self.twilio.messages()

    def steps(self, message_sid: str) -> dict[str, Any]:
        ledger = DynamoStepLedger(self.table, boto3.client("dynamodb"))
        return {entry.step_id: entry for entry in ledger.entries(message_sid)}


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    use_dummy_aws_credentials(monkeypatch)
    # Like api.twilio.com: a repeated create makes a second message, whatever its headers.
    real_twilio = TwilioTestServer(
        {TEST_ACCOUNT_SID: TEST_AUTH_TOKEN}, honour_idempotency_token=False
    )
    with mock_aws(), real_twilio as twilio:
        deployed = deploy(monkeypatch, twilio_base_url=twilio.base_url)
        for module in (inbound, processor, status_callback):
            clear_cached_dependencies(module)
        push_triggers(deployed.table, TRIGGERS)
        stream = TableStream(deployed.table)
        stream.new_records()  # skip the account and trigger writes
        yield World(twilio, deployed.table, deployed.records_table, stream)
        for module in (inbound, processor, status_callback):
            clear_cached_dependencies(module)


SMS_SID = "SM11111111111111111111111111111111"


def test_processor_auto_replies_records_and_logs_each_step(world: World) -> None:
    world.receive("sms_plain")
    assert world.deliver() == {"batchItemFailures": []}

    [sms] = world.sms_sent()
    assert sms["to"] == "+14155550101"
    assert sms["from"] == "+15005550006"
    assert sms["body"] == "Thanks, we got: Hello there"
    [request] = [r for r in world.twilio.requests() if r.method == "POST"]
    # The callback URL names the step (its idempotency key), for reconciliation.
    key = idempotency_key(SMS_SID, "auto-reply/1")
    assert request.param("StatusCallback") == (
        f"https://hooks.example.com/dev/twilio/acme/status?step={key}"
    )
    assert request.idempotency_token == key

    steps = world.steps(SMS_SID)
    assert {k: v.state for k, v in steps.items()} == {
        "auto-reply/1": StepState.DONE,
        "auto-reply/2": StepState.DONE,
    }
    assert steps["auto-reply/1"].resource_sid == sms["sid"]
    outbound = DynamoOutboundStore(world.table, boto3.client("dynamodb")).get(sms["sid"])
    assert outbound is not None
    run = DynamoEvaluationStore(world.table, boto3.client("dynamodb")).get(SMS_SID)
    assert run is not None
    assert (run.status, run.matched, run.trigger_version) == ("completed", ("auto-reply",), 1)
    records = boto3.client("dynamodb").scan(TableName=world.records_table)["Items"]
    assert [r["body"]["S"] for r in records] == ["Hello there"]


def test_messages_show_prints_the_action_log_with_delivery_statuses(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world.receive("sms_plain")
    world.deliver()
    [sms] = world.sms_sent()
    for status in ("sent", "delivered"):
        callback = signed_webhook_event(
            "acme",
            f"MessageSid={sms['sid']}&MessageStatus={status}&AccountSid={TEST_ACCOUNT_SID}",
            TEST_AUTH_TOKEN,
            route="status",
        )
        assert status_callback.lambda_handler(callback, FakeLambdaContext())["statusCode"] == 200
    monkeypatch.setenv("SMS_AUTOMATION_TABLE", world.table)
    capsys.readouterr()

    assert main(["messages", "show", SMS_SID, "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert "evaluation: trigger version 1, completed, matched: auto-reply (attempts: 1)" in text
    assert f"message {sms['sid']} queued [sent → delivered]" in text
    assert "auto-reply/2" in text

    assert main(["messages", "show", SMS_SID]) == 0
    log = json.loads(capsys.readouterr().out)["action_log"]
    assert [s["state"] for s in log["steps"]] == ["done", "done"]
    assert log["steps"][0]["delivery"]["status"] == "delivered"


def test_processor_places_a_call_with_the_rendered_twiml(world: World) -> None:
    world.receive("sms_plain", **{"Body=Hello+there": "Body=call+me"})
    world.deliver()
    [call] = world.twilio.calls()
    assert call["to"] == "+15005550012"
    assert "<Say>Call +14155550101 back</Say>" in call["twiml"]
    assert world.sms_sent() == []  # the first matching trigger stops evaluation


INTO_THE_APP_TABLE = """
version: 1
triggers:
  - name: overwrite-the-account
    actions:
      - type: record
        table: {table}
        item: {{pk: "ACCOUNT#acme", sk: "ACCOUNT", name: "%Body%"}}
      - type: send_sms
        body: "still here"
"""


def test_processor_refuses_a_record_into_the_app_table(world: World) -> None:
    """A file stored without the CLI's check (an older CLI, a hand-written item): the record
    step names the app table (TABLE_NAME) and would overwrite the account item. It fails with
    the reason and writes nothing; the next action still runs."""
    push_triggers(world.table, INTO_THE_APP_TABLE.format(table=world.table))
    account_key = {"pk": {"S": "ACCOUNT#acme"}, "sk": {"S": "ACCOUNT"}}
    dynamodb = boto3.client("dynamodb")
    before = dynamodb.get_item(TableName=world.table, Key=account_key)["Item"]
    world.stream.new_records()  # skip the trigger write

    world.receive("sms_plain")
    assert world.deliver() == {"batchItemFailures": []}

    step = world.steps(SMS_SID)["overwrite-the-account/1"]
    assert step.state is StepState.FAILED
    assert "application's own table" in (step.detail or "")
    after = dynamodb.get_item(TableName=world.table, Key=account_key)["Item"]
    # The processor remembers the number the message came in on (the loop guard): nothing else.
    assert after.pop("own_numbers") == {"SS": ["+15005550006"]}
    assert after == before
    assert [sms["body"] for sms in world.sms_sent()] == ["still here"]


def test_processor_redelivery_sends_nothing_twice(world: World) -> None:
    world.receive("sms_plain")
    records = world.stream.inserts_of_inbound_messages()
    world.deliver(records)
    world.deliver(records)
    world.deliver(records)
    assert len(world.sms_sent()) == 1
    assert len(boto3.client("dynamodb").scan(TableName=world.records_table)["Items"]) == 1


def test_processor_twilio_500_keeps_the_step_unknown_and_resends_nothing(world: World) -> None:
    """A 500 may come after Twilio created the message: the claim is kept (not released) and
    the redelivery looks again instead of sending. When the message certainly does not exist
    (Twilio's list has had time to show it) it is sent: test_exactly_once_recovery (a)."""
    world.receive("sms_plain")
    records = world.stream.inserts_of_inbound_messages()
    world.twilio.fail_next(server_error(500))

    first = world.deliver(records)
    assert first["batchItemFailures"] == [
        {"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}
    ]
    step = world.steps(SMS_SID)["auto-reply/1"]
    assert (step.state, step.looks) == (StepState.STARTED, 1)
    assert step.unknown_since

    assert len(world.deliver(records)["batchItemFailures"]) == 1
    assert world.sms_sent() == []
    assert world.steps(SMS_SID)["auto-reply/1"].looks == 2


def test_processor_twilio_429_until_given_up_releases_the_step_and_sends_later(
    world: World,
) -> None:
    """Rate limited on every attempt: certainly not created, so the claim is released and the
    redelivery sends."""
    world.receive("sms_plain")
    records = world.stream.inserts_of_inbound_messages()
    world.twilio.fail_next(*[rate_limited(retry_after="0")] * 3)

    assert len(world.deliver(records)["batchItemFailures"]) == 1
    assert world.sms_sent() == []
    assert "auto-reply/1" not in world.steps(SMS_SID)  # claim released: nothing was sent

    assert world.deliver(records) == {"batchItemFailures": []}
    assert len(world.sms_sent()) == 1


def test_processor_message_created_but_no_answer_is_not_resent(world: World) -> None:
    """The message exists but its answer was lost; without a status callback naming the step
    (none reaches this world) it is not yet known to be this step's: looked up again, never
    resent. Identified by its callback: test_exactly_once_recovery (c)."""
    world.receive("sms_plain")
    records = world.stream.inserts_of_inbound_messages()
    world.twilio.fail_next(DropConnectionFault(after_processing=True))

    assert len(world.deliver(records)["batchItemFailures"]) == 1
    assert len(world.deliver(records)["batchItemFailures"]) == 1

    assert len(world.sms_sent()) == 1
    assert world.steps(SMS_SID)["auto-reply/1"].state is StepState.STARTED


def test_processor_rate_limited_waits_and_sends_once(world: World) -> None:
    world.receive("sms_plain")
    world.twilio.fail_next(rate_limited(retry_after="0"))
    assert world.deliver() == {"batchItemFailures": []}
    assert len(world.sms_sent()) == 1


def test_processor_final_twilio_error_is_recorded_and_never_retried(world: World) -> None:
    world.twilio.refuse_recipient("+14155550101", 21610)
    world.receive("sms_plain")
    records = world.stream.inserts_of_inbound_messages()

    assert world.deliver(records) == {"batchItemFailures": []}
    world.deliver(records)

    step = world.steps(SMS_SID)["auto-reply/1"]
    assert step.state is StepState.FAILED
    assert "opted out" in step.detail
    creates = [r for r in world.twilio.requests() if r.method == "POST"]
    assert len(creates) == 1
    assert world.steps(SMS_SID)["auto-reply/2"].state is StepState.DONE  # the rest still ran


def test_processor_crash_after_twilio_accepted_sends_no_second_sms(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.receive("sms_plain")
    records = world.stream.inserts_of_inbound_messages()
    real_finish = DynamoStepLedger.finish
    crashed: list[str] = []

    def finish_crashing_once(self: DynamoStepLedger, *args: Any, **kwargs: Any) -> None:
        if not crashed:
            crashed.append(args[1])
            raise RuntimeError("Lambda died after Twilio accepted the message")
        real_finish(self, *args, **kwargs)

    monkeypatch.setattr(DynamoStepLedger, "finish", finish_crashing_once)

    assert len(world.deliver(records)["batchItemFailures"]) == 1
    assert len(world.sms_sent()) == 1
    assert world.steps(SMS_SID)["auto-reply/1"].state is StepState.STARTED

    assert world.deliver(records) == {"batchItemFailures": []}
    [sms] = world.sms_sent()  # found at Twilio, not sent again
    step = world.steps(SMS_SID)["auto-reply/1"]
    assert (step.state, step.resource_sid) == (StepState.DONE, sms["sid"])


def test_processor_poison_record_fails_alone(world: World) -> None:
    world.receive("sms_plain")
    world.receive("sms_short_code")
    good = world.stream.inserts_of_inbound_messages()
    poison = {**good[0], "dynamodb": {**good[0]["dynamodb"], "NewImage": {"kind": {"S": "x"}}}}
    poison["dynamodb"]["SequenceNumber"] = "999"

    response = world.deliver([good[0], poison, good[1]])

    assert response["batchItemFailures"] == [{"itemIdentifier": "999"}]
    assert sorted(m["to"] for m in world.sms_sent()) == ["+14155550101", "+14155550107"]


def test_processor_twilio_stop_gets_no_auto_reply_and_opts_the_contact_out(world: World) -> None:
    world.receive("sms_stop")  # Twilio's own STOP, with OptOutType=STOP

    assert world.deliver() == {"batchItemFailures": []}

    assert world.sms_sent() == []
    states = list(
        DynamoContactStore(world.table, boto3.client("dynamodb")).list_for_account("acme")
    )
    assert [(s.contact, s.opted_out, s.keyword) for s in states] == [("+14155550106", True, "STOP")]


def test_processor_without_triggers_records_a_finished_run(world: World) -> None:
    boto3.client("dynamodb").delete_item(
        TableName=world.table, Key={"pk": {"S": "ACCOUNT#acme"}, "sk": {"S": "TRIGGERS#CURRENT"}}
    )
    world.receive("sms_plain")
    assert world.deliver() == {"batchItemFailures": []}
    run = DynamoEvaluationStore(world.table, boto3.client("dynamodb")).get(SMS_SID)
    assert run is not None
    assert run.status == "no_triggers"
    assert world.sms_sent() == []


def test_processor_replays_the_pinned_trigger_version(world: World) -> None:
    world.receive("sms_plain")
    records = world.stream.inserts_of_inbound_messages()
    world.twilio.fail_next(*[twilio_error(20429, status=429)] * 3)  # not sent: released
    world.deliver(records)

    push_triggers(world.table, TRIGGERS.replace("Thanks, we got", "NEW VERSION"))
    world.deliver(records)

    [sms] = world.sms_sent()
    assert sms["body"].startswith("Thanks, we got")


def processor_of(
    world: World, port_for: Callable[[Mapping[str, Any]], ActionPort]
) -> MessageProcessor:
    dynamodb = boto3.client("dynamodb")
    return MessageProcessor(
        evaluations=DynamoEvaluationStore(world.table, dynamodb),
        triggers=DynamoTriggerStore(world.table, dynamodb),
        engines=engines(),
        port_for=port_for,
        clock=lambda: datetime.now(UTC),
        account_zone=lambda _account: None,
    )


RUN_ID = "RU" + "0" * 32


def automation_run(automation: str) -> dict[str, Any]:
    """An automation run's origin pinned to version 1 (which has triggers, no automations)."""
    return {
        "kind": "automation_run",
        "message_sid": RUN_ID,
        "account": "acme",
        "automation": automation,
        "trigger_version": 1,
        "fingerprint": "f" * 16,
        "params": {"From": "+14155550101", "To": "+15005550006"},
        "received_at": "2026-01-01T00:00:00.000Z",
    }


def test_a_run_of_an_automation_its_pinned_version_lacks_is_a_missing_version(
    world: World,
) -> None:
    processor = processor_of(world, lambda message: DryRunPort())
    with pytest.raises(MissingTriggerVersion, match="no automation named 'gone'"):
        processor.process(automation_run("gone"))


def test_a_key_error_from_the_port_is_not_taken_for_a_missing_automation(world: World) -> None:
    def broken_port(message: Mapping[str, Any]) -> ActionPort:
        raise KeyError("a bug, not a missing automation")

    inbound_message = {**automation_run("-"), "kind": "inbound_message", "message_sid": SMS_SID}
    with pytest.raises(KeyError, match="a bug"):  # retried, not sent to the DLQ as gone
        processor_of(world, broken_port).process(inbound_message)


def _dynamodb_calls() -> list[tuple[str, str, bool]]:
    """From now on, every DynamoDB call a new client makes: (operation, the item's sort key,
    strongly consistent). The processor's clients are built anew (its cache cleared)."""
    calls: list[tuple[str, str, bool]] = []

    def record(model: Any, params: Mapping[str, Any], **_: Any) -> None:
        body = json.loads(params.get("body") or "{}")
        key = body.get("Key") or body.get("Item") or {}
        sort_key = key.get("sk", {}).get("S", "")
        if "KeyConditionExpression" in body:  # a range of the partition: low..high
            values = body.get("ExpressionAttributeValues", {})
            sort_key = f"{values[':low']['S']}..{values[':high']['S']}" if ":low" in values else "?"
        calls.append((model.name, sort_key, bool(body.get("ConsistentRead"))))

    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-call.dynamodb", record)
    clear_cached_dependencies(processor)
    return calls


def test_a_warm_processor_s_dynamodb_calls_per_ordinary_message(world: World) -> None:
    """What docs/cost.md counts per inbound message when no trigger matches: the evaluation
    and the conversation reply read together (one strongly consistent query of the message's
    partition, by the intake; the processor goes on from that read), the open conversation
    and the trigger pointer (eventually consistent), and the evaluation written once,
    finished (nothing to perform: no start-then-finish). The account item is cached 30 s and
    the trigger version (immutable) once per warm instance: the first message reads them, the
    next does not."""
    call_me_only = TRIGGERS.partition("  - name: auto-reply")[0]
    push_triggers(world.table, call_me_only)
    world.stream.new_records()
    for index in range(2):
        world.receive("sms_plain", **{SMS_SID: f"SM{index:032d}"})
    calls = _dynamodb_calls()
    assert world.deliver() == {"batchItemFailures": []}
    assert world.sms_sent() == []
    first_only = {
        ("GetItem", "ACCOUNT", False),  # the account, cached 30 s
        ("UpdateItem", "ACCOUNT", False),  # the number received on, remembered once
        ("GetItem", "TRIGGERS#V00000002", True),  # the version the pointer names, kept
    }
    warm = ORDINARY_MESSAGE_CALLS
    assert [call for call in calls if call not in first_only] == warm + warm
    assert sorted(set(calls) - set(warm)) == sorted(first_only)
    assert read_units(warm) == ORDINARY_MESSAGE_READ_UNITS
    assert write_units(warm) == ORDINARY_MESSAGE_WRITE_UNITS


ORDINARY_MESSAGE_CALLS = [
    ("Query", "REPLY..RUN", True),  # the evaluation and a conversation's reply record
    ("GetItem", "WAIT", False),  # an open conversation with the contact?
    ("GetItem", "TRIGGERS#CURRENT", False),  # the trigger pointer
    ("PutItem", "RUN", False),  # the evaluation, finished
]
"""docs/cost.md's "Processor DynamoDB" and "Processor Lambda" rows: these calls, each item
under 4 KB (read: 1 unit strongly consistent, 0.5 eventually; written: 1 unit per KB)."""
ORDINARY_MESSAGE_READ_UNITS = 2.0
ORDINARY_MESSAGE_WRITE_UNITS = 1


def read_units(calls: list[tuple[str, str, bool]]) -> float:
    return sum(
        1 if consistent else 0.5 for op, _, consistent in calls if op in {"GetItem", "Query"}
    )


def write_units(calls: list[tuple[str, str, bool]]) -> int:
    return sum(1 for op, _, _ in calls if op in {"PutItem", "UpdateItem", "DeleteItem"})


def production_context(function: str, request: int) -> FakeLambdaContext:
    """A warm invocation of the prod stack's function (docs/deploy.md's stack name)."""
    name = f"sms-automation-prod-{function}"
    return FakeLambdaContext(
        function_name=name,
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        aws_request_id=f"52fdfc07-2182-454f-963f-{request:012d}",
    )


def test_an_ordinary_message_s_log_lines_and_evaluation_item_as_docs_cost_counts_them(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/cost.md's "CloudWatch Logs" row: the bytes of the lines an inbound message that no
    trigger matches writes, warm, with production function names (account ``acme``, US
    numbers): the webhook's line and the processor's; no batch line, no zero-valued metric.
    And its "Processor DynamoDB" row's one write: the finished evaluation is under 1 KB."""
    call_me_only = TRIGGERS.partition("  - name: auto-reply")[0]
    push_triggers(world.table, call_me_only)
    world.stream.new_records()
    lines: list[bytes] = []
    for request in range(2):  # the first warms both functions up
        sid = f"SM{request:032d}"
        body = inbound_example("sms_plain")["raw_body"].replace(SMS_SID, sid)
        event = signed_webhook_event("acme", body, TEST_AUTH_TOKEN)
        assert (
            inbound.lambda_handler(event, production_context("inbound-webhook", request))[
                "statusCode"
            ]
            == 200
        )
        batch = stream_event(world.stream.inserts_of_inbound_messages())
        processed = processor.lambda_handler(
            batch, production_context("trigger-processor", request)
        )
        assert processed == {"batchItemFailures": []}
        lines = [line.encode() for line in capsys.readouterr().out.splitlines()]

    webhook, evaluated = (json.loads(line) for line in lines)
    assert (webhook["message"], webhook["cold_start"]) == ("inbound message stored", False)
    assert (evaluated["message"], evaluated["status"]) == ("message processed", "completed")
    doc = (ROOT / "docs" / "cost.md").read_text(encoding="utf-8")
    assert [len(line) for line in lines] == [WEBHOOK_LINE_BYTES, PROCESSOR_LINE_BYTES]
    for figure in (WEBHOOK_LINE_BYTES, PROCESSOR_LINE_BYTES, sum(map(len, lines))):
        assert f"{figure:,} B" in doc

    stored = boto3.client("dynamodb").get_item(
        TableName=world.table, Key={"pk": {"S": "MSG#SM" + "0" * 31 + "1"}, "sk": {"S": "RUN"}}
    )["Item"]
    assert write_units_of(from_attributes(stored)) == ORDINARY_MESSAGE_WRITE_UNITS
    assert f"{item_size(from_attributes(stored))} bytes" in doc


WEBHOOK_LINE_BYTES = 750
PROCESSOR_LINE_BYTES = 807
