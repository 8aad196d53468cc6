"""A record that cannot be settled now (``RetryLater``) retried later, through an SQS queue.

The stream retries a failed record within seconds, with no backoff, at most
``StreamMaximumRetryAttempts`` times: a step whose claim is held (``ClaimHeld``, minutes) or
whose outcome is unknown (``OutcomeStillUnknown``, up to an hour) would spend them long before
it could get further, and the message's remaining actions would wait in the DLQ for a person.
Instead the processor sends a **deferral** to its retry queue (``TriggerProcessorRetryQueue``),
delayed until the ``retry_at`` the error gives (the lease's end, the next look; SQS delays
900 s at most), and counts the record processed. The queue delivers it back to the processor,
which replays the message from its table item (``ports.StoredRecords``), as a DLQ redrive
does: the ledger performs no step twice, so a replay only does what is left.

A replay still held is deferred again, at most ``MAX_DEFERRALS`` times and for
``MAX_DEFERRED_FOR`` (past ``port.GIVE_UP``, when an unknown outcome is settled for good):
beyond that, or whenever the replay fails for any other reason, its queue message is reported
failed and SQS retries it, then moves it to the retry queue's DLQ (alarmed). A deferral that
cannot be sent leaves the record failed: the stream (or SQS) retries it, nothing is lost.

A record that **waits** (``Waiting``: its send's sender is at its rate, or the account's quiet
hours hold it) is not stuck: it is deferred until its time, and again every 15 minutes when
that is further away (a night of quiet hours is about 50 deferrals of one ~300-byte message,
cheaper and simpler than a schedule per send: docs/decisions/0002-pacing.md). A wait does not
count towards ``MAX_DEFERRALS`` and restarts ``MAX_DEFERRED_FOR``: those bound attempts that
cannot get further, and a waiting record is on time.

A deferral names the message only: SID, account, the stream record it came from (ARN and
sequence number) and its count. No text, no phone number.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from sms_automation.processing.retry_later import RetryLater, Waiting

if TYPE_CHECKING:
    from sms_automation.processing.ports import RetryQueue, StoredRecords

MAX_DELAY_SECONDS: Final = 900  # SQS's longest DelaySeconds
UNKNOWN_DELAY_SECONDS: Final = 60  # a RetryLater that does not say when
MAX_DEFERRALS: Final = 20
MAX_DEFERRED_FOR: Final = timedelta(hours=2)
_MAX_BODY = 2048  # a deferral is ~300 bytes; anything larger is not ours


class MalformedDeferral(ValueError):
    """A retry queue message that is not a deferral."""


@dataclass(frozen=True, slots=True)
class Deferral:
    message_sid: str
    account: str
    stream_arn: str  # the stream record's source (a replay's record names it again)
    sequence_number: str  # the stream record's
    deferrals: int  # how many times the record has been deferred, this one included
    first_deferred_at: str  # ISO 8601, UTC

    def body(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_body(cls, body: str) -> Deferral:
        if len(body) > _MAX_BODY:
            raise MalformedDeferral("longer than a deferral")
        try:
            document = json.loads(body)
        except ValueError as error:
            raise MalformedDeferral(f"not JSON ({error.__class__.__name__})") from error
        if not isinstance(document, dict) or set(document) != set(cls.__slots__):
            raise MalformedDeferral("not a deferral's fields")
        count = document["deferrals"]
        texts = [document[name] for name in cls.__slots__ if name != "deferrals"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise MalformedDeferral("deferrals is not a positive whole number")
        if not all(isinstance(text, str) for text in texts) or not document["message_sid"]:
            raise MalformedDeferral("a field is not a string, or no message SID")
        deferral = cls(**document)
        deferral.first_deferred()  # a time, or MalformedDeferral
        return deferral

    def first_deferred(self) -> datetime:
        try:
            return datetime.fromisoformat(self.first_deferred_at)
        except ValueError as error:
            raise MalformedDeferral("first_deferred_at is not an ISO 8601 time") from error

    def exhausted(self, now: datetime) -> bool:
        """Deferred as often, or as long, as a record may be."""
        return self.deferrals >= MAX_DEFERRALS or now - self.first_deferred() >= MAX_DEFERRED_FOR


def delay_seconds(later: RetryLater, now: datetime) -> int:
    """Until ``later.retry_at``, within what SQS can delay (at least a second)."""
    if later.retry_at is None:
        return UNKNOWN_DELAY_SECONDS
    seconds = math.ceil((later.retry_at - now).total_seconds())
    return max(1, min(MAX_DELAY_SECONDS, seconds))


@dataclass(frozen=True, slots=True)
class Deferred:
    """What became of a ``RetryLater``: sent (``delay`` s), or not (``reason``: the record is
    then reported failed, and its source retries it)."""

    deferral: Deferral | None
    delay: int = 0
    reason: str = ""

    @property
    def sent(self) -> bool:
        return not self.reason


class Deferrals:
    def __init__(
        self,
        queue: RetryQueue | None,  # None: no retry queue deployed; the source retries
        *,
        records: StoredRecords,
        clock: Callable[[], datetime],
    ) -> None:
        self._queue = queue
        self._records = records
        self._clock = clock

    def defer(
        self,
        later: RetryLater,
        message: Mapping[str, Any],
        record: Mapping[str, Any],
        earlier: Deferral | None,
    ) -> Deferred:
        """Send ``record`` (holding ``message``) to be replayed when ``later`` says; ``earlier``:
        the deferral it was replayed from."""
        now = self._clock()
        if earlier is None:
            deferral = Deferral(
                message_sid=str(message["message_sid"]),
                account=str(message.get("account", "")),
                stream_arn=str(record.get("eventSourceARN", "")),
                sequence_number=str((record.get("dynamodb") or {}).get("SequenceNumber", "")),
                deferrals=1,
                first_deferred_at=now.isoformat(),
            )
        elif isinstance(later, Waiting):  # on time, not stuck: neither counted nor aged
            deferral = replace(earlier, first_deferred_at=now.isoformat())
        elif earlier.exhausted(now):
            return Deferred(earlier, reason=f"deferred {earlier.deferrals} times already")
        else:
            deferral = replace(earlier, deferrals=earlier.deferrals + 1)
        if self._queue is None:
            return Deferred(deferral, reason="no retry queue")
        delay = delay_seconds(later, now)
        try:
            self._queue.send(deferral.body(), delay)
        except Exception as error:  # any failure: the record's source retries it
            return Deferred(deferral, reason=f"the retry queue refused it ({type(error).__name__})")
        return Deferred(deferral, delay)

    def replay_record(self, deferral: Deferral) -> dict[str, Any] | None:
        """The stream record to process again, rebuilt from the message's item as stored now;
        ``None`` when the message is gone."""
        return self._records.replay_record(
            deferral.message_sid,
            sequence_number=deferral.sequence_number,
            stream_arn=deferral.stream_arn,
            now=self._clock(),
        )
