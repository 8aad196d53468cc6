"""``sms-automation``: the command line for accounts, messages and webhook signatures.

Each command group lives in its own module exposing ``register(subparsers)``; a command's
handler takes the parsed arguments and returns the process exit code. An AWS call failing in any
command that does not report it itself ends here: one line (``cli.aws_errors``), exit 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from sms_automation.adapters.aws_failures import AWS_ERRORS
from sms_automation.cli.aws_errors import aws_failure, command_name
from sms_automation.cli.context import DEFAULT_STACK, ENV_STACK, CliContext, DeploymentNotFound

COMMAND_GROUPS = (
    "accounts",
    "messages",
    "webhook",
    "triggers",
    "local",
    "simulate",
    "dlq",
    "numbers",
    "waits",
    "sandbox",
    "run",
    "automations",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sms-automation",
        description="Twilio SMS automation on AWS serverless.",
    )
    parser.add_argument(
        "--stack",
        default=None,
        help=f"stack whose outputs locate the deployment (${ENV_STACK}, else {DEFAULT_STACK})",
    )
    groups = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")
    for name in COMMAND_GROUPS:
        import_module(f"sms_automation.cli.{name}").register(groups)
    return parser


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
