"""The takeover rules: default and longest time, expiry by the clock, and a pause detail that
names who without their address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sms_automation.pii import mask_email
from sms_automation.takeover import (
    DEFAULT_MINUTES,
    MAX_MINUTES,
    TakeoverInvalid,
    current,
    take_over,
)
from tests.support.fakes import InMemoryTakeovers

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_a_takeover_lasts_the_default_unless_told_and_ends_by_the_clock() -> None:
    default = take_over("acme", "+14155550101", "ann@example.com", NOW, None)
    assert default.until == "2026-03-01T13:00:00.000Z"
    assert DEFAULT_MINUTES == 60
    assert default.active(NOW + timedelta(minutes=59))
    assert not default.active(NOW + timedelta(minutes=60))
    longest = take_over("acme", "+14155550101", "ann@example.com", NOW, MAX_MINUTES)
    assert longest.until == "2026-03-02T00:00:00.000Z"


@pytest.mark.parametrize("minutes", [0, -5, MAX_MINUTES + 1, True, 1.5, "10"])
def test_a_time_out_of_bounds_is_refused(minutes: object) -> None:
    with pytest.raises(TakeoverInvalid, match=f"1 to {MAX_MINUTES}"):
        take_over("acme", "+14155550101", "ann@example.com", NOW, minutes)  # type: ignore[arg-type]


def test_only_a_takeover_in_force_is_current() -> None:
    takeovers = InMemoryTakeovers()
    takeovers.put(take_over("acme", "+14155550101", "ann@example.com", NOW, 10))
    assert current(takeovers, "acme", "+14155550101", NOW) is not None
    assert current(takeovers, "acme", "+14155550101", NOW + timedelta(minutes=10)) is None
    assert current(takeovers, "globex", "+14155550101", NOW) is None


def test_the_pause_detail_masks_the_address() -> None:
    takeover = take_over("acme", "+14155550101", "ann.smith@example.com", NOW, 10)
    assert "ann.smith" not in takeover.pause_detail()
    assert "a***@example.com" in takeover.pause_detail()
    assert mask_email("") == ""
    assert mask_email("nobody") == "n***"
