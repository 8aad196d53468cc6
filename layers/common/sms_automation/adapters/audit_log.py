"""The audit record in its own DynamoDB table (``AuditTable``): the ``console.audit.AuditStore``.

Layout: ``pk`` = ``AUDIT#{account}``, ``sk`` = ``{at}#{id}`` (an account's entries in time
order; read newest first), the entry's fields beside them, and ``expires_at`` (the table's TTL,
``audit.RETENTION_DAYS`` after the write).

Its own table, not the app table, because:

- it is append-only by IAM: the functions that audit get ``PutItem`` and ``Query`` on it and
  nothing else, so no code path (and no bug in one) can rewrite or delete an entry — on the app
  table the console needs updates (a cancel), and a grant there would cover audit items too;
- it keeps its own retention (400 days) and deletion policy, apart from the messages';
- the app table's stream (the trigger processor's source) never sees an audit write.

An action's entry written once (``put(..., once=...)``): in one transaction with a claim item
``pk`` = ``AUDITONCE#{account}``, ``sk`` = the entry's id (``audit.once_id``: from the action and
its identity), put only if absent; a claim already there cancels the transaction and the entry is
not written (False). Claims live in their own partitions, never in a page, and expire with the
entry. Two transactions on the same claim at the same moment: one writes, the other is cancelled
(a conflict is tried again, a bounded number of times, and then finds the claim).

A page resumes after a position (``{at}#{id}``) the caller gives, under the partition of the
account the caller names: no cursor can start a read in another account's record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from sms_automation.adapters.dynamo_json import from_attributes, to_attributes
from sms_automation.console.audit import AuditEntry, AuditPage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PARTITION_PREFIX: Final = "AUDIT#"
ONCE_PREFIX: Final = "AUDITONCE#"
CONFLICT_ATTEMPTS: Final = 3
TTL_ATTRIBUTE: Final = "expires_at"


def audit_partition(account: str) -> str:
    return f"{PARTITION_PREFIX}{account}"


class DynamoAuditStore:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def put(self, entry: AuditEntry, *, expires_at: int, once: str | None = None) -> bool:
        item: dict[str, Any] = {
            "pk": audit_partition(entry.account),
            "sk": entry.position,
            **entry.as_dict(),
            TTL_ATTRIBUTE: expires_at,
        }
        new = "attribute_not_exists(pk)"  # a new item, never a rewrite
        if once is None:
            self._client.put_item(
                TableName=self._table, Item=to_attributes(item), ConditionExpression=new
            )
            return True
        claim = {"pk": f"{ONCE_PREFIX}{entry.account}", "sk": entry.id, TTL_ATTRIBUTE: expires_at}
        puts: list[Any] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_attributes(i),
                    "ConditionExpression": new,
                }
            }
            for i in (claim, item)
        ]
        attempt = 1
        while True:  # each attempt returns or raises, the last one whatever the conflict
            try:
                self._client.transact_write_items(TransactItems=puts)
                return True
            except ClientError as error:
                reasons = [r.get("Code") for r in _reasons(error)]
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    return False  # audited already
                if "TransactionConflict" not in reasons or attempt == CONFLICT_ATTEMPTS:
                    raise
                attempt += 1

    def page(self, account: str, *, after: str | None, size: int) -> AuditPage:
        partition = audit_partition(account)
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ScanIndexForward": False,
            "Limit": size,
        }
        if after is not None:
            request["ExclusiveStartKey"] = {"pk": {"S": partition}, "sk": {"S": after}}
        response = self._client.query(**request)
        entries = [_entry(from_attributes(item)) for item in response.get("Items", [])]
        more = "LastEvaluatedKey" in response and entries
        return AuditPage(entries=entries, end=entries[-1].position if more else None)


def _reasons(error: ClientError) -> list[dict[str, Any]]:
    reasons = error.response.get("CancellationReasons") or []
    return [dict(r) for r in reasons]


def _entry(item: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        id=str(item.get("id", "")),
        at=str(item.get("at", "")),
        actor=str(item.get("actor", "")),
        action=str(item.get("action", "")),
        account=str(item.get("account", "")),
        target=str(item.get("target", "")),
        detail=dict(item.get("detail") or {}),
    )
