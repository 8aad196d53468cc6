"""Inline TwiML: escaping, attributes, the 4,000-character limit."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from sms_automation.triggers.twiml import (
    MAX_TWIML_CHARS,
    ConnectSpec,
    SaySpec,
    TwimlTooLong,
    build_call_twiml,
)
from tests.unit.triggers.builders import evaluate

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def test_twiml_escapes_markup_in_text_and_attributes() -> None:
    twiml = build_call_twiml(
        SaySpec("</Say><Hangup/> & \"quotes\" 'apostrophes'"),
        ConnectSpec(number="+1<2>", caller_id='"><Reject/>'),
    )
    root = ET.fromstring(twiml.removeprefix(XML_DECLARATION))  # noqa: S314 (our own output)
    assert [child.tag for child in root] == ["Say", "Dial"]
    assert root[0].text == "</Say><Hangup/> & \"quotes\" 'apostrophes'"
    assert root[1].get("callerId") == '"><Reject/>'
    assert root[1][0].text == "+1<2>"


def test_twiml_say_attributes_and_loop() -> None:
    twiml = build_call_twiml(SaySpec("hi", voice="woman", language="fr-FR", loop=0), None)
    assert '<Say voice="woman" language="fr-FR" loop="0">hi</Say>' in twiml


def test_twiml_dial_records_from_answer() -> None:
    twiml = build_call_twiml(None, ConnectSpec(number="+1555", timeout=20, record=True))
    assert '<Dial timeout="20" record="record-from-answer"><Number>+1555</Number></Dial>' in twiml


def test_twiml_drops_characters_xml_cannot_carry() -> None:
    twiml = build_call_twiml(SaySpec("a\x00b\x1bc\ud800d"), None)
    assert "<Say>abcd</Say>" in twiml


def test_twiml_limit_is_4000_characters() -> None:
    overhead = len(build_call_twiml(SaySpec("x"), None)) - 1
    assert len(build_call_twiml(SaySpec("x" * (MAX_TWIML_CHARS - overhead)), None)) == 4000
    with pytest.raises(TwimlTooLong, match="4001 characters"):
        build_call_twiml(SaySpec("x" * (MAX_TWIML_CHARS - overhead + 1)), None)


def test_twiml_limit_counts_escaped_characters() -> None:
    with pytest.raises(TwimlTooLong):
        build_call_twiml(SaySpec("&" * 1000), None)  # 1000 characters, 5000 once escaped


def test_make_call_with_static_text_over_the_limit_is_refused_at_load() -> None:
    action = {"type": "make_call", "to": "+1555", "say": {"text": "y" * 4000}}
    with pytest.raises(ValidationError, match="inline TwiML limit"):
        evaluate({"name": "t", "actions": [action]})


def test_make_call_needs_say_or_connect_to() -> None:
    with pytest.raises(ValidationError, match="needs 'say', 'connect_to' or both"):
        evaluate({"name": "t", "actions": [{"type": "make_call", "to": "+1555"}]})


@given(
    text=st.text(max_size=300),
    number=st.text(max_size=40),
    caller_id=st.text(max_size=40),
    voice=st.one_of(st.none(), st.text(max_size=20)),
)
def test_twiml_is_always_well_formed_xml(
    text: str, number: str, caller_id: str, voice: str | None
) -> None:
    twiml = build_call_twiml(
        SaySpec(text, voice=voice), ConnectSpec(number=number, caller_id=caller_id)
    )
    root = ET.fromstring(twiml.encode("utf-8"))  # noqa: S314 (our own output)
    assert root.tag == "Response"
    assert len(twiml) <= MAX_TWIML_CHARS
