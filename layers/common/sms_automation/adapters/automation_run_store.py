"""Automation runs' origin items (see ``keys``): stored once, read back, listed newest first."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from sms_automation import keys
from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code, is_transient
from sms_automation.adapters.dynamo_json import from_attributes, to_attributes
from sms_automation.adapters.message_store import newest_first
from sms_automation.automations.service import RunStoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoAutomationRunStore:
    """``automations.service.RunOrigins`` on the app table. ``RunStoreUnavailable`` when
    DynamoDB did not answer or refused for now (throttled, 5xx); any other DynamoDB error
    (``AccessDeniedException``, ``ResourceNotFoundException``, ...) is raised as botocore raised
    it: no retry fixes it (``aws_failures.is_transient``)."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def put_new(self, origin: Mapping[str, Any]) -> dict[str, Any] | None:
        """Store the origin unless its run id exists: ``None`` when stored, else the existing.

        Raises ``RunStoreUnavailable`` (transient) or the permanent botocore error as it is."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_attributes(dict(origin)),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except AWS_ERRORS as error:
            if error_code(error) == "ConditionalCheckFailedException":
                existing = self.get(str(origin["run_id"]))
                if existing is None:  # cannot happen: origins are never deleted
                    gone = "the run was stored and is gone; try again"
                    raise RunStoreUnavailable(gone) from error
                return existing
            if is_transient(error):
                raise RunStoreUnavailable("the run store is unavailable; try again") from error
            raise
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
        self,
        account: str,
        *,
        automation: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Newest first: the account's runs (``gsi1``) or, with ``automation`` (any case), only
        that automation's (``gsi2``, so the account's other runs are never read). Runs stored
        before ``gsi2`` existed carry no ``gsi2`` keys: they appear only account-wide.
        ``before``: only runs older than this index sort key (``{requested_at}#{run_id}``)."""
        if automation:
            index_pk, index = keys.automation_runs_index_pk(account, automation), keys.GSI2
        else:
            index_pk, index = keys.account_runs_index_pk(account), keys.GSI1
        origins = newest_first(
            self._client, self._table, index_pk, limit, index=index, before=before
        )
        yield from itertools.islice(origins, limit)
