"""``sms-automation dead-letters list|redrive``: stream batches the trigger processor gave up on.

A dead letter (an entry of the processor's dead-letter queue) describes a batch (shard, sequence
range, why it was dropped), not its messages. ``list`` reads each range back from the table's
stream (held for 24 hours) to name the messages it covers; ``redrive`` replays them through the
deployed processor from their current table items and deletes an entry only when all its
messages were processed. Replays are safe: the processor performs no step twice. Message bodies
and phone numbers are never printed.

``dlq`` is the group's former name, still accepted (not listed in the help); it prints a one-line
deprecation notice to stderr, then runs the same command.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sms_automation.adapters.account_store import DynamoAccountStore
from sms_automation.adapters.dead_letter_queue import SqsDeadLetterQueue
from sms_automation.adapters.dynamo_stream import DynamoStreamRecords
from sms_automation.adapters.evaluation_store import DynamoEvaluationStore
from sms_automation.adapters.lambda_invoker import LambdaInvoker
from sms_automation.adapters.replay_sources import DynamoReceivedMessages, DynamoStoredMessages
from sms_automation.dead_letters.batch import FailedBatch
from sms_automation.dead_letters.invoker import ProcessorInvoker
from sms_automation.dead_letters.pending import unfinished_messages
from sms_automation.dead_letters.ports import MessageRef
from sms_automation.dead_letters.queue import DeadLetter
from sms_automation.dead_letters.redrive import (
    DeadLetterRedrive,
    EntryReport,
    SurveyedEntry,
    survey,
)
from sms_automation.dead_letters.replay import MessageReport, Outcome, Replayer
from sms_automation.dead_letters.stream import BatchResolver, Resolution, StreamState
from sms_automation.edge.timestamps import utc_timestamp
from sms_automation_cli.argtypes import positive_int
from sms_automation_cli.context import CliContext

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_LEFT_OVER: Final = 3

DEFAULT_LIMIT: Final = 100
DEFAULT_VISIBILITY_TIMEOUT: Final = 900
# A message is received a moment before the stream records its write.
_WINDOW_BEFORE = timedelta(minutes=5)
_WINDOW_AFTER = timedelta(minutes=1)

_EXIT_CODES = """\
exit codes:
  0  done (redrive: every entry replayed and deleted, or nothing to do; always for --dry-run)
  1  AWS or the deployment could not be reached, or the confirmation was declined
  2  usage error (also: no --yes and no terminal to ask on)
  3  something is left: an entry stays in the queue (malformed, stream records expired,
     a message still failing or not found), or a message of --since still fails
"""


GROUP: Final = "dead-letters"
DEPRECATED_GROUP: Final = "dlq"
DEPRECATION_NOTICE: Final = (
    f"warning: `sms-automation {DEPRECATED_GROUP}` is deprecated; "
    f"use `sms-automation {GROUP}` (the same commands)"
)


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _register(
        groups.add_parser(
            GROUP,
            help="stream batches the trigger processor gave up on: list, redrive",
            description=__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog=_EXIT_CODES,
        ),
        announce=None,
    )
    # No ``help``: argparse lists a subcommand only when it has one, so the old name is hidden.
    _register(
        groups.add_parser(
            DEPRECATED_GROUP,
            description=f"{DEPRECATION_NOTICE}\n\n{__doc__}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog=_EXIT_CODES,
        ),
        announce=DEPRECATION_NOTICE,
    )


def _announcing(notice: str | None, command: Callable[..., int]) -> Callable[..., int]:
    if notice is None:
        return command

    def announced(args: argparse.Namespace, **kwargs: Any) -> int:
        print(notice, file=sys.stderr)
        return command(args, **kwargs)

    return announced


def _register(group: argparse.ArgumentParser, *, announce: str | None) -> None:
    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = commands.add_parser(
        "list",
        help="each failed batch: when, why, attempts, range, its messages",
        description="List the dead letters (the queue is left as it was).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_EXIT_CODES,
    )
    listing.add_argument("--json", action="store_true", help="one JSON object per entry")
    listing.add_argument(
        "--limit", type=positive_int, default=DEFAULT_LIMIT, help="at most N (100)"
    )
    listing.set_defaults(func=_announcing(announce, list_entries))

    redrive = commands.add_parser(
        "redrive",
        help="replay the entries' messages through the processor; delete what processed",
        description=textwrap.dedent(
            """\
            Replay each entry's messages through the trigger processor (a synchronous invoke
            of the deployed function), from their current table items. An entry is deleted
            only when every one of its messages processed; the others stay in the queue.

            Entries older than 24 hours can no longer be read back from the stream: replay
            them by receive time with --since/--until (inbound messages whose processing
            never finished, per account). Those entries stay in the queue until its 14-day
            retention drops them, or until you delete them (e.g. in the SQS console)."""
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_EXIT_CODES,
    )
    redrive.add_argument("--dry-run", action="store_true", help="show what would be replayed")
    redrive.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    redrive.add_argument(
        "--limit", type=positive_int, default=DEFAULT_LIMIT, help="at most N (100)"
    )
    redrive.add_argument(
        "--visibility-timeout",
        type=positive_int,
        default=DEFAULT_VISIBILITY_TIMEOUT,
        metavar="SECONDS",
        help="entries stay hidden from others this long while being replayed (900)",
    )
    redrive.add_argument(
        "--since",
        type=_moment,
        metavar="TIME",
        help="instead of the entries: unfinished messages received at or after TIME (ISO 8601)",
    )
    redrive.add_argument(
        "--until", type=_moment, metavar="TIME", help="with --since: up to TIME (default: now)"
    )
    redrive.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="NAME",
        help="with --since: only this account (repeatable; default: every account)",
    )
    redrive.set_defaults(func=_announcing(announce, redrive_command))


# --- argument types ---------------------------------------------------------------------------


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            "must be an ISO 8601 time, e.g. 2025-06-05T18:00:00Z (UTC when no offset)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


# --- list -------------------------------------------------------------------------------------


def list_entries(args: argparse.Namespace) -> int:
    context: CliContext = args.context
    queue = SqsDeadLetterQueue(context.dlq_url, context.sqs)
    resolver = BatchResolver(DynamoStreamRecords(context.dynamodbstreams))
    entries = survey(queue, resolver, limit=args.limit)
    if args.json:
        for surveyed in entries:
            print(json.dumps(_entry_json(surveyed), sort_keys=True))
        return EXIT_OK
    if not entries:
        print("no dead letters")
        return EXIT_OK
    for surveyed in entries:
        _print_entry(surveyed.entry, surveyed.resolution)
    print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}")
    return EXIT_OK


def _entry_json(surveyed: SurveyedEntry) -> dict[str, Any]:
    entry, resolution = surveyed.entry, surveyed.resolution
    document: dict[str, Any] = {"entry": entry.message_id}
    if entry.batch is None:
        document["malformed"] = entry.problem
        return document
    batch = entry.batch
    document.update(
        failed_at=utc_timestamp(batch.failed_at),
        condition=batch.condition,
        attempts=batch.attempts,
        function_error=batch.function_error,
        shard_id=batch.shard_id,
        start_sequence_number=batch.start_sequence_number,
        end_sequence_number=batch.end_sequence_number,
        first_arrival=utc_timestamp(batch.first_arrival),
        last_arrival=utc_timestamp(batch.last_arrival),
        batch_size=batch.batch_size,
        stream_arn=batch.stream_arn,
    )
    if resolution is not None:
        document.update(
            stream=resolution.state.value,
            stream_detail=resolution.detail,
            messages=[
                {"message_sid": m.message_sid, "account": m.account} for m in resolution.messages
            ],
        )
    return document


def _print_entry(entry: DeadLetter, resolution: Resolution | None) -> None:
    print(f"entry {entry.message_id}")
    batch = entry.batch
    if batch is None:
        print(f"  malformed  {entry.problem} (left in the queue)")
        return
    error = f", function error {batch.function_error}" if batch.function_error else ""
    print(
        f"  failed     {utc_timestamp(batch.failed_at)}: {batch.condition} after "
        f"{batch.attempts} attempt{'s' if batch.attempts != 1 else ''}{error}"
    )
    print(
        f"  batch      {batch.shard_id} {batch.start_sequence_number}..{batch.end_sequence_number}"
        f" ({batch.batch_size} record{'s' if batch.batch_size != 1 else ''}, arrived "
        f"{utc_timestamp(batch.first_arrival)} to {utc_timestamp(batch.last_arrival)})"
    )
    if resolution is None:
        return
    if resolution.state is StreamState.EXPIRED:
        print(f"  stream     {resolution.detail}")
        print(f"             replay by receive time: {_window_command(batch)}")
        return
    state = "holds it" if resolution.state is StreamState.HELD else resolution.detail
    print(f"  stream     {state}")
    for message in resolution.messages:
        print(f"  message    {message.message_sid} {message.account or '?'}")


def _window_command(batch: FailedBatch) -> str:
    since = utc_timestamp(batch.first_arrival - _WINDOW_BEFORE)
    until = utc_timestamp(batch.last_arrival + _WINDOW_AFTER)
    return f"sms-automation {GROUP} redrive --since {since} --until {until}"


# --- redrive ----------------------------------------------------------------------------------


def redrive_command(args: argparse.Namespace, invoker: ProcessorInvoker | None = None) -> int:
    """``invoker`` replaces the Lambda invoke (tests call the handler in process)."""
    context: CliContext = args.context
    if (args.until is not None or args.account) and args.since is None:
        print("error: --until and --account go with --since", file=sys.stderr)
        return EXIT_USAGE
    if not args.dry_run and invoker is None:
        invoker = LambdaInvoker(context.lambda_, context.processor_function_name)
    if not args.dry_run and not args.yes:
        refused = _confirmation_refused(_question(args, context))
        if refused is not None:
            return refused
    replayer = Replayer(
        messages=DynamoStoredMessages(context.table_name, context.dynamodb),
        evaluations=DynamoEvaluationStore(context.table_name, context.dynamodb),
        invoker=invoker,
        clock=_now,
    )
    if args.since is not None:
        return _redrive_window(args, context, replayer)
    queue = SqsDeadLetterQueue(context.dlq_url, context.sqs)
    resolver = BatchResolver(DynamoStreamRecords(context.dynamodbstreams))
    redrive = DeadLetterRedrive(queue, resolver, replayer)
    reports = redrive.run(
        dry_run=args.dry_run, visibility_timeout=args.visibility_timeout, limit=args.limit
    )
    return _print_redrive(reports, dry_run=args.dry_run)


def _question(args: argparse.Namespace, context: CliContext) -> str:
    function = context.processor_function_name
    if args.since is not None:
        until = utc_timestamp(args.until or _now())
        return (
            f"Replay the unfinished messages received {utc_timestamp(args.since)} to {until} "
            f"through {function}?"
        )
    return f"Replay the dead letters' messages through {function}?"


def _confirmation_refused(question: str) -> int | None:
    if not sys.stdin.isatty():
        print("error: no terminal to confirm on; pass --yes (or --dry-run)", file=sys.stderr)
        return EXIT_USAGE
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() in {"y", "yes"}:
        return None
    print("nothing replayed")
    return EXIT_FAILED


def _print_redrive(reports: Iterable[EntryReport], *, dry_run: bool) -> int:
    deleted = kept = 0
    outcomes: list[MessageReport] = []
    for report in reports:
        status = "deleted" if report.deleted else f"kept: {report.kept_because}"
        print(f"entry {report.entry.message_id}: {status}")
        if report.resolution is not None and report.resolution.state is StreamState.EXPIRED:
            assert report.entry.batch is not None
            print(f"  replay by receive time: {_window_command(report.entry.batch)}")
        _print_messages(report.messages)
        outcomes.extend(report.messages)
        deleted += report.deleted
        kept += not report.deleted
    if deleted + kept == 0:
        print("no dead letters")
        return EXIT_OK
    total = deleted + kept
    print(
        f"{total} entr{'y' if total == 1 else 'ies'}: {deleted} deleted, {kept} kept; "
        f"{_tally(outcomes)}"
    )
    return EXIT_OK if dry_run or kept == 0 else EXIT_LEFT_OVER


def _redrive_window(args: argparse.Namespace, context: CliContext, replayer: Replayer) -> int:
    until = args.until or _now()
    if until < args.since:
        print("error: --until is before --since", file=sys.stderr)
        return EXIT_USAGE
    accounts: Sequence[str] = args.account or [
        a.name for a in DynamoAccountStore(context.table_name, context.dynamodb).list()
    ]
    stream_arn = context.dynamodb.describe_table(TableName=context.table_name)["Table"].get(
        "LatestStreamArn", ""
    )
    reports = replayer.replay(
        _window_messages(context, accounts, since=args.since, until=until),
        stream_arn=stream_arn,
        dry_run=args.dry_run,
    )
    _print_messages(reports)
    print(f"received {utc_timestamp(args.since)} to {utc_timestamp(until)}: {_tally(reports)}")
    print(f"dead letters are left as they are (see: sms-automation {GROUP} redrive --help)")
    failed = any(r.outcome in (Outcome.STILL_FAILING, Outcome.NOT_FOUND) for r in reports)
    return EXIT_LEFT_OVER if failed and not args.dry_run else EXIT_OK


def _window_messages(
    context: CliContext, accounts: Sequence[str], *, since: datetime, until: datetime
) -> Iterator[MessageRef]:
    received = DynamoReceivedMessages(context.table_name, context.dynamodb)
    runs = DynamoEvaluationStore(context.table_name, context.dynamodb)
    for account in accounts:
        yield from unfinished_messages(received, runs, account, since=since, until=until)


def _print_messages(reports: Iterable[MessageReport]) -> None:
    for report in reports:
        label = report.outcome.value.replace("_", " ")
        detail = f": {report.detail}" if report.detail else ""
        print(f"  {report.message_sid} {report.account or '?'} {label}{detail}")


def _tally(reports: Sequence[MessageReport]) -> str:
    if not reports:
        return "no messages"
    counts = dict.fromkeys(Outcome, 0)
    for report in reports:
        counts[report.outcome] += 1
    parts = [f"{n} {o.value.replace('_', ' ')}" for o, n in counts.items() if n]
    return "messages: " + ", ".join(parts)
