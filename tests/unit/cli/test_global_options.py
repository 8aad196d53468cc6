"""The global options (``--stack``) are accepted before the command group or after any
subcommand, by every command: ``sms-automation messages list --stack NAME`` is not refused."""

from __future__ import annotations

import pytest

from sms_automation_cli.main import CommandParser, build_parser, leaf_commands
from tests.support.cli import run_cli

LEAVES = leaf_commands(build_parser())


def test_every_command_is_found() -> None:
    names = {" ".join(leaf.prog.split()[1:]) for leaf in LEAVES}
    assert {"messages list", "triggers test", "automations test", "dead-letters redrive"} <= names
    assert len(names) >= 30  # the walk found the whole tree, not only a few groups


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda leaf: " ".join(leaf.prog.split()[1:]))
def test_every_command_offers_the_global_options_after_it(leaf: CommandParser) -> None:
    assert "[--stack STACK]" in leaf.format_usage()


@pytest.mark.parametrize(
    ("argv", "stack"),
    [
        (["messages", "list", "--stack", "after"], "after"),
        (["--stack", "before", "messages", "list"], "before"),
        (["--stack", "before", "messages", "list", "--stack", "after"], "after"),
        (["messages", "list"], None),
        (["dead-letters", "redrive", "--stack=after"], "after"),
        (
            ["triggers", "test", "f.yaml", "--from", "1", "--to", "2", "--body", "x", "--stack=s"],
            "s",
        ),
    ],
)
def test_the_global_option_reaches_the_command(argv: list[str], stack: str | None) -> None:
    assert build_parser().parse_args(argv).stack == stack


def test_messages_list_with_stack_after_it_looks_for_that_stack(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not refused as an unknown argument (exit 2): the named stack is what is looked up."""
    monkeypatch.delenv("SMS_AUTOMATION_TABLE", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: fails fast
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    code, _, err = run_cli(capsys, "messages", "list", "--stack", "no-such-stack-here")
    assert "unrecognized arguments" not in err
    assert code == 1
