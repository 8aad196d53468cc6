"""Run records read many at a time (the automations API's and CLI's run lists): one
BatchGetItem per 100, the keys DynamoDB leaves unprocessed asked again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sms_automation.adapters.evaluation_store import DynamoEvaluationStore
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
