"""The account model: name, SID and token validation, secret naming, timestamps, token repr."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sms_automation.accounts import (
    AccountAlreadyExists,
    AccountNotFound,
    AuthTokens,
    InvalidAccountName,
    InvalidAccountSid,
    InvalidAuthToken,
    account_secret_id,
    utc_timestamp,
    validate_account_name,
    validate_account_sid,
    validate_auth_token,
)

TOKEN = "0123456789abcdef0123456789abcdef"
PREVIOUS = "fedcba9876543210fedcba9876543210"


@pytest.mark.parametrize("name", ["a", "acme", "acme-uk", "a1", "0", "x" * 63, "a-b-c-9"])
def test_validate_account_name_accepts_url_safe_names(name: str) -> None:
    assert validate_account_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "Acme", "-acme", "acme-", "ac_me", "ac me", "acme/sms", "x" * 64, "ácme", "acme\n"],
)
def test_validate_account_name_rejects_what_cannot_be_a_url_segment(name: str) -> None:
    with pytest.raises(InvalidAccountName, match="invalid account name"):
        validate_account_name(name)


@pytest.mark.parametrize(
    "sid", ["AC0123456789abcdef0123456789abcdef", "AC0123456789ABCDEF0123456789ABCDEF"]
)
def test_validate_account_sid_accepts_ac_and_32_hex_digits(sid: str) -> None:
    assert validate_account_sid(sid) == sid


@pytest.mark.parametrize(
    "sid",
    [
        "",
        "AC0123456789abcdef0123456789abcde",  # 31 digits
        "AC0123456789abcdef0123456789abcdef0",  # 33 digits
        "ac0123456789abcdef0123456789abcdef",
        "SK0123456789abcdef0123456789abcdef",  # an API key SID, not an account
        "AC0123456789abcdef0123456789abcdeg",
    ],
)
def test_validate_account_sid_rejects_anything_else(sid: str) -> None:
    with pytest.raises(InvalidAccountSid, match="'AC' followed by 32 hexadecimal digits"):
        validate_account_sid(sid)


@pytest.mark.parametrize("token", ["", f"{TOKEN} ", f"{TOKEN[:16]}\t{TOKEN[16:]}"])
def test_validate_auth_token_rejects_empty_or_whitespace_without_quoting_it(token: str) -> None:
    with pytest.raises(InvalidAuthToken) as raised:
        validate_auth_token(token)
    assert TOKEN[:8] not in str(raised.value)


def test_account_secret_id_nests_accounts_under_the_prefix() -> None:
    assert account_secret_id("sms-automation/prod", "acme") == "sms-automation/prod/accounts/acme"
    assert account_secret_id("sms-automation/prod/", "acme") == "sms-automation/prod/accounts/acme"


def test_utc_timestamp_is_iso8601_utc_with_z_whatever_the_input_zone() -> None:
    moment = datetime(2025, 3, 4, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert utc_timestamp(moment) == "2025-03-04T05:08:09.123Z"
    assert utc_timestamp().endswith("Z")
    assert datetime.fromisoformat(utc_timestamp()).tzinfo == UTC


def test_auth_tokens_accepted_lists_previous_only_while_rotating() -> None:
    assert AuthTokens(TOKEN).accepted == (TOKEN,)
    assert AuthTokens(TOKEN, PREVIOUS).accepted == (TOKEN, PREVIOUS)


def test_auth_tokens_repr_and_str_never_show_a_token() -> None:
    tokens = AuthTokens(TOKEN, PREVIOUS, rotated_at="2025-01-01T00:00:00.000Z")
    for text in (repr(tokens), str(tokens), f"{tokens}", repr([tokens])):
        assert TOKEN not in text
        assert PREVIOUS not in text
    assert "rotated_at='2025-01-01T00:00:00.000Z'" in repr(tokens)


def test_domain_errors_carry_the_name_for_callers_not_just_a_message() -> None:
    assert AccountNotFound("acme").name == "acme"
    assert AccountAlreadyExists("acme").name == "acme"
    assert isinstance(AccountNotFound("acme"), LookupError)
