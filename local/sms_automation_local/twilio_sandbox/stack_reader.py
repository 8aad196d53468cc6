"""What the phone simulator shows from the stack: the stored inbound messages of a contact,
each one's action log, and the conversations waiting for the contact's reply. Read with boto3
from the emulator's DynamoDB (the runner passes its endpoint and the table name). And the
e-mails the stack sent (``send_email``), from the emulator's SES store
(``GET /_ministack/ses/messages``): read bounded in time and size, newest first."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.request import urlopen

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from sms_automation.adapters.conversation_store import DynamoConversationStore
from sms_automation.adapters.message_store import DynamoMessageStore
from sms_automation.composition.action_log import action_log

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_CONFIG: Final = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2})
_SHOWN_FIELDS: Final = ("message_sid", "received_at", "from_number", "to_number", "body", "media")
READ_ERRORS: Final = (BotoCoreError, ClientError, OSError, ValueError)
"""A read that failed: AWS's errors, the SES store's (no answer: an ``OSError``; not JSON)."""
SES_STORE: Final = "/_ministack/ses/messages"
MAX_SES_STORE_BYTES: Final = 4_000_000
MAX_EMAIL_TEXT: Final = 4_000


@dataclass(frozen=True, slots=True)
class StackTable:
    """Where the stack keeps its items: the emulator's endpoint, region and the table name."""

    endpoint_url: str
    region: str
    table_name: str

    def client(self) -> DynamoDBClient:
        client: DynamoDBClient = boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106 (the emulator's dummy credentials)
            config=_CONFIG,
        )
        return client


class StackReader:
    def __init__(self, table: StackTable, *, limit: int = 20) -> None:
        self._table = table
        self._client = table.client()
        self._limit = limit

    def stored_messages(self, account: str, contact: str) -> list[dict[str, Any]]:
        """The newest inbound messages from ``contact``, each with its action log."""
        store = DynamoMessageStore(self._table.table_name, self._client)
        found = []
        for item in store.list_for_account(account, limit=100):
            if item.get("from_number") != contact:
                continue
            shown = {name: item.get(name) for name in _SHOWN_FIELDS}
            shown["action_log"] = action_log(
                self._table.table_name, self._client, str(item["message_sid"])
            )
            found.append(shown)
            if len(found) >= self._limit:
                break
        return found

    def conversations(self, account: str, contact: str) -> list[dict[str, Any]]:
        """The conversations with ``contact`` (pending ones first), newest first."""
        store = DynamoConversationStore(self._table.table_name, self._client)
        conversations = [c for c in store.for_account(account, limit=50) if c.contact == contact]
        shown = [
            {
                "message_sid": c.message_sid,
                "step_id": c.step_id,
                "trigger": c.trigger,
                "status": c.status,
                "prompt": c.prompt,
                "deadline": c.deadline,
                "attempts": c.attempts,
                "outcome": dict(c.outcome),
                "replies": [asdict(reply) for reply in c.replies],
            }
            for c in conversations[: self._limit]
        ]
        return sorted(shown, key=lambda c: c["status"] != "waiting")

    def emails(self) -> list[dict[str, Any]]:
        """The newest e-mails the stack sent, every account's (the page shows them all)."""
        url = f"{self._table.endpoint_url}{SES_STORE}"
        with urlopen(url, timeout=5) as answer:  # noqa: S310 (the emulator's own http URL)
            raw = answer.read(MAX_SES_STORE_BYTES + 1)
        if len(raw) > MAX_SES_STORE_BYTES:
            raise ValueError("the emulator's SES store is too large to show")
        stored = json.loads(raw).get("messages") or {}
        sent = [mail for mails in stored.values() for mail in mails if isinstance(mail, dict)]
        sent.sort(key=lambda mail: str(mail.get("Timestamp", "")), reverse=True)
        return [_shown_email(mail) for mail in sent[: self._limit]]


def _shown_email(mail: dict[str, Any]) -> dict[str, Any]:
    return {
        "message_id": str(mail.get("MessageId", "")),
        "from": str(mail.get("Source", "")),
        "to": [str(address) for address in mail.get("To") or []],
        "subject": str(mail.get("Subject", "")),
        "text": str(mail.get("BodyText") or "")[:MAX_EMAIL_TEXT],
        "html": str(mail.get("BodyHtml") or "")[:MAX_EMAIL_TEXT],
        "sent_at": str(mail.get("Timestamp", "")),
    }
