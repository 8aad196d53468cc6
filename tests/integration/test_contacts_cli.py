"""``contacts list|show|opt-out|opt-in`` against moto, through ``main``; and a hand-made opt-out
is what the processor's sends then check."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from sms_automation.adapters.contact_store import DynamoContactStore
from sms_automation.opt_out import ContactState
from sms_automation_cli.main import main
from tests.support.aws import (
    SECRETS_PREFIX,
    account_registry,
    add_account,
    use_dummy_aws_credentials,
)
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration
OURS, ALICE = "+15005550006", "+14155550101"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        kwargs = create_table_kwargs()
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(**kwargs)
        add_account(account_registry(kwargs["TableName"], dynamodb, boto3.client("secretsmanager")))
        monkeypatch.setenv("SMS_AUTOMATION_TABLE", kwargs["TableName"])
        monkeypatch.setenv("SMS_AUTOMATION_SECRETS_PREFIX", SECRETS_PREFIX)
        monkeypatch.setenv("SMS_AUTOMATION_WEBHOOK_BASE_URL", "https://hooks.example.com/dev")
        yield kwargs["TableName"]


def store(table: str) -> DynamoContactStore:
    return DynamoContactStore(table, boto3.client("dynamodb"))


def test_list_and_show_what_stop_recorded(table: str, capsys: pytest.CaptureFixture[str]) -> None:
    stop = ContactState("acme", OURS, ALICE, True, "STOP", "2026-12-06T10:00:00.000Z", "SM1")
    store(table).record(stop)

    assert main(["contacts", "list", "acme"]) == 0
    listed = capsys.readouterr().out
    assert f"{ALICE}  {OURS}  opted out  STOP  2026-12-06T10:00:00.000Z  SM1" in listed

    assert main(["contacts", "show", "acme", ALICE, "--json"]) == 0
    [shown] = json.loads(capsys.readouterr().out)
    assert shown == {
        "account": "acme",
        "sender": OURS,
        "contact": ALICE,
        "opted_out": True,
        "keyword": "STOP",
        "changed_at": "2026-12-06T10:00:00.000Z",
        "message_sid": "SM1",
    }


def test_opt_in_by_hand_resubscribes_every_sender(
    table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store(table).record(
        ContactState("acme", OURS, ALICE, True, "STOP", "2026-01-01T00:00:00Z", "SM1")
    )

    assert main(["contacts", "opt-in", "acme", ALICE]) == 0

    state = store(table).get("acme", OURS, ALICE)
    assert state is not None
    assert (state.opted_out, state.keyword, state.message_sid) == (
        False,
        "operator opt-in",
        "operator",
    )


def test_opt_out_by_hand_needs_a_sender_for_a_new_contact(
    table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["contacts", "opt-out", "acme", ALICE]) == 1
    assert "--sender" in capsys.readouterr().err

    assert main(["contacts", "opt-out", "acme", ALICE, "--sender", OURS]) == 0
    state = store(table).get("acme", OURS, ALICE)
    assert state is not None
    assert state.opted_out


def test_an_older_message_never_overwrites_a_newer_state(table: str) -> None:
    newer = ContactState("acme", OURS, ALICE, False, "START", "2026-12-06T10:00:01.000Z", "SM2")
    older = ContactState("acme", OURS, ALICE, True, "STOP", "2026-12-06T10:00:00.000Z", "SM1")
    assert store(table).record(newer)
    assert not store(table).record(older)
    assert not store(table).record(newer)  # a replay changes nothing
    assert store(table).get("acme", OURS, ALICE) == newer


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["contacts", "list", "nobody"], 1),
        (["contacts", "show", "acme", ALICE], 1),
        (["contacts", "show", "acme", "4155550101"], 2),
    ],
)
def test_unknown_account_contact_or_bad_number(
    table: str, argv: list[str], code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    if code == 2:
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
        return
    assert main(argv) == code
    assert capsys.readouterr().err.startswith("error: ")


def test_accounts_set_the_help_text_and_opt_out_keywords(
    table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["accounts", "set", "acme", "--help-text", " Acme: reply STOP to opt out "]) == 0
    assert main(["accounts", "set", "acme", "--opt-out-keywords", "halt, basta ,"]) == 0
    capsys.readouterr()

    assert main(["accounts", "show", "acme", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["help_text"] == "Acme: reply STOP to opt out"
    assert shown["opt_out_keywords"] == ["BASTA", "HALT"]

    assert main(["accounts", "set", "acme", "--help-text", "", "--opt-out-keywords", ""]) == 0
    capsys.readouterr()
    assert main(["accounts", "show", "acme", "--json"]) == 0
    cleared = json.loads(capsys.readouterr().out)
    assert (cleared["help_text"], cleared["opt_out_keywords"]) == ("", [])
