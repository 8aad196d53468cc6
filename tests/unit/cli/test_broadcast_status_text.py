"""``broadcast status`` prints a file's bad rows: their problems quote the file (a contact's
text, a column's name), so no control character reaches the operator's terminal."""

from __future__ import annotations

from sms_automation_cli.broadcasts import status_text


def test_bad_row_problems_and_the_failure_are_printed_without_control_characters() -> None:
    text = status_text(
        {
            "broadcast_id": "BC" + "a" * 32,
            "status": "failed",
            "account": "acme",
            "automation": "notify",
            "counts": {"rows": 1, "invalid": 1},
            "bad_rows": [{"line": 2, "problems": ["variables.\x1b[31mx\x07: not an input"]}],
            "failure": "columns '\x1b]52;c;aGk=\x07'",
        }
    )
    assert "  line 2: variables.[31mx: not an input" in text
    assert "failed: columns ']52;c;aGk='" in text
    assert not any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in text)
