"""Today's figures (``daily_figures``) as the outbound store counts them and the console's
summary reads them, against moto DynamoDB with the template's table: a message counts as sent
once and as failed once, whatever repeats, races (one write lands second: DynamoDB orders the
two) or out-of-order callbacks the send path and Twilio produce."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sms_automation.adapters.console_reads import DynamoDayFigures
from sms_automation.adapters.outbound_store import DynamoOutboundStore
from sms_automation.console.reads import day_bounds
from sms_automation.daily_figures import quarter_hour
from tests.support.aws import use_dummy_aws_credentials
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

AT = datetime(2026, 12, 7, 10, 7, tzinfo=UTC)
TODAY = day_bounds(date(2026, 12, 7), ZoneInfo("UTC"))


def sid(n: int) -> str:
    return f"SM{n:032d}"


class World:
    def __init__(self) -> None:
        kwargs = create_table_kwargs()
        self.client = boto3.client("dynamodb")
        self.client.create_table(**kwargs)
        self.outbound = DynamoOutboundStore(kwargs["TableName"], self.client)
        self.figures = DynamoDayFigures(kwargs["TableName"], self.client)

    def created(self, message: str, account: str = "acme", at: datetime = AT, **kw: Any) -> bool:
        return self.outbound.record_created(
            message, account=account, kind=kw.pop("kind", "sms"), to="+15550000001",
            from_="+15550000002", origin_message_sid="SM" + "f" * 32, origin_step_id="reply",
            status="queued", created_at=at, **kw,
        )  # fmt: skip

    def status(self, message: str, status: str, account: str = "acme", at: datetime = AT) -> Any:
        return self.outbound.record_status(
            message, status, kind="sms", account=account, error_code=None, received_at=at,
            params={"MessageStatus": status},
        )  # fmt: skip

    def today(self, account: str = "acme", bounds: tuple[str, str] = TODAY) -> dict[str, int]:
        return dict(self.figures.counts(account, *bounds))


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        yield World()


def test_a_send_recorded_twice_counts_once(world: World) -> None:
    assert world.created(sid(1))
    assert world.created(sid(1))  # the step retried, or its twin landed second
    assert world.created(sid(2))
    assert world.today() == {"sent": 2, "failed": 0}


def test_a_callback_that_beats_the_send_record_still_counts_the_send_once(world: World) -> None:
    world.status(sid(1), "sent")  # Twilio's callback came first
    world.created(sid(1))
    world.created(sid(1))
    assert world.today() == {"sent": 1, "failed": 0}


def test_a_failed_delivery_counts_in_sent_and_once_in_failed(world: World) -> None:
    world.created(sid(1))
    world.created(sid(2))
    world.status(sid(1), "sent")
    world.status(sid(1), "undelivered")
    world.status(sid(1), "undelivered")  # Twilio retried the callback
    world.status(sid(1), "failed")  # a later failure of the same message
    world.status(sid(1), "delivered")  # out of order: ranks lower, moves nothing
    world.status(sid(2), "delivered")
    assert world.today() == {"sent": 2, "failed": 1}


def test_a_lookup_credited_sid_is_not_a_second_send(world: World) -> None:
    world.created(sid(1), step_key="sms-automation-" + "a" * 40)
    world.created(sid(1), step_key="sms-automation-" + "a" * 40, exclusive=True)
    assert world.today() == {"sent": 1, "failed": 0}


def test_calls_and_other_accounts_do_not_count_here(world: World) -> None:
    world.created("CA" + "1" * 32, kind="call")
    world.created(sid(1), account="other")
    world.status(sid(1), "failed", account="acme")  # another account's Sid: writes nothing
    assert world.today() == {"sent": 0, "failed": 0}
    assert world.today("other") == {"sent": 1, "failed": 0}


def test_a_day_is_its_own_zone_s_quarter_hours(world: World) -> None:
    kolkata = ZoneInfo("Asia/Kolkata")  # +05:30: its midnight is 18:30 UTC
    world.created(sid(1), at=datetime(2026, 12, 6, 18, 29, 59, tzinfo=UTC))  # the 6th there
    world.created(sid(2), at=datetime(2026, 12, 6, 18, 30, tzinfo=UTC))  # the 7th there
    world.created(sid(3), at=datetime(2026, 12, 7, 18, 29, 59, tzinfo=UTC))  # the 7th there
    world.created(sid(4), at=datetime(2026, 12, 7, 18, 30, tzinfo=UTC))  # the 8th there
    assert world.today(bounds=day_bounds(date(2026, 12, 7), kolkata)) == {"sent": 2, "failed": 0}
    assert world.today() == {"sent": 2, "failed": 0}  # UTC's 7th: sids 3 and 4
    assert quarter_hour(datetime(2026, 12, 6, 18, 44, tzinfo=UTC)) == "2026-12-06T18:30:00.000Z"


def failing_counter(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    real = world.client.update_item

    def counter_fails(**request: Any) -> Any:
        if str(request["Key"]["pk"]["S"]).startswith("FIGURES#"):
            raise ClientError({"Error": {"Code": "ThrottlingException"}}, "UpdateItem")
        return real(**request)

    monkeypatch.setattr(world.client, "update_item", counter_fails)


def test_a_count_that_fails_leaves_the_figure_short_never_the_send_unrecorded(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    failing_counter(world, monkeypatch)

    assert world.created(sid(1))  # Twilio accepted it: recorded, the step not abandoned

    assert world.created(sid(1))  # a retry records nothing new and counts nothing
    assert world.outbound.get(sid(1)) is not None
    assert world.today() == {"sent": 0, "failed": 0}  # the documented drift: short by one
    [line] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert line == "today's sent figure not counted: ThrottlingException"


def test_a_count_that_fails_never_fails_the_status_callback(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.created(sid(1))
    failing_counter(world, monkeypatch)

    recorded = world.status(sid(1), "undelivered")

    assert (recorded.new, recorded.current) == (True, True)
    record = world.outbound.get(sid(1))
    assert record is not None
    assert [event.status for event in record.history] == ["undelivered"]
    assert world.today() == {"sent": 1, "failed": 0}


def test_many_sends_in_a_day_are_all_counted(world: World) -> None:
    for n in range(250):
        world.created(sid(n), at=AT + timedelta(minutes=n))
        if n % 10 == 0:
            world.status(sid(n), "failed", at=AT + timedelta(minutes=n))
    assert world.today() == {"sent": 250, "failed": 25}
