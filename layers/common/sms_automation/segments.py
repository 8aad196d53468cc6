"""How many SMS segments a text costs, as Twilio splits it: GSM-7 when every character is in
the GSM 03.38 alphabet (160 per message, 153 per part of a longer one; an extension character
such as ``€`` or ``{`` counts twice), else UCS-2 (70, then 67 per part, counted in UTF-16 code
units: an emoji counts twice). console/js/thread.js counts the same way for the reply box;
the console's reply shows the count, pacing takes a send's segments from its sender's bucket
(``processing.pacing.segments``: at least one, for a message with media only). Pure: standard
library."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

GSM_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION: Final = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True, slots=True)
class Segments:
    count: int
    encoding: str  # "GSM-7" or "UCS-2"


def segments(text: str) -> Segments:
    if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text):
        units = len(text) + sum(1 for c in text if c in GSM_EXTENSION)
        return Segments(_parts(units, 160, 153), "GSM-7")
    units = len(text.encode("utf-16-le")) // 2
    return Segments(_parts(units, 70, 67), "UCS-2")


def _parts(units: int, single: int, part: int) -> int:
    if units == 0:
        return 0
    return 1 if units <= single else -(-units // part)
