"""Who may read what in the console: a principal from the JWT claims API Gateway verified.

Roles are Cognito groups ``viewer``, ``operator`` and ``admin`` (the highest wins). Account
scope is groups too: ``account:NAME`` for each account the user may see; a user in no
``account:`` group sees every account. Groups (not a custom attribute) because both the Id and
the Access token carry ``cognito:groups``, and an admin changes them without a token refresh
race on a mutable attribute. A user in no role group is refused (403) on every route.

API Gateway hands the claims over stringified: ``"cognito:groups": "[admin account:acme]"``
(on AWS and on the emulator), a JSON list or a plain list elsewhere: all three are parsed.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

ACCOUNT_GROUP_PREFIX: Final = "account:"
MAX_GROUPS: Final = 100


class Role(enum.IntEnum):
    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()


ROLE_GROUPS: Final = {role.label: role for role in Role}


class AccessDenied(Exception):
    """The caller may not do this (403): no role, or an account outside their scope."""


@dataclass(frozen=True, slots=True)
class Principal:
    email: str
    role: Role
    accounts: frozenset[str] | None
    """The accounts this user may see; None: every account."""

    def may_read(self, account: str) -> bool:
        return self.accounts is None or account in self.accounts

    def require_role(self, role: Role) -> None:
        if self.role < role:
            raise AccessDenied(f"this needs the {role.label} role; you are a {self.role.label}")

    def require_account(self, account: str) -> None:
        if not self.may_read(account):
            raise AccessDenied(f"you may not see account {account[:64]!r}")

    def visible(self, names: Iterable[str]) -> list[str]:
        return [name for name in names if self.may_read(name)]

    def as_dict(self) -> dict[str, Any]:
        accounts = None if self.accounts is None else sorted(self.accounts)
        return {"email": self.email, "role": self.role.label, "accounts": accounts}


def parse_groups(value: Any) -> list[str]:
    """``cognito:groups`` as API Gateway passes it: ``"[a b]"``, ``'["a","b"]'``, a list."""
    if isinstance(value, list):
        return [str(item) for item in value[:MAX_GROUPS]]
    if not isinstance(value, str):
        return []
    text = value.strip()
    if text.startswith('["') or text == "[]":
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            return [str(item) for item in parsed[:MAX_GROUPS]]
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [part for part in text.replace(",", " ").split() if part][:MAX_GROUPS]


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """The caller, or ``AccessDenied`` when they hold no role."""
    groups = parse_groups(claims.get("cognito:groups"))
    roles = [ROLE_GROUPS[group] for group in groups if group in ROLE_GROUPS]
    if not roles:
        raise AccessDenied("your user is in no console role group (viewer, operator, admin)")
    scoped = frozenset(
        group.removeprefix(ACCOUNT_GROUP_PREFIX)
        for group in groups
        if group.startswith(ACCOUNT_GROUP_PREFIX) and len(group) > len(ACCOUNT_GROUP_PREFIX)
    )
    email = claims.get("email") or claims.get("username") or claims.get("cognito:username")
    return Principal(email=str(email or "unknown"), role=max(roles), accounts=scoped or None)
