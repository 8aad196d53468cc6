"""Segments as Twilio splits them (``sms_automation.segments``), counted the same by the API,
by pacing (at least one) and by the reply box's counter (console/js/thread.js, run in Node when
it is installed)."""

from __future__ import annotations

import json

import pytest

from sms_automation.segments import segments
from tests.support.console_site import needs_node, node_json
from tests.support.template import ROOT

CASES = {
    "": (0, "GSM-7"),
    "a" * 160: (1, "GSM-7"),
    "a" * 161: (2, "GSM-7"),
    "a" * 306: (2, "GSM-7"),
    "a" * 307: (3, "GSM-7"),
    "€" * 80: (1, "GSM-7"),  # an extension character counts twice
    "€" * 81: (2, "GSM-7"),
    "é" * 70: (1, "GSM-7"),  # é is in the GSM alphabet
    "ç" * 70: (1, "UCS-2"),  # ç (lower case) is not
    "ç" * 71: (2, "UCS-2"),
    "👍" * 35: (1, "UCS-2"),  # two UTF-16 units each
    "👍" * 36: (2, "UCS-2"),
    "x" * 1600: (11, "GSM-7"),
}


@pytest.mark.parametrize(("text", "expected"), CASES.items(), ids=lambda v: repr(v)[:20])
def test_the_api_counts_segments_as_twilio_splits_them(
    text: str, expected: tuple[int, str]
) -> None:
    found = segments(text)
    assert (found.count, found.encoding) == expected


@needs_node
def test_the_reply_box_counts_the_same() -> None:
    module = (ROOT / "console" / "js" / "thread.js").as_uri()
    script = (
        f"import {{ segments }} from {json.dumps(module)};"
        "const texts = JSON.parse(process.argv[1]);"
        "console.log(JSON.stringify(texts.map((t) => { const s = segments(t);"
        " return [s.count, s.encoding]; })));"
    )
    counted = node_json(script, json.dumps(list(CASES)))
    assert [tuple(pair) for pair in counted] == list(CASES.values())
