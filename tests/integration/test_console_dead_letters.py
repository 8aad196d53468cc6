"""The console's Dead letters routes against moto: messages stored by the real webhook sit on
moto's DynamoDB stream, dead letters shaped like Lambda's on-failure records describe them, and
a redrive replays them through the real processor handler (in process instead of
``lambda:Invoke``). Account scope: a user limited to accounts sees and redrives only entries
all of whose messages are theirs; an entry that cannot be attributed (malformed) only a user
with every account; a redrive is audited ``dead_letter.redrive`` under each account of the
entry (``*`` when none, a record only users with every account read)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.console_api import handler as api
from functions.inbound_webhook import handler as inbound
from functions.trigger_processor import handler as processor
from sms_automation.adapters import lambda_invoker
from sms_automation.dead_letters.invoker import HandlerInvoker, InvocationResult
from tests.integration.test_dead_letters_cli import invocation_record
from tests.support.aws import (
    TEST_AUTH_TOKEN,
    FakeLambdaContext,
    account_registry,
    add_account,
    clear_cached_dependencies,
    hook_every_client,
    use_dummy_aws_credentials,
)
from tests.support.console import console_call
from tests.support.events import inbound_example, signed_webhook_event
from tests.support.moto_stack import deploy, push_triggers
from tests.support.streams import TableStream
from tests.support.twilio_server import TwilioTestServer

pytestmark = pytest.mark.integration

LIST = "/console/api/dead-letters"
REDRIVE = "/console/api/dead-letters/redrive"
AUDIT = "/console/api/audit/{account}"
ACME_SID = "SM11111111111111111111111111111111"
GLOBEX_SID = "SM22222222222222222222222222222222"
TRIGGERS = """
version: 1
triggers:
  - name: auto-reply
    actions:
      - type: send_sms
        body: "Thanks, we got: %Body%"
"""


@dataclass
class Deployment:
    twilio: TwilioTestServer
    queue_url: str
    stream: TableStream
    invoked: list[str]

    def receive(self, account: str, sid: str) -> dict[str, Any]:
        body = inbound_example("sms_plain")["raw_body"].replace(ACME_SID, sid)
        response = inbound.lambda_handler(
            signed_webhook_event(account, body, TEST_AUTH_TOKEN), FakeLambdaContext()
        )
        assert response["statusCode"] == 200
        [record] = self.stream.inserts_of_inbound_messages()
        return record

    def dead_letter(self, *records: dict[str, Any]) -> None:
        self.send(json.dumps(invocation_record(list(records))))

    def send(self, body: str) -> None:
        boto3.client("sqs").send_message(QueueUrl=self.queue_url, MessageBody=body)

    def entries(self) -> int:
        attributes = boto3.client("sqs").get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    use_dummy_aws_credentials(monkeypatch)
    twilio_server = TwilioTestServer({"AC0123456789abcdef0123456789abcdef": TEST_AUTH_TOKEN})
    with mock_aws(), twilio_server as twilio:
        deployed = deploy(monkeypatch, twilio_base_url=twilio.base_url)
        dynamodb = boto3.client("dynamodb")
        add_account(account_registry(deployed.table, dynamodb, boto3.client("secretsmanager")),
                    "globex")  # fmt: skip
        for account in ("acme", "globex"):
            push_triggers(deployed.table, TRIGGERS, account)
        queue_url = boto3.client("sqs").create_queue(QueueName="trigger-processor-dlq")["QueueUrl"]
        monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", queue_url)
        monkeypatch.setenv("PROCESSOR_FUNCTION_NAME", "test-trigger-processor")
        invoked: list[str] = []

        class InProcess(HandlerInvoker):
            """The processor in this process; each invocation recorded by the function named."""

            def __init__(self, client: Any, function_name: str) -> None:
                super().__init__(processor.lambda_handler, FakeLambdaContext())
                self.function_name = function_name

            def invoke(self, event: Mapping[str, Any]) -> InvocationResult:
                invoked.append(self.function_name)
                return super().invoke(event)

        monkeypatch.setattr(lambda_invoker, "LambdaInvoker", InProcess)
        for module in (inbound, processor, api):
            clear_cached_dependencies(module)
        stream = TableStream(deployed.table)
        stream.new_records()  # skip the account and trigger writes
        yield Deployment(twilio, queue_url, stream, invoked)
        for module in (inbound, processor, api):
            clear_cached_dependencies(module)


def call(route: str, groups: str = "[viewer]", body: Any = None, **path: str) -> dict[str, Any]:
    return console_call(route, path, groups=groups, body=body, email="bo@example.com")


def entries_by_accounts(groups: str) -> dict[str, str]:
    """The listed entries, each by its accounts (``-`` for one that cannot be attributed)."""
    answer = call(LIST, groups)
    assert answer["statusCode"] == 200, answer["body"]
    return {item["entry"]: ",".join(item["accounts"]) or "-" for item in answer["json"]["items"]}


def test_each_user_sees_only_the_dead_letters_of_their_accounts(deployment: Deployment) -> None:
    acme = deployment.receive("acme", ACME_SID)
    globex = deployment.receive("globex", GLOBEX_SID)
    deployment.dead_letter(acme)
    deployment.dead_letter(globex)
    deployment.dead_letter(acme, globex)  # one batch of both accounts
    deployment.send("not a dead letter")

    everything = entries_by_accounts("[viewer]")
    assert sorted(everything.values()) == ["-", "acme", "acme,globex", "globex"]
    assert sorted(entries_by_accounts("[viewer account:acme]").values()) == ["acme"]
    both = entries_by_accounts("[operator account:acme account:globex]")
    assert sorted(both.values()) == ["acme", "acme,globex", "globex"]  # not the malformed one

    [item] = call(LIST, "[viewer account:globex]")["json"]["items"]
    assert item["messages"] == [{"message_sid": GLOBEX_SID, "account": "globex"}]
    assert (item["condition"], item["attempts"], item["stream"]) == (
        "RetryAttemptsExhausted", 4, "held",
    )  # fmt: skip
    listed = call(LIST, "[admin]")["body"]
    assert "Hello" not in listed  # no body
    assert "4155550101" not in listed  # no number
    assert deployment.entries() == 4, "listing leaves the queue as it was"
    assert call(LIST, "[viewer]", body={})["statusCode"] == 404  # no POST on the listing


def test_an_operator_redrives_an_entry_of_their_account_and_it_is_audited(
    deployment: Deployment,
) -> None:
    deployment.dead_letter(deployment.receive("acme", ACME_SID))
    [entry] = entries_by_accounts("[viewer account:acme]")

    assert call(REDRIVE, "[viewer account:acme]", {"entry": entry})["statusCode"] == 403
    assert call(REDRIVE, "[operator account:globex]", {"entry": entry})["statusCode"] == 404
    assert deployment.twilio.messages() == []

    answer = call(REDRIVE, "[operator account:acme]", {"entry": entry})
    assert answer["statusCode"] == 200, answer["body"]
    assert answer["json"] == {
        "entry": entry,
        "deleted": True,
        "kept_because": None,
        "messages": [
            {"message_sid": ACME_SID, "account": "acme", "outcome": "processed", "detail": None}
        ],
    }
    assert deployment.invoked == ["test-trigger-processor"]
    [sms] = deployment.twilio.messages()
    assert sms["body"] == "Thanks, we got: Hello there"
    assert deployment.entries() == 0
    [record] = call(AUDIT, "[viewer account:acme]", account="acme")["json"]["items"]
    assert (record["actor"], record["action"], record["target"]) == (
        "bo@example.com", "dead_letter.redrive", entry,
    )  # fmt: skip
    assert record["detail"] == {
        "deleted": True, "messages": 1, "processed": 1, "kept_because": None,
    }  # fmt: skip

    gone = call(REDRIVE, "[operator account:acme]", {"entry": entry})
    assert gone["statusCode"] == 404


def test_an_entry_of_no_account_is_only_for_users_with_every_account(
    deployment: Deployment,
) -> None:
    deployment.send("not a dead letter")
    [entry] = entries_by_accounts("[admin]")
    scoped = call(REDRIVE, "[admin account:acme]", {"entry": entry})
    assert scoped["statusCode"] == 404

    answer = call(REDRIVE, "[operator]", {"entry": entry})
    assert answer["statusCode"] == 200, answer["body"]
    assert answer["json"]["deleted"] is False
    assert answer["json"]["kept_because"].startswith("malformed")
    assert deployment.entries() == 1  # kept: nothing to replay

    assert call(AUDIT, "[viewer]", account="*")["json"]["items"] == [], "nothing changed"
    assert call(AUDIT, "[viewer account:acme]", account="*")["statusCode"] == 403
    assert call(AUDIT, "[viewer]", account="acme")["json"]["items"] == []


@pytest.mark.parametrize("body", ["", "[]", '{"entry": 5}', '{"entry": "a b"}', '{"x": 1}'])
def test_a_bad_redrive_body_is_a_400(deployment: Deployment, body: str) -> None:
    answer = call(REDRIVE, "[operator]", body)
    assert answer["statusCode"] == 400
    assert answer["json"]["error"] == "bad_request"


def test_a_redrive_receives_the_queue_once_and_reads_back_only_its_entrys_batch(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One pass: the entry is picked by its id as the queue is received (the others are
    released at once, their batches never read back), and the user's right to it is checked on
    that entry's messages alone."""
    acme = deployment.receive("acme", ACME_SID)
    deployment.dead_letter(deployment.receive("globex", GLOBEX_SID))
    deployment.dead_letter(acme)
    entries = entries_by_accounts("[viewer]")
    [entry] = [entry for entry, accounts in entries.items() if accounts == "acme"]
    made: list[str] = []
    hook_every_client(
        monkeypatch,
        "after-call.*.*",
        lambda model, parsed, **_: (
            made.append(model.name)
            if model.name != "ReceiveMessage" or parsed.get("Messages")
            else None
        ),
    )
    clear_cached_dependencies(api)  # its next clients go through the hook

    assert call(REDRIVE, "[operator account:globex]", {"entry": entry})["statusCode"] == 404
    assert made.count("ReceiveMessage") == 1, "one pass over the queue"
    assert made.count("GetShardIterator") == 1, "only the picked entry's batch is read back"
    assert deployment.invoked == []
    made.clear()
    answer = call(REDRIVE, "[operator account:acme]", {"entry": entry})
    assert answer["statusCode"] == 200, answer["body"]
    assert answer["json"]["deleted"] is True
    assert made.count("ReceiveMessage") == 1
    assert made.count("GetShardIterator") == 1
    assert deployment.entries() == 1  # globex's entry, released untouched


def test_a_listing_that_meets_entries_held_elsewhere_does_not_claim_to_be_complete(
    deployment: Deployment,
) -> None:
    """An entry another listing or a redrive holds at that moment is not received: the listing
    says so (``in_flight``) instead of calling itself complete."""
    deployment.dead_letter(deployment.receive("acme", ACME_SID))
    deployment.send("not a dead letter")
    assert call(LIST, "[viewer]")["json"]["complete"] is True
    boto3.client("sqs").receive_message(
        QueueUrl=deployment.queue_url, MaxNumberOfMessages=1, VisibilityTimeout=60
    )  # held elsewhere (a redrive in progress)
    answer = call(LIST, "[viewer]")["json"]
    assert len(answer["items"]) == 1
    assert (answer["complete"], answer["in_flight"]) == (False, 1)
