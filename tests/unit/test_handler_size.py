"""Every function's handler is thin (issue 14): decorators and wiring plus one call inward, at
most 40 lines of code (docstrings, comments and blank lines not counted). Its composition lives
in ``sms_automation.composition``; rules live in the domain."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = sorted((ROOT / "functions").glob("*/handler.py"))
MAX_CODE_LINES = 40


def code_lines(source: str) -> int:
    """Lines holding code: not blank, not only a comment, not part of a docstring."""
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                docstrings |= set(range(body[0].lineno, (body[0].end_lineno or 0) + 1))
    coded = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT):
            continue
        if token.type in (tokenize.DEDENT, tokenize.ENDMARKER):
            continue
        coded |= set(range(token.start[0], token.end[0] + 1))
    return len(coded - docstrings)


def test_code_lines_leave_out_docstrings_comments_and_blank_lines() -> None:
    source = (
        '"""Doc\n\nstring."""\n\n# a comment\nimport os  # why\n\n\n'
        'def f() -> None:\n    """Doc."""\n    return None\n'
    )
    assert code_lines(source) == 3


def test_every_function_has_a_handler() -> None:
    assert len(HANDLERS) == 12


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda path: path.parent.name)
def test_a_handler_has_at_most_40_code_lines(handler: Path) -> None:
    assert code_lines(handler.read_text(encoding="utf-8")) <= MAX_CODE_LINES
