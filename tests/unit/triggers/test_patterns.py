"""The regex guard: catastrophic shapes refused at load, long subjects cut at evaluation."""

from __future__ import annotations

import pytest

from sms_automation.triggers.patterns import (
    MAX_PATTERN_CHARS,
    MAX_SUBJECT_CHARS,
    UnsafePattern,
    bounded_subject,
    compile_pattern,
)
from tests.unit.triggers.builders import evaluate, message


@pytest.mark.parametrize(
    "pattern", [r"(a+)+$", r"(a*)*", r"(\w+\s?)*$", r"(a+|b)+", r"((ab)*)+", r"(?:x+)*y"]
)
def test_pattern_catastrophic_nesting_is_refused(pattern: str) -> None:
    with pytest.raises(UnsafePattern, match="exponential"):
        compile_pattern(pattern, case_sensitive=False)


@pytest.mark.parametrize(
    "pattern", [r"(\d+,)*\d+", r"^\s*(yes|y)\s*$", r"(?P<order>\d{6})", r"(?:ab)+", r"(a++)+"]
)
def test_pattern_ordinary_patterns_compile(pattern: str) -> None:
    assert compile_pattern(pattern, case_sensitive=False).pattern == pattern


def test_pattern_case_sensitivity_flag() -> None:
    assert compile_pattern("abc", case_sensitive=False).search("ABC")
    assert not compile_pattern("abc", case_sensitive=True).search("ABC")


def test_pattern_too_long_is_refused() -> None:
    with pytest.raises(UnsafePattern, match="at most"):
        compile_pattern("a" * (MAX_PATTERN_CHARS + 1), case_sensitive=True)


def test_pattern_subject_is_bounded() -> None:
    assert bounded_subject("abc") == ("abc", False)
    cut, was_cut = bounded_subject("a" * (MAX_SUBJECT_CHARS + 5))
    assert (len(cut), was_cut) == (MAX_SUBJECT_CHARS, True)


def test_pattern_condition_on_a_huge_value_searches_the_start_and_warns() -> None:
    huge = "x" * MAX_SUBJECT_CHARS + "needle"
    evaluation = evaluate(
        {"name": "t", "when": {"field": "Body", "regex": "needle"}}, message(Body=huge)
    )
    assert evaluation.matched == ()
    assert "first 65536 characters" in evaluation.warnings[0].message
