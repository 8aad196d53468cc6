"""Accounts: a name (the webhook URL segment), a Twilio Account SID, its auth tokens, receive on/off.

The auth tokens live only in AWS Secrets Manager; the DynamoDB item names the secret.
"""

import re
from dataclasses import dataclass
from typing import Protocol

ACCOUNT_NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
ACCOUNT_SID_PATTERN = re.compile(r"^AC[0-9a-fA-F]{32}$")


class InvalidAccountName(ValueError):
    pass


class InvalidAccountSid(ValueError):
    pass


def validate_account_name(name: str) -> str:
    if not ACCOUNT_NAME_PATTERN.fullmatch(name):
        raise InvalidAccountName(
            f"invalid account name {name!r}: use 1-63 lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit (it becomes a URL segment)"
        )
    return name


def validate_account_sid(sid: str) -> str:
    if not ACCOUNT_SID_PATTERN.fullmatch(sid):
        raise InvalidAccountSid(
            f"invalid Twilio Account SID {sid!r}: it is 'AC' followed by 32 hexadecimal digits "
            "(Twilio Console > Account > API keys & tokens)"
        )
    return sid


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    account_sid: str
    receive_enabled: bool
    secret_id: str
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class AuthTokens:
    """The current auth token, and the previous one while a rotation is under way."""

    current: str
    previous: str | None = None

    @property
    def accepted(self) -> tuple[str, ...]:
        return (self.current,) if not self.previous else (self.current, self.previous)

    def __repr__(self) -> str:  # never print a token, even by accident
        return f"AuthTokens(current=***, previous={'***' if self.previous else None})"


class AccountDirectory(Protocol):
    """What the webhook needs to know about accounts (adapters: DynamoDB + Secrets Manager)."""

    def find(self, name: str) -> Account | None: ...

    def auth_tokens(self, account: Account) -> AuthTokens: ...
