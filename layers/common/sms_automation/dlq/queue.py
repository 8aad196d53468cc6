"""The DLQ in SQS: receive every entry (hidden while we work on it), release or delete it.

Receiving hides a message for the visibility timeout; :meth:`DlqQueue.release` makes it visible
again at once, so listing or a dry run leaves the queue as it found it (only SQS's receive count
moves). An entry is deleted only by :meth:`DlqQueue.delete`, after a successful replay.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sms_automation.dlq.batch import FailedBatch, MalformedEntry, parse_failed_batch

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_MAX_PER_RECEIVE = 10  # SQS's limit per ReceiveMessage
# Long polling asks every SQS server, so one empty answer means the queue has nothing visible.
_WAIT_SECONDS = 1


@dataclass(frozen=True, slots=True)
class DlqEntry:
    message_id: str
    receipt_handle: str
    batch: FailedBatch | None  # None: malformed, see ``problem``
    problem: str = ""


class DlqQueue:
    def __init__(self, queue_url: str, client: SQSClient) -> None:
        self._url = queue_url
        self._client = client

    def receive_all(self, *, visibility_timeout: int, limit: int) -> Iterator[DlqEntry]:
        """Every visible entry, at most ``limit``, each hidden for ``visibility_timeout`` s."""
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
                yield _entry(
                    message["MessageId"], message["ReceiptHandle"], message.get("Body", "")
                )

    def release(self, entry: DlqEntry) -> None:
        """Visible again now: the next ``dlq list`` or redrive sees it."""
        self._client.change_message_visibility(
            QueueUrl=self._url, ReceiptHandle=entry.receipt_handle, VisibilityTimeout=0
        )

    def delete(self, entry: DlqEntry) -> None:
        self._client.delete_message(QueueUrl=self._url, ReceiptHandle=entry.receipt_handle)


def _entry(message_id: str, receipt_handle: str, body: str) -> DlqEntry:
    try:
        batch = parse_failed_batch(body)
    except MalformedEntry as error:
        return DlqEntry(message_id, receipt_handle, None, str(error))
    return DlqEntry(message_id, receipt_handle, batch)
