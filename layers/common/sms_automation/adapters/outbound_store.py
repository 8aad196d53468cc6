"""Outbound messages and calls in DynamoDB, and the status history Twilio reports for them.

Items (``keys``): ``OUT#{Sid}`` / ``OUT`` summarises one message or call we created (who, from
which inbound message and step, its current status); ``OUT#{Sid}`` / ``STATUS#{status}`` is one
status callback, written once.

Every write is safe to repeat and to race:

- ``record_created`` (the stream processor, once Twilio accepted the message or call) sets the
  creation fields but only fills in the status when no callback has set one: Twilio's first
  callback can beat the processor's write. Crediting a Sid found by a lookup to a step
  (``exclusive``) is conditional: never over a Sid another step recorded or whose callback
  named another step, so two steps can never both hold one Sid;
- ``record_status`` moves the summary's status forward only when the new one ranks later (a
  conditional update on ``status_rank``), so out-of-order callbacks never move it back, then
  puts the status item on condition that it does not exist. The update runs for a repeated
  callback too: a retry after a failure between the two writes completes the second. The step
  a callback URL names is kept once (``callback_step``);
- both are for the summary's own account only: the update's condition names the account the
  callback came in on, and a callback of another account (signed with its own token, for a Sid
  it did not create) writes nothing at all (``RecordedStatus.other_account``).

Today's figures (``daily_figures``): a message counts as sent when ``record_created``'s update
is the one that set ``created_at`` (its old values say so), and as failed when ``_advance``
moved it from a status that was not a failure to one that is. Each is counted after, and only
after, the write that recorded the event succeeded, so a repeat or a racing twin (whose write
finds ``created_at`` set, or fails the rank condition) never counts again. What can drift: a
crash (or a failed counter write: logged, never raised, so neither a send Twilio accepted nor a
status callback fails for it) between the two leaves the event recorded and not counted, and
its retry does not count it: a figure can fall short by such failures, never exceed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sms_automation import keys
from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code, is_transient
from sms_automation.adapters.dynamo_json import from_attributes, to_attributes
from sms_automation.daily_figures import Figure, quarter_hour
from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.webhooks.receive_status import (
    OutboundKind,
    OutboundOwner,
    RecordedStatus,
    is_failure,
    status_rank,
)
from sms_automation.webhooks.rejections import StorageUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_logger = logging.getLogger(__name__)
_CONDITION_FAILED = "ConditionalCheckFailedException"
_UNAVAILABLE = "the outbound store is unavailable; try again"


@dataclass(frozen=True, slots=True)
class StatusEvent:
    status: str
    received_at: str
    error_code: str | None
    params: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class OutboundRecord:
    """A message or call and its status history (oldest first).

    The creation fields are None for a Sid only status callbacks know about."""

    sid: str
    kind: str | None
    account: str | None
    status: str | None
    status_updated_at: str | None
    error_code: str | None
    to: str | None = None
    from_: str | None = None
    origin_message_sid: str | None = None
    origin_step_id: str | None = None
    created_at: str | None = None
    history: tuple[StatusEvent, ...] = field(default=())

    @property
    def known(self) -> bool:
        return self.created_at is not None


@dataclass(frozen=True, slots=True)
class _StatusChange:
    sid: str
    status: str
    kind: OutboundKind
    account: str
    error_code: str | None
    received_at: str
    params: Mapping[str, str]


class DynamoOutboundStore:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def record_created(
        self,
        sid: str,
        *,
        account: str,
        kind: OutboundKind,
        to: str,
        from_: str,
        origin_message_sid: str,
        origin_step_id: str,
        status: str,
        created_at: datetime,
        step_key: str | None = None,
        exclusive: bool = False,
    ) -> bool:
        """Record a message or call Twilio accepted (``status``: the one Twilio answered).

        ``exclusive`` (a Sid found by a lookup, credited to the step with ``step_key``): only if
        no other step recorded the Sid and no callback named another step; False when one did.
        """
        created = utc_timestamp(created_at)
        values: dict[str, Any] = {
            ":kind": keys.KIND_OUTBOUND,
            ":outbound_kind": kind,
            ":sid": sid,
            ":account": account,
            ":to": to,
            ":from": from_,
            ":origin": origin_message_sid,
            ":step": origin_step_id,
            ":created": created,
            ":status": status,
            ":rank": status_rank(kind, status),
        }
        condition: dict[str, Any] = {}
        if exclusive:
            values[":step_key"] = step_key or ""
            condition["ConditionExpression"] = (
                "(attribute_not_exists(origin_message_sid) OR "
                "(origin_message_sid = :origin AND origin_step_id = :step)) AND "
                "(attribute_not_exists(callback_step) OR callback_step = :step_key)"
            )
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=to_attributes(keys.outbound_key(sid)),
                UpdateExpression=(
                    "SET #kind = :kind, outbound_kind = :outbound_kind, sid = :sid, "
                    "account = :account, to_number = :to, from_number = :from, "
                    "origin_message_sid = :origin, origin_step_id = :step, "
                    "created_at = if_not_exists(created_at, :created), "
                    "#status = if_not_exists(#status, :status), "
                    "status_rank = if_not_exists(status_rank, :rank), "
                    "status_updated_at = if_not_exists(status_updated_at, :created)"
                ),
                ExpressionAttributeNames={"#kind": "kind", "#status": "status"},
                ExpressionAttributeValues=to_attributes(values),
                ReturnValues="ALL_OLD",
                **condition,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != _CONDITION_FAILED:
                raise
            return False
        if kind == "sms" and "created_at" not in response.get("Attributes", {}):
            self._count(account, "sent", created_at)  # this write created it: once per Sid
        return True

    def owner(self, sid: str) -> OutboundOwner | None:
        """Which step ``sid`` belongs to as far as we know, or None when we have no item."""
        response = self._client.get_item(
            TableName=self._table,
            Key=to_attributes(keys.outbound_key(sid)),
            ConsistentRead=True,
            ProjectionExpression="origin_message_sid, origin_step_id, callback_step",
        )
        item = response.get("Item")
        if not item:
            return None
        found = from_attributes(dict(item))
        return OutboundOwner(
            found.get("origin_message_sid") or None,
            found.get("origin_step_id") or None,
            found.get("callback_step") or None,
        )

    def record_status(
        self,
        sid: str,
        status: str,
        *,
        kind: OutboundKind,
        account: str,
        error_code: str | None,
        received_at: datetime,
        params: Mapping[str, str],
        step_key: str | None = None,
    ) -> RecordedStatus:
        """Raises ``StorageUnavailable`` when DynamoDB could not make a write durable."""
        change = _StatusChange(
            sid, status, kind, account, error_code, utc_timestamp(received_at), params
        )
        try:
            current, old = self._advance(change)
            if old.get("account", account) != account:
                return RecordedStatus(new=False, known_sid=False, current=False, other_account=True)
            if current and _first_failure(kind, status, old.get("status")):
                self._count(account, "failed", received_at)
            if step_key and old.get("callback_step") is None:
                self._name_step(sid, step_key, account)
            new = self._put_status(change)
        except AWS_ERRORS as error:
            if is_transient(error):  # Twilio's retry of the callback may record it
                raise StorageUnavailable(_UNAVAILABLE) from error
            raise  # denied, no table, invalid: a 500 whose line names the error, not "try again"
        return RecordedStatus(new=new, known_sid="created_at" in old, current=current)

    def get(self, sid: str) -> OutboundRecord | None:
        """The summary and every status recorded for ``sid``, or None when there is nothing."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": keys.PK},
            ExpressionAttributeValues={":pk": {"S": keys.outbound_key(sid)[keys.PK]}},
            ConsistentRead=True,
        )
        items = [from_attributes(dict(item)) for page in pages for item in page.get("Items", [])]
        if not items:
            return None
        summary = next((item for item in items if item.get("kind") == keys.KIND_OUTBOUND), {})
        history = sorted(
            (
                StatusEvent(
                    status=item["status"],
                    received_at=item["received_at"],
                    error_code=item.get("error_code"),
                    params=item.get("params", {}),
                )
                for item in items
                if item.get("kind") == keys.KIND_OUTBOUND_STATUS
            ),
            key=lambda event: (event.received_at, event.status),
        )
        return OutboundRecord(
            sid=sid,
            kind=summary.get("outbound_kind"),
            account=summary.get("account"),
            status=summary.get("status"),
            status_updated_at=summary.get("status_updated_at"),
            error_code=summary.get("error_code"),
            to=summary.get("to_number"),
            from_=summary.get("from_number"),
            origin_message_sid=summary.get("origin_message_sid"),
            origin_step_id=summary.get("origin_step_id"),
            created_at=summary.get("created_at"),
            history=tuple(history),
        )

    def _count(self, account: str, figure: Figure, moment: datetime) -> None:
        """One more ``figure`` in ``moment``'s quarter hour (an atomic ADD: racing counts add).
        A count that fails is logged (its figure and error code only) and left short: the send
        or callback it follows is recorded and must not fail for it."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_attributes(keys.figures_key(account, quarter_hour(moment))),
                UpdateExpression="ADD #figure :one SET #kind = :kind, account = :account",
                ExpressionAttributeNames={"#figure": figure, "#kind": "kind"},
                ExpressionAttributeValues=to_attributes(
                    {":one": 1, ":kind": keys.KIND_DAY_FIGURES, ":account": account}
                ),
            )
        except AWS_ERRORS as error:
            _logger.warning("today's %s figure not counted: %s", figure, error_code(error))

    def _name_step(self, sid: str, step_key: str, account: str) -> None:
        """Keep the step the callback URL named (the first one: Twilio signs one URL per Sid),
        on the summary of the callback's own account only."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_attributes(keys.outbound_key(sid)),
                UpdateExpression="SET callback_step = if_not_exists(callback_step, :step_key)",
                ConditionExpression="account = :account",
                ExpressionAttributeValues=to_attributes(
                    {":step_key": step_key, ":account": account}
                ),
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != _CONDITION_FAILED:
                raise

    def _put_status(self, change: _StatusChange) -> bool:
        item: dict[str, Any] = {
            **keys.outbound_status_key(change.sid, change.status),
            "kind": keys.KIND_OUTBOUND_STATUS,
            "outbound_kind": change.kind,
            "sid": change.sid,
            "status": change.status,
            "account": change.account,
            "received_at": change.received_at,
            "params": dict(change.params),
        }
        if change.error_code is not None:
            item["error_code"] = change.error_code
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_attributes(item),
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": keys.PK},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == _CONDITION_FAILED:
                return False
            raise
        return True

    def _advance(self, change: _StatusChange) -> tuple[bool, dict[str, Any]]:
        """Move the summary to the new status if it ranks later and is the callback's account's
        (or nobody's yet); (moved, the summary before)."""
        values: dict[str, Any] = {
            ":kind": keys.KIND_OUTBOUND,
            ":outbound_kind": change.kind,
            ":sid": change.sid,
            ":account": change.account,
            ":status": change.status,
            ":rank": status_rank(change.kind, change.status),
            ":at": change.received_at,
        }
        update = (
            "SET #kind = if_not_exists(#kind, :kind), "
            "outbound_kind = if_not_exists(outbound_kind, :outbound_kind), "
            "sid = if_not_exists(sid, :sid), account = if_not_exists(account, :account), "
            "#status = :status, status_rank = :rank, status_updated_at = :at"
        )
        if change.error_code is None:
            update += " REMOVE error_code"
        else:
            update += ", error_code = :error_code"
            values[":error_code"] = change.error_code
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=to_attributes(keys.outbound_key(change.sid)),
                UpdateExpression=update,
                ConditionExpression=(
                    "(attribute_not_exists(account) OR account = :account) AND "
                    "(attribute_not_exists(status_rank) OR status_rank < :rank)"
                ),
                ExpressionAttributeNames={"#kind": "kind", "#status": "status"},
                ExpressionAttributeValues=to_attributes(values),
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != _CONDITION_FAILED:
                raise
            old: Any = error.response.get("Item") or {}  # ranked higher, or another account's
            return False, from_attributes(dict(old)) if old else {}
        old_attributes = response.get("Attributes") or {}
        return True, from_attributes(dict(old_attributes)) if old_attributes else {}


def _first_failure(kind: OutboundKind, status: str, before: str | None) -> bool:
    """A message's move to a failure from a status that was not one (undelivered after failed,
    or a repeat, counts nothing)."""
    return kind == "sms" and is_failure(kind, status) and not is_failure(kind, before or "")
