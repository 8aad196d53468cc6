"""What the replay tooling needs from AWS, as ports (``typing.Protocol``); the adapters
(``adapters.dead_letter_queue``, ``adapters.dynamo_stream``, ``adapters.replay_sources``,
``adapters.lambda_invoker``) implement them, tests pass in-memory fakes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sms_automation.dead_letters.queue import DeadLetter


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A message (or automation run) to replay."""

    message_sid: str
    account: str = ""  # "" when not known from the stream
    sequence_number: str = ""  # the original stream record's, when known


class DeadLetterQueue(Protocol):
    """The processor's dead-letter queue: entries received hidden, then released or deleted."""

    def receive_all(self, *, visibility_timeout: int, limit: int) -> Iterator[DeadLetter]:
        """Every visible entry, at most ``limit``, each hidden for ``visibility_timeout`` s."""
        ...

    def release(self, entry: DeadLetter) -> None:
        """Visible again now: the next ``dead-letters list`` or redrive sees it."""
        ...

    def delete(self, entry: DeadLetter) -> None: ...

    def release_all(self, entries: Iterable[DeadLetter]) -> None:
        """Best effort: an entry not released shows up again when its visibility timeout
        ends, so a failing release is not an error here."""
        ...


class StreamRecordsGone(Exception):
    """The stream no longer holds the records asked for (trimmed after 24 hours, or the shard
    is gone); ``code`` says how the stream answered."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class StreamPosition:
    """One record of a shard: its sequence number, and the message (or automation run) it
    inserted; ``message`` is None for what the processor's filter drops."""

    sequence_number: str
    message: MessageRef | None


class StreamRecords(Protocol):
    def read_from(
        self, stream_arn: str, shard_id: str, sequence_number: str
    ) -> Iterator[StreamPosition]:
        """The shard's records from ``sequence_number`` on, in order, until the shard ends
        (or answers nothing for a while). Raises ``StreamRecordsGone``."""
        ...


@dataclass(frozen=True, slots=True)
class StoredMessage:
    account: str
    image: Mapping[str, Any]
    """The item as stored now, in DynamoDB JSON: a stream record's ``NewImage``."""


class StoredMessages(Protocol):
    def get(self, message_sid: str) -> StoredMessage | None:
        """The message's (or automation run's) item as stored now; None when it is gone."""
        ...


class ReceivedMessages(Protocol):
    def received_between(self, account: str, since: datetime, until: datetime) -> Iterator[str]:
        """The SIDs of the account's messages received (automation runs started) from
        ``since`` to ``until``, both inclusive, oldest first."""
        ...


class EvaluationState(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def finished(self) -> bool: ...


class EvaluationStates(Protocol):
    """The messages' evaluations: how far the processor got with each."""

    def get(self, message_sid: str) -> EvaluationState | None: ...
