"""``sms-automation numbers``: an account's Twilio numbers and where their SMS webhooks point.

``numbers list ACCOUNT`` shows every number with its SMS URL, marking those that do not send to
this deployment; ``numbers connect ACCOUNT NUMBER`` points one at it: ``SmsUrl`` = the account's
Messaging Request URL (POST), ``StatusCallback`` = its status callback URL, and ``SmsFallbackUrl``
when ``--fallback-url`` is given; and records it as one of the account's own numbers (a message
from it runs no triggers: the loop guard). Both use the account's stored credentials and the
Twilio API base URL of ``accounts verify`` ($TWILIO_API_BASE_URL, default
https://api.twilio.com).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import TYPE_CHECKING, Final

from sms_automation import webhook_urls
from sms_automation.adapters.twilio_numbers import (
    NumberNotFound,
    PhoneNumber,
    TwilioNumbersError,
    connect_number,
    list_numbers,
)
from sms_automation.adapters.twilio_verify import DEFAULT_TIMEOUT_SECONDS
from sms_automation_cli import argtypes
from sms_automation_cli.account_registry import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    open_registry,
    reports_errors,
)

if TYPE_CHECKING:
    from sms_automation_cli.context import CliContext

_URL: Final = re.compile(r"^https?://[^\s/]+(/\S*)?$")


def status_callback_url(context: CliContext, account_name: str) -> str:
    return webhook_urls.status_callback_url(context.webhook_base_url, account_name)


def not_pointing_here(numbers: list[PhoneNumber], messaging_request_url: str) -> list[PhoneNumber]:
    return [number for number in numbers if not number.points_at(messaging_request_url)]


def _url(value: str) -> str:
    if not _URL.fullmatch(value):
        raise argparse.ArgumentTypeError(f"expected an http(s) URL, got {value!r}")
    return value


def _fail(error: TwilioNumbersError) -> int:
    print(f"error: Twilio: {error}", file=sys.stderr)
    return EXIT_UNREACHABLE if error.unreachable else EXIT_FAILED


@reports_errors
def list_account_numbers(args: argparse.Namespace) -> int:
    context: CliContext = args.context
    registry = open_registry(args)
    account = registry.get(args.account)
    expected = context.messaging_request_url(account.name)
    try:
        numbers = list_numbers(
            account.account_sid,
            registry.auth_tokens(account.name).current,
            base_url=context.twilio_api_base_url,
            timeout=args.timeout,
        )
    except TwilioNumbersError as error:
        return _fail(error)
    if args.json:
        rows = [{**n.as_dict(), "points_here": n.points_at(expected)} for n in numbers]
        print(json.dumps({"messaging_request_url": expected, "numbers": rows}, indent=2))
        return EXIT_OK
    print(f"this deployment's Messaging Request URL for {account.name!r}: {expected}")
    if not numbers:
        print(f"{account.account_sid} has no phone numbers")
        return EXIT_OK
    table = [("NUMBER", "SMS WEBHOOK", "")]
    for number in numbers:
        target = (
            f"TwiML App {number.sms_application_sid}"
            if number.sms_application_sid
            else f"{number.sms_method or 'POST'} {number.sms_url}"
            if number.sms_url
            else "(none)"
        )
        mark = "" if number.points_at(expected) else "<- not this deployment"
        table.append((number.phone_number, target, mark))
    widths = [max(len(row[i]) for row in table) for i in range(2)]
    for phone, target, mark in table:
        print(f"{phone.ljust(widths[0])}  {target.ljust(widths[1])}  {mark}".rstrip())
    others = not_pointing_here(numbers, expected)
    if others:
        print(
            f"{len(others)} number(s) do not send to this deployment; connect one with: "
            f"sms-automation numbers connect {account.name} NUMBER"
        )
    return EXIT_OK


@reports_errors
def connect_account_number(args: argparse.Namespace) -> int:
    context: CliContext = args.context
    registry = open_registry(args)
    account = registry.get(args.account)
    sms_url = context.messaging_request_url(account.name)
    callback_url = status_callback_url(context, account.name)
    try:
        number = connect_number(
            account.account_sid,
            registry.auth_tokens(account.name).current,
            args.number,
            base_url=context.twilio_api_base_url,
            sms_url=sms_url,
            status_callback=callback_url,
            fallback_url=args.fallback_url,
            timeout=args.timeout,
        )
    except NumberNotFound:
        print(
            f"error: {account.name!r} ({account.account_sid}) has no number {args.number} "
            f"(see: sms-automation numbers list {account.name})",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except TwilioNumbersError as error:
        return _fail(error)
    # One of the account's own numbers (the loop guard): a message from it runs no triggers.
    registry.add_own_numbers(account.name, frozenset({number.phone_number}))
    if args.json:
        print(json.dumps({**number.as_dict(), "points_here": number.points_at(sms_url)}, indent=2))
    else:
        print(f"{number.phone_number} ({number.sid}) now sends to this deployment:")
        print(f"  SMS webhook      POST {number.sms_url}")
        print(f"  fallback URL     {number.sms_fallback_url or '(none)'}")
        print(f"  status callback  {number.status_callback}")
    return EXIT_OK if number.points_at(sms_url) else EXIT_FAILED


_NUMBERS_EPILOG = """\
exit codes: 0 done, 1 refused (unknown account or number, wrong credentials), 2 usage error,
3 Twilio not reachable (network failure, timeout or a 5xx answer; retry later)
"""


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    numbers = groups.add_parser(
        "numbers",
        help="an account's Twilio numbers: list where they point, connect them",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    commands = numbers.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("account", type=argtypes.account_name, metavar="ACCOUNT")
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument(
            "--timeout",
            type=argtypes.positive_seconds,
            default=DEFAULT_TIMEOUT_SECONDS,
            metavar="SECONDS",
            help=f"give up on Twilio after this long (default: {DEFAULT_TIMEOUT_SECONDS:g})",
        )

    listing = commands.add_parser(
        "list",
        help="each number and where its SMS webhook points",
        epilog=_NUMBERS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common(listing)
    listing.set_defaults(func=list_account_numbers)

    connect = commands.add_parser(
        "connect",
        help="point a number's SMS webhook and status callback at this deployment",
        epilog=_NUMBERS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common(connect)
    connect.add_argument(
        "number", type=argtypes.e164_number, metavar="NUMBER", help="E.164, e.g. +14155550100"
    )
    connect.add_argument(
        "--fallback-url",
        type=_url,
        default=None,
        metavar="URL",
        help="SmsFallbackUrl: where Twilio posts when this deployment answers 5xx or times out",
    )
    connect.set_defaults(func=connect_account_number)
