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
from typing import Any
from zoneinfo import ZoneInfo

from sms_automation.conversations.dry_run import (
    DRY_RUN_MESSAGE_SID,
    ConversationDryRun,
    ScriptedReply,
    dry_run_with_replies,
)
from sms_automation.opt_out import Keyword, keyword_of
from sms_automation.triggers import (
    AccountSettings,
    Engine,
    Evaluation,
    TriggerFileError,
    TriggerSet,
    json_schema,
    load_trigger_file,
)
from sms_automation.triggers.plan import (
    MakeCall,
    SendSms,
    Step,
    StepOutcome,
    WaitForReply,
    step_as_dict,
)
from sms_automation.triggers.variables import VarValue, to_text
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
    """The message (or the automation's run) evaluated with nothing performed, through its
    conversations with ``--reply``'s replies. An opt-out keyword is evaluated as the processor
    evaluates it: against the triggers with ``on_opt_out`` only."""
    opt_out = automation is None and opt_out_keyword(message) is not None

    def evaluate(outcomes: Mapping[str, StepOutcome]) -> Evaluation:
        return engine.dry_run(
            message,
            now=now,
            account=account,
            outcomes=outcomes,
            automation=automation,
            opt_out=opt_out,
        )

    return dry_run_with_replies(evaluate, args.replies, account=account.name, now=now)


def opt_out_keyword(message: Mapping[str, VarValue]) -> str | None:
    """The opt-out word a described message is (Twilio's keywords or its ``OptOutType``), as
    the processor decides it before any trigger; ``None`` for any other message."""
    found = keyword_of(str(message.get("Body") or ""), _text_or_none(message.get("OptOutType")))
    return found[1] if found is not None and found[0] is Keyword.OPT_OUT else None


def _text_or_none(value: VarValue | None) -> str | None:
    return None if value is None else str(value)


def print_dry_run(result: ConversationDryRun, *, as_json: bool) -> int:
    if as_json:
        print(json.dumps(dry_run_json(result), indent=2, ensure_ascii=False))
    else:
        print(dry_run_report(result))
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
    message: dict[str, str] = {
        "MessageSid": DRY_RUN_MESSAGE_SID,
        "SmsMessageSid": DRY_RUN_MESSAGE_SID,
        "SmsSid": DRY_RUN_MESSAGE_SID,
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
        "From": args.sender,
        "To": args.receiver,
        "Body": args.body,
        "NumSegments": "1",
        "NumMedia": str(len(args.media_url)),
    }
    for index, url in enumerate(args.media_url):
        message[f"MediaUrl{index}"] = url
    for assignment in args.field:
        name, separator, value = assignment.partition("=")
        if not separator or not name:
            raise ValueError(f"--field {assignment!r}: write NAME=VALUE")
        message[name] = value
    return message


def dry_run_report(result: ConversationDryRun) -> str:
    evaluation = result.evaluation
    lines = [f"status: {evaluation.status}"]
    if evaluation.matched:
        lines.append(f"matched: {', '.join(evaluation.matched)}")
    else:
        lines.append("matched: no trigger")
    if evaluation.variables:
        lines.append("variables:")
        lines += [f"  {name} = {to_text(value)!r}" for name, value in evaluation.variables.items()]
    lines.append(
        "actions it would run (dry run: nothing is sent):" if evaluation.plan else "actions: none"
    )
    for number, step in enumerate(evaluation.plan, start=1):
        lines.append(f"  {number}. [{step.step_id}] {_describe_step(step)}")
    if result.replies:
        lines.append("replies (dry run):")
        lines += [f"  [{reply.conversation}] {_describe_reply(reply)}" for reply in result.replies]
    if evaluation.paused_at:
        waiting = isinstance(evaluation.plan[-1], WaitForReply) if evaluation.plan else False
        hint = " (waiting for a reply; --reply TEXT answers it)" if waiting else ""
        lines.append(f"paused at: {evaluation.paused_at}{hint}")
    for diagnostic in evaluation.diagnostics:
        lines.append(str(diagnostic))
    lines += [
        f"warning: reply {body!r} not used: no conversation was left to answer"
        for body in result.unused
    ]
    return "\n".join(lines)


def _describe_reply(reply: ScriptedReply) -> str:
    verdict = [] if reply.valid else ["not an expected answer"]
    if reply.outcome is not None:
        verdict.append(reply.outcome)
    if reply.reprompt is not None:
        verdict.append(f"reprompt: {reply.reprompt!r}")
    return f"{reply.body!r}: {'; '.join(verdict)}"


def _describe_step(step: Step) -> str:
    if isinstance(step, SendSms):
        sender = step.from_ or f"messaging service {step.messaging_service_sid}"
        media = f" media={list(step.media_urls)}" if step.media_urls else ""
        return f"send_sms to {step.to} from {sender}: {step.body!r}{media}"
    if isinstance(step, MakeCall):
        return f"make_call to {step.to} from {step.from_}: {step.twiml}"
    if isinstance(step, WaitForReply):
        prompt = f"prompt {step.prompt!r}" if step.prompt is not None else "no prompt"
        return f"wait_for_reply for {step.to} on {step.from_}: {prompt}"
    details = {
        k: v for k, v in step_as_dict(step).items() if k not in ("step_id", "trigger", "kind")
    }
    return f"{step.kind} {json.dumps(details, ensure_ascii=False)}"


def dry_run_json(result: ConversationDryRun) -> dict[str, Any]:
    evaluation = result.evaluation
    return {
        "status": str(evaluation.status),
        "matched": list(evaluation.matched),
        "variables": evaluation.variables,
        "steps": [
            {**step_as_dict(record.step), "outcome": str(record.outcome.status)}
            for record in evaluation.steps
        ],
        "paused_at": evaluation.paused_at,
        "diagnostics": [
            {
                "severity": d.severity,
                "message": d.message,
                "trigger": d.trigger,
                "step_id": d.step_id,
            }
            for d in evaluation.diagnostics
        ],
        "trigger_set_fingerprint": evaluation.trigger_set_fingerprint,
        "replies": [
            {
                "conversation": reply.conversation,
                "body": reply.body,
                "valid": reply.valid,
                "reprompt": reply.reprompt,
                "outcome": reply.outcome,
            }
            for reply in result.replies
        ],
        "unused_replies": list(result.unused),
    }
