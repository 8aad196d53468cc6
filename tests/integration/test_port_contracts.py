"""One contract, two implementations: each in-memory fake of ``tests/support/fakes.py`` and the
adapter it stands in for (on moto) answer the same calls the same way. The unit tests that use
the fakes are only as true as this suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sms_automation import keys
from sms_automation.adapters.automation_run_store import DynamoAutomationRunStore
from sms_automation.adapters.dlq_queue import SqsDlqQueue
from sms_automation.adapters.dynamo_json import to_attributes
from sms_automation.adapters.replay_sources import DynamoReceivedMessages, DynamoStoredMessages
from sms_automation.adapters.trigger_store import DynamoTriggerStore
from sms_automation.dlq.ports import DlqQueue, ReceivedMessages, StoredMessages
from sms_automation.processing.runs import iso
from tests.support.aws import use_dummy_aws_credentials
from tests.support.fakes import (
    InMemoryDlqQueue,
    InMemoryReceivedMessages,
    InMemoryRunOrigins,
    InMemoryStoredMessages,
    InMemoryTriggerFiles,
)
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

TABLE = create_table_kwargs()["TableName"]
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
RECORD = (
    Path(__file__).resolve().parents[1] / "fixtures" / "dlq_invocation_record.json"
).read_text(encoding="utf-8")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        boto3.client("dynamodb").create_table(**create_table_kwargs())
        yield


# --- automations.service.RunOrigins ----------------------------------------------------------


def origin(run: int, automation: str = "Notify", account: str = "acme") -> dict[str, Any]:
    run_id = f"RU{account}{run:08d}"
    requested_at = f"2026-11-26T09:{run:02d}:00.000Z"
    return {
        **keys.automation_run_key(run_id),
        keys.GSI1_PK: keys.account_runs_index_pk(account),
        keys.GSI1_SK: f"{requested_at}#{run_id}",
        keys.GSI2_PK: keys.automation_runs_index_pk(account, automation),
        keys.GSI2_SK: f"{requested_at}#{run_id}",
        "kind": keys.KIND_AUTOMATION_RUN,
        "run_id": run_id,
        "message_sid": run_id,
        "account": account,
        "automation": automation,
        "requested_at": requested_at,
        "request_fingerprint": f"f{run}",
    }


@pytest.fixture(params=["in_memory", "dynamodb"])
def run_origins(request: pytest.FixtureRequest, aws: None) -> Any:
    if request.param == "in_memory":
        return InMemoryRunOrigins()
    return DynamoAutomationRunStore(TABLE, boto3.client("dynamodb"))


def test_run_origins_store_a_run_once(run_origins: Any) -> None:
    assert run_origins.put_new(origin(1)) is None

    existing = run_origins.put_new({**origin(1), "request_fingerprint": "other"})

    assert existing["request_fingerprint"] == "f1"
    assert run_origins.get(origin(1)["run_id"]) == existing
    assert run_origins.get("RUnone") is None


def test_run_origins_list_newest_first_by_automation_whatever_its_case(run_origins: Any) -> None:
    for stored in (origin(1), origin(2, "Other"), origin(3), origin(4, account="globex")):
        run_origins.put_new(stored)

    def listed(**options: Any) -> list[str]:
        return [o["run_id"] for o in run_origins.list_for_account("acme", **options)]

    assert listed() == ["RUacme00000003", "RUacme00000002", "RUacme00000001"]
    assert listed(automation="NOTIFY") == ["RUacme00000003", "RUacme00000001"]
    assert listed(limit=1) == ["RUacme00000003"]


# --- triggers.publish.TriggerFiles + automations.service.CurrentTriggers --------------------


@pytest.fixture(params=["in_memory", "dynamodb"])
def trigger_files(request: pytest.FixtureRequest, aws: None) -> Any:
    if request.param == "in_memory":
        return InMemoryTriggerFiles()
    return DynamoTriggerStore(TABLE, boto3.client("dynamodb"))


def test_trigger_files_push_the_next_version_and_make_it_current(trigger_files: Any) -> None:
    assert trigger_files.current("acme") is None

    first = trigger_files.push("acme", "version: 1\n", "fp1", NOW, trigger_names=["a"])
    second = trigger_files.push("acme", "version: 1 # 2\n", "fp2", NOW, trigger_names=["a"])

    current = trigger_files.current("acme")
    assert (first, second) == (1, 2)
    assert (current.version, current.fingerprint, current.source) == (2, "fp2", "version: 1 # 2\n")
    assert trigger_files.current("globex") is None


# --- dlq.ports.DlqQueue -------------------------------------------------------------------------


@pytest.fixture(params=["in_memory", "sqs"])
def dlq(request: pytest.FixtureRequest, aws: None) -> tuple[DlqQueue, Callable[[str], None]]:
    if request.param == "in_memory":
        queue = InMemoryDlqQueue()
        return queue, queue.send
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="dlq")["QueueUrl"]

    def send(body: str) -> None:
        sqs.send_message(QueueUrl=url, MessageBody=body)

    return SqsDlqQueue(url, sqs), send


def test_dlq_received_entries_stay_hidden_until_released(
    dlq: tuple[DlqQueue, Callable[[str], None]],
) -> None:
    queue, send = dlq
    send(RECORD)
    send("not json")

    entries = list(queue.receive_all(visibility_timeout=300, limit=10))

    assert [e.batch is not None for e in entries] == [True, False]
    assert entries[1].problem.startswith("not JSON")
    assert list(queue.receive_all(visibility_timeout=300, limit=10)) == []
    queue.release(entries[0])
    assert [e.message_id for e in queue.receive_all(visibility_timeout=300, limit=10)] == [
        entries[0].message_id
    ]


def test_dlq_deleted_entries_are_gone_and_release_all_brings_back_the_rest(
    dlq: tuple[DlqQueue, Callable[[str], None]],
) -> None:
    queue, send = dlq
    for _ in range(3):
        send(RECORD)
    first, *rest = queue.receive_all(visibility_timeout=300, limit=10)

    queue.delete(first)
    queue.release_all(rest)

    again = list(queue.receive_all(visibility_timeout=300, limit=10))
    assert sorted(e.message_id for e in again) == sorted(e.message_id for e in rest)
    assert len(list(queue.receive_all(visibility_timeout=300, limit=1))) == 0


def test_dlq_receive_all_stops_at_the_limit(dlq: tuple[DlqQueue, Callable[[str], None]]) -> None:
    queue, send = dlq
    for _ in range(3):
        send(RECORD)

    assert len(list(queue.receive_all(visibility_timeout=300, limit=2))) == 2


# --- dlq.ports.StoredMessages + ReceivedMessages -------------------------------------------------

AT = datetime(2026, 11, 26, 9, tzinfo=UTC)
RECEIVED = [
    ("acme", AT, "SM1"),
    ("acme", AT.replace(minute=5), "SM2"),
    ("acme", AT.replace(hour=11), "SM3"),
    ("globex", AT.replace(minute=1), "SM4"),
]


def message_item(account: str, at: datetime, sid: str) -> dict[str, Any]:
    return {
        **keys.message_key(sid),
        keys.GSI1_PK: keys.account_messages_index_pk(account),
        keys.GSI1_SK: f"{iso(at)}#{sid}",
        "kind": "inbound_message",
        "message_sid": sid,
        "account": account,
        "received_at": iso(at),
    }


@pytest.fixture(params=["in_memory", "dynamodb"])
def replay_sources(
    request: pytest.FixtureRequest, aws: None
) -> tuple[StoredMessages, ReceivedMessages]:
    items = [to_attributes(message_item(*received)) for received in RECEIVED]
    if request.param == "in_memory":
        return InMemoryStoredMessages(*items), InMemoryReceivedMessages(*RECEIVED)
    client = boto3.client("dynamodb")
    for item in items:
        client.put_item(TableName=TABLE, Item=item)
    return DynamoStoredMessages(TABLE, client), DynamoReceivedMessages(TABLE, client)


def test_stored_messages_answer_the_item_as_stored(
    replay_sources: tuple[StoredMessages, ReceivedMessages],
) -> None:
    messages, _ = replay_sources

    stored = messages.get("SM4")

    assert stored is not None
    assert (stored.account, stored.image) == ("globex", to_attributes(message_item(*RECEIVED[3])))
    assert messages.get("SMnone") is None


def test_received_messages_of_one_account_in_an_inclusive_window_oldest_first(
    replay_sources: tuple[StoredMessages, ReceivedMessages],
) -> None:
    _, received = replay_sources

    assert list(received.received_between("acme", AT, AT.replace(hour=11))) == ["SM1", "SM2", "SM3"]
    assert list(received.received_between("acme", AT.replace(minute=1), AT.replace(hour=10))) == [
        "SM2"
    ]
