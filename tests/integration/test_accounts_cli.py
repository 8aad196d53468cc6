"""``sms-automation accounts ...`` end to end through ``main([...])`` against moto."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sms_automation.accounts import Account, AccountRegistry, AuthTokens
from sms_automation.adapters.account_store import (
    CachedAccountDirectory,
    DynamoAccountStore,
    SecretsManagerTokenStore,
)
from sms_automation_cli.main import main
from tests.support.aws import SECRETS_PREFIX, use_dummy_aws_credentials
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "5f3c0d2b8e6a41f79c1d2e3f4a5b6c7d"  # not a substring of SID: "not in output" bites
NEW_TOKEN = "fedcba9876543210fedcba9876543210"
OTHER_TOKEN = "abcdefabcdefabcdefabcdefabcdef00"
BASE_URL = "https://sms.example.com/prod"
ACME_URL = f"{BASE_URL}/twilio/acme/sms"
ACME_SECRET = f"{SECRETS_PREFIX}/accounts/acme"


@dataclass
class Aws:
    table_name: str
    dynamodb: Any
    secretsmanager: Any

    def item(self, name: str) -> dict[str, Any] | None:
        key = {"pk": {"S": f"ACCOUNT#{name}"}, "sk": {"S": "ACCOUNT"}}
        item: dict[str, Any] | None = self.dynamodb.get_item(
            TableName=self.table_name, Key=key, ConsistentRead=True
        ).get("Item")
        return item

    def secret_names(self) -> list[str]:
        return sorted(s["Name"] for s in self.secretsmanager.list_secrets()["SecretList"])

    def tokens(self, name: str) -> AuthTokens:
        return SecretsManagerTokenStore(self.secretsmanager).get(
            f"{SECRETS_PREFIX}/accounts/{name}"
        )

    def directory(self) -> CachedAccountDirectory:
        return CachedAccountDirectory.from_clients(
            self.table_name, self.dynamodb, self.secretsmanager
        )


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def all(self) -> str:
        return self.out + self.err


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    use_dummy_aws_credentials(monkeypatch)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    with mock_aws():
        kwargs = create_table_kwargs()
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(**kwargs)
        monkeypatch.setenv("SMS_AUTOMATION_TABLE", kwargs["TableName"])
        monkeypatch.setenv("SMS_AUTOMATION_SECRETS_PREFIX", SECRETS_PREFIX)
        monkeypatch.setenv("SMS_AUTOMATION_WEBHOOK_BASE_URL", f"{BASE_URL}/")
        yield Aws(kwargs["TableName"], dynamodb, boto3.client("secretsmanager"))


@pytest.fixture
def cli(
    aws: Aws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Run]:
    """Runs the CLI; ``stdin=`` feeds standard input, ``tty=`` says whether it is a terminal."""

    def run(*argv: str, stdin: str = "", tty: bool = False) -> Run:
        fake_stdin = io.StringIO(stdin)
        fake_stdin.isatty = lambda: tty  # type: ignore[method-assign]
        monkeypatch.setattr("sys.stdin", fake_stdin)
        capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def add_acme(cli: Any, *extra: str) -> Run:
    result: Run = cli(
        "accounts", "add", "acme", "--account-sid", SID, "--auth-token-stdin", *extra, stdin=TOKEN
    )
    return result


# --- add --------------------------------------------------------------------------------------


def test_accounts_add_stores_item_and_secret_and_prints_the_messaging_url(
    cli: Any, aws: Aws
) -> None:
    result = add_acme(cli)

    assert result.code == 0, result.err
    assert ACME_URL in result.out
    item = aws.item("acme")
    assert item is not None
    assert item["kind"] == {"S": "account"}
    assert item["gsi1pk"] == {"S": "ACCOUNTS"}
    assert item["account_sid"] == {"S": SID}
    assert item["receive_enabled"] == {"BOOL": True}
    assert item["secret_id"] == {"S": ACME_SECRET}
    assert item["created_at"]["S"].endswith("Z")
    assert aws.tokens("acme").accepted_at(datetime.now(UTC)) == (TOKEN,)
    assert TOKEN not in result.all


def test_accounts_add_disabled_starts_with_receiving_off(cli: Any, aws: Aws) -> None:
    assert add_acme(cli, "--disabled").code == 0
    assert aws.item("acme")["receive_enabled"] == {"BOOL": False}  # type: ignore[index]


def test_accounts_add_reads_the_token_from_the_environment(
    cli: Any, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    result = cli("accounts", "add", "acme", "--account-sid", SID)
    assert result.code == 0, result.err
    assert "TWILIO_AUTH_TOKEN" in result.err
    assert aws.tokens("acme").current == TOKEN


def test_accounts_add_prompts_for_the_token_on_a_terminal(
    cli: Any, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return f"{TOKEN}\n"

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    result = cli("accounts", "add", "acme", "--account-sid", SID, tty=True)
    assert result.code == 0, result.err
    assert prompts == [f"Auth Token for {SID}: "]
    assert aws.tokens("acme").current == TOKEN


def test_accounts_add_without_any_token_source_is_a_usage_error(cli: Any, aws: Aws) -> None:
    result = cli("accounts", "add", "acme", "--account-sid", SID)
    assert result.code == 2
    assert "--auth-token-stdin" in result.err
    assert aws.item("acme") is None
    assert aws.secret_names() == []


def test_accounts_add_duplicate_fails_and_leaves_the_first_intact(cli: Any, aws: Aws) -> None:
    assert add_acme(cli).code == 0

    result = cli(
        "accounts", "add", "acme", "--account-sid", SID, "--auth-token-stdin", stdin=NEW_TOKEN
    )

    assert result.code == 1
    assert "error: an account named 'acme' already exists" in result.err
    assert aws.secret_names() == [ACME_SECRET]
    assert aws.tokens("acme").accepted_at(datetime.now(UTC)) == (TOKEN,)


def test_accounts_add_leaves_no_secret_when_the_item_write_fails(aws: Aws) -> None:
    class ItemWriteFails(DynamoAccountStore):
        def create(self, account: Account) -> None:
            raise RuntimeError("the table went away")

    registry = AccountRegistry(
        ItemWriteFails(aws.table_name, aws.dynamodb), SecretsManagerTokenStore(aws.secretsmanager)
    )
    with pytest.raises(RuntimeError):
        registry.add("acme", SID, TOKEN, secrets_prefix=SECRETS_PREFIX)

    assert aws.secret_names() == []
    assert aws.item("acme") is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["accounts", "add", "Acme", "--account-sid", SID], "invalid account name 'Acme'"),
        (["accounts", "add", "acme", "--account-sid", "AC123"], "invalid Twilio Account SID"),
        (["accounts", "show", "no_underscores"], "invalid account name"),
        (["accounts", "remove", "bad-", "--yes"], "invalid account name"),
    ],
)
def test_accounts_invalid_name_or_sid_exits_2_with_the_validation_message(
    cli: Any, aws: Aws, argv: list[str], message: str
) -> None:
    result = cli(*argv, stdin=TOKEN)
    assert result.code == 2
    assert message in result.err
    assert aws.secret_names() == []


def test_accounts_add_with_a_whitespace_token_exits_2_without_echoing_it(
    cli: Any, aws: Aws
) -> None:
    result = cli(
        "accounts",
        "add",
        "acme",
        "--account-sid",
        SID,
        "--auth-token-stdin",
        stdin=f"{TOKEN[:16]} {TOKEN[16:]}",
    )
    assert result.code == 2
    assert "whitespace" in result.err
    assert TOKEN[:16] not in result.all
    assert aws.secret_names() == []


# --- list / show ------------------------------------------------------------------------------


def test_accounts_list_shows_names_sids_receive_and_urls(cli: Any) -> None:
    add_acme(cli)
    cli("accounts", "add", "globex", "--account-sid", SID, "--auth-token-stdin", "--disabled",
        stdin=NEW_TOKEN)  # fmt: skip

    result = cli("accounts", "list")

    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == ["NAME", "ACCOUNT", "SID", "RECEIVE", "MESSAGING", "REQUEST", "URL"]
    assert lines[1].split() == ["acme", SID, "on", ACME_URL]
    assert lines[2].split() == ["globex", SID, "off", f"{BASE_URL}/twilio/globex/sms"]


def test_accounts_list_json(cli: Any) -> None:
    add_acme(cli)
    result = cli("accounts", "list", "--json")
    assert json.loads(result.out) == [
        {
            "name": "acme",
            "account_sid": SID,
            "receive_enabled": True,
            "messaging_request_url": ACME_URL,
        }
    ]


def test_accounts_list_when_empty_says_how_to_add(cli: Any) -> None:
    result = cli("accounts", "list")
    assert result.code == 0
    assert "no accounts" in result.out
    assert json.loads(cli("accounts", "list", "--json").out) == []


def details_created(show_json: str) -> str:
    created: str = json.loads(show_json)["created_at"]
    return created


def test_accounts_show_prints_every_field_but_never_the_token(cli: Any) -> None:
    add_acme(cli)

    text = cli("accounts", "show", "acme")
    as_json = cli("accounts", "show", "acme", "--json")

    assert text.code == as_json.code == 0
    fields = dict(line.split("  ", 1) for line in text.out.splitlines())
    assert {label: value.strip() for label, value in fields.items()} == {
        "name": "acme",
        "account SID": SID,
        "receive messages": "on",
        "Messaging Request URL": ACME_URL,
        "send cap": "10 automatic messages per 10 minutes to one contact from one sender",
        "own numbers": "none seen yet",
        "time zone": "UTC",
        "help text": "none (HELP is an ordinary message)",
        "opt-out keywords": "Twilio's only",
        "send hours": "always (no quiet hours)",
        "send rates": "defaults: long_code 1, toll_free 3, short_code 100, messaging_service 1 "
        "(segments a second)",
        "auth token secret": ACME_SECRET,
        "created": details_created(as_json.out),
        "updated": details_created(as_json.out),
        "current token since": json.loads(as_json.out)["token_rotated_at"],
        "previous token": "none (only the current token is accepted)",
    }
    details = json.loads(as_json.out)
    assert details["previous_token_accepted"] is False
    assert details["messaging_request_url"] == ACME_URL
    assert details["secret_id"] == ACME_SECRET
    assert details["token_rotated_at"].endswith("Z")
    for output in (text.all, as_json.all):
        assert TOKEN not in output


def test_accounts_set_changes_the_send_cap_and_show_shows_it(cli: Any) -> None:
    add_acme(cli)

    both = cli("accounts", "set", "acme", "--send-cap", "3", "--send-window", "60")
    window_only = cli("accounts", "set", "acme", "--send-window", "30")

    assert both.code == window_only.code == 0
    assert "send cap 3 automatic messages per 60 minutes" in both.out
    assert json.loads(cli("accounts", "show", "acme", "--json").out)["send_cap"] == {
        "count": 3,
        "window_minutes": 30,
    }


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--send-cap", "0"], "must be a positive whole number"),
        (["--send-cap", "101"], "--send-cap is 1 to 100, not 101"),
        (["--send-window", "1441"], "--send-window is 1 to 1440, not 1441"),
    ],
)
def test_accounts_set_refuses_a_cap_out_of_bounds(cli: Any, argv: list[str], error: str) -> None:
    add_acme(cli)

    result = cli("accounts", "set", "acme", *argv)

    assert result.code == 2
    assert error in result.err


def test_accounts_set_without_a_setting_says_what_to_give(cli: Any) -> None:
    add_acme(cli)

    result = cli("accounts", "set", "acme")

    assert result.code != 0
    assert (
        "give --send-cap, --send-window, --timezone, --help-text, --opt-out-keywords, "
        "--send-hours or --send-rate" in result.err
    )


def test_accounts_set_send_hours_and_rates_and_show_shows_them(cli: Any) -> None:
    add_acme(cli)
    service = "MG" + "a" * 32

    first = cli(
        "accounts", "set", "acme", "--send-hours", "08:00-21:00",
        "--send-rate", "long_code=2", "--send-rate", f"{service}=30",
    )  # fmt: skip
    second = cli("accounts", "set", "acme", "--send-rate", "long_code=default")

    assert first.code == second.code == 0
    assert "send hours 08:00-21:00 in the account's time zone" in first.out
    assert f"send rates {service} 30, long_code 2; defaults: long_code 1" in first.out
    details = json.loads(cli("accounts", "show", "acme", "--json").out)
    assert details["send_hours"] == "08:00-21:00"  # kept when only a rate changed
    assert details["send_rates"] == {service: 30.0}
    text = cli("accounts", "show", "acme").out
    assert "send hours" in text
    assert f"{service} 30; defaults" in text

    off = cli("accounts", "set", "acme", "--send-hours", "off")
    assert off.code == 0
    assert json.loads(cli("accounts", "show", "acme", "--json").out)["send_hours"] is None


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--send-hours", "8-21"], "a send window is HH:MM-HH:MM"),
        (["--send-hours", "08:00-08:00"], "start and end differ"),
        (["--send-rate", "long_code"], "KEY=RATE"),
        (["--send-rate", "long_code=0"], "a send rate is 0.1 to 1000"),
        (["--send-rate", "pager=1"], "neither a sender type"),
    ],
)
def test_accounts_set_refuses_send_hours_and_rates_that_are_not(
    cli: Any, argv: list[str], error: str
) -> None:
    add_acme(cli)

    result = cli("accounts", "set", "acme", *argv)

    assert result.code == 2
    assert error in result.err


def test_accounts_show_reports_a_missing_secret(cli: Any, aws: Aws) -> None:
    add_acme(cli)
    aws.secretsmanager.delete_secret(SecretId=ACME_SECRET, ForceDeleteWithoutRecovery=True)

    result = cli("accounts", "show", "acme")

    assert result.code == 1
    assert ACME_URL in result.out
    assert "does not exist" in result.err


@pytest.mark.parametrize(
    "argv",
    [
        ["show", "ghost"],
        ["enable", "ghost"],
        ["disable", "ghost"],
        ["remove", "ghost", "--yes"],
        ["rotate-token", "ghost", "--clear-previous"],
        ["set", "ghost", "--send-cap", "5"],
        ["verify", "ghost"],
    ],
)
def test_accounts_unknown_account_exits_1_pointing_at_list(cli: Any, argv: list[str]) -> None:
    result = cli("accounts", *argv, stdin=TOKEN)
    assert result.code == 1
    assert result.err.strip() == (
        "error: no account named 'ghost' (see: sms-automation accounts list)"
    )


# --- enable / disable -------------------------------------------------------------------------


def test_accounts_disable_then_enable_flips_receiving_and_updated_at(cli: Any, aws: Aws) -> None:
    add_acme(cli)
    created = aws.item("acme")

    disabled = cli("accounts", "disable", "acme")
    after_disable = aws.item("acme")
    enabled = cli("accounts", "enable", "acme")

    assert disabled.code == enabled.code == 0
    assert "receive messages off" in disabled.out
    assert "within 30 s" in disabled.out
    assert after_disable is not None
    assert created is not None
    assert after_disable["receive_enabled"] == {"BOOL": False}
    assert after_disable["updated_at"]["S"] >= created["updated_at"]["S"]
    assert aws.item("acme")["receive_enabled"] == {"BOOL": True}  # type: ignore[index]
    assert aws.directory().find("acme").receive_enabled is True  # type: ignore[union-attr]


# --- rotate-token -----------------------------------------------------------------------------


def test_accounts_rotate_token_accepts_current_and_previous_then_clears(cli: Any, aws: Aws) -> None:
    add_acme(cli)

    rotated = cli("accounts", "rotate-token", "acme", "--auth-token-stdin", stdin=NEW_TOKEN)

    assert rotated.code == 0, rotated.err
    assert "--clear-previous" in rotated.out
    account = aws.directory().find("acme")
    assert account is not None
    assert aws.directory().auth_tokens(account).accepted_at(datetime.now(UTC)) == (NEW_TOKEN, TOKEN)
    shown = json.loads(cli("accounts", "show", "acme", "--json").out)
    assert shown["previous_token_accepted"] is True

    cleared = cli("accounts", "rotate-token", "acme", "--clear-previous")

    assert cleared.code == 0
    assert aws.tokens("acme").accepted_at(datetime.now(UTC)) == (NEW_TOKEN,)
    assert (
        json.loads(cli("accounts", "show", "acme", "--json").out)["previous_token_accepted"]
        is False
    )
    for output in (rotated.all, cleared.all):
        assert TOKEN not in output
        assert NEW_TOKEN not in output


def test_accounts_rotate_token_previous_valid_for_sets_the_window_show_prints(
    cli: Any, aws: Aws
) -> None:
    add_acme(cli)
    before = datetime.now(UTC)
    rotated = cli(
        "accounts",
        "rotate-token",
        "acme",
        "--auth-token-stdin",
        "--previous-valid-for",
        "48h",
        stdin=NEW_TOKEN,
    )
    after = datetime.now(UTC)

    assert rotated.code == 0, rotated.err
    tokens = aws.tokens("acme")
    until = tokens.previous_accepted_until
    assert until is not None
    assert before + timedelta(hours=48) - timedelta(seconds=1) <= until
    assert until <= after + timedelta(hours=48)
    assert f"accepted until {tokens.previous_valid_until}" in rotated.out
    assert tokens.accepted_at(until - timedelta(seconds=1)) == (NEW_TOKEN, TOKEN)
    assert tokens.accepted_at(until) == (NEW_TOKEN,)

    shown = cli("accounts", "show", "acme")
    assert f"accepted until {tokens.previous_valid_until}" in shown.out
    details = json.loads(cli("accounts", "show", "acme", "--json").out)
    assert details["previous_token_accepted_until"] == tokens.previous_valid_until


def test_accounts_show_says_when_the_previous_token_window_ended(cli: Any, aws: Aws) -> None:
    add_acme(cli)
    long_ago = datetime.now(UTC) - timedelta(days=2)
    registry = AccountRegistry(
        DynamoAccountStore(aws.table_name, aws.dynamodb),
        SecretsManagerTokenStore(aws.secretsmanager, clock=lambda: long_ago),
    )
    registry.rotate_token("acme", NEW_TOKEN)

    shown = cli("accounts", "show", "acme")
    assert "no longer accepted (its window ended 20" in shown.out
    assert (
        json.loads(cli("accounts", "show", "acme", "--json").out)["previous_token_accepted"]
        is False
    )


@pytest.mark.parametrize("window", ["5m", "31d", "soon", "0h"])
def test_accounts_rotate_token_refuses_a_window_out_of_bounds(
    cli: Any, aws: Aws, window: str
) -> None:
    add_acme(cli)
    result = cli(
        "accounts",
        "rotate-token",
        "acme",
        "--auth-token-stdin",
        "--previous-valid-for",
        window,
        stdin=NEW_TOKEN,
    )
    assert result.code == 2
    assert "--previous-valid-for" in result.err
    assert aws.tokens("acme").previous is None


def test_accounts_rotate_token_twice_drops_the_older_previous(cli: Any, aws: Aws) -> None:
    add_acme(cli)
    cli("accounts", "rotate-token", "acme", "--auth-token-stdin", stdin=NEW_TOKEN)
    cli("accounts", "rotate-token", "acme", "--auth-token-stdin", stdin=OTHER_TOKEN)
    assert aws.tokens("acme").accepted_at(datetime.now(UTC)) == (OTHER_TOKEN, NEW_TOKEN)


def test_accounts_rotate_token_to_the_current_token_changes_nothing(cli: Any, aws: Aws) -> None:
    add_acme(cli)
    result = cli("accounts", "rotate-token", "acme", "--auth-token-stdin", stdin=TOKEN)
    assert result.code == 0
    assert "nothing changed" in result.out
    assert aws.tokens("acme").accepted_at(datetime.now(UTC)) == (TOKEN,)


def test_accounts_clear_previous_without_a_rotation_is_a_no_op(cli: Any, aws: Aws) -> None:
    add_acme(cli)
    result = cli("accounts", "rotate-token", "acme", "--clear-previous")
    assert result.code == 0
    assert "no previous token" in result.out


def test_accounts_rotate_token_rejects_stdin_with_clear_previous(cli: Any) -> None:
    add_acme(cli)
    result = cli(
        "accounts", "rotate-token", "acme", "--auth-token-stdin", "--clear-previous", stdin=TOKEN
    )
    assert result.code == 2
    assert "not allowed with argument" in result.err


def test_accounts_rotate_token_help_explains_the_secondary_token_flow(cli: Any) -> None:
    result = cli("accounts", "rotate-token", "--help")
    assert result.code == 0
    for step in ("secondary Auth Token", "Wait at least 5 minutes", "promote", "--clear-previous"):
        assert step in result.out


# --- remove -----------------------------------------------------------------------------------


def test_accounts_remove_yes_deletes_item_and_secret_and_frees_the_name(cli: Any, aws: Aws) -> None:
    add_acme(cli)

    result = cli("accounts", "remove", "acme", "--yes")

    assert result.code == 0, result.err
    assert aws.item("acme") is None
    assert aws.secret_names() == []
    assert add_acme(cli).code == 0  # the secret name is reusable at once


def test_accounts_remove_without_a_terminal_or_yes_refuses(cli: Any, aws: Aws) -> None:
    add_acme(cli)
    result = cli("accounts", "remove", "acme")
    assert result.code == 2
    assert "--yes" in result.err
    assert aws.item("acme") is not None
    assert aws.secret_names() == [ACME_SECRET]


@pytest.mark.parametrize(
    ("answer", "removed"), [("y", True), ("yes", True), ("", False), ("n", False)]
)
def test_accounts_remove_asks_on_a_terminal(
    cli: Any, aws: Aws, monkeypatch: pytest.MonkeyPatch, answer: str, removed: bool
) -> None:
    add_acme(cli)
    questions: list[str] = []

    def fake_input(question: str) -> str:
        questions.append(question)
        return answer

    monkeypatch.setattr("builtins.input", fake_input)
    result = cli("accounts", "remove", "acme", tty=True)

    assert len(questions) == 1
    assert "'acme'" in questions[0]
    assert result.code == (0 if removed else 1)
    assert (aws.item("acme") is None) is removed
    assert (aws.secret_names() == []) is removed


def test_accounts_remove_treats_end_of_input_as_no(
    cli: Any, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_acme(cli)

    def closed_input(question: str) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", closed_input)
    result = cli("accounts", "remove", "acme", tty=True)

    assert result.code == 1
    assert "nothing removed" in result.out
    assert aws.item("acme") is not None


def test_accounts_add_over_a_leftover_secret_fails_and_keeps_it(cli: Any, aws: Aws) -> None:
    aws.secretsmanager.create_secret(Name=ACME_SECRET, SecretString='{"current": "left-over"}')

    result = add_acme(cli)

    assert result.code == 1
    assert "already exists but no account uses it" in result.err
    assert f"delete-secret --secret-id {ACME_SECRET}" in result.err
    assert aws.item("acme") is None
    assert aws.tokens("acme").current == "left-over"


# --- time zone --------------------------------------------------------------------------------


def test_accounts_add_with_a_time_zone_stores_and_shows_it(cli: Any, aws: Aws) -> None:
    added = add_acme(cli, "--timezone", "America/New_York")

    assert added.code == 0, added.err
    assert "time zone: America/New_York" in added.out
    item = aws.item("acme")
    assert item is not None
    assert item["timezone"] == {"S": "America/New_York"}
    text = cli("accounts", "show", "acme")
    assert "time zone              America/New_York" in text.out
    assert json.loads(cli("accounts", "show", "acme", "--json").out)["timezone"] == (
        "America/New_York"
    )


def test_accounts_set_timezone_changes_it_and_updated_at(cli: Any, aws: Aws) -> None:
    add_acme(cli)
    before = aws.item("acme")
    assert before is not None

    result = cli("accounts", "set", "acme", "--timezone", "Asia/Tokyo")

    assert result.code == 0, result.err
    assert "acme: time zone Asia/Tokyo" in result.out
    after = aws.item("acme")
    assert after is not None
    assert after["timezone"] == {"S": "Asia/Tokyo"}
    assert after["updated_at"]["S"] >= before["updated_at"]["S"]
    assert json.loads(cli("accounts", "show", "acme", "--json").out)["timezone"] == "Asia/Tokyo"
    assert aws.directory().find("acme") == DynamoAccountStore(aws.table_name, aws.dynamodb).get(
        "acme"
    )


def test_accounts_set_changes_the_send_cap_and_the_time_zone_together(cli: Any) -> None:
    add_acme(cli)

    result = cli("accounts", "set", "acme", "--send-cap", "5", "--timezone", "Europe/Paris")

    assert result.code == 0, result.err
    details = json.loads(cli("accounts", "show", "acme", "--json").out)
    assert (details["send_cap"]["count"], details["timezone"]) == (5, "Europe/Paris")


@pytest.mark.parametrize(
    "argv",
    [
        ["accounts", "add", "acme", "--account-sid", SID, "--timezone", "Mars/Base"],
        ["accounts", "set", "acme", "--timezone", "Mars/Base"],
    ],
)
def test_accounts_refuse_an_unknown_time_zone_naming_it(
    cli: Any, aws: Aws, argv: list[str]
) -> None:
    result = cli(*argv, stdin=TOKEN)

    assert result.code == 2
    assert "unknown time zone 'Mars/Base' (an IANA name such as Europe/London)" in result.err
    assert aws.item("acme") is None


def test_accounts_set_timezone_of_an_unknown_account_fails(cli: Any) -> None:
    result = cli("accounts", "set", "nobody", "--timezone", "Asia/Tokyo")
    assert result.code == 1
    assert "no account named 'nobody'" in result.err


def test_an_account_item_stored_without_a_time_zone_reads_as_utc(cli: Any, aws: Aws) -> None:
    add_acme(cli)
    item = aws.item("acme")
    assert item is not None
    assert "timezone" not in item  # as every account added before zones existed

    account = DynamoAccountStore(aws.table_name, aws.dynamodb).get("acme")

    assert account is not None
    assert account.timezone is None
    assert json.loads(cli("accounts", "show", "acme", "--json").out)["timezone"] == "UTC"
