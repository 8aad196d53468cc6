"""``sms-automation triggers push|list|show|rollback``: an account's stored trigger sets.

A file is validated exactly as ``triggers validate`` does before anything is written, and the
text is stored byte for byte as read (comments and all), so ``show`` gives back what was pushed.
Every push or rollback adds a version; the previous ones are kept.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sms_automation.accounts import InvalidAccountName, validate_account_name
from sms_automation.adapters.account_store import DynamoAccountStore
from sms_automation.adapters.trigger_store import (
    ConcurrentTriggerChange,
    DynamoTriggerStore,
    TriggerSourceTooLarge,
    TriggerVersionInfo,
    TriggerVersionNotFound,
)
from sms_automation.triggers import TriggerFileError, parse_trigger_text
from sms_automation.triggers.loader import MAX_FILE_BYTES, Problem
from sms_automation.triggers.publish import publish
from sms_automation_cli.context import CliContext

EXIT_FAILED = 1

Handler = Callable[[argparse.Namespace], int]


class CommandFailed(Exception):
    """A plain ``error:`` line for the user; exit 1."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    push = commands.add_parser(
        "push", help="validate a trigger file and store it as the account's new version"
    )
    push.add_argument("account", metavar="ACCOUNT")
    push.add_argument("file", metavar="FILE")
    push.set_defaults(func=_push)

    listing = commands.add_parser("list", help="an account's stored versions, newest first")
    listing.add_argument("account", metavar="ACCOUNT")
    listing.add_argument("--json", action="store_true", help="one JSON object per version")
    listing.set_defaults(func=_list)

    show = commands.add_parser("show", help="print a stored trigger file (default: current)")
    show.add_argument("account", metavar="ACCOUNT")
    show.add_argument("--version", type=_version_number, default=None, metavar="N")
    show.set_defaults(func=_show)

    rollback = commands.add_parser(
        "rollback", help="make an earlier version current again (as a new version)"
    )
    rollback.add_argument("account", metavar="ACCOUNT")
    rollback.add_argument("version", type=_version_number, metavar="VERSION")
    rollback.set_defaults(func=_rollback)


def _version_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a version number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("a version number is 1 or more")
    return value


# --- plumbing ---------------------------------------------------------------------------------


def _reports_errors(handler: Handler) -> Handler:
    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except TriggerFileError as error:
            for problem in error.problems:
                print(problem, file=sys.stderr)
            return EXIT_FAILED
        except (
            CommandFailed,
            InvalidAccountName,
            TriggerSourceTooLarge,
            TriggerVersionNotFound,
            ConcurrentTriggerChange,
        ) as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_FAILED

    return run


def _store(args: argparse.Namespace) -> DynamoTriggerStore:
    context: CliContext = args.context
    return DynamoTriggerStore(context.table_name, context.dynamodb)


def _existing_account(args: argparse.Namespace) -> str:
    name = validate_account_name(args.account)
    context: CliContext = args.context
    accounts = DynamoAccountStore(context.table_name, context.dynamodb, consistent_reads=True)
    if accounts.get(name) is None:
        raise CommandFailed(f"no account named {name!r} (see: sms-automation accounts list)")
    return name


def read_source(path: str) -> str:
    """The file's text exactly as stored: bytes decoded as UTF-8, line endings untouched."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise TriggerFileError(
            [Problem(path, 0, f"cannot read the file: {error.strerror}")]
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise TriggerFileError(
            [Problem(path, 0, f"the file is {len(raw)} bytes; at most {MAX_FILE_BYTES}")]
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise TriggerFileError([Problem(path, 0, f"the file is not UTF-8: {error}")]) from None


def _no_trigger_set(account: str) -> CommandFailed:
    return CommandFailed(
        f"account {account!r} has no trigger set yet "
        f"(push one: sms-automation triggers push {account} FILE)"
    )


# --- commands ---------------------------------------------------------------------------------


@_reports_errors
def _push(args: argparse.Namespace) -> int:
    source = read_source(args.file)
    context: CliContext = args.context
    # Invalid (a record into the deployment's own table included): never stored.
    trigger_set = parse_trigger_text(source, filename=args.file, app_table=context.table_name)
    account = _existing_account(args)
    store = _store(args)
    previous = store.current(account)
    published = publish(store, account, source, now=datetime.now(UTC), trigger_set=trigger_set)
    version, fingerprint, names = published.version, published.fingerprint, published.trigger_names
    print(f"pushed {args.file} to {account}: version {version} (fingerprint {fingerprint})")
    print(f"{len(names)} trigger(s): {', '.join(names) or '-'}")
    if previous is not None and previous.fingerprint == fingerprint:
        print(f"note: the same triggers as version {previous.version} (only the text differs)")
    return 0


@_reports_errors
def _list(args: argparse.Namespace) -> int:
    account = _existing_account(args)
    store = _store(args)
    current = store.current_version(account)
    versions = store.list_versions(account)
    if args.json:
        for info in versions:
            print(json.dumps(_as_json(info, current), ensure_ascii=False))
        return 0
    if not versions:
        print(f"{account} has no trigger set yet")
        return 0
    print(f"  {'VERSION':>7}  {'PUSHED':<24}  {'FINGERPRINT':<16}  TRIGGERS")
    for info in versions:
        marker = "*" if info.version == current else " "
        note = f"  (rollback to {info.restored_from})" if info.restored_from else ""
        print(
            f"{marker} {info.version:>7}  {info.pushed_at:<24}  {info.fingerprint:<16}  "
            f"{', '.join(info.trigger_names) or '-'}{note}"
        )
    print("* current")
    return 0


def _as_json(info: TriggerVersionInfo, current: int | None) -> dict[str, object]:
    return {
        "account": info.account,
        "version": info.version,
        "current": info.version == current,
        "fingerprint": info.fingerprint,
        "trigger_names": list(info.trigger_names),
        "pushed_at": info.pushed_at,
        "source_bytes": info.source_bytes,
        "restored_from": info.restored_from,
    }


@_reports_errors
def _show(args: argparse.Namespace) -> int:
    account = _existing_account(args)
    store = _store(args)
    if args.version is None:
        stored = store.current(account)
        if stored is None:
            raise _no_trigger_set(account)
    else:
        stored = store.version(account, args.version)
        if stored is None:
            raise TriggerVersionNotFound(account, args.version)
    sys.stdout.write(stored.source)
    return 0


@_reports_errors
def _rollback(args: argparse.Namespace) -> int:
    account = _existing_account(args)
    store = _store(args)
    current = store.current_version(account)
    if current is None:
        raise _no_trigger_set(account)
    if args.version == current:
        print(f"version {current} is already current for {account}; nothing changed")
        return 0
    version = store.rollback(account, args.version, datetime.now(UTC))
    print(f"{account}: version {version} is current, with the triggers of version {args.version}")
    return 0
