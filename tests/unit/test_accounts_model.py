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
    InvalidTokenValidity,
    account_secret_id,
    validate_account_name,
    validate_account_sid,
    validate_auth_token,
    validate_token_validity,
)
from sms_automation.edge.timestamps import utc_timestamp

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


@pytest.mark.parametrize(
    "token",
    [
        "",
        f"{TOKEN} ",
        f"{TOKEN[:16]}\t{TOKEN[16:]}",
        f"{TOKEN[:16]}\u00e9{TOKEN[16:]}",  # Latin-1, not ASCII: no HTTP Basic auth carries it
        f"{TOKEN[:16]}\u20ac{TOKEN[16:]}",  # not even Latin-1: requests cannot encode it
        f"{TOKEN[:16]}\x00{TOKEN[16:]}",  # a control character
    ],
)
def test_validate_auth_token_refuses_empty_whitespace_or_non_ascii_without_quoting_it(
    token: str,
) -> None:
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


ROTATED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_auth_tokens_accept_the_previous_one_only_inside_its_window() -> None:
    tokens = AuthTokens(TOKEN, PREVIOUS, utc_timestamp(ROTATED), "2026-12-03T09:00:00.000Z")
    assert tokens.previous_accepted_until == ROTATED + timedelta(hours=48)
    assert tokens.accepted_at(ROTATED) == (TOKEN, PREVIOUS)
    assert tokens.accepted_at(ROTATED + timedelta(hours=47, minutes=59)) == (TOKEN, PREVIOUS)
    assert tokens.accepted_at(ROTATED + timedelta(hours=48)) == (TOKEN,)
    assert tokens.accepted_at(ROTATED + timedelta(days=400)) == (TOKEN,)
    assert AuthTokens(TOKEN).accepted_at(ROTATED) == (TOKEN,)
    assert AuthTokens(TOKEN).previous_accepted_until is None


def test_auth_tokens_written_before_the_window_existed_get_the_default_window() -> None:
    """A secret rotated by an older release has no ``previous_valid_until``: its previous
    token is accepted for 24 hours after ``rotated_at``, and never when that is unknown."""
    legacy = AuthTokens(TOKEN, PREVIOUS, utc_timestamp(ROTATED))
    assert legacy.accepted_at(ROTATED + timedelta(hours=23)) == (TOKEN, PREVIOUS)
    assert legacy.accepted_at(ROTATED + timedelta(hours=24)) == (TOKEN,)
    assert AuthTokens(TOKEN, PREVIOUS).accepted_at(ROTATED) == (TOKEN,)
    assert AuthTokens(TOKEN, PREVIOUS, "not a time").accepted_at(ROTATED) == (TOKEN,)


@pytest.mark.parametrize(
    ("window", "valid"),
    [
        (timedelta(minutes=9), False),
        (timedelta(minutes=10), True),
        (timedelta(hours=48), True),
        (timedelta(days=30), True),
        (timedelta(days=31), False),
    ],
)
def test_token_window_is_bounded(window: timedelta, valid: bool) -> None:
    if valid:
        assert validate_token_validity(window) == window
    else:
        with pytest.raises(InvalidTokenValidity):
            validate_token_validity(window)


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
