"""A step's identity on the wire: its idempotency key in the status callback URL, read back
from a signed callback, and what an outbound item says of whose a Sid is."""

from __future__ import annotations

import pytest

from sms_automation.processing.port import idempotency_key
from sms_automation.webhooks.receive_status import (
    STEP_KEY_PATTERN,
    OutboundOwner,
    callback_step_key,
    step_callback_url,
)

BASE = "https://hooks.example.com/dev/twilio/acme/status"
KEY = idempotency_key("SM" + "1" * 32, "auto-reply/1")


def test_every_idempotency_key_is_a_step_key() -> None:
    assert STEP_KEY_PATTERN.fullmatch(KEY)
    assert idempotency_key("SM" + "1" * 32, "auto-reply/2") != KEY


def test_the_callback_url_carries_the_step_and_gives_it_back() -> None:
    url = step_callback_url(BASE, KEY)
    assert url == f"{BASE}?step={KEY}"
    assert callback_step_key(url) == KEY


@pytest.mark.parametrize(
    "url",
    [
        BASE,
        f"{BASE}?step=",
        f"{BASE}?step=sms-automation-xyz",
        f"{BASE}?other={KEY}",
        f"{BASE}?step={KEY}%0A",
    ],
)
def test_a_url_without_a_well_formed_step_names_none(url: str) -> None:
    assert callback_step_key(url) is None


def test_a_malformed_key_is_never_put_in_a_url() -> None:
    with pytest.raises(ValueError, match="not a step key"):
        step_callback_url(BASE, "x&step=other")


def test_whose_a_sid_is() -> None:
    mine = ("SM" + "1" * 32, "auto-reply/1", KEY)
    assert OutboundOwner(None, None, KEY).belongs_to(*mine) is True
    assert OutboundOwner(None, None, "sms-automation-" + "0" * 40).belongs_to(*mine) is False
    assert OutboundOwner(mine[0], "auto-reply/1", None).belongs_to(*mine) is True
    assert OutboundOwner(mine[0], "auto-reply/2", None).belongs_to(*mine) is False
    assert OutboundOwner(None, None, None).belongs_to(*mine) is None
    # the callback, signed by Twilio, outranks a record
    assert OutboundOwner(mine[0], "auto-reply/2", KEY).belongs_to(*mine) is True
