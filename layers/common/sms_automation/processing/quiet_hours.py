"""Quiet hours: automatic sends are made only inside the account's send window, in the
account's time zone (``send_settings.SendWindow``; default: none, always).

A send outside the window is not made: ``QuietHours`` (a ``processing.retry_later.Waiting``)
says when the window next opens, the step's claim is released and the record waits for it
(``processing.deferral`` re-defers it every 15 minutes, SQS's longest delay, until then).
Which sends wait is the caller's (``processing.effects``): a trigger's ``send_sms`` and
``make_call``, an automation run's sends; a conversation times its own prompt and reminders
(``conversations.service``); a human's console reply and the HELP answer never wait.

Local times are resolved with ``zoneinfo``: on the day a clock goes forward, a window opening in
the skipped hour opens at the jump (New York, 2:30 on the spring-forward day: 03:00 EDT, when
``SendWindow.contains`` first allows a send); on the day it goes back, at its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sms_automation.processing.retry_later import Waiting

if TYPE_CHECKING:
    from sms_automation.send_settings import SendWindow


class QuietHours(Waiting):
    """Outside the account's send window: retried when it opens (``retry_at``)."""


def outside_window(detail: str, opens: datetime) -> QuietHours:
    """What a send, or a conversation's opening, raises outside the window opening at ``opens``:
    a trigger's send (``processing.effects``) and the conversations' ``waiting``
    (``composition.runtime``)."""
    return QuietHours(detail, retry_at=opens)


def opens_at(window: SendWindow | None, now: datetime, zone: str | None) -> datetime | None:
    """``None`` when a send may be made at ``now`` (aware); else when the window next opens
    (aware, UTC offset of the zone)."""
    if window is None:
        return None
    from sms_automation.time_zones import time_zone  # zoneinfo: only with a window

    tz = time_zone(zone or "UTC")
    local = now.astimezone(tz)
    if window.contains(local.time().replace(tzinfo=None)):
        return None
    for days in (0, 1):
        day = (local + timedelta(days=days)).date()
        opening = _first_instant_at(datetime.combine(day, window.start, tzinfo=tz))
        if opening > local:
            return opening
    raise AssertionError("a window opens within a day")  # pragma: no cover


def _first_instant_at(wall: datetime) -> datetime:
    """The first instant the zone's clock reads ``wall`` (aware, in its zone): on the day it
    goes back, the first occurrence (fold 0); when ``wall`` is in an hour the clock skips, the
    jump itself (the clock passes from before ``wall`` to after it)."""
    assert wall.tzinfo is not None
    before = wall.replace(fold=1).astimezone(UTC)  # a skipped wall time read with the new offset
    after = wall.replace(fold=0).astimezone(UTC)  # ... and with the old one (PEP 495)
    if before >= after:  # the wall time exists (once, or twice: fold 0 is the first)
        return after.astimezone(wall.tzinfo)
    low, high = before, after  # the jump lies between: the offset changes once in there
    new_offset = after.astimezone(wall.tzinfo).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(wall.tzinfo).utcoffset() == new_offset:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0).astimezone(wall.tzinfo)
