"""Reads through the table's global secondary indexes, which project keys only.

``gsi1`` and ``gsi2`` (template.yaml) carry each item's table and index keys and nothing else:
every inbound message is written to ``gsi1`` too, and a copy of the whole ~2 KB item there
would double its write cost (docs/cost.md) for listings that run a few times a day. So a
listing queries an index for keys, in the index's order, then reads the items themselves by
key (``BatchGetItem``, at most 100 keys a call), yielding them in that same order.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from sms_automation import keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH_GET_LIMIT: Final = 100  # DynamoDB's BatchGetItem takes at most 100 keys
_UNPROCESSED_ATTEMPTS: Final = 6
_FIRST_BACKOFF_SECONDS: Final = 0.05


def indexed_items(
    client: DynamoDBClient, table_name: str, pages: Iterable[Mapping[str, Any]]
) -> Iterator[dict[str, Any]]:
    """The table's items (AttributeValues) behind the index items of ``pages`` (Query pages of
    an index), in the index's order, read page by page as the caller goes on. An item deleted
    since the index was read (TTL, a delete) is skipped."""
    for page in pages:
        index_items = page.get("Items", [])
        for start in range(0, len(index_items), BATCH_GET_LIMIT):
            chunk = index_items[start : start + BATCH_GET_LIMIT]
            yield from items_by_key(
                client, table_name, [{keys.PK: i[keys.PK], keys.SK: i[keys.SK]} for i in chunk]
            )


def items_by_key(
    client: DynamoDBClient, table_name: str, item_keys: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The items of ``item_keys`` (at most 100, AttributeValue keys), in the keys' order, those
    that no longer exist left out. Keys DynamoDB leaves unprocessed (throttling, the 16 MB
    response limit) are asked again a few times with a growing pause; if some still are, this
    raises the ``ClientError`` DynamoDB raises when throttled, which callers treat as transient."""
    if len(item_keys) > BATCH_GET_LIMIT:
        raise ValueError(f"at most {BATCH_GET_LIMIT} keys per BatchGetItem")
    found: dict[tuple[str, str], dict[str, Any]] = {}
    wanted: list[Any] = list(item_keys)
    pause = _FIRST_BACKOFF_SECONDS
    for attempt in range(_UNPROCESSED_ATTEMPTS):
        if not wanted:
            break
        if attempt:
            time.sleep(pause)
            pause *= 2
        response: Mapping[str, Any] = client.batch_get_item(
            RequestItems={table_name: {"Keys": wanted}}
        )
        for item in response.get("Responses", {}).get(table_name, []):
            found[_identity(item)] = item
        unprocessed = response.get("UnprocessedKeys", {}).get(table_name, {})
        wanted = list(unprocessed.get("Keys", []))
    if wanted:
        raise ClientError(
            {
                "Error": {
                    "Code": "ProvisionedThroughputExceededException",
                    "Message": f"{len(wanted)} keys left unprocessed by BatchGetItem",
                }
            },
            "BatchGetItem",
        )
    return [found[key] for key in map(_identity, item_keys) if key in found]


def _identity(item: Mapping[str, Any]) -> tuple[str, str]:
    return item[keys.PK]["S"], item[keys.SK]["S"]
