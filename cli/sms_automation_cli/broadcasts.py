"""``sms-automation broadcast``: start an automation for every row of a file, and follow it.

- ``broadcast start ACCOUNT AUTOMATION FILE`` uploads the CSV or JSON Lines file to the
  broadcasts bucket, starts the broadcast (docs/broadcasts.md) and shows a progress bar until
  it ends; Ctrl-C leaves it running (``broadcast status ID`` finds it again). ``--no-wait``
  prints the id and returns at once.
- ``broadcast status|pause|resume|cancel ID``.
- ``broadcast report ID [--json]``: started, sent, delivered, failed by error code, answered by
  answer, opted out, skipped, invalid (with the bad rows' lines).

Exit codes: 0 done; 1 refused (unknown account, automation or broadcast, a state that does not
allow the change, a failed broadcast) or AWS failing; 2 a file the broadcast cannot take;
130 Ctrl-C (the broadcast goes on).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from time import sleep
from typing import Any, Final

from sms_automation.automations.start import StartRejected
from sms_automation.broadcast_uploads import upload_prefix
from sms_automation.broadcasts import rows
from sms_automation.broadcasts.service import (
    ENDED,
    BroadcastNotFound,
    Broadcasts,
    BroadcastStateConflict,
    Status,
)
from sms_automation.composition.broadcasts import broadcast_report, broadcasts
from sms_automation.edge.printable import printable
from sms_automation.edge.settings import BroadcastSettings
from sms_automation_cli.argtypes import account_name
from sms_automation_cli.context import CliContext
from sms_automation_cli.run import caller_identity

POLL_SECONDS: Final = 1.0
BAR_WIDTH: Final = 30
REPORT_THREADS: Final = 16
EXIT_REFUSED: Final = 1
EXIT_BAD_FILE: Final = 2
EXIT_INTERRUPTED: Final = 130
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = groups.add_parser(
        "broadcast", help="start an automation for every row of a CSV or JSON Lines file"
    )
    commands = parser.add_subparsers(dest="broadcast_command", required=True)
    start = commands.add_parser("start", help="upload FILE and start the broadcast")
    start.add_argument("account", type=account_name, metavar="ACCOUNT")
    start.add_argument("automation", metavar="AUTOMATION")
    start.add_argument("file", type=Path, metavar="FILE", help="a .csv or .jsonl file")
    start.add_argument(
        "--idempotency-key", metavar="KEY", help="a retry with the same key starts nothing new"
    )
    start.add_argument("--no-wait", action="store_true", help="print the id and return")
    start.set_defaults(func=start_broadcast)
    for name, summary, func in (
        ("status", "the broadcast's status and progress", show_status),
        ("pause", "start no more rows until resumed", pause),
        ("resume", "start the remaining rows", resume),
        ("cancel", "start no more rows, for good", cancel),
    ):
        command = commands.add_parser(name, help=summary)
        command.add_argument("broadcast_id", metavar="ID")
        command.add_argument("--json", action="store_true", help="JSON output")
        command.set_defaults(func=func)
    report = commands.add_parser("report", help="what became of every row")
    report.add_argument("broadcast_id", metavar="ID")
    report.add_argument("--json", action="store_true", help="JSON output")
    report.set_defaults(func=show_report)


def service(context: CliContext) -> Broadcasts:
    settings = BroadcastSettings(
        table_name=context.table_name,
        bucket=context.broadcasts_bucket,
        state_machine_arn=context.broadcast_state_machine_arn,
    )
    return broadcasts(
        settings, dynamodb=context.dynamodb, s3=context.s3, states=context.stepfunctions
    )


def upload_key(account: str, file: Path, idempotency_key: str | None = None) -> str:
    """``uploads/{account}/{prefix}-{name}``: the name kept (its extension says the format); the
    prefix random, or from the idempotency key, so a retried start names the same file and is
    the same broadcast."""
    name = _UNSAFE.sub("-", file.name)[-100:] or "file"
    if idempotency_key is None:
        prefix = uuid.uuid4().hex[:12]
    else:
        prefix = hashlib.sha256(f"{account}\n{idempotency_key}".encode()).hexdigest()[:12]
    return f"{upload_prefix(account)}{prefix}-{name}"


def start_broadcast(args: argparse.Namespace) -> int:
    context: CliContext = args.context
    file: Path = args.file
    try:
        rows.file_format(file.name)
        size = file.stat().st_size
    except (rows.FileRejected, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_FILE
    if size > rows.MAX_FILE_BYTES:
        print(f"error: {file} is larger than {rows.MAX_FILE_BYTES // 2**20} MiB", file=sys.stderr)
        return EXIT_BAD_FILE
    key = upload_key(args.account, file, args.idempotency_key)
    context.s3.upload_file(str(file), context.broadcasts_bucket, key)
    broadcasts_service = service(context)
    try:
        record = broadcasts_service.create(
            args.account,
            args.automation,
            key,
            requested_by=caller_identity(),
            idempotency_key=args.idempotency_key,
        )
    except StartRejected as rejected:
        print(f"error: {rejected.message}", file=sys.stderr)
        return EXIT_REFUSED
    broadcast_id = str(record["broadcast_id"])
    print(broadcast_id)
    if args.no_wait:
        return 0
    try:
        view = follow(broadcasts_service, broadcast_id, _progress_line)
    except KeyboardInterrupt:
        print(f"\nleft running: sms-automation broadcast status {broadcast_id}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(file=sys.stderr)
    print(status_text(view))
    return 0 if view["status"] == Status.COMPLETED else EXIT_REFUSED


def follow(
    broadcasts_service: Broadcasts,
    broadcast_id: str,
    show: Callable[[dict[str, Any]], None],
    *,
    wait: Callable[[float], None] = sleep,
) -> dict[str, Any]:
    """Poll until the broadcast ends, showing each view; the last view. The first read waits a
    poll: the execution was started a moment ago."""
    while True:
        wait(POLL_SECONDS)
        view = broadcasts_service.describe(broadcast_id)
        if view is None:
            raise BroadcastNotFound(f"there is no broadcast {broadcast_id}")
        show(view)
        if Status(view["status"]) in ENDED and view.get("execution") != "RUNNING":
            return view


def progress_bar(view: dict[str, Any]) -> str:
    """Rows offered by the current execution's Map Run; all of them once it has ended."""
    valid = int((view.get("counts") or {}).get("valid") or 0)
    total = int(view.get("rows_total") or valid)
    done = total if "rows_done" not in view else min(int(view["rows_done"]), total)
    filled = BAR_WIDTH * done // total if total else 0
    return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} rows  {view['status']}"


def _progress_line(view: dict[str, Any]) -> None:
    print("\r" + progress_bar(view), end="", file=sys.stderr, flush=True)


def show_status(args: argparse.Namespace) -> int:
    return _answer(args, lambda s: s.describe(args.broadcast_id))


def pause(args: argparse.Namespace) -> int:
    return _answer(args, lambda s: s.pause(_known(s, args.broadcast_id)))


def resume(args: argparse.Namespace) -> int:
    return _answer(args, lambda s: s.resume(_known(s, args.broadcast_id)))


def cancel(args: argparse.Namespace) -> int:
    return _answer(args, lambda s: s.cancel(_known(s, args.broadcast_id)))


def _known(broadcasts_service: Broadcasts, broadcast_id: str) -> str:
    if broadcasts_service.get(broadcast_id) is None:
        raise BroadcastNotFound(f"there is no broadcast {broadcast_id[:40]!r}")
    return broadcast_id


def _answer(args: argparse.Namespace, action: Callable[[Broadcasts], Any]) -> int:
    try:
        view = action(service(args.context))
        if view is None:
            raise BroadcastNotFound(f"there is no broadcast {args.broadcast_id[:40]!r}")
    except (BroadcastNotFound, BroadcastStateConflict) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_REFUSED
    print(json.dumps(view) if args.json else status_text(view))
    return 0


def status_text(view: dict[str, Any]) -> str:
    counts = view.get("counts") or {}
    lines = [
        f"broadcast {view['broadcast_id']}: {view['status']} "
        f"({view['account']} / {view['automation']}, attempt {view.get('attempt', 1)})",
        "rows: " + ", ".join(f"{name} {counts.get(name, 0)}" for name in rows.Checked().counts()),
    ]
    if "execution" in view:
        lines.append(f"progress: {progress_bar(view)}")
    lines += [
        f"  line {bad['line']}: {printable('; '.join(bad['problems']))}"
        for bad in view.get("bad_rows", [])
    ]
    if view.get("failure"):
        lines.append(f"failed: {printable(str(view['failure']))}")
    return "\n".join(lines)


def report(context: CliContext, broadcast_id: str) -> dict[str, Any] | None:
    """The broadcast's report: each row's run read in parallel (``REPORT_THREADS``)."""
    broadcasts_service = service(context)
    record = broadcasts_service.get(broadcast_id)
    if record is None:
        return None
    return broadcast_report(
        broadcasts_service,
        record,
        table_name=context.table_name,
        dynamodb=context.dynamodb,
        threads=REPORT_THREADS,
    )


def show_report(args: argparse.Namespace) -> int:
    built = report(args.context, args.broadcast_id)
    if built is None:
        print(f"error: there is no broadcast {args.broadcast_id[:40]!r}", file=sys.stderr)
        return EXIT_REFUSED
    if args.json:
        print(json.dumps(built))
        return 0
    print(f"broadcast {built['broadcast_id']}: {built['status']} ({built['automation']})")
    for name in (
        "rows",
        "started",
        "sent",
        "delivered",
        "opted_out",
        "skipped",
        "invalid",
        "waiting",
    ):
        print(f"  {name.replace('_', ' ')}: {built[name]}")
    for title, counted in (("failed", built["failed"]), ("answered", built["answered"])):
        total = sum(counted.values())
        detail = ", ".join(f"{key} {value}" for key, value in counted.items())
        print(f"  {title}: {total}" + (f" ({detail})" if detail else ""))
    for bad in built["invalid_rows"]:
        print(f"  line {bad['line']}: {printable('; '.join(bad['problems']))}")
    return 0
