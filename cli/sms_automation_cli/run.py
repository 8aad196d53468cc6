"""``sms-automation run ACCOUNT NAME --to N``: start an automation for a contact.

The start goes through ``AutomationStarter`` with the CLI's own AWS credentials, exactly as the
HTTP API's does (the account's current trigger file, the same input checks, nothing stored for
a rejected request); the run is recorded as started by the CLI, by the caller's IAM identity.
It prints the run id; ``--follow`` then prints the run's progress until it ends.

Exit codes: 0 started (and, with ``--follow``, ended); 2 invalid input (every problem named);
1 unknown account or automation, disabled automation, idempotency conflict, AWS failing (one
line: the error code, and "try again" when a retry may succeed, else what to check);
3 ``--follow`` gave up at ``--timeout`` with the run still going; 130 Ctrl-C (the run goes on).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from time import monotonic, sleep
from typing import Any

import boto3
from botocore.config import Config

from sms_automation.adapters.aws_failures import AWS_ERRORS
from sms_automation.automations.service import (
    AutomationStarter,
    RunStoreUnavailable,
    StartedRun,
)
from sms_automation.automations.start import (
    PinnedTriggers,
    Problem,
    RejectionReason,
    StartRejected,
    StartRequest,
    StartSource,
    build_origin,
)
from sms_automation.composition.automations import describe_run, dynamo_starter
from sms_automation.triggers.model import Automation
from sms_automation_cli.argtypes import account_name
from sms_automation_cli.aws_errors import aws_failure
from sms_automation_cli.context import CliContext
from sms_automation_cli.run_progress import RunProgress, event_json, event_line

POLL_SECONDS = 1.0
DEFAULT_FOLLOW_TIMEOUT = 600.0
EXIT_INVALID = 2
EXIT_REJECTED = 1
EXIT_STILL_RUNNING = 3
EXIT_INTERRUPTED = 130
ANONYMOUS_CALLER = "cli"
CHECK_ONLY = "RU" + "0" * 32
"""The run id of an origin built only to check a request (never stored)."""
_STS_CONFIG = Config(connect_timeout=5, read_timeout=5, retries={"total_max_attempts": 2})


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = groups.add_parser(
        "run", help="start an automation for a contact (--follow: print its progress)"
    )
    parser.add_argument("account", type=account_name, metavar="ACCOUNT")
    parser.add_argument("automation", metavar="NAME", help="the automation's name in the file")
    add_start_arguments(parser)
    parser.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="a retry with the same key (and request) starts no second run",
    )
    parser.add_argument("--follow", action="store_true", help="print the run's progress")
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_FOLLOW_TIMEOUT,
        metavar="SECONDS",
        help=f"with --follow: give up after this long, exit 3 (default {DEFAULT_FOLLOW_TIMEOUT:g})",
    )
    parser.add_argument("--json", action="store_true", help="JSON output (one object a line)")
    parser.set_defaults(func=run_automation)


def add_start_arguments(parser: argparse.ArgumentParser) -> None:
    """The contact, our number and the inputs: shared with ``automations test``."""
    parser.add_argument("--to", required=True, help="the contact: +E.164 or whatsapp:+E.164")
    parser.add_argument(
        "--from", dest="our_number", help="our number (default: the automation's 'from')"
    )
    parser.add_argument(
        "--var",
        dest="variables",
        type=variable,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an input of the automation (repeatable)",
    )


def variable(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name.strip():
        raise argparse.ArgumentTypeError("expected NAME=VALUE")
    return name.strip(), value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number of seconds") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError("expected a number of seconds, 0 or more")
    return value


def variables_from(pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, str], list[Problem]]:
    """``--var`` values by name, and a problem for each name given more than once."""
    variables: dict[str, str] = {}
    problems = []
    for name, value in pairs:
        if name in variables:
            problems.append(Problem(f"variables.{name}", "given more than once"))
        variables[name] = value
    return variables, problems


def checked_origin(
    automation: Automation,
    request: StartRequest,
    cli_problems: Sequence[Problem],
    *,
    pinned: PinnedTriggers,
    run_id: str,
    requested_at: str,
) -> dict[str, Any]:
    """``build_origin``, the command line's own problems named beside the request's."""
    try:
        origin = build_origin(
            automation, request, pinned=pinned, run_id=run_id, requested_at=requested_at
        )
    except StartRejected as rejected:
        if not cli_problems or rejected.reason is not RejectionReason.INVALID_REQUEST:
            raise
        raise _invalid([*cli_problems, *rejected.problems]) from None
    if cli_problems:
        raise _invalid(cli_problems)
    return origin


def _invalid(problems: Sequence[Problem]) -> StartRejected:
    return StartRejected(
        RejectionReason.INVALID_REQUEST,
        "; ".join(f"{p.field}: {p.message}" for p in problems),
        tuple(problems),
    )


def start(
    starter: AutomationStarter, request: StartRequest, cli_problems: Sequence[Problem]
) -> StartedRun:
    """Start the run, or ``StartRejected`` naming every problem; nothing is stored for one."""
    if cli_problems:
        automation, pinned = starter.find(request.account, request.automation)
        checked_origin(
            automation, request, cli_problems, pinned=pinned, run_id=CHECK_ONLY, requested_at=""
        )
    return starter.start(request)


def caller_identity() -> str:
    """The caller's IAM ARN (what the run records as who started it), else ``"cli"``."""
    try:
        return str(boto3.client("sts", config=_STS_CONFIG).get_caller_identity()["Arn"])
    except (*AWS_ERRORS, KeyError):
        return ANONYMOUS_CALLER


def print_rejection(rejected: StartRejected, *, as_json: bool) -> int:
    """Every problem on its own line, naming the field; the exit code for the rejection."""
    if as_json:
        print(json.dumps({**rejected.as_dict(), "status": rejected.status}))
    elif rejected.problems:
        print(f"error: {len(rejected.problems)} problem(s), nothing started:", file=sys.stderr)
        for problem in rejected.problems:
            print(f"  {problem.field}: {problem.message}", file=sys.stderr)
    else:
        print(f"error: {rejected.message}", file=sys.stderr)
    return EXIT_INVALID if rejected.reason is RejectionReason.INVALID_REQUEST else EXIT_REJECTED


def start_request(
    args: argparse.Namespace,
    automation: str,
    variables: dict[str, str],
    *,
    idempotency_key: str | None = None,
    requested_by: str = "",
) -> StartRequest:
    """The start the options of ``add_start_arguments`` describe (a dry run: no key, no one)."""
    return StartRequest(
        account=args.account,
        automation=automation,
        to=args.to,
        variables=variables,
        from_=args.our_number,
        idempotency_key=idempotency_key,
        source=StartSource.CLI,
        requested_by=requested_by,
    )


def run_automation(args: argparse.Namespace) -> int:
    context: CliContext = args.context
    variables, cli_problems = variables_from(args.variables)
    request = start_request(
        args,
        args.automation,
        variables,
        idempotency_key=args.idempotency_key,
        requested_by=caller_identity(),
    )
    try:
        started = start(dynamo_starter(context.table_name, context.dynamodb), request, cli_problems)
    except StartRejected as rejected:
        return print_rejection(rejected, as_json=args.json)
    except RunStoreUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_REJECTED
    except AWS_ERRORS as error:
        print(aws_failure(error, context, "nothing was started"), file=sys.stderr)
        return EXIT_REJECTED
    if args.json:
        print(json.dumps(started.as_dict()))
    else:
        print(started.run_id)
    if not started.created:
        print(
            "note: this idempotency key already started this run; nothing new was started",
            file=sys.stderr,
        )
    if not args.follow:
        if not args.json:
            print(f"see it: sms-automation automations show {started.run_id}", file=sys.stderr)
        return 0
    return follow(context, started.run_id, timeout=args.timeout, as_json=args.json)


def follow(context: CliContext, run_id: str, *, timeout: float, as_json: bool) -> int:
    """Print the run's new events about every second until it ends or ``timeout`` passes."""
    deadline = monotonic() + timeout
    progress = RunProgress()
    try:
        while True:
            view = describe_run(context.table_name, context.dynamodb, run_id)
            if view is None:
                print(f"error: no run {run_id}", file=sys.stderr)
                return EXIT_REJECTED
            for event in progress.changes(view):
                print(event_json(event) if as_json else event_line(event), flush=True)
            if view["ended"]:
                return 0
            left = deadline - monotonic()
            if left <= 0:
                print(
                    f"timed out after {timeout:g} s; run {run_id} is {view['status']} and goes "
                    f"on: sms-automation automations show {run_id}",
                    file=sys.stderr,
                )
                return EXIT_STILL_RUNNING
            sleep(min(POLL_SECONDS, left))
    except KeyboardInterrupt:
        print(
            f"\nstopped following; run {run_id} goes on: sms-automation automations show {run_id}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except AWS_ERRORS as error:
        goes_on = f"run {run_id} goes on: sms-automation automations show {run_id}"
        print(aws_failure(error, context, goes_on), file=sys.stderr)
        return EXIT_REJECTED
