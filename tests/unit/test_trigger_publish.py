"""Publishing a trigger file: validated first (an invalid file stores nothing), then stored as
the account's next version with its fingerprint and trigger names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml

from sms_automation.triggers import TriggerFileError
from sms_automation.triggers.publish import publish
from tests.support.fakes import InMemoryTriggerFiles

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
ECHO = yaml.safe_dump(
    {
        "version": 1,
        "triggers": [
            {"name": "echo", "actions": [{"type": "send_sms", "body": "echo %Body%"}]},
            {"name": "bye", "actions": [{"type": "send_sms", "body": "bye"}]},
        ],
    }
)


def test_publish_stores_the_file_as_the_next_version() -> None:
    files = InMemoryTriggerFiles()

    first = publish(files, "acme", ECHO, now=NOW)
    second = publish(files, "acme", ECHO, now=NOW)

    assert (first.version, second.version) == (1, 2)
    assert first.trigger_names == ("echo", "bye")
    current = files.current("acme")
    assert current is not None
    assert (current.source, current.fingerprint, current.pushed_at) == (
        ECHO,
        first.fingerprint,
        NOW,
    )


def test_publish_fingerprint_follows_the_triggers() -> None:
    files = InMemoryTriggerFiles()
    other = ECHO.replace("bye", "ciao")

    assert publish(files, "acme", ECHO, now=NOW).fingerprint != (
        publish(files, "acme", other, now=NOW).fingerprint
    )


def test_publish_invalid_file_stores_nothing() -> None:
    files = InMemoryTriggerFiles()

    with pytest.raises(TriggerFileError):
        publish(
            files,
            "acme",
            "version: 1\ntriggers: [{name: x, actions: [{type: no_such_action}]}]\n",
            now=NOW,
        )

    assert files.current("acme") is None


def test_publish_refuses_a_schedule_broadcasting_another_accounts_file() -> None:
    """The model checks a key's shape; only the account being published to says whose uploads
    it may name (each firing would be refused: nothing stored, the line named)."""
    files = InMemoryTriggerFiles()
    text = """version: 1
automations:
  - name: notify
    actions: [{type: send_sms, body: hi}]
    schedules:
      - expression: rate(1 day)
        broadcast: uploads/globex/list.csv
"""
    with pytest.raises(TriggerFileError) as refused:
        publish(files, "acme", text, now=NOW, filename="t.yaml")
    assert str(refused.value) == (
        "t.yaml:7: automation 'notify', schedule 1: broadcast: an object key under uploads/acme/"
    )
    assert files.current("acme") is None
    assert publish(files, "globex", text, now=NOW).version == 1
