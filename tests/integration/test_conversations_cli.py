"""``conversations list`` / ``conversations cancel`` and ``conversation_history`` against moto."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from sms_automation.adapters.conversation_store import DynamoConversationStore
from sms_automation.adapters.message_store import DynamoMessageStore
from sms_automation.conversations.model import open_conversation
from sms_automation.triggers import WaitForReply
from sms_automation.webhooks.inbound_message import InboundMessage
from sms_automation_cli import conversations
from sms_automation_cli.context import CliContext
from sms_automation_cli.main import main
from tests.support.aws import use_dummy_aws_credentials
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration
SID = "SM" + "a" * 32


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app table on moto, holding one conversation of ``acme`` waiting for a reply."""
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        kwargs = create_table_kwargs()
        boto3.client("dynamodb").create_table(**kwargs)
        monkeypatch.setenv("SMS_AUTOMATION_TABLE", kwargs["TableName"])
        step = WaitForReply(
            step_id="ask/1",
            trigger="ask",
            to="+14155550101",
            from_="+15005550006",
            prompt="YES?",
            timeout_seconds=3600,
            until=None,
        )
        DynamoConversationStore(kwargs["TableName"], boto3.client("dynamodb")).create(
            open_conversation(step, message_sid=SID, account="acme", now=datetime.now(UTC))
        )
        yield kwargs["TableName"]


def test_list_history_and_cancel(table: str, capsys: pytest.CaptureFixture[str]) -> None:
    context = CliContext()

    assert (
        conversations.list_conversations(
            argparse.Namespace(context=context, account="acme", all=False, json=False)
        )
        == 0
    )
    assert f"{SID}:ask/1  waiting" in capsys.readouterr().out

    cancel = argparse.Namespace(context=context, conversation_id=f"{SID}:ask/1")
    assert conversations.cancel_conversation(cancel) == 0
    assert conversations.cancel_conversation(cancel) == 1  # not waiting any more
    [history] = conversations.conversation_history(context, SID)
    assert (history["status"], history["prompt"]) == ("cancelled", "YES?")
    assert history["outcome"]["outcome"] == "cancelled"
    assert (
        conversations.cancel_conversation(
            argparse.Namespace(context=context, conversation_id="nope")
        )
        == 2
    )

    params = (("MessageSid", SID), ("From", "+14155550101"), ("To", "+15005550006"))
    DynamoMessageStore(table, boto3.client("dynamodb")).put_new(
        InboundMessage("acme", "2026-11-26T18:00:00.000Z", params, {}).to_item()
    )
    capsys.readouterr()
    assert main(["messages", "show", SID, "--format", "text"]) == 0
    assert f"conversation {SID}:ask/1: cancelled, prompt: 'YES?'" in capsys.readouterr().out


def test_waits_is_a_hidden_alias_that_says_it_is_deprecated(
    table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["conversations", "list", "acme"]) == 0
    current = capsys.readouterr()
    assert main(["waits", "list", "acme"]) == 0
    old = capsys.readouterr()

    assert f"{SID}:ask/1  waiting" in current.out
    assert (old.out, current.err) == (current.out, "")
    assert old.err.splitlines() == [conversations.DEPRECATION]
    assert "sms-automation conversations" in conversations.DEPRECATION


def test_the_help_names_conversations_not_waits(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    listing = capsys.readouterr().out

    assert "conversations" in listing
    assert "waits" not in listing
