"""Time zones named by people (a trigger condition's or a schedule's ``timezone``, the CLI's
``--timezone``): an IANA name, or one clear error naming what was given. Pure."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_SHOWN = 64
"""At most this many characters of an unknown name are repeated back."""


class UnknownTimeZone(ValueError):
    def __init__(self, name: str) -> None:
        shown = name if len(name) <= _SHOWN else name[:_SHOWN] + "…"
        super().__init__(f"unknown time zone {shown!r} (an IANA name such as Europe/London)")
        self.name = name


def time_zone(name: str) -> ZoneInfo:
    """The zone called ``name``; ``UnknownTimeZone`` for anything else (a misspelling, a path,
    a file of the zone database that is not a zone)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimeZone(name) from None
