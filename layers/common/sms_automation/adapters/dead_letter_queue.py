"""``dead_letters.ports.DeadLetterQueue`` in SQS: receive every entry (hidden while the tooling
works on it), release or delete it. Releasing makes an entry visible again at once, so listing
or a dry run leaves the queue as it found it (only SQS's receive count moves). ``in_flight``
counts the entries someone holds hidden (the console's listing: complete only when none)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import suppress
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from sms_automation.dead_letters.queue import DeadLetter, dead_letter

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_MAX_PER_RECEIVE = 10  # SQS's limit per ReceiveMessage
# Long polling asks every SQS server, so one empty answer means the queue has nothing visible.
_WAIT_SECONDS = 1


class SqsDeadLetterQueue:
    def __init__(self, queue_url: str, client: SQSClient) -> None:
        self._url = queue_url
        self._client = client

    def receive_all(self, *, visibility_timeout: int, limit: int) -> Iterator[DeadLetter]:
        seen: set[str] = set()
        while len(seen) < limit:
            response = self._client.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=min(_MAX_PER_RECEIVE, limit - len(seen)),
                VisibilityTimeout=visibility_timeout,
                WaitTimeSeconds=_WAIT_SECONDS,
            )
            fresh = [m for m in response.get("Messages", []) if m["MessageId"] not in seen]
            if not fresh:  # nothing visible, or only what we hold already (a short timeout)
                return
            for message in fresh:
                seen.add(message["MessageId"])
                yield dead_letter(
                    message["MessageId"], message["ReceiptHandle"], message.get("Body", "")
                )

    def in_flight(self) -> int:
        """How many entries are hidden now (received by someone, not yet released or deleted):
        SQS's approximate count."""
        attributes = self._client.get_queue_attributes(
            QueueUrl=self._url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessagesNotVisible", "0"))

    def release(self, entry: DeadLetter) -> None:
        self._client.change_message_visibility(
            QueueUrl=self._url, ReceiptHandle=entry.receipt_handle, VisibilityTimeout=0
        )

    def delete(self, entry: DeadLetter) -> None:
        self._client.delete_message(QueueUrl=self._url, ReceiptHandle=entry.receipt_handle)

    def release_all(self, entries: Iterable[DeadLetter]) -> None:
        for entry in entries:
            with suppress(ClientError, BotoCoreError):
                self.release(entry)
