"""``sms-automation automations list|runs|show|test``: named automations and their runs.

``list`` reads the account's current (pushed) trigger file; ``runs`` and ``show`` read the runs
stored by any way of starting (API, event, schedule, CLI); ``test`` is a dry run of an
automation in a local file, its inputs checked by the same rules as a start. Starting one is
``sms-automation run``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sms_automation.adapters.account_store import DynamoAccountStore
from sms_automation.adapters.trigger_store import DynamoTriggerStore
from sms_automation.automations.start import (
    PinnedTriggers,
    StartRejected,
)
from sms_automation.composition.automations import describe_run, list_runs
from sms_automation.triggers import Engine, parse_trigger_text
from sms_automation.triggers.model import Automation
from sms_automation_cli.argtypes import account_name, positive_int
from sms_automation_cli.context import CliContext
from sms_automation_cli.run import (
    CHECK_ONLY,
    add_start_arguments,
    checked_origin,
    print_rejection,
    start_request,
    variables_from,
)
from sms_automation_cli.run_progress import RunProgress, event_line
from sms_automation_cli.triggers import (
    add_dry_run_options,
    dry_run,
    load_for_dry_run,
    print_dry_run,
)


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = groups.add_parser(
        "automations", help="named automations: list, runs, show a run, dry-run test"
    )
    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="the automations in the account's trigger file")
    listing.add_argument("account", type=account_name, metavar="ACCOUNT")
    listing.add_argument("--json", action="store_true", help="one JSON object per automation")
    listing.set_defaults(func=list_automations)

    runs = commands.add_parser("runs", help="an account's runs, newest first")
    runs.add_argument("account", type=account_name, metavar="ACCOUNT")
    runs.add_argument("automation", nargs="?", metavar="NAME", help="only this automation's")
    runs.add_argument("--limit", type=positive_int, default=20, help="at most this many (20)")
    runs.add_argument("--json", action="store_true", help="one JSON object per line")
    runs.set_defaults(func=show_runs)

    show = commands.add_parser("show", help="one run: status, inputs, steps, conversations")
    show.add_argument("run_id", metavar="RUN_ID")
    show.add_argument("--json", action="store_true", help="the run as JSON")
    show.set_defaults(func=show_run)

    test = commands.add_parser(
        "test", help="dry run of an automation in a local file: what a start would do"
    )
    test.add_argument("file", metavar="FILE")
    test.add_argument("automation", metavar="NAME")
    add_start_arguments(test)
    add_dry_run_options(test)
    test.set_defaults(func=test_automation)


def list_automations(args: argparse.Namespace) -> int:
    context: CliContext = args.context
    if DynamoAccountStore(context.table_name, context.dynamodb).get(args.account) is None:
        print(f"error: no account named {args.account!r}", file=sys.stderr)
        return 1
    stored = DynamoTriggerStore(context.table_name, context.dynamodb).current(args.account)
    if stored is None:
        print(f"account {args.account!r} has no trigger file yet (sms-automation triggers push)")
        return 0
    source, filename = stored.source, f"v{stored.version}"
    automations = parse_trigger_text(source, filename=filename, stored=True).automations
    if args.json:
        for automation in automations:
            print(json.dumps(_automation_dict(automation, stored.version), ensure_ascii=False))
        return 0
    if not automations:
        print(f"trigger version {stored.version} of {args.account!r} has no automations")
        return 0
    print(f"trigger version {stored.version} of {args.account!r}:")
    for automation in automations:
        print(_automation_text(automation))
    return 0


def _automation_dict(automation: Automation, version: int) -> dict[str, Any]:
    return {
        "name": automation.name,
        "enabled": automation.enabled,
        "description": automation.description,
        "from": automation.from_,
        "trigger_version": version,
        "inputs": [item.model_dump(exclude={"description"}) for item in automation.inputs],
        "schedules": [
            schedule.model_dump(by_alias=True, exclude={"variables"})
            for schedule in automation.schedules
        ],
    }


def _automation_text(automation: Automation) -> str:
    state = "enabled" if automation.enabled else "disabled"
    sender = f", from {automation.from_}" if automation.from_ else ", no 'from' (give --from)"
    lines = [f"{automation.name} ({state}{sender})"]
    if automation.description:
        lines.append(f"  {automation.description}")
    for item in automation.inputs:
        need = "required" if item.required else f"default {item.default or ''!r}"
        about = f": {item.description}" if item.description else ""
        lines.append(f"  input {item.name} ({item.type}, {need}){about}")
    for schedule in automation.schedules:
        zone = f" {schedule.timezone}" if schedule.timezone else ""
        off = "" if schedule.enabled else " (disabled)"
        lines.append(f"  schedule {schedule.expression}{zone} for {schedule.audience}{off}")
    return "\n".join(lines)


def show_runs(args: argparse.Namespace) -> int:
    context: CliContext = args.context
    runs = list_runs(
        context.table_name,
        context.dynamodb,
        args.account,
        automation=args.automation,
        limit=args.limit,
    )
    if args.json:
        for run in runs:
            print(json.dumps(run, ensure_ascii=False))
        return 0
    if not runs:
        print("no runs yet")
        return 0
    print(f"{'REQUESTED':<25} {'RUN':<34} {'STATUS':<10} {'SOURCE':<9} AUTOMATION")
    for run in runs:
        print(
            f"{run['requested_at']:<25} {run['run_id']:<34} {run['status']:<10} "
            f"{run['source']:<9} {run['automation']}"
        )
    return 0


def show_run(args: argparse.Namespace) -> int:
    context: CliContext = args.context
    view = describe_run(context.table_name, context.dynamodb, args.run_id)
    if view is None:
        print(
            f"error: no run {args.run_id!r} (see: sms-automation automations runs ACCOUNT)",
            file=sys.stderr,
        )
        return 1
    if args.json:
        print(json.dumps(view, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        sys.stdout.write(run_as_text(view))
    return 0


def run_as_text(view: dict[str, Any]) -> str:
    lines = [
        f"{view['run_id']}: {view['automation']} for {view['to']} from {view['from']}, "
        f"account {view['account']}, {view['status']}",
        f"started by {view['source']} ({view['requested_by'] or 'unknown'}) at "
        f"{view['requested_at']}, trigger version {view['trigger_version']}",
    ]
    lines += [f"input {name} = {value!r}" for name, value in view["variables"].items()]
    if view["status"] == "paused" and view["waiting_at"]:
        lines.append(f"waiting at {view['waiting_at']}")
    lines += [event_line(event) for event in RunProgress().changes(view)]
    return "\n".join(lines) + "\n"


def test_automation(args: argparse.Namespace) -> int:
    loaded = load_for_dry_run(args)
    if isinstance(loaded, int):
        return loaded
    trigger_set, account, now = loaded
    automation = trigger_set.automation(args.automation)
    if automation is None:
        known = ", ".join(a.name for a in trigger_set.automations) or "none"
        print(
            f"error: {args.file} has no automation {args.automation!r} (automations: {known})",
            file=sys.stderr,
        )
        return 1
    variables, cli_problems = variables_from(args.variables)
    request = start_request(args, automation.name, variables)
    try:
        origin = checked_origin(
            automation,
            request,
            cli_problems,
            pinned=PinnedTriggers(version=0, fingerprint=""),
            run_id=CHECK_ONLY,
            requested_at=now.isoformat(),
        )
    except StartRejected as rejected:
        return print_rejection(rejected, as_json=args.json)
    result = dry_run(
        Engine(trigger_set), origin["params"], args, account, now, automation=origin["automation"]
    )
    if not args.json:
        print(f"run {automation.name!r} for {origin['to']} from {origin['from']}")
    return print_dry_run(result, as_json=args.json)
