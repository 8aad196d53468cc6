"""Durations as trigger files write them: ``90s``, ``30m``, ``2h``, ``7d`` (one unit, whole)."""

from __future__ import annotations

import re
from typing import Final

_DURATION: Final = re.compile(r"^\s*([0-9]{1,7})\s*([smhd])\s*$")
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}

MAX_WAIT_SECONDS: Final = 30 * 86_400
"""The longest conversation wait (``timeout`` or ``until``): 30 days."""


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
