"""What the commands on accounts share (``accounts``, ``numbers``): the deployment's account
registry, the exit codes, and the registry's errors reported as one ``error:`` line and an exit
code (AWS's errors go on to ``main``, which reports them the same way for every command)."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from typing import Final

from sms_automation.accounts import (
    AccountAlreadyExists,
    AccountNotFound,
    AccountRegistry,
    AuthTokenSecretAlreadyExists,
    AuthTokenSecretNotFound,
    InvalidAccountName,
    InvalidAccountSid,
    InvalidAuthToken,
    MalformedAuthTokenSecret,
)
from sms_automation.adapters.account_store import DynamoAccountStore, SecretsManagerTokenStore
from sms_automation.time_zones import UnknownTimeZone
from sms_automation_cli.context import CliContext

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_UNREACHABLE: Final = 3

Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """A command that cannot run as given (exit 2)."""


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def reports_errors(handler: Handler) -> Handler:
    """Turns the domain's errors into one ``error:`` line and an exit code."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (
            UsageError,
            InvalidAccountName,
            InvalidAccountSid,
            InvalidAuthToken,
            UnknownTimeZone,
        ) as error:
            fail(str(error))
            return EXIT_USAGE
        except (
            AccountNotFound,
            AccountAlreadyExists,
            AuthTokenSecretAlreadyExists,
            AuthTokenSecretNotFound,
            MalformedAuthTokenSecret,
        ) as error:
            fail(_describe_failure(error))
            return EXIT_FAILED

    return run


def _describe_failure(error: Exception) -> str:
    if isinstance(error, AccountNotFound):
        return f"no account named {error.name!r} (see: sms-automation accounts list)"
    if isinstance(error, AccountAlreadyExists):
        return f"{error} (see: sms-automation accounts show {error.name})"
    if isinstance(error, AuthTokenSecretAlreadyExists):
        return (
            f"{error}: aws secretsmanager delete-secret --secret-id {error.secret_id} "
            "--force-delete-without-recovery"
        )
    return str(error)


def command_context(args: argparse.Namespace) -> CliContext:
    """The deployment the command works on (``main`` sets it from ``--stack``)."""
    context: CliContext = args.context
    return context


def open_registry(args: argparse.Namespace) -> AccountRegistry:
    """The deployment's accounts: the table (read consistently) and Secrets Manager."""
    context = command_context(args)
    return AccountRegistry(
        DynamoAccountStore(context.table_name, context.dynamodb, consistent_reads=True),
        SecretsManagerTokenStore(context.secretsmanager),
    )
