"""``sms-automation messages list|show``: the inbound messages the webhook stored."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import Any

from sms_automation.accounts import AccountNotFound
from sms_automation.adapters.account_store import DynamoAccountStore
from sms_automation.adapters.message_store import DynamoMessageStore
from sms_automation.composition.action_log import action_log
from sms_automation_cli.argtypes import positive_int
from sms_automation_cli.context import CliContext
from sms_automation_cli.conversations import conversation_history

_PREVIEW = 40


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = groups.add_parser("messages", help="stored inbound messages")
    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="newest messages first")
    listing.add_argument("--account", help="only this account (default: every account)")
    listing.add_argument("--limit", type=positive_int, default=20, help="at most this many (20)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(func=list_messages)

    show = commands.add_parser(
        "show", help="one message: every Twilio parameter, and what its triggers did"
    )
    show.add_argument("message_sid", metavar="SID", help="the MessageSid (SM..., MM...)")
    show.add_argument(
        "--format",
        choices=("json", "text", "thinkautomation"),
        default="json",
        help=(
            "json: the stored item with its action log; text: a readable summary; "
            "thinkautomation: the FROM:/BODY:/TO: text"
        ),
    )
    show.set_defaults(func=show_message)


def _store(context: CliContext) -> DynamoMessageStore:
    return DynamoMessageStore(context.table_name, context.dynamodb)


def _account_names(context: CliContext, only: str | None) -> list[str]:
    accounts = DynamoAccountStore(context.table_name, context.dynamodb)
    if only is None:
        return [account.name for account in accounts.list()]
    if accounts.get(only) is None:
        raise AccountNotFound(only)
    return [only]


def _newest_first(
    store: DynamoMessageStore, accounts: Iterable[str], limit: int
) -> list[dict[str, Any]]:
    messages = [m for name in accounts for m in store.list_for_account(name, limit)]
    messages.sort(key=lambda m: (m.get("received_at", ""), m.get("message_sid", "")), reverse=True)
    return messages[:limit]


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _PREVIEW else flat[: _PREVIEW - 1] + "…"


def list_messages(args: argparse.Namespace) -> int:
    context: CliContext = args.context
    try:
        names = _account_names(context, args.account)
    except AccountNotFound:
        print(
            f"error: no account named {args.account!r} (see: sms-automation accounts list)",
            file=sys.stderr,
        )
        return 1
    messages = _newest_first(_store(context), names, args.limit)
    if args.json:
        for message in messages:
            print(json.dumps(message, ensure_ascii=False, sort_keys=True))
        return 0
    if not messages:
        print("no messages yet")
        return 0
    print(f"{'RECEIVED':<25} {'ACCOUNT':<16} {'SID':<34} {'CHANNEL':<9} {'FROM':<24} BODY")
    for m in messages:
        print(
            f"{m['received_at']:<25} {m['account']:<16} {m['message_sid']:<34} "
            f"{m['channel']:<9} {m['from_number']:<24} {_one_line(m['body'])}"
        )
    return 0


def show_message(args: argparse.Namespace) -> int:
    message = _store(args.context).get(args.message_sid)
    if message is None:
        print(
            f"error: no message {args.message_sid!r} (see: sms-automation messages list)",
            file=sys.stderr,
        )
        return 1
    if args.format == "thinkautomation":
        sys.stdout.write(message["thinkautomation_text"])
        return 0
    context: CliContext = args.context
    message["action_log"] = action_log(context.table_name, context.dynamodb, args.message_sid)
    message["action_log"]["conversations"] = conversation_history(context, args.message_sid)
    if args.format == "text":
        sys.stdout.write(as_text(message))
    else:
        print(json.dumps(message, ensure_ascii=False, indent=2, sort_keys=True))
    return 0


def as_text(message: dict[str, Any]) -> str:
    lines = [
        f"{message['message_sid']} ({message['channel']}) received {message['received_at']} "
        f"by account {message['account']}",
        f"from {message['from_number']} to {message['to_number']}",
        f"body: {message['body']}",
    ]
    lines += [f"media: {m['content_type']} {m['url']}" for m in message.get("media", [])]
    log = message["action_log"]
    evaluation = log["evaluation"]
    if evaluation is None:
        lines.append("evaluation: not yet")
    elif evaluation["status"] == "no_triggers":
        lines.append("evaluation: no triggers pushed for this account")
    elif evaluation["status"] == "own_number":
        lines.append("evaluation: none: sent from one of the account's own numbers (loop guard)")
    else:
        matched = ", ".join(evaluation["matched"]) or "none"
        lines.append(
            f"evaluation: trigger version {evaluation['trigger_version']}, {evaluation['status']},"
            f" matched: {matched} (attempts: {evaluation['attempts']})"
        )
    for step in log["steps"]:
        delivery = step.get("delivery")
        statuses = " → ".join(e["status"] for e in delivery["history"]) if delivery else ""
        suffix = f" [{statuses}]" if statuses else ""
        head = f"  {step['step_id']:<28} {step['kind']:<13} {step['state']:<8}"
        lines.append(f"{head} {step['detail']}{suffix}")
    for conversation in log.get("conversations", []):
        outcome = conversation["outcome"].get("outcome") or conversation["status"]
        lines.append(
            f"  conversation {conversation['id']}: {outcome}, prompt: {conversation['prompt']!r}"
        )
        lines += [f"    reply {r['received_at']}: {r['body']!r}" for r in conversation["replies"]]
        if conversation["execution_arn"]:
            lines.append(f"    execution: {conversation['execution_arn']}")
    for diagnostic in (evaluation or {}).get("diagnostics", []):
        where = diagnostic.get("step_id") or diagnostic.get("trigger") or ""
        lines.append(f"  {diagnostic['severity']}: {where}: {diagnostic['message']}")
    return "\n".join(lines) + "\n"
