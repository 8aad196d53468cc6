"""``expect`` mixes words and ``{regex: ...}`` entries: a reply is valid when it is one of the
words or matches one of the patterns (each with its own ``case_sensitive``), in the trigger
file, the engine's step, the conversation and the dry run alike; a malformed entry is named."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydantic
import pytest

from sms_automation.adapters.conversation_store import conversation_from_item
from sms_automation.conversations.model import open_conversation
from sms_automation.triggers import StepOutcome, WaitForReply
from sms_automation.triggers.plan import AnswerPattern
from tests.support.cli import run_cli
from tests.unit.triggers.builders import evaluate, trigger_set

ENTRY = re.escape("an expect entry is a word or {regex: PATTERN, case_sensitive: ...}")
MIXED: list[Any] = ["YES", "no", {"regex": r"^\d{1,2}$"}, {"regex": "^OK$", "case_sensitive": True}]


def _wait(**fields: Any) -> dict[str, Any]:
    return {"type": "wait_for_reply", "prompt": "Well?", **fields}


def _step(expect: Any) -> WaitForReply:
    triggers = {"name": "t", "actions": [_wait(expect=expect)]}
    step = evaluate(triggers, outcomes={"t/1": StepOutcome.pending()}).plan[-1]
    assert isinstance(step, WaitForReply)
    return step


def test_the_step_carries_every_word_and_pattern() -> None:
    step = _step(MIXED)
    assert step.expect_words == ("YES", "no")
    assert step.expect_patterns == (
        AnswerPattern(r"^\d{1,2}$", case_sensitive=False),
        AnswerPattern("^OK$", case_sensitive=True),
    )


@pytest.mark.parametrize(
    ("reply", "valid"),
    [(" yes ", True), ("NO", True), ("42", True), ("OK", True), ("ok", False), ("123", False)],
)
def test_a_reply_is_valid_when_it_is_a_word_or_matches_a_pattern(reply: str, valid: bool) -> None:
    conversation = open_conversation(
        _step(MIXED), message_sid="SM" + "1" * 32, account="acme", now=datetime.now(UTC)
    )
    assert conversation.accepts(reply) is valid


def test_a_lone_pattern_and_words_alone_still_work() -> None:
    now = datetime.now(UTC)
    alone = open_conversation(
        _step({"regex": "^a"}), message_sid="SM" + "1" * 32, account="a", now=now
    )
    assert (alone.accepts("abc"), alone.accepts("b")) == (True, False)
    words = open_conversation(_step(["Y"]), message_sid="SM" + "1" * 32, account="a", now=now)
    assert (words.accepts("y"), words.accepts("yes")) == (True, False)


@pytest.mark.parametrize(
    ("expect", "complaint"),
    [
        (["YES", {"regex": "("}], "invalid regular expression"),
        (["YES", {"regx": "a"}], ENTRY),
        (["YES", 5], ENTRY),
        (["YES", " "], "no empty words"),
    ],
)
def test_a_bad_entry_is_refused_clearly(expect: Any, complaint: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=complaint):
        trigger_set({"name": "t", "actions": [_wait(expect=expect)]})


def test_a_bad_entry_is_named_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "version: 1\ntriggers:\n  - name: t\n    actions:\n      - type: wait_for_reply\n"
        "        expect: [YES, {regx: 'a'}]\n"
    )
    code, _, err = run_cli(capsys, "triggers", "validate", str(path))
    assert code == 1
    assert "valid string" not in err
    assert "expect[2]: " in err
    assert "an expect entry is a word or {regex: PATTERN, case_sensitive: ...}" in err


def test_the_dry_run_decides_by_the_mixed_expect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text(
        "version: 1\ntriggers:\n  - name: t\n    actions:\n      - type: wait_for_reply\n"
        "        prompt: Rate us\n        expect: [skip, {regex: '^[1-5]$'}]\n"
        "        reprompt: 1-5 or skip\n"
        "        on_reply: [{type: send_sms, body: 'Got %answer.body%'}]\n"
    )
    argv = ("triggers", "test", str(path), "--from", "+15005550001", "--to", "+15005550006")
    code, out, _ = run_cli(capsys, *argv, "--body", "hi", "--reply", "9", "--reply", "4")
    assert code == 0
    assert "'9': not an expected answer; reprompt: '1-5 or skip'" in out
    assert "send_sms to +15005550001 from +15005550006: 'Got 4'" in out


def test_a_conversation_stored_with_one_expect_regex_still_loads_it() -> None:
    """Stored before words and patterns could mix: ``expect_regex`` + ``expect_case_sensitive``."""
    legacy = {
        "message_sid": "SM" + "1" * 32,
        "step_id": "t/1",
        "account": "acme",
        "contact": "+15005550001",
        "our_number": "+15005550006",
        "started_at": "2025-03-14T10:30:00Z",
        "deadline": "2025-03-15T10:30:00Z",
        "expect_words": [],
        "expect_regex": "^OK$",
        "expect_case_sensitive": True,
        "status": "waiting",
    }
    conversation = conversation_from_item(legacy)
    assert conversation.expect_patterns == (AnswerPattern("^OK$", case_sensitive=True),)
    assert (conversation.accepts("OK"), conversation.accepts("ok")) == (True, False)
