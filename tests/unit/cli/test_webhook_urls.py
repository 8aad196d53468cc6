"""The CLI, the console's accounts page and the functions' settings build an account's webhook
URLs in one place (``sms_automation.webhook_urls``): the same base URL gives the same URLs
everywhere, so ``numbers connect`` points a number exactly where the console says it should."""

from __future__ import annotations

import pytest

from sms_automation.edge.settings import ConsoleSettings
from sms_automation_cli import numbers
from sms_automation_cli.context import ENV_WEBHOOK_BASE_URL, CliContext

BASE = "https://hooks.example.com/prod"


def test_the_cli_and_the_console_settings_build_the_same_urls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_WEBHOOK_BASE_URL, BASE + "/")
    context = CliContext()
    assert context.messaging_request_url("acme") == f"{BASE}/twilio/acme/sms"
    assert numbers.status_callback_url(context, "acme") == f"{BASE}/twilio/acme/status"
    settings = ConsoleSettings.from_environ(
        {"TABLE_NAME": "t", "AUDIT_TABLE": "a", "WEBHOOK_BASE_URL": BASE + "/"}
    )
    assert settings.status_callback_url("acme") == f"{BASE}/twilio/acme/status"
    assert ConsoleSettings("t", "a").status_callback_url("acme") is None  # no base: no callback
