"""Roles and account scope from the claims API Gateway passes (``console.access``)."""

from __future__ import annotations

import pytest

from sms_automation.console.access import AccessDenied, Role, parse_groups, principal_from_claims


@pytest.mark.parametrize(
    ("claim", "groups"),
    [
        ("[admin viewer]", ["admin", "viewer"]),  # AWS and the emulator: stringified
        ("[viewer]", ["viewer"]),
        ('["operator","account:acme"]', ["operator", "account:acme"]),
        (["viewer", "account:a b"], ["viewer", "account:a b"]),
        ("viewer,account:acme", ["viewer", "account:acme"]),
        ("[]", []),
        ("", []),
        (None, []),
        (42, []),
        ("[" + " ".join(["viewer"] * 500) + "]", ["viewer"] * 100),
    ],
)
def test_groups_parse_in_every_form_api_gateway_passes(claim: object, groups: list[str]) -> None:
    assert parse_groups(claim) == groups


def test_the_highest_role_wins_and_account_groups_scope() -> None:
    principal = principal_from_claims(
        {"cognito:groups": "[viewer admin account:acme account:globex]", "email": "a@b.c"}
    )
    assert principal.role is Role.ADMIN
    assert principal.accounts == frozenset({"acme", "globex"})
    assert principal.may_read("acme")
    assert not principal.may_read("initech")
    assert principal.as_dict() == {
        "email": "a@b.c",
        "role": "admin",
        "accounts": ["acme", "globex"],
    }


def test_no_account_group_sees_every_account() -> None:
    principal = principal_from_claims({"cognito:groups": "[operator]", "username": "u"})
    assert principal.accounts is None
    assert principal.may_read("anything")
    assert principal.email == "u"


@pytest.mark.parametrize(
    "claims",
    [{}, {"cognito:groups": "[account:acme]"}, {"cognito:groups": "[Admin viewers]"}],
)
def test_no_role_group_is_refused(claims: dict[str, str]) -> None:
    with pytest.raises(AccessDenied):
        principal_from_claims(claims)


def test_a_scoped_user_is_refused_another_account() -> None:
    principal = principal_from_claims({"cognito:groups": "[admin account:acme]"})
    with pytest.raises(AccessDenied):
        principal.require_account("globex")
