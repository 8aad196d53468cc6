"""The one way times are written and read back: ISO-8601 in UTC with a ``Z`` (sorts as text,
parses everywhere), to the millisecond, or to the second where a person reads or types it
(a conversation's deadline and reminders)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def utc_timestamp(moment: datetime | None = None) -> str:
    """``2026-01-01T00:00:00.000Z``; now when no moment is given."""
    return _written(moment, "milliseconds")


def utc_timestamp_seconds(moment: datetime) -> str:
    """``2026-01-01T00:00:00Z``."""
    return _written(moment, "seconds")


def parse_timestamp(text: str) -> datetime:
    """Any ISO-8601 time (``Z`` or an offset) back; ``ValueError`` when it is not one."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_utc_timestamp(text: str) -> datetime | None:
    """A ``utc_timestamp`` (any ISO-8601 time with an offset) back in UTC; None when it is not
    one."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


def _written(moment: datetime | None, timespec: str) -> str:
    moment = utc_now() if moment is None else moment
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")
