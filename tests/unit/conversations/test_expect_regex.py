"""``expect: {regex}`` decides a reply on RE2: hostile replies are answered (the issue's pattern
never finished on Python's backtracking ``re``), non-ASCII answers keep Python's meaning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HANG_GUARD_SECONDS = 20  # not a timing assert: the old engine never finishes, the test must fail

_CHILD = """
import json, sys
from sms_automation.conversations.model import Conversation
from sms_automation.triggers.plan import AnswerPattern
pattern, case_sensitive, replies = json.loads(sys.stdin.read())
conversation = Conversation(
    message_sid="SM" + "1" * 32, step_id="t/1", account="acme", contact="+15005550006",
    our_number="+15005550007", trigger="t", started_at="2025-03-14T10:30:00+00:00",
    deadline="2025-03-15T10:30:00+00:00", reminders=(),
    expect_patterns=(AnswerPattern(pattern, case_sensitive),),
)
print(json.dumps([conversation.accepts(reply) for reply in replies]))
"""


def _accepts(pattern: str, replies: list[str], *, case_sensitive: bool = False) -> list[bool]:
    try:
        child = subprocess.run(  # noqa: S603 (our own interpreter)
            [sys.executable, "-c", _CHILD],
            input=json.dumps([pattern, case_sensitive, replies]),
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "layers" / "common")},
            timeout=HANG_GUARD_SECONDS,
            check=True,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"accepts() did not finish in {HANG_GUARD_SECONDS} s")
    answers: list[bool] = json.loads(child.stdout)
    return answers


def test_expect_regex_answers_hostile_replies() -> None:
    hostile = ["a" * 1_599 + "!", "é" * 1_599 + "!", "ab " * 533 + "!"]
    assert _accepts(r"^(\w+\s?){1,40}$", [*hostile, "oui merci"]) == [False, False, False, True]


def test_expect_regex_keeps_unicode_and_case_folding() -> None:
    replies = ["  Да  ", "DA", "٣ apples", "nope"]
    assert _accepts(r"^(да|da)$", replies) == [True, True, False, False]
    assert _accepts(r"^\d+\s+\w+$", replies) == [False, False, True, False]
    assert _accepts(r"^(да|da)$", replies, case_sensitive=True) == [False, False, False, False]


def test_expect_regex_stored_before_re2_that_cannot_run_accepts_any_reply() -> None:
    """A wait stored when patterns ran on Python's ``re`` (a lookahead): as if without expect,
    rather than reprompting every answer until the attempts run out."""
    assert _accepts(r"^(?=.*\d)\w+$", ["abc1", "anything"]) == [True, True]
