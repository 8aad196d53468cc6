"""Typed automation inputs: what each type accepts (JSON values and command-line text alike)."""

from __future__ import annotations

from typing import Any

import pytest

from sms_automation.triggers.inputs import MAX_INPUT_CHARS, InvalidInput, coerce_input


@pytest.mark.parametrize(
    ("type_", "value", "text"),
    [
        ("text", "  as given  ", "  as given  "),
        ("text", 42, "42"),
        ("number", "3.5", "3.5"),
        ("number", 3.5, "3.5"),
        ("number", 7, "7"),
        ("integer", "007", "7"),
        ("integer", 12, "12"),
        ("integer", "-3", "-3"),
        ("boolean", True, "true"),
        ("boolean", "YES", "true"),
        ("boolean", "false", "false"),
        ("boolean", 0, "false"),
        ("phone", "+15551234567", "+15551234567"),
        ("phone", " whatsapp:+447700900123 ", "whatsapp:+447700900123"),
        ("email", "ann@example.com", "ann@example.com"),
        ("date", "2026-12-01", "2026-12-01"),
        ("datetime", "2026-12-01T10:00:00Z", "2026-12-01T10:00:00Z"),
        ("datetime", "2026-12-01T10:00:00+01:00", "2026-12-01T10:00:00+01:00"),
    ],
)
def test_accepted_values_become_their_text(type_: str, value: Any, text: str) -> None:
    assert coerce_input(type_, value) == text


@pytest.mark.parametrize(
    ("type_", "value", "says"),
    [
        ("text", None, "got null"),
        ("text", {"a": 1}, "got an object"),
        ("text", [1], "got a list"),
        ("text", True, "got the boolean true"),
        ("number", "ten", "expected a number"),
        ("number", "nan", "finite"),
        ("number", float("inf"), "finite"),
        ("integer", "1.5", "whole number"),
        ("integer", 2.5, "whole number"),
        ("boolean", "maybe", "true or false"),
        ("boolean", 2, "true or false"),
        ("phone", "5551234567", "E.164"),
        ("phone", "+0123", "E.164"),
        ("email", "not-an-address", "email address"),
        ("date", "01/12/2026", "YYYY-MM-DD"),
        ("date", "2026-13-01", "YYYY-MM-DD"),
        ("datetime", "tomorrow", "ISO 8601"),
        ("datetime", "2026-12-01T10:00:00", "offset"),
        ("text", b"bytes", "text or a number"),
        ("colour", "red", "unknown input type"),
    ],
)
def test_rejected_values_say_what_was_expected(type_: str, value: Any, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        coerce_input(type_, value)


def test_a_rejected_phone_number_is_not_echoed_whole() -> None:
    with pytest.raises(InvalidInput) as error:
        coerce_input("phone", "14155550199")
    assert "14155550199" not in str(error.value)


def test_values_have_a_length_limit() -> None:
    assert coerce_input("text", "x" * MAX_INPUT_CHARS) == "x" * MAX_INPUT_CHARS
    with pytest.raises(InvalidInput, match="at most"):
        coerce_input("text", "x" * (MAX_INPUT_CHARS + 1))
