"""``sms-automation contacts``: who opted out (STOP) of an account's numbers, and changing it.

``contacts list ACCOUNT`` shows every contact with a recorded opt-out state; ``contacts show
ACCOUNT NUMBER`` one contact's state towards each sender (our number or messaging service);
``contacts opt-out|opt-in ACCOUNT NUMBER`` records it by hand (``--sender``: towards one sender;
by default every sender the contact has a state for). Nothing is sent to an opted-out contact
(see docs/opt-out.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sms_automation.adapters.contact_store import DynamoContactStore
from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.opt_out import ContactState
from sms_automation_cli import argtypes
from sms_automation_cli.account_registry import EXIT_FAILED, EXIT_OK, open_registry, reports_errors

if TYPE_CHECKING:
    from sms_automation_cli.context import CliContext

BY_OPERATOR = "operator"
"""The ``message_sid`` of a state recorded with ``contacts opt-out|opt-in``."""


def _store(args: argparse.Namespace) -> DynamoContactStore:
    context: CliContext = args.context
    open_registry(args).get(args.account)  # an unknown account: one error line, exit 1
    return DynamoContactStore(context.table_name, context.dynamodb)


def _print(states: list[ContactState], as_json: bool) -> None:
    if as_json:
        print(json.dumps([asdict(state) for state in states], indent=2))
        return
    rows = [("CONTACT", "SENDER", "STATE", "BY", "SINCE", "MESSAGE")]
    rows += [
        (
            s.contact,
            s.sender,
            "opted out" if s.opted_out else "subscribed",
            s.keyword,
            s.changed_at,
            s.message_sid,
        )
        for s in states
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


@reports_errors
def list_contacts(args: argparse.Namespace) -> int:
    states = list(_store(args).list_for_account(args.account))
    if not states and not args.json:
        print(f"{args.account!r} has no contact who opted out or in")
        return EXIT_OK
    _print(states, args.json)
    return EXIT_OK


@reports_errors
def show_contact(args: argparse.Namespace) -> int:
    states = _store(args).for_contact(args.account, args.number)
    if not states:
        print(f"error: {args.number} has no opt-out state in {args.account!r}", file=sys.stderr)
        return EXIT_FAILED
    _print(states, args.json)
    return EXIT_OK


@reports_errors
def set_contact(args: argparse.Namespace) -> int:
    store = _store(args)
    senders = (
        [args.sender]
        if args.sender
        else [s.sender for s in store.for_contact(args.account, args.number)]
    )
    if not senders:
        print(
            f"error: {args.number} has no opt-out state in {args.account!r}; name the number or "
            "messaging service with --sender",
            file=sys.stderr,
        )
        return EXIT_FAILED
    opted_out = args.command == "opt-out"
    now = utc_timestamp(datetime.now(UTC))
    keyword = "operator opt-out" if opted_out else "operator opt-in"
    for sender in senders:
        state = ContactState(
            args.account, sender, args.number, opted_out, keyword, now, BY_OPERATOR
        )
        store.record(state)
    _print(store.for_contact(args.account, args.number), args.json)
    return EXIT_OK


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    contacts = groups.add_parser(
        "contacts",
        help="contacts who opted out (STOP) or back in (START): list, show, change",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    commands = contacts.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(parser: argparse.ArgumentParser, *, number: bool) -> None:
        parser.add_argument("account", type=argtypes.account_name, metavar="ACCOUNT")
        if number:
            parser.add_argument(
                "number", type=argtypes.e164_number, metavar="NUMBER", help="the contact, E.164"
            )
        parser.add_argument("--json", action="store_true", help="print JSON")

    listing = commands.add_parser("list", help="every contact with an opt-out state")
    common(listing, number=False)
    listing.set_defaults(func=list_contacts)

    show = commands.add_parser("show", help="one contact's state towards each sender")
    common(show, number=True)
    show.set_defaults(func=show_contact)

    for name, what in (("opt-out", "opted out: nothing more is sent"), ("opt-in", "subscribed")):
        command = commands.add_parser(name, help=f"record the contact {what}")
        common(command, number=True)
        command.add_argument(
            "--sender",
            type=str,
            default=None,
            metavar="SENDER",
            help="our number or messaging service SID (default: every sender the contact has "
            "a state for)",
        )
        command.set_defaults(func=set_contact)
