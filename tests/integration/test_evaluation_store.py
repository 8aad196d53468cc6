"""Run records read many at a time (the automations API's and CLI's run lists): one
BatchGetItem per 100, the keys DynamoDB leaves unprocessed asked again. And a message's
evaluation read with its conversation reply record, in one query of its partition."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sms_automation import keys
from sms_automation.adapters.dynamo_json import to_attributes
from sms_automation.adapters.evaluation_store import DynamoEvaluationStore
from sms_automation.conversations.model import RecordedReply
from tests.support.aws import use_dummy_aws_credentials
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration


class LeavesKeysUnprocessed:
    """A DynamoDB client that, like a throttled table, answers the first BatchGetItem with only
    part of the keys and hands the rest back as ``UnprocessedKeys``."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[int] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((table, request),) = RequestItems.items()
        self.calls.append(len(request["Keys"]))
        if len(self.calls) > 1:
            return dict(self._client.batch_get_item(RequestItems=RequestItems))
        half = len(request["Keys"]) // 2
        answered = self._client.batch_get_item(
            RequestItems={table: {**request, "Keys": request["Keys"][:half]}}
        )
        return {
            "Responses": answered["Responses"],
            "UnprocessedKeys": {table: {**request, "Keys": request["Keys"][half:]}},
        }


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        kwargs = create_table_kwargs()
        boto3.client("dynamodb").create_table(**kwargs)
        yield kwargs["TableName"]


def started(store: DynamoEvaluationStore, count: int) -> list[str]:
    ids = [f"RU{n:032x}" for n in range(count)]
    for run_id in ids:
        store.start(run_id, "acme", trigger_version=1, fingerprint="f", now="2026-11-26T10:00Z")
    return ids


def test_get_many_reads_every_existing_run_in_batches_of_100(table: str) -> None:
    store = DynamoEvaluationStore(table, boto3.client("dynamodb"))
    ids = started(store, 150)
    missing = "RU" + "f" * 32

    found = store.get_many([*ids, missing, ids[0]])

    assert sorted(found) == sorted(ids)
    assert found[ids[7]].status == "running"


def test_get_many_asks_again_for_unprocessed_keys(table: str) -> None:
    client = LeavesKeysUnprocessed(boto3.client("dynamodb"))
    ids = started(DynamoEvaluationStore(table, boto3.client("dynamodb")), 10)

    found = DynamoEvaluationStore(table, client).get_many(ids)  # type: ignore[arg-type]

    assert sorted(found) == ids
    assert client.calls == [10, 5]


def test_the_evaluation_and_the_reply_record_are_read_in_one_query(table: str) -> None:
    client = boto3.client("dynamodb")
    store = DynamoEvaluationStore(table, client)
    sid = "SM" + "5" * 32
    assert store.evaluation_and_reply(sid) == (None, None)

    beside = [  # the rest of the message's partition, which the query must not read
        {**keys.message_key(sid), "kind": "inbound_message", "message_sid": sid},
        {**keys.step_key(sid, "t/1"), "kind": "step"},
        {**keys.conversation_key(sid, "t/2"), "kind": "conversation"},
    ]
    for item in beside:
        client.put_item(TableName=table, Item=to_attributes(item))
    assert store.evaluation_and_reply(sid) == (None, None)

    started = store.start(sid, "acme", trigger_version=2, fingerprint="fp2", now="t0")
    reply = {
        **keys.conversation_reply_key(sid),
        "kind": "conversation_reply",
        "conversation_message_sid": "SM" + "6" * 32,
        "conversation_step_id": "ask/1",
        "resolves": True,
        "consumed": False,
    }
    client.put_item(TableName=table, Item=to_attributes(reply))

    evaluation, recorded = store.evaluation_and_reply(sid)
    assert evaluation == started
    assert recorded == RecordedReply(
        message_sid="SM" + "6" * 32,
        step_id="ask/1",
        resolves=True,
        reprompt_step_id=None,
        consumed=False,
    )
