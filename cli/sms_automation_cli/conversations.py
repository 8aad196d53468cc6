"""``sms-automation conversations list ACCOUNT | cancel ID``: conversations waiting for a reply.

``waits`` is the group's old name, kept as a hidden alias: it runs the same commands after one
deprecation line on stderr. ``conversation_history(context, message_sid)`` is what
``messages show`` displays for the conversations a message started: prompt, replies, outcome,
execution ARN.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

import boto3

from sms_automation.action_log import describe_conversation as describe
from sms_automation.adapters.conversation_store import DynamoConversationStore
from sms_automation.adapters.conversation_workflow import StepFunctionsConversationWorkflow
from sms_automation.composition import action_log
from sms_automation.conversations.model import split_conversation_id
from sms_automation.conversations.service import Conversations
from sms_automation.edge.timestamps import utc_now
from sms_automation_cli.context import CliContext

Command = Callable[[argparse.Namespace], int]
DEPRECATED_GROUP = "waits"
DEPRECATION = (
    "note: `sms-automation waits` is now `sms-automation conversations`; `waits` will go away"
)


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _add_group(groups.add_parser("conversations", help="conversations waiting for a reply"))
    # No help: argparse leaves it out of the command list (the metavar hides the choices).
    _add_group(groups.add_parser(DEPRECATED_GROUP), deprecated=True)


def _add_group(group: argparse.ArgumentParser, *, deprecated: bool = False) -> None:
    def command(func: Command) -> Command:
        return _with_deprecation(func) if deprecated else func

    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")
    listing = commands.add_parser("list", help="an account's conversations, newest first")
    listing.add_argument("account")
    listing.add_argument("--all", action="store_true", help="also the finished ones")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(func=command(list_conversations))
    cancel = commands.add_parser("cancel", help="end a waiting conversation (outcome cancelled)")
    cancel.add_argument(
        "conversation_id", metavar="ID", help="MessageSid:step-id, as `conversations list` shows"
    )
    cancel.set_defaults(func=command(cancel_conversation))


def _with_deprecation(func: Command) -> Command:
    def deprecated(args: argparse.Namespace) -> int:
        print(DEPRECATION, file=sys.stderr)
        return func(args)

    return deprecated


def _store(context: CliContext) -> DynamoConversationStore:
    return DynamoConversationStore(context.table_name, context.dynamodb)


def conversation_history(context: CliContext, message_sid: str) -> list[dict[str, Any]]:
    """The conversations ``message_sid`` started (for ``messages show``)."""
    return action_log.conversation_history(context.table_name, context.dynamodb, message_sid)


def list_conversations(args: argparse.Namespace) -> int:
    conversations = [
        c for c in _store(args.context).for_account(args.account) if args.all or c.waiting
    ]
    for conversation in conversations:
        if args.json:
            print(json.dumps(describe(conversation)))
        else:
            print(
                f"{conversation.id}  {conversation.status:<16} {conversation.contact}  "
                f"until {conversation.deadline}  replies {len(conversation.replies)}"
            )
    return 0


def cancel_conversation(args: argparse.Namespace) -> int:
    context: CliContext = args.context
    try:
        message_sid, step_id = split_conversation_id(args.conversation_id)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    store = _store(context)
    conversation = store.get(message_sid, step_id)
    if conversation is None:
        print(f"error: no conversation {args.conversation_id}", file=sys.stderr)
        return 1
    arn = conversation.execution_arn
    machine = arn.replace(":execution:", ":stateMachine:").rsplit(":", 1)[0] if arn else ""
    workflow = (
        StepFunctionsConversationWorkflow(machine, boto3.client("stepfunctions"))
        if machine
        else None
    )

    def no_sending(message_sid: str, account: str) -> Any:
        raise RuntimeError("cancelling sends nothing")

    service = Conversations(store=store, workflow=workflow, port_for=no_sending, clock=utc_now)
    if not service.cancel(message_sid, step_id):
        print(f"{args.conversation_id} is not waiting ({conversation.status})")
        return 1
    print(f"{args.conversation_id} cancelled: its execution ends without running a branch")
    return 0
