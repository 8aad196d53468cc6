"""Automation runs' origin items (see ``keys``): stored once, read back, listed newest first."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from sms_automation import keys
from sms_automation.adapters.message_store import from_attributes, newest_first, to_attributes

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class RunStoreUnavailable(RuntimeError):
    """DynamoDB did not answer or refused (throttled): nothing was started; try again."""


class DynamoAutomationRunStore:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def put_new(self, origin: Mapping[str, Any]) -> dict[str, Any] | None:
        """Store the origin unless its run id exists: ``None`` when stored, else the existing."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_attributes(dict(origin)),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise RunStoreUnavailable("the run store is unavailable; try again") from error
            existing = self.get(str(origin["run_id"]))
            if existing is None:  # cannot happen: origins are never deleted
                raise RunStoreUnavailable("the run was stored and is gone; try again") from error
            return existing
        except BotoCoreError as error:
            raise RunStoreUnavailable("the run store is unavailable; try again") from error
        return None

    def get(self, run_id: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_attributes(keys.automation_run_key(run_id)),
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            return None
        origin = from_attributes(item)
        return origin if origin.get("kind") == keys.KIND_AUTOMATION_RUN else None

    def list_for_account(
        self, account: str, *, automation: str | None = None, limit: int = 50
    ) -> Iterator[dict[str, Any]]:
        """Newest first; ``automation``: only that one's runs."""
        origins = newest_first(
            self._client, self._table, keys.account_runs_index_pk(account), limit
        )
        if automation:
            folded = automation.casefold()
            origins = (o for o in origins if str(o.get("automation", "")).casefold() == folded)
        yield from itertools.islice(origins, limit)
