"""``sms-automation console add-user|users|remove-user`` through ``main([...])`` against moto's
Cognito and DynamoDB: the user is invited by e-mail into their role group and one
``account:NAME`` group per account; their token then carries exactly the groups the console
API reads (``console.access``); bad input changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sms_automation.console.access import Role, principal_from_claims
from sms_automation_cli.main import main
from tests.support.aws import account_registry, add_account, use_dummy_aws_credentials
from tests.support.template import create_table_kwargs, load_template

pytestmark = pytest.mark.integration

ANN = "ann@example.com"


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        kwargs = create_table_kwargs()
        dynamodb.create_table(**kwargs)
        registry = account_registry(kwargs["TableName"], dynamodb, boto3.client("secretsmanager"))
        add_account(registry, "acme")
        add_account(registry, "globex")
        cognito = boto3.client("cognito-idp")
        # The pool and groups as template.yaml declares them.
        resources = load_template()["Resources"]
        pool_properties = resources["ConsoleUserPool"]["Properties"]
        pool_id = cognito.create_user_pool(
            PoolName="console", UsernameAttributes=pool_properties["UsernameAttributes"],
            AdminCreateUserConfig=pool_properties["AdminCreateUserConfig"],
        )["UserPool"]["Id"]  # fmt: skip
        for resource in resources.values():
            if resource["Type"] == "AWS::Cognito::UserPoolGroup":
                cognito.create_group(
                    UserPoolId=pool_id, GroupName=resource["Properties"]["GroupName"]
                )
        monkeypatch.setenv("SMS_AUTOMATION_TABLE", kwargs["TableName"])
        monkeypatch.setenv("SMS_AUTOMATION_USER_POOL_ID", pool_id)
        yield pool_id, cognito


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["console", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def groups_of(pool: tuple[str, Any], email: str) -> list[str]:
    pool_id, cognito = pool
    found = cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username=email)["Groups"]
    return sorted(g["GroupName"] for g in found)


def test_add_user_invites_into_role_and_account_groups_that_the_api_reads(
    pool: tuple[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "add-user", ANN, "--role", "viewer", "--account", "acme")
    assert code == 0
    assert "invited ann@example.com as viewer (acme)" in out
    assert groups_of(pool, ANN) == ["account:acme", "viewer"]
    pool_id, cognito = pool
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=ANN)
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"  # the invitation's temporary password
    # The groups as the token carries them, stringified by API Gateway, make the principal.
    claim = "[" + " ".join(groups_of(pool, ANN)) + "]"
    principal = principal_from_claims({"cognito:groups": claim, "email": ANN})
    assert principal.role is Role.VIEWER
    assert principal.accounts == frozenset({"acme"})

    assert run(capsys, "add-user", "bo@example.com", "--role", "admin")[0] == 0
    code, out, _ = run(capsys, "users", "--json")
    rows = sorted((json.loads(line) for line in out.splitlines()), key=lambda r: r["email"])
    assert [(r["email"], r["role"], r["accounts"]) for r in rows] == [
        (ANN, "viewer", ["acme"]),
        ("bo@example.com", "admin", None),
    ]
    code, out, _ = run(capsys, "users")
    assert "bo@example.com\tadmin\t*\tFORCE_CHANGE_PASSWORD" in out

    assert run(capsys, "remove-user", ANN)[0] == 0
    _, out, _ = run(capsys, "users", "--json")
    assert [json.loads(line)["email"] for line in out.splitlines()] == ["bo@example.com"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["add-user", "not-an-email", "--role", "viewer"], "not an e-mail address"),
        (["add-user", ANN, "--role", "viewer", "--account", "initech"], "no account named initech"),
        (["add-user", ANN, "--role", "viewer", "--account", "Bad Name"], "invalid account name"),
        (["remove-user", "nobody@example.com"], "is not a console user"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    pool: tuple[str, Any], capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert message in err
    pool_id, cognito = pool
    assert cognito.list_users(UserPoolId=pool_id)["Users"] == []


def test_a_second_add_of_the_same_user_is_refused(
    pool: tuple[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "add-user", ANN, "--role", "viewer", "--account", "acme")[0] == 0
    code, _, err = run(capsys, "add-user", ANN, "--role", "admin")
    assert code == 1
    assert "already a console user" in err
    assert groups_of(pool, ANN) == ["account:acme", "viewer"]


def test_a_role_outside_the_three_is_refused_by_the_parser(
    pool: tuple[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["console", "add-user", ANN, "--role", "root"])
