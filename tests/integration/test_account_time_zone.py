"""The account's time zone, end to end on moto: the same trigger file, pushed to two accounts in
different zones, answers the same instant differently. Each account's zone is set through the
CLI (``accounts add --timezone``, ``accounts set --timezone``); a signed webhook stores each
message at one fixed instant; the real processor handler evaluates and sends through the real
Twilio adapter against a Twilio-like server on 127.0.0.1.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from functions.inbound_webhook import handler as inbound
from functions.trigger_processor import handler as processor
from sms_automation.adapters.evaluation_store import DynamoEvaluationStore
from sms_automation.adapters.trigger_store import DynamoTriggerStore
from sms_automation_cli.main import main
from tests.support.aws import (
    SECRETS_PREFIX,
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    FakeLambdaContext,
    clear_cached_dependencies,
    use_dummy_aws_credentials,
)
from tests.support.events import inbound_example, signed_webhook_event
from tests.support.moto_stack import deploy, push_triggers
from tests.support.streams import TableStream, stream_event
from tests.support.twilio_server import TwilioTestServer

pytestmark = pytest.mark.integration

AUTO_REPLY = (Path(__file__).parents[2] / "examples/triggers/auto-reply.yaml").read_text("utf-8")
"""Open 09:00-17:30 in the account's zone: one answer inside, another (with %time%) outside."""

INSTANT = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
"""20:00 on 2 March in New York (EST), 10:00 on 3 March in Tokyo."""

SMS_PLAIN_SID = "SM11111111111111111111111111111111"
OPEN = "Thanks for your message, we will reply shortly."
CLOSED_AT_8PM = "Thanks! We are closed now (it is 20:00:00 here); we will reply after 9:00."
CLOSED_AT_1AM = "Thanks! We are closed now (it is 01:00:00 here); we will reply after 9:00."


class _FixedClock(datetime):
    """The webhook's clock, stopped at ``INSTANT``: both messages arrive at the same moment."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _FixedClock:
        moment = INSTANT.astimezone(tz) if tz is not None else INSTANT.replace(tzinfo=None)
        return cls.fromtimestamp(moment.timestamp(), tz)


def _nothing() -> None:
    pass


@dataclass
class World:
    twilio: TwilioTestServer
    table: str
    stream: TableStream

    def receive_and_process(
        self, account: str, message_sid: str, *, before_processing: Callable[[], None] = _nothing
    ) -> str:
        """``account`` receives "Hello there" at ``INSTANT``; the processor answers: its body."""
        self.stream.new_records()  # only this message's records below
        body = inbound_example("sms_plain")["raw_body"].replace(SMS_PLAIN_SID, message_sid)
        event = signed_webhook_event(account, body, TEST_AUTH_TOKEN)
        assert inbound.lambda_handler(event, FakeLambdaContext())["statusCode"] == 200
        before_processing()
        batch = stream_event(self.stream.inserts_of_inbound_messages())
        assert processor.lambda_handler(batch, FakeLambdaContext()) == {"batchItemFailures": []}
        reply = self.twilio.messages()[-1]
        assert reply["to"] == "+14155550101"
        return str(reply["body"])


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws(), TwilioTestServer({TEST_ACCOUNT_SID: TEST_AUTH_TOKEN}) as twilio:
        deployed = deploy(monkeypatch, twilio_base_url=twilio.base_url)  # adds "acme", no zone
        monkeypatch.setenv("SMS_AUTOMATION_TABLE", deployed.table)
        monkeypatch.setenv("SMS_AUTOMATION_SECRETS_PREFIX", SECRETS_PREFIX)
        monkeypatch.setenv("SMS_AUTOMATION_WEBHOOK_BASE_URL", "https://hooks.example.com/dev/")
        monkeypatch.setattr(inbound.composition, "datetime", _FixedClock)
        for module in (inbound, processor):
            clear_cached_dependencies(module)
        monkeypatch.setattr("sys.stdin", io.StringIO(TEST_AUTH_TOKEN))
        add_kobe = ["accounts", "add", "kobe", "--account-sid", TEST_ACCOUNT_SID]
        assert main([*add_kobe, "--auth-token-stdin", "--timezone", "Asia/Tokyo"]) == 0
        for account in ("acme", "kobe"):
            push_triggers(deployed.table, AUTO_REPLY, account=account)
        yield World(twilio, deployed.table, TableStream(deployed.table))
        for module in (inbound, processor):
            clear_cached_dependencies(module)


def test_the_same_trigger_file_answers_by_each_accounts_zone(world: World) -> None:
    assert main(["accounts", "set", "acme", "--timezone", "America/New_York"]) == 0

    assert world.receive_and_process("acme", "SM" + "a" * 32) == CLOSED_AT_8PM
    assert world.receive_and_process("kobe", "SM" + "b" * 32) == OPEN
    assert len(world.twilio.messages()) == 2


def test_an_account_without_a_zone_is_evaluated_in_utc(world: World) -> None:
    item = boto3.client("dynamodb").get_item(
        TableName=world.table,
        Key={"pk": {"S": "ACCOUNT#acme"}, "sk": {"S": "ACCOUNT"}},
        ConsistentRead=True,
    )["Item"]
    assert "timezone" not in item  # as an account added before zones existed

    assert world.receive_and_process("acme", "SM" + "c" * 32) == CLOSED_AT_1AM


def test_the_zone_is_pinned_by_the_first_attempt(world: World) -> None:
    """An attempt that pinned the run in New York and died before evaluating; the account moves
    to Tokyo; the retry still decides as New York did (as a replay after a wait would)."""
    sid = "SM" + "d" * 32
    dynamodb = boto3.client("dynamodb")
    current = DynamoTriggerStore(world.table, dynamodb).current("acme")
    assert current is not None

    def first_attempt_then_the_zone_changes() -> None:
        DynamoEvaluationStore(world.table, dynamodb).start(
            sid,
            "acme",
            trigger_version=current.version,
            fingerprint=current.fingerprint,
            now=INSTANT.isoformat(),
            timezone="America/New_York",
        )
        assert main(["accounts", "set", "acme", "--timezone", "Asia/Tokyo"]) == 0

    reply = world.receive_and_process(
        "acme", sid, before_processing=first_attempt_then_the_zone_changes
    )

    assert reply == CLOSED_AT_8PM
    run = DynamoEvaluationStore(world.table, dynamodb).get(sid)
    assert run is not None
    assert (run.timezone, run.attempts) == ("America/New_York", 2)


def test_a_run_records_the_zone_it_was_evaluated_in(world: World) -> None:
    world.receive_and_process("kobe", "SM" + "e" * 32)
    run = DynamoEvaluationStore(world.table, boto3.client("dynamodb")).get("SM" + "e" * 32)
    assert run is not None
    assert run.timezone == "Asia/Tokyo"
