"""AccountRegistry: the item and its secret stay consistent, in the right order, with fakes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sms_automation.accounts import (
    Account,
    AccountAlreadyExists,
    AccountNotFound,
    AccountRegistry,
    AuthTokens,
    AuthTokenSecretAlreadyExists,
    AuthTokenSecretNotFound,
    InvalidAccountName,
    InvalidAccountSid,
    InvalidAuthToken,
    InvalidTokenValidity,
)
from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.time_zones import UnknownTimeZone

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "0123456789abcdef0123456789abcdef"
NEW_TOKEN = "fedcba9876543210fedcba9876543210"
PREFIX = "sms-automation/test"
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


class StoreDown(RuntimeError):
    pass


class FakeRecords:
    def __init__(self, log: list[str]) -> None:
        self.items: dict[str, Account] = {}
        self.log = log
        self.fail_create: Exception | None = None
        self.hide_from_get = False  # simulates a concurrent add between get and create

    def get(self, name: str) -> Account | None:
        return None if self.hide_from_get else self.items.get(name)

    def create(self, account: Account) -> None:
        self.log.append(f"records.create {account.name}")
        if self.fail_create:
            raise self.fail_create
        if account.name in self.items:
            raise AccountAlreadyExists(account.name)
        self.items[account.name] = account

    def list(self) -> list[Account]:
        return sorted(self.items.values(), key=lambda a: a.name)

    def set_receive_enabled(self, name: str, enabled: bool) -> Account:
        if name not in self.items:
            raise AccountNotFound(name)
        self.items[name] = replace(self.items[name], receive_enabled=enabled)
        return self.items[name]

    def set_timezone(self, name: str, timezone: str) -> Account:
        self.log.append(f"records.set_timezone {name}")
        if name not in self.items:
            raise AccountNotFound(name)
        self.items[name] = replace(self.items[name], timezone=timezone)
        return self.items[name]

    def delete(self, name: str) -> Account:
        self.log.append(f"records.delete {name}")
        if name not in self.items:
            raise AccountNotFound(name)
        return self.items.pop(name)


class FakeVault:
    def __init__(self, log: list[str]) -> None:
        self.secrets: dict[str, AuthTokens] = {}
        self.log = log

    def create(self, secret_id: str, token: str) -> None:
        self.log.append(f"vault.create {secret_id}")
        if secret_id in self.secrets:
            raise AuthTokenSecretAlreadyExists(secret_id)
        self.secrets[secret_id] = AuthTokens(token)

    def get(self, secret_id: str) -> AuthTokens:
        if secret_id not in self.secrets:
            raise AuthTokenSecretNotFound(secret_id)
        return self.secrets[secret_id]

    def rotate(self, secret_id: str, new_token: str, previous_valid_for: timedelta) -> AuthTokens:
        until = utc_timestamp(NOW + previous_valid_for)
        previous = self.get(secret_id).current
        self.secrets[secret_id] = AuthTokens(new_token, previous, utc_timestamp(NOW), until)
        return self.secrets[secret_id]

    def clear_previous(self, secret_id: str) -> AuthTokens:
        self.secrets[secret_id] = AuthTokens(self.get(secret_id).current)
        return self.secrets[secret_id]

    def delete(self, secret_id: str) -> None:
        self.log.append(f"vault.delete {secret_id}")
        self.secrets.pop(secret_id, None)


@pytest.fixture
def log() -> list[str]:
    return []


@pytest.fixture
def records(log: list[str]) -> FakeRecords:
    return FakeRecords(log)


@pytest.fixture
def vault(log: list[str]) -> FakeVault:
    return FakeVault(log)


@pytest.fixture
def registry(records: FakeRecords, vault: FakeVault) -> AccountRegistry:
    return AccountRegistry(records, vault, clock=lambda: NOW)


def add(registry: AccountRegistry, name: str = "acme", **kwargs: bool) -> Account:
    return registry.add(name, SID, TOKEN, secrets_prefix=PREFIX, **kwargs)


def test_registry_add_writes_the_secret_before_the_item(
    registry: AccountRegistry, records: FakeRecords, vault: FakeVault, log: list[str]
) -> None:
    account = add(registry)

    secret_id = f"{PREFIX}/accounts/acme"
    assert log == [f"vault.create {secret_id}", "records.create acme"]
    assert account == Account(
        name="acme",
        account_sid=SID,
        receive_enabled=True,
        secret_id=secret_id,
        created_at="2025-01-02T03:04:05.000Z",
        updated_at="2025-01-02T03:04:05.000Z",
    )
    assert records.items["acme"] == account
    assert vault.secrets[secret_id] == AuthTokens(TOKEN)


def test_registry_add_can_start_with_receiving_off(registry: AccountRegistry) -> None:
    assert add(registry, receive_enabled=False).receive_enabled is False


def test_registry_add_of_an_existing_name_touches_no_secret(
    registry: AccountRegistry, vault: FakeVault, log: list[str]
) -> None:
    add(registry)
    log.clear()

    with pytest.raises(AccountAlreadyExists):
        add(registry)

    assert log == []
    assert vault.secrets[f"{PREFIX}/accounts/acme"].current == TOKEN


def test_registry_add_deletes_the_new_secret_when_the_item_write_fails(
    registry: AccountRegistry, records: FakeRecords, vault: FakeVault, log: list[str]
) -> None:
    records.fail_create = StoreDown("throttled")

    with pytest.raises(StoreDown):
        add(registry)

    assert log[-1] == f"vault.delete {PREFIX}/accounts/acme"
    assert vault.secrets == {}
    assert records.items == {}


def test_registry_add_losing_a_race_to_the_item_leaves_no_secret(
    registry: AccountRegistry, records: FakeRecords, vault: FakeVault
) -> None:
    records.items["acme"] = Account("acme", SID, True, "other/accounts/acme", "t", "t")
    records.hide_from_get = True

    with pytest.raises(AccountAlreadyExists):
        add(registry)

    assert vault.secrets == {}


def test_registry_add_keeps_a_secret_it_did_not_create(
    registry: AccountRegistry, vault: FakeVault, records: FakeRecords
) -> None:
    secret_id = f"{PREFIX}/accounts/acme"
    vault.secrets[secret_id] = AuthTokens(NEW_TOKEN)

    with pytest.raises(AuthTokenSecretAlreadyExists):
        add(registry)

    assert vault.secrets[secret_id].current == NEW_TOKEN
    assert records.items == {}


@pytest.mark.parametrize(
    ("name", "sid", "token", "error"),
    [
        ("Acme", SID, TOKEN, InvalidAccountName),
        ("acme", "AC123", TOKEN, InvalidAccountSid),
        ("acme", SID, "", InvalidAuthToken),
    ],
)
def test_registry_add_validates_before_writing_anything(
    registry: AccountRegistry,
    log: list[str],
    name: str,
    sid: str,
    token: str,
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        registry.add(name, sid, token, secrets_prefix=PREFIX)
    assert log == []


def test_registry_remove_deletes_the_item_then_the_secret(
    registry: AccountRegistry, vault: FakeVault, log: list[str]
) -> None:
    add(registry)
    log.clear()

    removed = registry.remove("acme")

    assert removed.name == "acme"
    assert log == ["records.delete acme", f"vault.delete {PREFIX}/accounts/acme"]
    assert vault.secrets == {}


def test_registry_remove_of_an_unknown_account_deletes_nothing(
    registry: AccountRegistry, log: list[str]
) -> None:
    with pytest.raises(AccountNotFound):
        registry.remove("ghost")
    assert "vault.delete" not in " ".join(log)


def test_registry_get_raises_account_not_found(registry: AccountRegistry) -> None:
    with pytest.raises(AccountNotFound) as raised:
        registry.get("ghost")
    assert raised.value.name == "ghost"


def test_registry_rotate_then_clear_previous_goes_through_the_accounts_secret(
    registry: AccountRegistry,
) -> None:
    add(registry)

    rotated = registry.rotate_token("acme", NEW_TOKEN)
    assert rotated.accepted_at(NOW + timedelta(hours=23)) == (NEW_TOKEN, TOKEN)
    assert rotated.accepted_at(NOW + timedelta(hours=24)) == (NEW_TOKEN,)  # the default window
    assert registry.auth_tokens("acme") == rotated
    assert registry.rotate_token("acme", "b" * 32, timedelta(days=3)).accepted_at(
        NOW + timedelta(days=2)
    ) == ("b" * 32, NEW_TOKEN)
    assert registry.clear_previous_token("acme").accepted_at(NOW) == ("b" * 32,)


@pytest.mark.parametrize("window", [timedelta(minutes=5), timedelta(days=31)])
def test_registry_rotate_refuses_a_window_out_of_bounds(
    registry: AccountRegistry, window: timedelta
) -> None:
    add(registry)
    with pytest.raises(InvalidTokenValidity):
        registry.rotate_token("acme", NEW_TOKEN, window)
    assert registry.auth_tokens("acme") == AuthTokens(TOKEN)


def test_registry_rotate_rejects_an_invalid_token(registry: AccountRegistry) -> None:
    add(registry)
    with pytest.raises(InvalidAuthToken):
        registry.rotate_token("acme", "with space")
    assert registry.auth_tokens("acme") == AuthTokens(TOKEN)


def test_registry_set_receive_enabled_and_list(registry: AccountRegistry) -> None:
    add(registry, "zeta")
    add(registry, "acme")

    assert registry.set_receive_enabled("zeta", False).receive_enabled is False
    assert [(a.name, a.receive_enabled) for a in registry.list()] == [
        ("acme", True),
        ("zeta", False),
    ]


def test_registry_time_zone_is_set_at_add_and_changed_later(registry: AccountRegistry) -> None:
    assert add(registry, "zeta").timezone is None  # none: UTC
    added = registry.add("acme", SID, TOKEN, secrets_prefix=PREFIX, timezone="Asia/Tokyo")

    assert added.timezone == "Asia/Tokyo"
    assert registry.set_timezone("zeta", "Europe/London").timezone == "Europe/London"
    assert [(a.name, a.timezone) for a in registry.list()] == [
        ("acme", "Asia/Tokyo"),
        ("zeta", "Europe/London"),
    ]


def test_registry_refuses_an_unknown_time_zone_before_writing(
    registry: AccountRegistry, log: list[str]
) -> None:
    add(registry, "acme")
    log.clear()

    for attempt in (
        lambda: registry.add("zeta", SID, TOKEN, secrets_prefix=PREFIX, timezone="Mars/Base"),
        lambda: registry.set_timezone("acme", "Mars/Base"),
    ):
        with pytest.raises(UnknownTimeZone, match=r"unknown time zone 'Mars/Base'"):
            attempt()
    assert log == []
    assert registry.get("acme").timezone is None
