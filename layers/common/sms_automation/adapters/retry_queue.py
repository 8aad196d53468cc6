"""The processor's retry queue on SQS (``processing.ports.RetryQueue``): SendMessage only."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsRetryQueue:
    def __init__(self, queue_url: str, client: SQSClient) -> None:
        self._url = queue_url
        self._client = client

    def send(self, body: str, delay_seconds: int) -> None:
        self._client.send_message(QueueUrl=self._url, MessageBody=body, DelaySeconds=delay_seconds)
