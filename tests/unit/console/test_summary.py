"""The summary use case over fake ports: received from the index's count, sent and failed from
the day's counters (asked for the account's own day in its time zone), no action log read, and
nothing read for an account outside the user's scope."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, cast

import pytest

from sms_automation.accounts import Account
from sms_automation.console.access import AccessDenied, Principal, Role
from sms_automation.console.reads import ConsoleReads

VIEWER = Principal("ann@example.com", Role.VIEWER, frozenset({"acme"}))


class Fakes:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str, str]] = []

    def get(self, name: str) -> Account | None:
        return Account(name, "AC" + "0" * 32, True, "secret", "", "", timezone="Asia/Kolkata")

    def count(self, account: str, since: str, until: str) -> int:
        self.asked.append(("count", account, since, until))
        return 7

    def counts(self, account: str, since: str, until: str) -> Mapping[str, int]:
        self.asked.append(("counts", account, since, until))
        return {"sent": 5, "failed": 2}

    def waiting(self, account: str, limit: int) -> int:
        return 1

    def of(self, message_sid: str) -> dict[str, Any]:
        raise AssertionError("the summary reads no action log")


def reads(fakes: Fakes) -> ConsoleReads:
    port = cast(Any, fakes)
    return ConsoleReads(accounts=port, index=port, messages=port, action_logs=port,
                        contacts=port, conversations=port, figures=port, replies=port,
                        takeovers=port)  # fmt: skip


def test_the_figures_are_the_counters_of_the_account_s_own_day() -> None:
    fakes = Fakes()
    now = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)  # already the 8th in Kolkata (+05:30)
    summary = reads(fakes).summary(VIEWER, "acme", None, now)
    assert summary == {"date": "2026-12-08", "time_zone": "Asia/Kolkata", "received": 7,
                       "sent": 5, "failed": 2, "open_conversations": 1}  # fmt: skip
    bounds = ("acme", "2026-12-07T18:30:00.000Z", "2026-12-08T18:29:59.999Z~")
    assert fakes.asked == [("counts", *bounds), ("count", *bounds)]


def test_another_account_s_figures_are_refused_before_any_read() -> None:
    fakes = Fakes()
    with pytest.raises(AccessDenied):
        reads(fakes).summary(VIEWER, "globex", date(2026, 12, 7), datetime.now(UTC))
    assert fakes.asked == []
