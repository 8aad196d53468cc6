"""``sms-automation sandbox messages|calls``: what the application sent through the local Twilio
sandbox that ``make run`` started — read from its REST API, as any Twilio client would."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

from sms_automation_local.state import StateNotFound, load_state
from sms_automation_local.twilio_sandbox_client import list_resources

# What each listing prints (Twilio's field names); the JSON output carries these fields only.
MESSAGE_FIELDS = ("sid", "to", "from", "body", "status", "error_code", "date_created", "date_sent")
CALL_FIELDS = ("sid", "to", "from", "status", "start_time", "end_time", "date_created")


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = groups.add_parser(
        "sandbox", help="what the local stack sent through the Twilio sandbox"
    )
    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, fields in (("messages", MESSAGE_FIELDS), ("calls", CALL_FIELDS)):
        listing = commands.add_parser(
            name, help=f"the {name} the application created, newest first"
        )
        listing.add_argument("--to", help="only those to this number")
        listing.add_argument("--json", action="store_true", help="one JSON object per line")
        listing.set_defaults(func=list_sent, collection=name.capitalize(), fields=fields)


def list_sent(args: argparse.Namespace) -> int:
    try:
        state = load_state()
    except StateNotFound as error:
        print(f"error: {error} (start the local stack with `make run`)", file=sys.stderr)
        return 1
    if not state.sandbox_url:
        print("error: the local stack runs without a Twilio sandbox", file=sys.stderr)
        return 1
    try:
        resources = list_resources(
            state.sandbox_url, args.collection, **({"To": args.to} if args.to else {})
        )
    except (urllib.error.URLError, OSError) as error:
        print(f"error: the sandbox at {state.sandbox_url} did not answer: {error}", file=sys.stderr)
        return 1
    rows = [
        {field: resource.get(field) for field in args.fields}
        for resource in resources
        if resource.get("direction", "outbound-api") != "inbound"
    ]
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    if not rows:
        print(f"no {args.collection.lower()} sent yet")
    for row in rows:
        print("  ".join("" if value is None else str(value) for value in row.values()))
    return 0
