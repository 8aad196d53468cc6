"""Conversations, open conversation and reply decisions in the app table (layout: ``keys``): the
``conversations.ports.ConversationStore`` of the deployed functions.

Exactly-once rules, all enforced by DynamoDB conditions:

- a conversation is created once per (message, step) (``create``: the first attempt wins, and
  its schedule is the one every later attempt reads back);
- it is resolved once: every resolution (reply, timeout, delivery failure, supersede, cancel)
  is a conditional update on ``status = waiting``;
- a reply is counted once: the conversation update and the reply's decision item are written
  in one transaction, conditional on the attempts seen and on the reply not being decided yet.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sms_automation import keys
from sms_automation.adapters.dynamo_json import from_attributes, plain, to_attributes
from sms_automation.adapters.index_reads import indexed_items
from sms_automation.conversations.model import (
    WAITING,
    Conversation,
    OpenConversation,
    RecordedReply,
    Reply,
    ReplyDecision,
)
from sms_automation.edge.timestamps import parse_timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from sms_automation.triggers.plan import AnswerPattern

_CONDITION_FAILED = "ConditionalCheckFailedException"
POINTER_GRACE_SECONDS = 3_600
"""Open-conversation items expire (TTL) this long after the deadline: the timer resolves first."""


def _conditional_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == _CONDITION_FAILED


def _item(conversation: Conversation) -> dict[str, Any]:
    item: dict[str, Any] = {
        **keys.conversation_key(conversation.message_sid, conversation.step_id),
        "kind": keys.KIND_CONVERSATION,
        keys.GSI1_PK: keys.account_conversations_index_pk(conversation.account),
        keys.GSI1_SK: f"{conversation.started_at}#{conversation.message_sid}#"
        f"{conversation.step_id}",
        "message_sid": conversation.message_sid,
        "step_id": conversation.step_id,
        "account": conversation.account,
        "contact": conversation.contact,
        "our_number": conversation.our_number,
        "trigger": conversation.trigger,
        "started_at": conversation.started_at,
        "deadline": conversation.deadline,
        "reminders": [{"at": at, "text": text} for at, text in conversation.reminders],
        "expect_words": list(conversation.expect_words),
        "expect_patterns": [
            {"regex": pattern.regex, "case_sensitive": pattern.case_sensitive}
            for pattern in conversation.expect_patterns
        ],
        "max_attempts": conversation.max_attempts,
        "also_run_triggers": conversation.also_run_triggers,
        "priority": "bulk" if conversation.bulk else "reply",
        "status": conversation.status,
        "attempts": conversation.attempts,
        "replies": [_reply_item(reply) for reply in conversation.replies],
        "outcome_json": json.dumps(dict(conversation.outcome)),
        "resolved_at": conversation.resolved_at,
        "execution_arn": conversation.execution_arn,
        "task_token": conversation.task_token,
        "timer_token": conversation.timer_token,
    }
    for name in ("prompt", "reprompt"):
        value = getattr(conversation, name)
        if value is not None:
            item[name] = value
    return item


def _reply_item(reply: Reply) -> dict[str, Any]:
    return {
        "sid": reply.sid,
        "body": reply.body,
        "received_at": reply.received_at,
        "valid": reply.valid,
    }


def conversation_from_item(raw: Mapping[str, Any]) -> Conversation:
    item = plain(dict(raw))
    return Conversation(
        message_sid=item["message_sid"],
        step_id=item["step_id"],
        account=item["account"],
        contact=item["contact"],
        our_number=item["our_number"],
        trigger=item.get("trigger", ""),
        started_at=item["started_at"],
        deadline=item["deadline"],
        reminders=tuple((r["at"], r["text"]) for r in item.get("reminders", [])),
        prompt=item.get("prompt"),
        reprompt=item.get("reprompt"),
        expect_words=tuple(item.get("expect_words", [])),
        expect_patterns=_patterns(item),
        max_attempts=int(item.get("max_attempts", 3)),
        also_run_triggers=bool(item.get("also_run_triggers", False)),
        bulk=item.get("priority") == "bulk",  # stored before priorities: a reply's
        status=item["status"],
        attempts=int(item.get("attempts", 0)),
        replies=tuple(
            Reply(r["sid"], r["body"], r["received_at"], bool(r["valid"]))
            for r in item.get("replies", [])
        ),
        outcome=json.loads(item.get("outcome_json") or "{}"),
        resolved_at=item.get("resolved_at", ""),
        execution_arn=item.get("execution_arn", ""),
        task_token=item.get("task_token", ""),
        timer_token=item.get("timer_token", ""),
        cancelled_by=item.get("cancelled_by", ""),
    )


class DynamoConversationStore:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    # --- conversations -------------------------------------------------------------------------

    def create(self, conversation: Conversation) -> Conversation:
        """Store a new conversation; when one exists for that step, return it instead."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_attributes(_item(conversation)),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise
            existing = self.get(conversation.message_sid, conversation.step_id)
            if existing is not None:
                return existing
            raise
        return conversation

    def get(self, message_sid: str, step_id: str) -> Conversation | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_attributes(keys.conversation_key(message_sid, step_id)),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return conversation_from_item(from_attributes(item)) if item else None

    def for_message(self, message_sid: str) -> list[Conversation]:
        """Every conversation a message started, in step-id order."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=to_attributes(
                {
                    ":pk": keys.message_key(message_sid)[keys.PK],
                    ":prefix": keys.CONVERSATION_SK_PREFIX,
                }
            ),
            ConsistentRead=True,
        )
        return [
            conversation_from_item(from_attributes(item))
            for page in pages
            for item in page.get("Items", [])
        ]

    def for_account(self, account: str, *, limit: int = 100) -> Iterator[Conversation]:
        """The account's conversations, newest first."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            IndexName=keys.GSI1,
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues=to_attributes(
                {":pk": keys.account_conversations_index_pk(account)}
            ),
            ScanIndexForward=False,
            PaginationConfig={"MaxItems": limit},
        )
        for item in indexed_items(self._client, self._table, pages):
            yield conversation_from_item(from_attributes(item))

    def set_execution(self, message_sid: str, step_id: str, execution_arn: str) -> None:
        self._update(message_sid, step_id, "SET execution_arn = :arn", {":arn": execution_arn})

    def set_task_token(self, message_sid: str, step_id: str, token: str) -> None:
        self._update(message_sid, step_id, "SET task_token = :token", {":token": token})

    def set_timer_token(self, message_sid: str, step_id: str, token: str) -> None:
        self._update(message_sid, step_id, "SET timer_token = :token", {":token": token})

    def resolve(
        self,
        conversation: Conversation,
        outcome: str,
        variables: Mapping[str, Any],
        now: str,
        *,
        by: str = "",
    ) -> bool:
        """Record the outcome if the conversation is still waiting; False if it was not.
        ``by``: who resolved it (a console user's cancel), kept as ``cancelled_by``."""
        values = {":outcome": outcome, ":variables": json.dumps(dict(variables)), ":now": now,
                  ":waiting": WAITING} | ({":by": by} if by else {})  # fmt: skip
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_attributes(
                    keys.conversation_key(conversation.message_sid, conversation.step_id)
                ),
                UpdateExpression=(
                    "SET #status = :outcome, outcome_json = :variables, resolved_at = :now"
                    + (", cancelled_by = :by" if by else "")
                ),
                ConditionExpression="#status = :waiting",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_attributes(values),
            )
        except ClientError as error:
            if _conditional_failed(error):
                return False
            raise
        return True

    def _update(self, message_sid: str, step_id: str, expression: str, values: Any) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=to_attributes(keys.conversation_key(message_sid, step_id)),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=to_attributes(values),
        )

    # --- replies -------------------------------------------------------------------------------

    def record_reply(self, decision: ReplyDecision, *, seen_attempts: int) -> bool:
        """Count the reply and record its decision, atomically. False when the conversation
        moved on meanwhile (another reply, a timeout) or this reply was already decided."""
        after = decision.conversation
        values: dict[str, Any] = {
            ":status": after.status,
            ":attempts": after.attempts,
            ":replies": [_reply_item(reply) for reply in after.replies],
            ":outcome": json.dumps(dict(after.outcome)),
            ":resolved": after.resolved_at,
            ":waiting": WAITING,
            ":seen": seen_attempts,
        }
        reply_item = {
            **keys.conversation_reply_key(decision.reply.sid),
            "kind": keys.KIND_CONVERSATION_REPLY,
            "message_sid": decision.reply.sid,
            "conversation_message_sid": after.message_sid,
            "conversation_step_id": after.step_id,
            "resolves": decision.resolves,
            "reprompt_step_id": decision.reprompt_step_id or "",
            "consumed": not after.also_run_triggers,
            "received_at": decision.reply.received_at,
        }
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": to_attributes(
                                keys.conversation_key(after.message_sid, after.step_id)
                            ),
                            "UpdateExpression": (
                                "SET #status = :status, attempts = :attempts, replies = :replies,"
                                " outcome_json = :outcome, resolved_at = :resolved"
                            ),
                            "ConditionExpression": "#status = :waiting AND attempts = :seen",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": to_attributes(values),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_attributes(reply_item),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                return False
            raise
        return True

    def recorded_reply(self, reply_sid: str) -> RecordedReply | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_attributes(keys.conversation_reply_key(reply_sid)),
            ConsistentRead=True,
        )
        raw = response.get("Item")
        return recorded_reply_from_item(from_attributes(raw)) if raw else None

    # --- open conversation (correlation) ------------------------------------------------------

    def claim_contact(self, conversation: Conversation) -> OpenConversation | None:
        """Make this conversation the contact's open conversation on our number; the other
        conversation it replaced, if any."""
        expires = int(parse_timestamp(conversation.deadline).timestamp()) + POINTER_GRACE_SECONDS
        item = {
            **keys.open_conversation_key(
                conversation.account, conversation.our_number, conversation.contact
            ),
            "kind": keys.KIND_OPEN_CONVERSATION,
            "account": conversation.account,
            "our_number": conversation.our_number,
            "contact": conversation.contact,
            "message_sid": conversation.message_sid,
            "step_id": conversation.step_id,
            "deadline": conversation.deadline,
            keys.EXPIRES_AT: expires,
        }
        response = self._client.put_item(
            TableName=self._table, Item=to_attributes(item), ReturnValues="ALL_OLD"
        )
        old = response.get("Attributes")
        if not old:
            return None
        replaced = _open_conversation(from_attributes(old))
        same = (replaced.message_sid, replaced.step_id) == (
            conversation.message_sid,
            conversation.step_id,
        )
        return None if same else replaced

    def find_open_conversation(
        self, account: str, our_number: str, contact: str, *, consistent: bool = True
    ) -> OpenConversation | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_attributes(keys.open_conversation_key(account, our_number, contact)),
            ConsistentRead=consistent,
        )
        item = response.get("Item")
        return _open_conversation(from_attributes(item)) if item else None

    def release_contact(self, conversation: Conversation) -> None:
        """Remove the contact's open conversation if it is still this conversation's."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=to_attributes(
                    keys.open_conversation_key(
                        conversation.account, conversation.our_number, conversation.contact
                    )
                ),
                ConditionExpression="message_sid = :sid AND step_id = :step",
                ExpressionAttributeValues=to_attributes(
                    {":sid": conversation.message_sid, ":step": conversation.step_id}
                ),
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise


def recorded_reply_from_item(raw: Mapping[str, Any]) -> RecordedReply:
    item = plain(dict(raw))
    return RecordedReply(
        message_sid=item["conversation_message_sid"],
        step_id=item["conversation_step_id"],
        resolves=bool(item["resolves"]),
        reprompt_step_id=item.get("reprompt_step_id") or None,
        consumed=bool(item.get("consumed", True)),
    )


def _open_conversation(item: Mapping[str, Any]) -> OpenConversation:
    return OpenConversation(
        account=item["account"],
        our_number=item["our_number"],
        contact=item["contact"],
        message_sid=item["message_sid"],
        step_id=item["step_id"],
    )


def _patterns(item: Mapping[str, Any]) -> tuple[AnswerPattern, ...]:
    """``expect_patterns``; an item stored before words and patterns could mix has its one
    pattern as ``expect_regex`` and ``expect_case_sensitive``."""
    if "expect_patterns" in item:
        return tuple(
            _pattern(str(p["regex"]), bool(p.get("case_sensitive", False)))
            for p in item["expect_patterns"]
        )
    if item.get("expect_regex") is not None:
        case_sensitive = bool(item.get("expect_case_sensitive", False))
        return (_pattern(str(item["expect_regex"]), case_sensitive),)
    return ()


def _pattern(regex: str, case_sensitive: bool) -> AnswerPattern:
    # Imported for a conversation that expects a pattern: the step dataclasses
    # (``triggers.plan``) are a cold start's cost that the others' reads do not pay.
    from sms_automation.triggers.plan import AnswerPattern

    return AnswerPattern(regex, case_sensitive)
