"""Accounts: a name (the webhook URL segment), a Twilio Account SID, auth tokens, receive on/off,
the send cap and the account's own numbers (the loop and flood guard, ``send_guard``), and the
account's time zone (an IANA name; none set reads as UTC): the zone of every time
condition, ``%now%``/``%date%``/``%time%``, conversation ``until`` and schedule that names none.

The auth tokens live only in AWS Secrets Manager; the DynamoDB item names the secret. After a
rotation the previous token is accepted for a bounded window only (``previous_valid_until``,
stored with the tokens; 24 hours by default), checked against the clock at each verification.
This module
is the domain: the model, validation, the errors, the ports the adapters implement
(``AccountRecords``, ``AuthTokenVault``, ``AccountDirectory``) and ``AccountRegistry``, which keeps
the item and its secret consistent. It imports nothing beyond the standard library (and the
standard-library-only ``send_cap``; ``time_zones``, which loads ``zoneinfo``, only when a zone is
validated), so the webhook's cold start pays nothing for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final, Protocol

from sms_automation.edge.timestamps import parse_utc_timestamp, utc_timestamp
from sms_automation.send_cap import DEFAULT_SEND_CAP, SendCap

if TYPE_CHECKING:  # the send settings' rules load when an account is changed, not read
    from sms_automation.send_settings import SendWindow

ACCOUNT_NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
ACCOUNT_SID_PATTERN = re.compile(r"^AC[0-9a-fA-F]{32}$")
_WHITESPACE = re.compile(r"\s")
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")
"""What HTTP Basic auth carries as is (Twilio's tokens are 32 hexadecimal digits)."""

DEFAULT_PREVIOUS_TOKEN_VALIDITY: Final = timedelta(hours=24)
"""How long the previous auth token is accepted after ``rotate-token`` unless told otherwise."""
MIN_PREVIOUS_TOKEN_VALIDITY: Final = timedelta(minutes=10)
"""Longer than the webhook's token cache (5 minutes): a warm function holding only the old token
must still find it accepted until its cache turns over."""
MAX_PREVIOUS_TOKEN_VALIDITY: Final = timedelta(days=30)


class InvalidAccountName(ValueError):
    pass


class InvalidAccountSid(ValueError):
    pass


class InvalidAuthToken(ValueError):
    """The message says what is wrong with the token, never what the token is."""


class AccountNotFound(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no account named {name!r}")
        self.name = name


class AccountAlreadyExists(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"an account named {name!r} already exists")
        self.name = name


class AuthTokenSecretNotFound(LookupError):
    def __init__(self, secret_id: str) -> None:
        super().__init__(f"the auth token secret {secret_id!r} does not exist")
        self.secret_id = secret_id


class AuthTokenSecretAlreadyExists(Exception):
    """A secret with the account's secret name exists although no account item names it."""

    def __init__(self, secret_id: str) -> None:
        super().__init__(
            f"a secret named {secret_id!r} already exists but no account uses it "
            "(left over from an interrupted run?); delete it and try again"
        )
        self.secret_id = secret_id


class MalformedAuthTokenSecret(ValueError):
    def __init__(self, secret_id: str) -> None:
        super().__init__(
            f"the secret {secret_id!r} is not an auth token secret: expected a JSON object "
            '{"current": "...", "previous": "..." | null, "rotated_at": "...", '
            '"previous_valid_until": "..." | null}'
        )
        self.secret_id = secret_id


class InvalidTokenValidity(ValueError):
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


def validate_auth_token(token: str) -> str:
    if not token:
        raise InvalidAuthToken("the auth token is empty")
    if _WHITESPACE.search(token):
        raise InvalidAuthToken("the auth token contains whitespace; copy it again from the Console")
    if not _PRINTABLE_ASCII.fullmatch(token):
        raise InvalidAuthToken(
            "the auth token has a character no Twilio token has (tokens are letters and digits); "
            "copy it again from the Console"
        )
    return token


def account_secret_id(secrets_prefix: str, name: str) -> str:
    """The Secrets Manager name holding an account's auth tokens."""
    return f"{secrets_prefix.rstrip('/')}/accounts/{name}"


def validate_token_validity(validity: timedelta) -> timedelta:
    if not MIN_PREVIOUS_TOKEN_VALIDITY <= validity <= MAX_PREVIOUS_TOKEN_VALIDITY:
        raise InvalidTokenValidity(
            f"the previous token's window must be from {MIN_PREVIOUS_TOKEN_VALIDITY} (longer "
            f"than the webhook's token cache) to {MAX_PREVIOUS_TOKEN_VALIDITY.days} days"
        )
    return validity


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    account_sid: str
    receive_enabled: bool
    secret_id: str
    created_at: str
    updated_at: str
    send_cap: SendCap = DEFAULT_SEND_CAP
    """Automatic sends to one contact from one sender per rolling window (``send_guard``)."""
    own_numbers: frozenset[str] = frozenset()
    """The account's numbers seen so far (each inbound message's ``To``, each number
    ``numbers connect`` pointed here): a message from one of them runs no triggers."""
    timezone: str | None = None
    """The account's IANA time zone; None (accounts added before zones existed, or added
    without one) is UTC."""
    help_text: str = ""
    """The answer to HELP / INFO (``opt_out``); empty: HELP is an ordinary message."""
    opt_out_keywords: frozenset[str] = frozenset()
    """Opt-out keywords of this account's own, besides Twilio's (upper case, trimmed)."""
    send_rates: tuple[tuple[str, float], ...] = ()
    """Segments a second by sender type or sender (``send_settings``; ``processing.pacing``),
    sorted; what is not set has its type's default."""
    send_window: SendWindow | None = None
    """Quiet hours: the local hours automatic sends are made in (``processing.quiet_hours``);
    None: always."""

    @property
    def rates(self) -> dict[str, float]:
        return dict(self.send_rates)


def validate_timezone(name: str) -> str:
    """``name`` when it is an IANA zone; ``UnknownTimeZone`` (a ``ValueError`` naming it)."""
    from sms_automation.time_zones import time_zone  # zoneinfo: only when a zone is set

    time_zone(name)
    return name


@dataclass(frozen=True, slots=True)
class AuthTokens:
    """The current auth token, and the previous one while a rotation is under way.

    The previous token is accepted until ``previous_valid_until``; a secret written before that
    field existed accepts it for ``DEFAULT_PREVIOUS_TOKEN_VALIDITY`` after ``rotated_at`` (and not
    at all when that is unknown)."""

    current: str
    previous: str | None = None
    rotated_at: str | None = None  # when ``current`` became current
    previous_valid_until: str | None = None

    @property
    def previous_accepted_until(self) -> datetime | None:
        """Until when the previous token is accepted (None: there is none, or never)."""
        if not self.previous:
            return None
        if self.previous_valid_until is not None:
            return parse_utc_timestamp(self.previous_valid_until)
        rotated = parse_utc_timestamp(self.rotated_at) if self.rotated_at else None
        return rotated + DEFAULT_PREVIOUS_TOKEN_VALIDITY if rotated else None

    def accepted_at(self, now: datetime) -> tuple[str, ...]:
        """The tokens a signature made at ``now`` may be verified with: the current one, and
        the previous one inside its window."""
        until = self.previous_accepted_until
        if self.previous and until is not None and now < until:
            return (self.current, self.previous)
        return (self.current,)

    def __repr__(self) -> str:  # never print a token, even by accident
        return (
            f"AuthTokens(current=***, previous={'***' if self.previous else None}, "
            f"rotated_at={self.rotated_at!r}, previous_valid_until={self.previous_valid_until!r})"
        )


class AccountDirectory(Protocol):
    """What the webhook needs to know about accounts (adapters: DynamoDB + Secrets Manager)."""

    def find(self, name: str) -> Account | None: ...

    def auth_tokens(self, account: Account) -> AuthTokens: ...


class AccountRecords(Protocol):
    """The account items (adapter: ``DynamoAccountStore``)."""

    def get(self, name: str) -> Account | None: ...

    def create(self, account: Account) -> None:
        """Raises ``AccountAlreadyExists``."""

    def list(self) -> list[Account]: ...

    def set_receive_enabled(self, name: str, enabled: bool) -> Account:
        """Raises ``AccountNotFound``."""

    def set_send_cap(self, name: str, cap: SendCap) -> Account:
        """Raises ``AccountNotFound``."""

    def add_own_numbers(self, name: str, numbers: frozenset[str]) -> None:
        """Raises ``AccountNotFound``."""

    def set_timezone(self, name: str, timezone: str) -> Account:
        """Raises ``AccountNotFound``."""

    def set_opt_out_settings(
        self, name: str, *, help_text: str, opt_out_keywords: frozenset[str]
    ) -> Account:
        """Raises ``AccountNotFound``."""

    def set_send_settings(
        self, name: str, *, send_rates: dict[str, float], send_window: SendWindow | None
    ) -> Account:
        """Replaces the send rates and the send window (empty / None: removed). Raises
        ``AccountNotFound``."""

    def delete(self, name: str) -> Account:
        """Raises ``AccountNotFound``; returns the deleted account."""


class AuthTokenVault(Protocol):
    """The per-account auth token secrets (adapter: ``SecretsManagerTokenStore``)."""

    def create(self, secret_id: str, token: str) -> None:
        """Raises ``AuthTokenSecretAlreadyExists``."""

    def get(self, secret_id: str) -> AuthTokens:
        """Raises ``AuthTokenSecretNotFound``, ``MalformedAuthTokenSecret``."""

    def rotate(self, secret_id: str, new_token: str, previous_valid_for: timedelta) -> AuthTokens:
        """The old current token stays accepted for ``previous_valid_for``."""
        ...

    def clear_previous(self, secret_id: str) -> AuthTokens: ...

    def delete(self, secret_id: str) -> None:
        """Deletes at once (no recovery window), so the name can be reused; absent is fine."""


class AccountRegistry:
    """Account use cases that keep the DynamoDB item and its secret consistent.

    Adding writes the secret first and then the item (conditionally), deleting the secret again
    when the item write fails: the webhook never sees an account whose token is missing, and a
    failed ``add`` leaves nothing behind. Removing deletes the item first (the webhook stops
    accepting at once) and then the secret.
    """

    def __init__(
        self,
        records: AccountRecords,
        vault: AuthTokenVault,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._records = records
        self._vault = vault
        self._clock = clock

    def add(
        self,
        name: str,
        account_sid: str,
        auth_token: str,
        *,
        secrets_prefix: str,
        receive_enabled: bool = True,
        timezone: str | None = None,
    ) -> Account:
        """Raises ``AccountAlreadyExists``, ``AuthTokenSecretAlreadyExists``, ``Invalid*``,
        ``UnknownTimeZone``."""
        validate_account_name(name)
        validate_account_sid(account_sid)
        validate_auth_token(auth_token)
        if timezone is not None:
            validate_timezone(timezone)
        if self._records.get(name) is not None:
            raise AccountAlreadyExists(name)
        now = utc_timestamp(self._clock())
        account = Account(
            name=name,
            account_sid=account_sid,
            receive_enabled=receive_enabled,
            secret_id=account_secret_id(secrets_prefix, name),
            created_at=now,
            updated_at=now,
            timezone=timezone,
        )
        self._vault.create(account.secret_id, auth_token)
        try:
            self._records.create(account)
        except BaseException:
            self._vault.delete(account.secret_id)
            raise
        return account

    def get(self, name: str) -> Account:
        account = self._records.get(validate_account_name(name))
        if account is None:
            raise AccountNotFound(name)
        return account

    def list(self) -> list[Account]:
        return self._records.list()

    def set_receive_enabled(self, name: str, enabled: bool) -> Account:
        return self._records.set_receive_enabled(validate_account_name(name), enabled)

    def set_send_cap(self, name: str, cap: SendCap) -> Account:
        return self._records.set_send_cap(validate_account_name(name), cap)

    def add_own_numbers(self, name: str, numbers: frozenset[str]) -> None:
        self._records.add_own_numbers(validate_account_name(name), numbers)

    def set_timezone(self, name: str, timezone: str) -> Account:
        """Raises ``UnknownTimeZone``, ``AccountNotFound``."""
        return self._records.set_timezone(validate_account_name(name), validate_timezone(timezone))

    def set_opt_out_settings(
        self, name: str, *, help_text: str, opt_out_keywords: frozenset[str]
    ) -> Account:
        return self._records.set_opt_out_settings(
            validate_account_name(name), help_text=help_text, opt_out_keywords=opt_out_keywords
        )

    def set_send_settings(
        self, name: str, *, send_rates: dict[str, float], send_window: SendWindow | None
    ) -> Account:
        """Raises ``ValueError`` for a rate or key out of bounds, ``AccountNotFound``."""
        from sms_automation.send_settings import validate_rates

        return self._records.set_send_settings(
            validate_account_name(name),
            send_rates=validate_rates(send_rates),
            send_window=send_window,
        )

    def auth_tokens(self, name: str) -> AuthTokens:
        return self._vault.get(self.get(name).secret_id)

    def rotate_token(
        self,
        name: str,
        new_token: str,
        previous_valid_for: timedelta = DEFAULT_PREVIOUS_TOKEN_VALIDITY,
    ) -> AuthTokens:
        """Raises ``InvalidAuthToken``, ``InvalidTokenValidity``, ``AccountNotFound``."""
        validate_auth_token(new_token)
        validate_token_validity(previous_valid_for)
        return self._vault.rotate(self.get(name).secret_id, new_token, previous_valid_for)

    def clear_previous_token(self, name: str) -> AuthTokens:
        return self._vault.clear_previous(self.get(name).secret_id)

    def remove(self, name: str) -> Account:
        account = self._records.delete(validate_account_name(name))
        self._vault.delete(account.secret_id)
        return account
