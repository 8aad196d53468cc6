"""``sms-automation console add-user|users|remove-user``: who may sign in to the web console.

Users live in the stack's Cognito user pool (output ``UserPoolId``, or
``$SMS_AUTOMATION_USER_POOL_ID``). ``add-user`` creates one with Cognito's invitation mail (a
temporary password, changed at first sign-in), in one role group (``viewer``, ``operator``,
``admin``) and, with ``--account``, in an ``account:NAME`` group per account it may see (the
group is created on first use); a user in no ``account:`` group sees every account
(docs/console.md). The console API enforces both on every route.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any, Final

from sms_automation.accounts import InvalidAccountName, validate_account_name
from sms_automation.adapters.account_store import DynamoAccountStore
from sms_automation.adapters.aws_failures import AWS_ERRORS, error_code
from sms_automation.console.access import ACCOUNT_GROUP_PREFIX, ROLE_GROUPS, Role
from sms_automation_cli.context import CliContext

_EMAIL: Final = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[A-Za-z]{2,63}$")


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = groups.add_parser("console", help="users of the web console (Cognito)")
    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")

    add = commands.add_parser("add-user", help="invite a user (Cognito mails a temporary password)")
    add.add_argument("email", metavar="EMAIL", help="their e-mail address (their user name)")
    add.add_argument("--role", required=True, choices=[role.label for role in Role])
    add.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="NAME",
        help="only this account (repeat for more); none: every account",
    )
    add.set_defaults(func=add_user)

    listing = commands.add_parser("users", help="every user, their role, accounts and status")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(func=list_users)

    remove = commands.add_parser("remove-user", help="delete a user (they can no longer sign in)")
    remove.add_argument("email", metavar="EMAIL")
    remove.set_defaults(func=remove_user)


def add_user(args: argparse.Namespace) -> int:
    context: CliContext = args.context
    email = str(args.email).strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        return _error(f"{args.email[:80]!r} is not an e-mail address")
    try:
        accounts = sorted({validate_account_name(name) for name in args.account})
    except InvalidAccountName as invalid:
        return _error(str(invalid))
    store = DynamoAccountStore(context.table_name, context.dynamodb)
    unknown = [name for name in accounts if store.get(name) is None]
    if unknown:
        return _error(f"no account named {', '.join(unknown)} (see: sms-automation accounts list)")
    pool, cognito = context.user_pool_id, context.cognito
    try:
        cognito.admin_create_user(
            UserPoolId=pool,
            Username=email,
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
            ],
            DesiredDeliveryMediums=["EMAIL"],
        )
    except AWS_ERRORS as error:
        if error_code(error) == "UsernameExistsException":
            return _error(f"{email} is already a console user (remove-user first to change)")
        raise
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=args.role)
    for name in accounts:
        group = f"{ACCOUNT_GROUP_PREFIX}{name}"
        _ensure_group(cognito, pool, group, f"Console users limited to account {name}")
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
    scope = ", ".join(accounts) if accounts else "every account"
    print(f"invited {email} as {args.role} ({scope}): Cognito mailed a temporary password")
    return 0


def list_users(args: argparse.Namespace) -> int:
    context: CliContext = args.context
    pool, cognito = context.user_pool_id, context.cognito
    for page in cognito.get_paginator("list_users").paginate(UserPoolId=pool):
        for user in page.get("Users", []):
            row = _describe(cognito, pool, user)
            if args.json:
                print(json.dumps(row))
            else:
                scope = ",".join(row["accounts"]) if row["accounts"] is not None else "*"
                print(f"{row['email']}\t{row['role'] or '-'}\t{scope}\t{row['status']}")
    return 0


def remove_user(args: argparse.Namespace) -> int:
    context: CliContext = args.context
    email = str(args.email).strip().lower()
    try:
        context.cognito.admin_delete_user(UserPoolId=context.user_pool_id, Username=email)
    except AWS_ERRORS as error:
        if error_code(error) == "UserNotFoundException":
            return _error(
                f"{email[:254]} is not a console user (see: sms-automation console users)"
            )
        raise
    print(f"removed {email}: their tokens stop working when they expire (at most an hour)")
    return 0


def _describe(cognito: Any, pool: str, user: dict[str, Any]) -> dict[str, Any]:
    attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
    groups = [
        g["GroupName"]
        for page in cognito.get_paginator("admin_list_groups_for_user").paginate(
            UserPoolId=pool, Username=user["Username"]
        )
        for g in page.get("Groups", [])
    ]
    roles = [ROLE_GROUPS[g] for g in groups if g in ROLE_GROUPS]
    accounts = sorted(
        g.removeprefix(ACCOUNT_GROUP_PREFIX) for g in groups if g.startswith(ACCOUNT_GROUP_PREFIX)
    )
    return {
        "email": attributes.get("email", user["Username"]),
        "role": max(roles).label if roles else None,
        "accounts": accounts or None,
        "status": user.get("UserStatus", ""),
        "enabled": bool(user.get("Enabled", True)),
    }


def _ensure_group(cognito: Any, pool: str, name: str, description: str) -> None:
    try:
        cognito.create_group(GroupName=name, UserPoolId=pool, Description=description)
    except AWS_ERRORS as error:
        if error_code(error) != "GroupExistsException":
            raise


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1
