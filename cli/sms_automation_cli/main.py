"""``sms-automation``: the command line for accounts, messages and webhook signatures.

Each command group lives in its own module exposing ``register(subparsers)``; a command's
handler takes the parsed arguments and returns the process exit code. The global options
(``add_global_options``) are accepted before the group and after any subcommand: every parser
under the top one is a ``CommandParser``, which offers them too (a value given after the
subcommand wins). An AWS call failing in any
command that does not report it itself ends here: one line (``aws_errors``), exit 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module
from typing import Any, ClassVar

from sms_automation.adapters.aws_failures import AWS_ERRORS
from sms_automation_cli.aws_errors import aws_failure, command_name
from sms_automation_cli.context import DEFAULT_STACK, ENV_STACK, CliContext, DeploymentNotFound

COMMAND_MODULES = (  # each registers one command group (``local_status``: ``local``; ...)
    "accounts",
    "messages",
    "webhook",
    "triggers",
    "local_status",
    "simulate",
    "dead_letters",
    "numbers",
    "conversations",
    "sandbox_outbox",
    "run",
    "automations",
    "contacts",
    "console",
    "broadcasts",
)


def add_global_options(parser: argparse.ArgumentParser, *, default: Any = None) -> None:
    parser.add_argument(
        "--stack",
        default=default,
        help=f"stack whose outputs locate the deployment (${ENV_STACK}, else {DEFAULT_STACK})",
    )


class CommandParser(argparse.ArgumentParser):
    """A group's or a subcommand's parser: it also takes the global options, left unset
    (``SUPPRESS``) when not given so that a value given before the group stays. argparse makes
    a parser's subcommand parsers of its own class, so the whole tree is of this class; each
    tree's subclass collects its parsers in ``tree`` (``leaf_commands``)."""

    tree: ClassVar[list[CommandParser]]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tree.append(self)
        add_global_options(self, default=argparse.SUPPRESS)


class TopParser(argparse.ArgumentParser):
    def __init__(self) -> None:
        super().__init__(
            prog="sms-automation", description="Twilio SMS automation on AWS serverless."
        )
        self.commands: list[CommandParser] = []
        add_global_options(self)


def build_parser() -> TopParser:
    parser = TopParser()

    class TreeParser(CommandParser):
        tree = parser.commands

    groups = parser.add_subparsers(
        dest="group", required=True, metavar="COMMAND", parser_class=TreeParser
    )
    for name in COMMAND_MODULES:
        import_module(f"sms_automation_cli.{name}").register(groups)
    return parser


def leaf_commands(parser: TopParser) -> list[CommandParser]:
    """Every runnable command of the tree (a parser with a handler), in registration order."""
    return [command for command in parser.commands if command.get_default("func") is not None]


def main(argv: Sequence[str] | None = None) -> int:
    import os

    parser = build_parser()
    args = parser.parse_args(argv)
    args.context = CliContext(stack_name=args.stack or os.environ.get(ENV_STACK) or DEFAULT_STACK)
    try:
        return int(args.func(args))
    except DeploymentNotFound as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except AWS_ERRORS as error:
        print(aws_failure(error, args.context, f"{command_name(args)} failed"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
