"""``sms-automation simulate sms``: deliver an inbound SMS exactly as Twilio would.

Builds Twilio's Messaging webhook form, signs it with the account's auth token, POSTs it to the
account's Messaging Request URL over HTTP and prints what the webhook answered.

Defaults come from the local stack (``make run``): its demo account, number and token. Against
any other deployment, name the account (its SID, token and URL are read through the CLI's AWS
configuration) or pass ``--url``, ``--account-sid`` and ``--auth-token-stdin``.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
from dataclasses import dataclass
from typing import Final

from sms_automation.accounts import (
    AccountNotFound,
    AccountRegistry,
    AuthTokenSecretNotFound,
)
from sms_automation.adapters.account_store import DynamoAccountStore, SecretsManagerTokenStore
from sms_automation.adapters.aws_failures import AWS_ERRORS
from sms_automation_cli import argtypes
from sms_automation_cli.aws_errors import aws_failure
from sms_automation_cli.context import CliContext
from sms_automation_local.demo import DEMO_ACCOUNT, DEMO_AUTH_TOKEN
from sms_automation_local.inbound_sms import deliver, inbound_sms_form
from sms_automation_local.state import LocalState, StateNotFound, load_state

EXIT_OK: Final = 0
EXIT_REFUSED: Final = 1
EXIT_USAGE: Final = 2
EXIT_UNREACHABLE: Final = 3


class UsageError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    account_sid: str
    auth_token: str
    to_number: str


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = groups.add_parser("simulate", help="deliver a signed inbound SMS as Twilio would")
    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sms = commands.add_parser(
        "sms",
        help="sign and POST an inbound SMS to an account's Messaging Request URL",
        description=(__doc__ or "").split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sms.add_argument("--from", dest="from_number", required=True, metavar="N", help="sender")
    sms.add_argument("--to", dest="to_number", metavar="N", help="the account's number")
    sms.add_argument(
        "--account", type=argtypes.account_name, metavar="A", help="account name (demo)"
    )
    sms.add_argument("--body", required=True, metavar="TEXT", help="the message text")
    sms.add_argument(
        "--media-url", action="append", default=[], metavar="U", help="media URL (repeatable)"
    )
    sms.add_argument("--url", metavar="URL", help="Messaging Request URL (default: the account's)")
    sms.add_argument(
        "--account-sid", type=argtypes.account_sid, metavar="AC...", help="AccountSid to send"
    )
    sms.add_argument(
        "--auth-token-stdin", action="store_true", help="read the signing auth token from stdin"
    )
    sms.add_argument("--json", action="store_true", help="print JSON")
    sms.set_defaults(func=simulate_sms)


def simulate_sms(args: argparse.Namespace) -> int:
    try:
        target = _resolve_target(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (AccountNotFound, AuthTokenSecretNotFound, *AWS_ERRORS) as error:
        unread = "cannot read the account from the deployment"
        if isinstance(error, AWS_ERRORS):
            print(aws_failure(error, args.context, f"{unread}, nothing sent"), file=sys.stderr)
        else:
            print(f"error: {unread}: {error}", file=sys.stderr)
        if args.url is None and _local_state(args) is None:
            print(
                "hint: no local stack is running (`make run`); for another deployment set its "
                "AWS configuration, or pass --url, --account-sid and --auth-token-stdin",
                file=sys.stderr,
            )
        return EXIT_REFUSED
    form = inbound_sms_form(
        account_sid=target.account_sid,
        from_number=args.from_number,
        to_number=target.to_number,
        body=args.body,
        media_urls=args.media_url,
    )
    try:
        delivery = deliver(target.url, form, target.auth_token)
    except (urllib.error.URLError, OSError, ValueError) as error:
        print(f"error: no answer from {target.url}: {error}", file=sys.stderr)
        return EXIT_UNREACHABLE
    ok = 200 <= delivery.status < 300
    if args.json:
        print(
            json.dumps(
                {
                    "url": target.url,
                    "status": delivery.status,
                    "message_sid": delivery.message_sid,
                    "content_type": delivery.content_type,
                    "body": delivery.body,
                },
                indent=2,
            )
        )
    else:
        print(f"POST {target.url}")
        print(f"{delivery.status} {delivery.content_type}  MessageSid {delivery.message_sid}")
        if not ok:
            print(delivery.body, file=sys.stderr)
    return EXIT_OK if ok else EXIT_REFUSED


def _local_state(args: argparse.Namespace) -> LocalState | None:
    """The local stack's state, used for defaults unless ``--url`` names another deployment."""
    if args.url:
        return None
    try:
        return load_state()
    except StateNotFound:
        return None


def _resolve_target(args: argparse.Namespace) -> Target:
    local = _local_state(args)
    account = args.account or (local.demo_account if local else DEMO_ACCOUNT)
    local_demo = local is not None and account == local.demo_account
    registry = _Registry(args.context)

    if args.url:
        url = args.url
    elif local is not None:
        url = local.messaging_request_url(account)
    else:
        url = args.context.messaging_request_url(account)

    if args.auth_token_stdin:
        token = sys.stdin.read().strip()
        if not token:
            raise UsageError("--auth-token-stdin: stdin was empty")
    elif local_demo:
        token = DEMO_AUTH_TOKEN
    else:
        token = registry.current_token(account)

    if args.account_sid:
        account_sid = args.account_sid
    elif local is not None and local_demo:
        account_sid = local.demo_account_sid
    else:
        account_sid = registry.account_sid(account)

    to_number = args.to_number or (local.demo_number if local_demo and local else None)
    if not to_number:
        raise UsageError("pass --to: the number the message was sent to (the account's number)")
    return Target(url=url, account_sid=account_sid, auth_token=token, to_number=to_number)


class _Registry:
    """The account registry, built only when a value has to come from the deployment."""

    def __init__(self, context: CliContext) -> None:
        self._context = context
        self._registry: AccountRegistry | None = None

    def _get(self) -> AccountRegistry:
        if self._registry is None:
            self._registry = AccountRegistry(
                DynamoAccountStore(
                    self._context.table_name, self._context.dynamodb, consistent_reads=True
                ),
                SecretsManagerTokenStore(self._context.secretsmanager),
            )
        return self._registry

    def current_token(self, account: str) -> str:
        return self._get().auth_tokens(account).current

    def account_sid(self, account: str) -> str:
        return self._get().get(account).account_sid
