"""``sms-automation triggers``: the JSON Schema, validation and dry runs of trigger files.

Nothing here talks to AWS or Twilio (the stored versions, ``push|list|show|rollback``, live in
``trigger_versions``): ``test`` evaluates a file against a message you describe and prints what
would happen, sending nothing. It pauses at a ``wait_for_reply`` as a real run does, or goes on
through the conversation with the contact's replies given by ``--reply``
(``conversations.dry_run``); ``automations test`` shares its options and its report.
``validate`` refuses a ``record`` into the deployment's own table when that table is known
without an AWS call (``SMS_AUTOMATION_TABLE`` set); ``push`` always does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from sms_automation.conversations import dry_run_report
from sms_automation.conversations.dry_run import ConversationDryRun
from sms_automation.conversations.dry_run_report import (
    described_message,
    dry_run_json,
    opt_out_keyword,
)
from sms_automation.triggers import (
    AccountSettings,
    Engine,
    TriggerFileError,
    TriggerSet,
    json_schema,
    load_trigger_file,
)
from sms_automation.triggers.variables import VarValue
from sms_automation.webhooks.inbound_message import thinkautomation_text
from sms_automation_cli import trigger_versions
from sms_automation_cli.argtypes import time_zone_name
from sms_automation_cli.context import CliContext


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = groups.add_parser(
        "triggers", help="trigger files: schema, validate, dry-run test; push, list, rollback"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")

    schema = commands.add_parser("schema", help="print the JSON Schema of a trigger file")
    schema.set_defaults(func=_schema)

    validate = commands.add_parser("validate", help="check trigger files; errors as file:line")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.set_defaults(func=_validate)

    test = commands.add_parser(
        "test", help="dry run: which triggers match a message and what they would do"
    )
    test.add_argument("file", metavar="FILE")
    test.add_argument("--from", dest="sender", required=True, help="the sender's number")
    test.add_argument("--to", dest="receiver", required=True, help="your Twilio number")
    test.add_argument("--body", required=True, help="the message text")
    test.add_argument("--media-url", action="append", default=[], metavar="URL")
    test.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="another message field, e.g. ToCountry=GB (repeatable)",
    )
    add_dry_run_options(test)
    test.set_defaults(func=_test)

    trigger_versions.register(commands)  # push, list, show, rollback: stored per account


def add_dry_run_options(test: argparse.ArgumentParser) -> None:
    """The options ``triggers test`` and ``automations test`` share."""
    test.add_argument("--account", default="dry-run", help="the account name (%%account%%)")
    test.add_argument(
        "--timezone", type=time_zone_name, default=None, help="the account's IANA time zone"
    )
    test.add_argument("--now", default=None, help="ISO time to evaluate at (default: now)")
    test.add_argument(
        "--reply",
        dest="replies",
        action="append",
        default=[],
        metavar="TEXT",
        help="the contact's next reply to a wait_for_reply, decided by its expect "
        "(repeatable, in order; without: the run stops at the first wait)",
    )
    test.add_argument("--json", action="store_true", help="print the evaluation as JSON")


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0


def _validate(args: argparse.Namespace) -> int:
    failed = False
    app_table = _known_app_table(args)
    for path in args.files:
        try:
            trigger_set = load_trigger_file(path, app_table=app_table)
        except TriggerFileError as error:
            failed = True
            for problem in error.problems:
                print(problem, file=sys.stderr)
            continue
        print(f"{path}: ok: {_summary(trigger_set)}")
    return 1 if failed else 0


def _known_app_table(args: argparse.Namespace) -> str | None:
    """The deployment's table when known without an AWS call (``validate`` works offline):
    a ``record`` naming it is refused here too, not only by ``push`` and at run time."""
    context: CliContext | None = getattr(args, "context", None)
    return context.known_table_name() if context is not None else None


def _summary(trigger_set: TriggerSet) -> str:
    enabled = sum(1 for trigger in trigger_set.triggers if trigger.enabled)
    actions = sum(len(trigger.actions) for trigger in trigger_set.triggers)
    summary = (
        f"{len(trigger_set.triggers)} trigger(s), {enabled} enabled, {actions} top-level action(s)"
    )
    if trigger_set.automations:
        schedules = sum(len(a.schedules) for a in trigger_set.automations)
        summary += f"; {len(trigger_set.automations)} automation(s), {schedules} schedule(s)"
    return summary


def load_for_dry_run(
    args: argparse.Namespace,
) -> tuple[TriggerSet, AccountSettings, dt.datetime] | int:
    """``args.file``, ``--account``/``--timezone`` and ``--now`` read, or the exit code after
    printing what is wrong (1: the file, 2: an option)."""
    try:
        trigger_set = load_trigger_file(args.file)
        account = AccountSettings(args.account, args.timezone)
        return trigger_set, account, parse_now(args.now, account.zone)
    except TriggerFileError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def dry_run(
    engine: Engine,
    message: Mapping[str, VarValue],
    args: argparse.Namespace,
    account: AccountSettings,
    now: dt.datetime,
    *,
    automation: str | None = None,
) -> ConversationDryRun:
    """``dry_run_report.dry_run`` with ``--reply``'s replies."""
    return dry_run_report.dry_run(
        engine, message, args.replies, account, now, automation=automation
    )


def print_dry_run(result: ConversationDryRun, *, as_json: bool) -> int:
    if as_json:
        print(json.dumps(dry_run_json(result), indent=2, ensure_ascii=False))
    else:
        print(dry_run_report.dry_run_report(result))
    return 0


def _test(args: argparse.Namespace) -> int:
    loaded = load_for_dry_run(args)
    if isinstance(loaded, int):
        return loaded
    trigger_set, account, now = loaded
    try:
        message = _message(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    result = dry_run(Engine(trigger_set), message, args, account, now)
    text = thinkautomation_text(message, {})
    keyword = opt_out_keyword(message)
    if args.json:
        payload = {
            "thinkautomation_text": text,
            "opt_out_keyword": keyword,
            **dry_run_json(result),
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    print("message (ThinkAutomation text):")
    print("".join(f"  {line}\n" for line in text.splitlines()), end="")
    if keyword is not None:
        print(
            f"opt-out keyword {keyword}: only triggers with on_opt_out run "
            "(a real run also records the contact as opted out)"
        )
    return print_dry_run(result, as_json=False)


def parse_now(value: str | None, zone: ZoneInfo) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"--now {value!r} is not an ISO date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _message(args: argparse.Namespace) -> dict[str, str]:
    fields: list[tuple[str, str]] = []
    for assignment in args.field:
        name, separator, value = assignment.partition("=")
        if not separator or not name:
            raise ValueError(f"--field {assignment!r}: write NAME=VALUE")
        fields.append((name, value))
    return described_message(
        args.sender, args.receiver, args.body, media_urls=args.media_url, fields=fields
    )
