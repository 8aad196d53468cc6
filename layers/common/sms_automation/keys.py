"""The single DynamoDB table's key layout: one place, so no module invents its own.

Items (``pk`` / ``sk``; ``gsi1pk`` / ``gsi1sk`` on the ``gsi1`` index):

- account: ``ACCOUNT#{name}`` / ``ACCOUNT``; gsi1: ``ACCOUNTS`` / ``{name}``
- inbound message: ``MSG#{MessageSid}`` / ``MSG``;
  gsi1: ``ACCOUNT#{name}#MESSAGES`` / ``{received_at}#{MessageSid}``

Every item carries ``kind`` (``account``, ``inbound_message``, ...) so stream filters and readers
never have to parse keys.
"""

from typing import Final

PK: Final = "pk"
SK: Final = "sk"
GSI1: Final = "gsi1"
GSI1_PK: Final = "gsi1pk"
GSI1_SK: Final = "gsi1sk"
EXPIRES_AT: Final = "expires_at"  # the table's TTL attribute (epoch seconds)

KIND_ACCOUNT: Final = "account"
KIND_INBOUND_MESSAGE: Final = "inbound_message"

ACCOUNTS_INDEX_PK: Final = "ACCOUNTS"


def account_key(name: str) -> dict[str, str]:
    return {PK: f"ACCOUNT#{name}", SK: "ACCOUNT"}


def message_key(message_sid: str) -> dict[str, str]:
    return {PK: f"MSG#{message_sid}", SK: "MSG"}


def account_messages_index_pk(account_name: str) -> str:
    return f"ACCOUNT#{account_name}#MESSAGES"
