"""The previous auth token's window is enforced when a signature is verified, with that moment's
clock: the webhook's token cache (5 minutes) never stretches it, whatever was cached when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sms_automation.accounts import Account, AuthTokens
from sms_automation.adapters.account_store import CachedAccountDirectory
from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.webhooks.authenticate import authenticate
from sms_automation.webhooks.rejections import InvalidSignature
from sms_automation.webhooks.request import WebhookRequest, parse_webhook_event
from tests.support.aws import TEST_ACCOUNT_SID
from tests.support.events import inbound_example, signed_webhook_event

OLD, NEW = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
ROTATED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ACME = Account("acme", TEST_ACCOUNT_SID, True, "sms-automation/test/accounts/acme", "t", "t")


class OneAccount:
    def get(self, name: str) -> Account | None:
        return ACME if name == "acme" else None


class RotatedTokens:
    """The secret after ``rotate-token --previous-valid-for 24h`` at ``ROTATED``."""

    def __init__(self) -> None:
        self.reads = 0

    def get(self, secret_id: str) -> AuthTokens:
        self.reads += 1
        until = utc_timestamp(ROTATED + timedelta(hours=24))
        return AuthTokens(NEW, OLD, utc_timestamp(ROTATED), until)


def request(token: str) -> WebhookRequest:
    event = signed_webhook_event("acme", inbound_example("sms_plain")["raw_body"], token)
    return parse_webhook_event(event, public_base_url="", max_body_bytes=65536)


@pytest.fixture
def directory() -> tuple[CachedAccountDirectory, RotatedTokens]:
    tokens = RotatedTokens()
    frozen = CachedAccountDirectory(OneAccount(), tokens, clock=lambda: 0.0)  # never expires
    return frozen, tokens


def test_previous_token_verifies_inside_its_window_only(
    directory: tuple[CachedAccountDirectory, RotatedTokens],
) -> None:
    cached, tokens = directory
    inside = ROTATED + timedelta(hours=23, minutes=59)
    assert authenticate(request(OLD), cached, inside).account == ACME

    # Same warm instance, same cached secret: a minute later the window is over.
    with pytest.raises(InvalidSignature):
        authenticate(request(OLD), cached, ROTATED + timedelta(hours=24))
    assert authenticate(request(NEW), cached, ROTATED + timedelta(days=90)).account == ACME
    assert tokens.reads == 1
