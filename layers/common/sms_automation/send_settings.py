"""An account's sending settings besides the send cap: its send rates (``processing.pacing``)
and its send window (quiet hours, ``processing.quiet_hours``). Its own module, standard library
only, so the account model carries them without the rules (the webhooks read accounts and
never send).

- **Send rates**: segments a second, by sender type (``long_code``, ``toll_free``,
  ``short_code``, ``messaging_service``) or by one sender (a number, a short code, a Messaging
  Service SID); what is not set has Twilio's default for its type (``DEFAULT_RATES``).
- **Send window**: the local hours (in the account's time zone) automatic sends are made in,
  ``HH:MM-HH:MM``; a window may cross midnight (``21:00-07:00``). None: no quiet hours.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from typing import Final


class SenderType(StrEnum):
    LONG_CODE = "long_code"
    TOLL_FREE = "toll_free"
    SHORT_CODE = "short_code"
    MESSAGING_SERVICE = "messaging_service"


DEFAULT_RATES: Final[Mapping[SenderType, float]] = {
    SenderType.LONG_CODE: 1.0,
    SenderType.TOLL_FREE: 3.0,
    SenderType.SHORT_CODE: 100.0,
    SenderType.MESSAGING_SERVICE: 1.0,
}
"""Segments a second by sender type: Twilio's documented defaults for a long code (1), a
toll-free number (3) and a short code (100). A Messaging Service sends as its pool allows:
1 (one long code) unless set (``accounts set --send-rate MG...=RATE``)."""

MIN_RATE: Final = 0.1
MAX_RATE: Final = 1000.0
MAX_RATES: Final = 50
"""Rates one account may set (they live in the account item)."""

_TOLL_FREE = re.compile(r"^\+1(800|833|844|855|866|877|888)\d{7}$")
_SHORT_CODE = re.compile(r"^\d{3,8}$")
_MESSAGING_SERVICE = re.compile(r"^MG[0-9a-fA-F]{32}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def sender_type(sender: str) -> SenderType:
    """By the sender's shape: ``MG…`` a Messaging Service, 3-8 digits a short code, +1 8XX a
    toll-free number, anything else a long code (``whatsapp:`` by the number behind it)."""
    number = sender.removeprefix("whatsapp:")
    if _MESSAGING_SERVICE.fullmatch(number):
        return SenderType.MESSAGING_SERVICE
    if _SHORT_CODE.fullmatch(number):
        return SenderType.SHORT_CODE
    if _TOLL_FREE.fullmatch(number):
        return SenderType.TOLL_FREE
    return SenderType.LONG_CODE


def validate_rate(rate: float) -> float:
    if math.isnan(rate) or not MIN_RATE <= rate <= MAX_RATE:
        raise ValueError(f"a send rate is {MIN_RATE:g} to {MAX_RATE:g} segments a second")
    return rate


def validate_rate_key(key: str) -> str:
    """A sender type's name, or one sender (an E.164 number, a short code, a Messaging
    Service SID; ``whatsapp:`` allowed)."""
    if key in {kind.value for kind in SenderType}:
        return key
    number = key.removeprefix("whatsapp:")
    if any(pattern.fullmatch(number) for pattern in (_MESSAGING_SERVICE, _SHORT_CODE, _E164)):
        return key
    raise ValueError(
        f"{key[:40]!r} is neither a sender type ({', '.join(SenderType)}) nor a sender "
        "(+E.164 number, short code, MG… Messaging Service SID)"
    )


def validate_rates(rates: Mapping[str, float]) -> dict[str, float]:
    if len(rates) > MAX_RATES:
        raise ValueError(f"an account sets at most {MAX_RATES} send rates")
    return {validate_rate_key(key): validate_rate(rate) for key, rate in rates.items()}


def rate_for(sender: str, rates: Mapping[str, float]) -> float:
    """The sender's rate: its own, else its type's on the account, else the type's default."""
    if sender in rates:
        return rates[sender]
    kind = sender_type(sender)
    return rates.get(kind.value, DEFAULT_RATES[kind])


@dataclass(frozen=True, slots=True)
class SendWindow:
    """Local times automatic sends are made between: ``start`` inclusive, ``end`` exclusive;
    ``start > end`` crosses midnight."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("a send window's start and end differ (leave it unset for always)")

    @classmethod
    def parse(cls, text: str) -> SendWindow:
        match = _WINDOW.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"a send window is HH:MM-HH:MM (24-hour), not {text[:40]!r}")
        hour, minute, end_hour, end_minute = (int(part) for part in match.groups())
        return cls(time(hour, minute), time(end_hour, end_minute))

    def describe(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end
