"""Durations as trigger files write them: ``90s``, ``30m``, ``2h``, ``7d`` (one unit, whole)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

_DURATION: Final = re.compile(r"^\s*([0-9]{1,7})\s*([smhd])\s*$")
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}

MAX_WAIT_SECONDS: Final = 30 * 86_400
"""The longest conversation wait (``timeout`` or ``until``): 30 days. The conversation state machine
holds a conversation for at most this plus a day (statemachines/conversation.asl.json)."""

_WIDEST_UTC_OFFSET: Final = dt.timedelta(hours=14)  # UTC+14, the earliest local clock


def beyond_longest_wait(deadline: dt.datetime, now: dt.datetime) -> bool:
    """Whether a wait started at ``now`` until ``deadline`` is longer than the longest wait.

    A ``deadline`` without an offset (a literal checked before the account's zone is known) is
    read in the zone where it comes earliest, so only a deadline too far in every zone counts.
    """
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=dt.UTC) - _WIDEST_UTC_OFFSET
    return deadline - now > dt.timedelta(seconds=MAX_WAIT_SECONDS)


def longest_wait_refusal(until: str) -> str:
    return (
        f"'until' {until[:40]!r} is more than 30 days ahead: a wait lasts at most 30 days, "
        "as with 'timeout'"
    )


def parse_duration(text: str) -> int:
    """Seconds in ``text``; raises ``ValueError`` with a message for people."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration: write a whole number and one unit, "
            "s (seconds), m (minutes), h (hours) or d (days), e.g. '30m' or '2h'"
        )
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a positive duration")
    return seconds
