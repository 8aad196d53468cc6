"""CachedAccountDirectory: what the webhook sees, and for how long, with a hand-driven clock."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sms_automation.accounts import Account, AccountDirectory, AuthTokens
from sms_automation.adapters.account_store import (
    ACCOUNT_CACHE_SECONDS,
    AUTH_TOKEN_CACHE_SECONDS,
    CachedAccountDirectory,
)

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "0123456789abcdef0123456789abcdef"
NEW_TOKEN = "fedcba9876543210fedcba9876543210"
ACME = Account("acme", SID, True, "test/accounts/acme", "t0", "t0")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingAccounts:
    def __init__(self, *accounts: Account) -> None:
        self.accounts = {a.name: a for a in accounts}
        self.reads: list[str] = []
        self.failure: Exception | None = None

    def get(self, name: str) -> Account | None:
        self.reads.append(name)
        if self.failure:
            raise self.failure
        return self.accounts.get(name)


class CountingTokens:
    def __init__(self, tokens: AuthTokens) -> None:
        self.tokens = tokens
        self.reads = 0

    def get(self, secret_id: str) -> AuthTokens:
        assert secret_id == ACME.secret_id
        self.reads += 1
        return self.tokens


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts() -> CountingAccounts:
    return CountingAccounts(ACME)


@pytest.fixture
def tokens() -> CountingTokens:
    return CountingTokens(AuthTokens(TOKEN))


@pytest.fixture
def directory(
    accounts: CountingAccounts, tokens: CountingTokens, clock: Clock
) -> CachedAccountDirectory:
    return CachedAccountDirectory(accounts, tokens, clock=clock)


def test_directory_satisfies_the_webhooks_protocol(directory: CachedAccountDirectory) -> None:
    as_protocol: AccountDirectory = directory
    assert as_protocol.find("acme") == ACME


def test_directory_documented_cache_lifetimes() -> None:
    assert ACCOUNT_CACHE_SECONDS == 30
    assert AUTH_TOKEN_CACHE_SECONDS == 300


def test_directory_find_reads_an_account_once_within_30_seconds(
    directory: CachedAccountDirectory, accounts: CountingAccounts, clock: Clock
) -> None:
    directory.find("acme")
    clock.advance(29.9)
    directory.find("acme")
    assert accounts.reads == ["acme"]


def test_directory_find_sees_a_disabled_account_after_30_seconds(
    directory: CachedAccountDirectory, accounts: CountingAccounts, clock: Clock
) -> None:
    assert directory.find("acme") == ACME
    accounts.accounts["acme"] = replace(ACME, receive_enabled=False)

    clock.advance(29)
    still_cached = directory.find("acme")
    clock.advance(1)
    refreshed = directory.find("acme")

    assert still_cached == ACME
    assert refreshed == replace(ACME, receive_enabled=False)


def test_directory_find_caches_unknown_names_too(
    directory: CachedAccountDirectory, accounts: CountingAccounts, clock: Clock
) -> None:
    assert directory.find("ghost") is None
    assert directory.find("ghost") is None
    clock.advance(ACCOUNT_CACHE_SECONDS)
    accounts.accounts["ghost"] = replace(ACME, name="ghost")
    assert directory.find("ghost") is not None
    assert accounts.reads == ["ghost", "ghost"]


@pytest.mark.parametrize("name", ["", "ACME", "../acme", "a" * 64, "acme%2F"])
def test_directory_find_answers_impossible_names_without_a_read(
    directory: CachedAccountDirectory, accounts: CountingAccounts, name: str
) -> None:
    assert directory.find(name) is None
    assert accounts.reads == []


def test_directory_find_does_not_cache_a_failed_read(
    directory: CachedAccountDirectory, accounts: CountingAccounts
) -> None:
    accounts.failure = RuntimeError("throttled")
    with pytest.raises(RuntimeError):
        directory.find("acme")
    accounts.failure = None
    assert directory.find("acme") == ACME
    assert accounts.reads == ["acme", "acme"]


def test_directory_auth_tokens_are_cached_for_five_minutes(
    directory: CachedAccountDirectory, tokens: CountingTokens, clock: Clock
) -> None:
    assert directory.auth_tokens(ACME) == AuthTokens(TOKEN)
    tokens.tokens = AuthTokens(NEW_TOKEN, TOKEN)

    clock.advance(299)
    during = directory.auth_tokens(ACME)
    clock.advance(1)
    after = directory.auth_tokens(ACME)

    assert during == AuthTokens(TOKEN)
    assert after == AuthTokens(NEW_TOKEN, TOKEN)
    assert tokens.reads == 2


def test_directory_cache_is_bounded_dropping_the_oldest_entry(
    accounts: CountingAccounts, tokens: CountingTokens, clock: Clock
) -> None:
    directory = CachedAccountDirectory(accounts, tokens, clock=clock, max_entries=2)
    for name in ("a1", "a2", "a3", "a2", "a1"):
        directory.find(name)
    assert accounts.reads == ["a1", "a2", "a3", "a1"]
