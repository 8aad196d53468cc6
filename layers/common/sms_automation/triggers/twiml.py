"""Inline TwiML for ``make_call``: ``<Say>`` and/or ``<Dial><Number>``, always escaped.

Built with the standard library's ElementTree, which escapes ``&``, ``<``, ``>`` and quotes.
Characters XML 1.0 cannot carry (most control characters, lone surrogates) are dropped first,
so the result is always well-formed. Twilio accepts at most 4,000 characters of inline TwiML.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Final

MAX_TWIML_CHARS: Final = 4_000
_XML_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>'
_NOT_XML_CHARACTER: Final = re.compile(
    "[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


class TwimlTooLong(ValueError):
    def __init__(self, length: int) -> None:
        super().__init__(
            f"the call's TwiML is {length} characters; Twilio accepts at most {MAX_TWIML_CHARS}"
        )
        self.length = length


@dataclass(frozen=True, slots=True)
class SaySpec:
    text: str
    voice: str | None = None
    language: str | None = None
    loop: int = 1


@dataclass(frozen=True, slots=True)
class ConnectSpec:
    number: str
    caller_id: str | None = None
    timeout: int = 30
    record: bool = False


def xml_safe(text: str) -> str:
    return _NOT_XML_CHARACTER.sub("", text)


def build_call_twiml(say: SaySpec | None, connect: ConnectSpec | None) -> str:
    """``<Response>`` with the ``<Say>`` first, then the ``<Dial>``; raises ``TwimlTooLong``."""
    response = ET.Element("Response")
    if say is not None:
        attributes = {"voice": say.voice, "language": say.language}
        if say.loop != 1:
            attributes["loop"] = str(say.loop)
        element = ET.SubElement(response, "Say", _present(attributes))
        element.text = xml_safe(say.text)
    if connect is not None:
        dial = ET.SubElement(
            response,
            "Dial",
            _present(
                {
                    "callerId": connect.caller_id or None,
                    "timeout": str(connect.timeout),
                    "record": "record-from-answer" if connect.record else None,
                }
            ),
        )
        ET.SubElement(dial, "Number").text = xml_safe(connect.number)
    twiml = _XML_DECLARATION + ET.tostring(response, encoding="unicode")
    if len(twiml) > MAX_TWIML_CHARS:
        raise TwimlTooLong(len(twiml))
    return twiml


def _present(attributes: dict[str, str | None]) -> dict[str, str]:
    return {name: xml_safe(value) for name, value in attributes.items() if value}
