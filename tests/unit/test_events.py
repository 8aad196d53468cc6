"""The sample events in events/ stay valid: they parse and their signatures verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sms_automation.webhooks.request import parse_webhook_event
from sms_automation.webhooks.signature import verify_form
from tests.support.aws import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN

EVENTS = sorted((Path(__file__).resolve().parents[2] / "events").glob("*.json"))


def test_events_folder_has_samples() -> None:
    assert len(EVENTS) >= 3


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: p.name)
def test_event_parses_and_verifies_with_the_documented_token(path: Path) -> None:
    event = json.loads(path.read_text("utf-8"))
    request = parse_webhook_event(event, public_base_url="", max_body_bytes=65_536)
    check = verify_form(request.url, request.params, request.signature, [TEST_AUTH_TOKEN])
    assert check.valid, check.reason
    assert dict(request.params)["AccountSid"] == TEST_ACCOUNT_SID
