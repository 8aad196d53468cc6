"""``sms-automation messages list|show`` against moto, with messages stored by the real webhook."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from functions.inbound_webhook import handler
from sms_automation_cli.main import main
from tests.support.aws import (
    SECRETS_PREFIX,
    TEST_AUTH_TOKEN,
    FakeLambdaContext,
    account_registry,
    add_account,
    clear_cached_dependencies,
    use_dummy_aws_credentials,
)
from tests.support.events import inbound_example, signed_webhook_event
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration


@pytest.fixture
def stored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Accounts acme and globex; acme received an SMS then a WhatsApp message, globex a STOP."""
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        kwargs = create_table_kwargs()
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(**kwargs)
        registry = account_registry(kwargs["TableName"], dynamodb, boto3.client("secretsmanager"))
        add_account(registry, "acme")
        add_account(registry, "globex")
        for name, value in {
            "TABLE_NAME": kwargs["TableName"],
            "SECRETS_PREFIX": SECRETS_PREFIX,
            "PUBLIC_BASE_URL": "",
            "SMS_AUTOMATION_TABLE": kwargs["TableName"],
            "SMS_AUTOMATION_SECRETS_PREFIX": SECRETS_PREFIX,
            "SMS_AUTOMATION_WEBHOOK_BASE_URL": "https://sms.example.com",
        }.items():
            monkeypatch.setenv(name, value)
        clear_cached_dependencies(handler)
        for account, example in (
            ("acme", "sms_plain"),
            ("globex", "sms_stop"),
            ("acme", "whatsapp_text"),
        ):
            event = signed_webhook_event(
                account, inbound_example(example)["raw_body"], TEST_AUTH_TOKEN
            )
            assert handler.lambda_handler(event, FakeLambdaContext())["statusCode"] == 200
        yield
        clear_cached_dependencies(handler)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_messages_list_shows_every_account_newest_first(
    stored: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "messages", "list", "--json")
    assert code == 0
    sids = [json.loads(line)["message_sid"] for line in out.splitlines()]
    assert sids == [
        "SM33333333333333333333333333333333",
        "SM66666666666666666666666666666666",
        "SM11111111111111111111111111111111",
    ]


def test_messages_list_filters_by_account_and_limit(
    stored: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "messages", "list", "--account", "acme", "--limit", "1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("RECEIVED")
    assert len(lines) == 2
    assert "SM33333333333333333333333333333333" in lines[1]
    assert "whatsapp" in lines[1]


def test_messages_list_unknown_account_is_an_error(
    stored: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "messages", "list", "--account", "nobody")
    assert code == 1
    assert "no account named 'nobody'" in err


def test_messages_show_prints_every_twilio_parameter_as_json(
    stored: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "messages", "show", "SM11111111111111111111111111111111")
    assert code == 0
    message = json.loads(out)
    assert message["params"] == dict(inbound_example("sms_plain")["params"])
    assert message["num_segments"] == 1


def test_messages_show_prints_the_thinkautomation_format(
    stored: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "messages",
        "show",
        "SM66666666666666666666666666666666",
        "--format",
        "thinkautomation",
    )
    assert code == 0
    assert out.splitlines()[:2] == ["FROM: +14155550106", "BODY: STOP"]
    assert "HTTP_USER_AGENT: TwilioProxy/1.1" in out


def test_messages_show_unknown_sid_is_an_error(
    stored: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "messages", "show", "SMnope")
    assert code == 1
    assert "no message 'SMnope'" in err
