"""Trigger sets per account in DynamoDB: every pushed version kept, one pointer to the current one.

Items (``keys``): ``ACCOUNT#{name}`` / ``TRIGGERS#V{n:08d}`` holds version ``n`` (the YAML text
verbatim, its fingerprint, trigger names, when it was pushed) and never changes once written;
``ACCOUNT#{name}`` / ``TRIGGERS#CURRENT`` names the current version.

A push (or a rollback, which re-pushes an old version's text as a new version) is one
``TransactWriteItems``: the new version item, on condition that it does not exist, and the
pointer, on condition that it still names the version read before the write. Two concurrent
pushes therefore never both win: the loser gets ``ConcurrentTriggerChange`` and nothing of it
is stored. The pointer always names the highest version, so the next number is current + 1.

Plain boto3, standard library and ``keys`` only: the stream processor imports this on its hot
path (``current``/``version`` and then ``triggers.parse_trigger_text(stored.source)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from sms_automation import keys
from sms_automation.adapters.dynamo_json import key_attributes
from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.triggers.versions import (
    MAX_SOURCE_BYTES,
    ConcurrentTriggerChange,
    TriggerSourceTooLarge,
    TriggerVersionNotFound,
)

__all__ = [
    "MAX_SOURCE_BYTES",
    "ConcurrentTriggerChange",
    "DynamoTriggerStore",
    "KeptTriggerVersions",
    "StoredTriggerSet",
    "TriggerSourceTooLarge",
    "TriggerVersionInfo",
    "TriggerVersionNotFound",
]

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

_CONCURRENCY_REASONS: Final = frozenset({"ConditionalCheckFailed", "TransactionConflict"})


@dataclass(frozen=True, slots=True)
class TriggerVersionInfo:
    """One stored version without its text (what a listing shows)."""

    account: str
    version: int
    fingerprint: str
    trigger_names: tuple[str, ...]
    pushed_at: str  # ISO-8601 UTC
    source_bytes: int
    restored_from: int | None = None  # set when a rollback made this version
    pushed_by: str | None = None  # who (a console user's e-mail); None: the CLI, or not known


@dataclass(frozen=True, slots=True)
class StoredTriggerSet:
    """One stored version with its YAML text exactly as pushed."""

    info: TriggerVersionInfo
    source: str

    @property
    def version(self) -> int:
        return self.info.version

    @property
    def fingerprint(self) -> str:
        return self.info.fingerprint

    @property
    def pushed_at(self) -> str:
        return self.info.pushed_at


# --- item mapping (pure) ----------------------------------------------------------------------


def source_size(source: str) -> int:
    return len(source.encode("utf-8"))


def check_source_size(source: str) -> None:
    size = source_size(source)
    if size > MAX_SOURCE_BYTES:
        raise TriggerSourceTooLarge(size)


def version_to_item(stored: StoredTriggerSet) -> dict[str, AttributeValueTypeDef]:
    info = stored.info
    item: dict[str, AttributeValueTypeDef] = {
        **key_attributes(keys.trigger_version_key(info.account, info.version)),
        "kind": {"S": keys.KIND_TRIGGER_SET},
        "account": {"S": info.account},
        "version": {"N": str(info.version)},
        "fingerprint": {"S": info.fingerprint},
        "trigger_names": {"L": [{"S": name} for name in info.trigger_names]},
        "pushed_at": {"S": info.pushed_at},
        "source_bytes": {"N": str(info.source_bytes)},
        "source": {"S": stored.source},
    }
    if info.restored_from is not None:
        item["restored_from"] = {"N": str(info.restored_from)}
    if info.pushed_by is not None:
        item["pushed_by"] = {"S": info.pushed_by}
    return item


def info_from_item(item: Mapping[str, AttributeValueTypeDef]) -> TriggerVersionInfo:
    restored = item.get("restored_from")
    pushed_by = item.get("pushed_by")
    return TriggerVersionInfo(
        account=item["account"]["S"],
        version=int(item["version"]["N"]),
        fingerprint=item["fingerprint"]["S"],
        trigger_names=tuple(name["S"] for name in item.get("trigger_names", {}).get("L", [])),
        pushed_at=item["pushed_at"]["S"],
        source_bytes=int(item["source_bytes"]["N"]),
        restored_from=int(restored["N"]) if restored else None,
        pushed_by=pushed_by["S"] if pushed_by else None,
    )


def version_from_item(item: Mapping[str, AttributeValueTypeDef]) -> StoredTriggerSet:
    return StoredTriggerSet(info=info_from_item(item), source=item["source"]["S"])


def pointer_to_item(info: TriggerVersionInfo) -> dict[str, AttributeValueTypeDef]:
    return {
        **key_attributes(keys.trigger_pointer_key(info.account)),
        "kind": {"S": keys.KIND_TRIGGER_POINTER},
        "account": {"S": info.account},
        "version": {"N": str(info.version)},
        "fingerprint": {"S": info.fingerprint},
        "updated_at": {"S": info.pushed_at},
    }


# --- the store --------------------------------------------------------------------------------


class DynamoTriggerStore:
    """Versioned trigger sets in the single table. Reads are strongly consistent: a push is
    visible to the next read, and the processor never runs a version older than the pointer."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def push(
        self,
        account: str,
        source_text: str,
        fingerprint: str,
        pushed_at: datetime,
        *,
        trigger_names: Sequence[str] = (),
        expected_version: int | None = None,
        pushed_by: str | None = None,
    ) -> int:
        """Store ``source_text`` as the account's new current version and return its number.

        Validate the text first (``triggers.parse_trigger_text``): the store keeps what it is
        given. ``expected_version``: the version the text was edited from (0: none yet); when
        another is current, nothing is stored. Raises ``TriggerSourceTooLarge`` and
        ``ConcurrentTriggerChange``.
        """
        return self._append(
            account,
            source=source_text,
            fingerprint=fingerprint,
            pushed_at=pushed_at,
            trigger_names=trigger_names,
            restored_from=None,
            expected_version=expected_version,
            pushed_by=pushed_by,
        )

    def rollback(
        self,
        account: str,
        version: int,
        pushed_at: datetime,
        *,
        expected_version: int | None = None,
        pushed_by: str | None = None,
    ) -> int:
        """Make version ``version``'s text current again, as a new version; returns its number.

        Raises ``TriggerVersionNotFound`` and ``ConcurrentTriggerChange`` (as ``push``).
        """
        old = self.version(account, version)
        if old is None:
            raise TriggerVersionNotFound(account, version)
        return self._append(
            account,
            source=old.source,
            fingerprint=old.fingerprint,
            pushed_at=pushed_at,
            trigger_names=old.info.trigger_names,
            restored_from=version,
            expected_version=expected_version,
            pushed_by=pushed_by,
        )

    def current_version(self, account: str, *, consistent: bool = True) -> int | None:
        """The pointer's version. ``consistent=False``: an eventually consistent read (half
        the read unit), which may not show a push made an instant ago."""
        response = self._client.get_item(
            TableName=self._table,
            Key=key_attributes(keys.trigger_pointer_key(account)),
            ConsistentRead=consistent,
            ProjectionExpression="#version",
            ExpressionAttributeNames={"#version": "version"},
        )
        item = response.get("Item")
        return int(item["version"]["N"]) if item else None

    def current(self, account: str) -> StoredTriggerSet | None:
        """The current version with its text, or None when nothing was ever pushed."""
        number = self.current_version(account)
        return None if number is None else self.version(account, number)

    def version(self, account: str, version: int) -> StoredTriggerSet | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=key_attributes(keys.trigger_version_key(account, version)),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return version_from_item(item) if item else None

    def list_versions(self, account: str) -> list[TriggerVersionInfo]:
        """Every stored version, newest first, without the texts."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
            ExpressionAttributeNames={
                "#pk": keys.PK,
                "#sk": keys.SK,
                "#account": "account",
                "#version": "version",
            },
            ExpressionAttributeValues={
                ":pk": {"S": keys.trigger_pointer_key(account)[keys.PK]},
                ":prefix": {"S": keys.TRIGGER_VERSION_SK_PREFIX},
            },
            ProjectionExpression=(
                "#account, #version, fingerprint, trigger_names, pushed_at, source_bytes, "
                "restored_from, pushed_by"
            ),
            ScanIndexForward=False,
            ConsistentRead=True,
        )
        return [info_from_item(item) for page in pages for item in page.get("Items", [])]

    def _append(
        self,
        account: str,
        *,
        source: str,
        fingerprint: str,
        pushed_at: datetime,
        trigger_names: Sequence[str],
        restored_from: int | None,
        expected_version: int | None,
        pushed_by: str | None,
    ) -> int:
        check_source_size(source)
        expected = self.current_version(account)
        if expected_version is not None and (expected or 0) != expected_version:
            raise ConcurrentTriggerChange(account, expected_version)
        number = (expected or 0) + 1
        stored = StoredTriggerSet(
            info=TriggerVersionInfo(
                account=account,
                version=number,
                fingerprint=fingerprint,
                trigger_names=tuple(trigger_names),
                pushed_at=utc_timestamp(pushed_at),
                source_bytes=source_size(source),
                restored_from=restored_from,
                pushed_by=pushed_by,
            ),
            source=source,
        )
        try:
            self._client.transact_write_items(
                TransactItems=[
                    self._put_version(stored),
                    self._put_pointer(stored.info, expected),
                ]
            )
        except ClientError as error:
            if _lost_the_race(error):
                raise ConcurrentTriggerChange(account, expected or 0) from None
            raise
        return number

    def _put_version(self, stored: StoredTriggerSet) -> TransactWriteItemTypeDef:
        return {
            "Put": {
                "TableName": self._table,
                "Item": version_to_item(stored),
                "ConditionExpression": "attribute_not_exists(#pk)",
                "ExpressionAttributeNames": {"#pk": keys.PK},
            }
        }

    def _put_pointer(
        self, info: TriggerVersionInfo, expected: int | None
    ) -> TransactWriteItemTypeDef:
        if expected is None:
            return {
                "Put": {
                    "TableName": self._table,
                    "Item": pointer_to_item(info),
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": keys.PK},
                }
            }
        return {
            "Put": {
                "TableName": self._table,
                "Item": pointer_to_item(info),
                "ConditionExpression": "#version = :expected",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":expected": {"N": str(expected)}},
            }
        }


def _lost_the_race(error: ClientError) -> bool:
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons") or []
    codes = {reason.get("Code") for reason in reasons}
    # Without reasons (some emulators) a cancelled transaction of two conditional puts can only
    # have failed on a condition.
    return not reasons or bool(codes & _CONCURRENCY_REASONS)


VERSIONS_KEPT: Final = 64
"""Trigger versions a warm processor keeps read (each at most ``MAX_SOURCE_BYTES``)."""


class KeptTriggerVersions:
    """The processor's trigger source: the pointer is read for every message, eventually
    consistent (half a read unit: docs/cost.md), the version it names only once per warm
    instance. A version item never changes once written, so the kept copy is the stored one;
    without it every message read its version twice (``current``, then the evaluation's
    ``version``): at least 2 read units (4 KB each) per message.

    Why the pointer may be read eventually consistent: a push (or rollback) applies to the
    messages read after it, and which messages those are was never exact (a message is stored,
    then reaches the processor through the stream a moment later); the lag of an eventually
    consistent read (DynamoDB: "a short time") moves that line by about as much. Whatever
    version is read is pinned by the evaluation's first write and every attempt then uses it,
    so it is one version per message either way. The version itself is read strongly
    consistent: the pointer names a version only once the push's transaction wrote both, and
    a version read too early would be taken for missing."""

    def __init__(self, store: DynamoTriggerStore, kept: int = VERSIONS_KEPT) -> None:
        self._store = store
        self._kept = kept
        self._versions: dict[tuple[str, int], StoredTriggerSet] = {}

    def current(self, account: str) -> StoredTriggerSet | None:
        number = self._store.current_version(account, consistent=False)
        return None if number is None else self.version(account, number)

    def version(self, account: str, version: int) -> StoredTriggerSet | None:
        key = (account, version)
        found = self._versions.get(key)
        if found is not None:
            return found
        found = self._store.version(account, version)
        if found is not None:  # a missing version is asked again next time
            if len(self._versions) >= self._kept:
                del self._versions[next(iter(self._versions))]
            self._versions[key] = found
        return found
