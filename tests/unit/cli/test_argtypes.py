"""``positive_int``: the ``--limit`` and ``--visibility-timeout`` of every command that has one
refuse what is not a whole number above 0, before any AWS call."""

from __future__ import annotations

import argparse

import pytest

from sms_automation_cli.argtypes import positive_int
from tests.support.cli import run_cli


def test_positive_int_accepts_a_whole_number_above_zero() -> None:
    assert positive_int("1") == 1
    assert positive_int("250") == 250


@pytest.mark.parametrize("text", ["0", "-3", "x", "1.5", ""])
def test_positive_int_refuses_anything_else(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="must be a positive whole number"):
        positive_int(text)


@pytest.mark.parametrize(
    "argv",
    [
        ("messages", "list", "--limit", "x"),
        ("automations", "runs", "acme", "--limit", "0"),
        ("dead-letters", "list", "--limit", "-1"),
        ("dead-letters", "redrive", "--visibility-timeout", "0"),
    ],
)
def test_a_command_given_a_bad_count_exits_2_naming_the_option(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run_cli(capsys, *argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {argv[-2]}: must be a positive whole number" in err
