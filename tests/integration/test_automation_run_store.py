"""Listing automation runs against moto, from origins built by the real ``build_origin``: one
automation's runs come from ``gsi2`` (its own partition, so an account's thousands of other
runs are never read); the account's runs from ``gsi1``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sms_automation import keys
from sms_automation.adapters.automation_run_store import DynamoAutomationRunStore
from sms_automation.adapters.dynamo_json import to_attributes
from sms_automation.automations.start import (
    PinnedTriggers,
    StartRequest,
    StartSource,
    build_origin,
)
from sms_automation.triggers.model import Automation
from tests.support.aws import use_dummy_aws_credentials
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

OURS, CONTACT = "+15005550006", "+14155550101"


def automation(name: str) -> Automation:
    return Automation.model_validate(
        {"name": name, "from": OURS, "actions": [{"type": "send_sms", "body": "hi"}]}
    )


REMINDER, SUMMARY = automation("Daily reminder"), automation("Daily Summary")


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(**create_table_kwargs())
        yield dynamodb


def store(client: Any) -> DynamoAutomationRunStore:
    return DynamoAutomationRunStore(create_table_kwargs()["TableName"], client)


def origin_of(of: Automation, number: int, *, account: str = "acme") -> dict[str, Any]:
    """The origin of ``of``'s run ``number``, requested ``number`` seconds after midnight."""
    request = StartRequest(account, of.name.upper(), CONTACT, source=StartSource.SCHEDULE)
    return build_origin(
        of,
        request,
        pinned=PinnedTriggers(version=1, fingerprint="f"),
        run_id=f"RU{account}{of.name.casefold().replace(' ', '')}{number:08d}",
        requested_at=f"2026-11-26T{number // 3600:02d}:{number // 60 % 60:02d}:{number % 60:02d}Z",
    )


def stored(client: Any, origins: list[dict[str, Any]]) -> list[dict[str, Any]]:
    table = create_table_kwargs()["TableName"]
    for start in range(0, len(origins), 25):
        batch = origins[start : start + 25]
        client.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": to_attributes(o)}} for o in batch]}
        )
    return origins


def run_ids(origins: Any) -> list[str]:
    return [str(o["run_id"]) for o in origins]


def test_one_automation_s_runs_only_newest_first(client: Any) -> None:
    summaries = stored(client, [origin_of(SUMMARY, n) for n in (10, 30, 50)])
    stored(client, [origin_of(REMINDER, n) for n in (20, 40, 60)])
    stored(client, [origin_of(SUMMARY, n, account="globex") for n in (70,)])

    listed = store(client).list_for_account("acme", automation="Daily Summary")

    assert run_ids(listed) == run_ids(reversed(summaries))


def test_one_automation_s_runs_whatever_the_case_of_its_name(client: Any) -> None:
    summaries = stored(client, [origin_of(SUMMARY, n) for n in (10, 30)])
    stored(client, [origin_of(REMINDER, 20)])

    for spelling in ("daily summary", "DAILY SUMMARY", "Daily Summary"):
        listed = store(client).list_for_account("acme", automation=spelling)
        assert run_ids(listed) == run_ids(reversed(summaries)), spelling


def test_one_automation_s_runs_at_most_limit(client: Any) -> None:
    summaries = stored(client, [origin_of(SUMMARY, n) for n in range(1, 8)])

    listed = store(client).list_for_account("acme", automation="daily summary", limit=3)

    assert run_ids(listed) == run_ids(reversed(summaries[-3:]))


def test_the_account_s_runs_are_every_automation_s(client: Any) -> None:
    origins = stored(client, [origin_of(SUMMARY, 10), origin_of(REMINDER, 20)])

    assert run_ids(store(client).list_for_account("acme")) == run_ids(reversed(origins))


def test_a_run_stored_before_the_automation_index_is_listed_only_account_wide(
    client: Any,
) -> None:
    """What an upgrade leaves: an origin without gsi2 keys (docs/deploy.md, Upgrading)."""
    old = origin_of(SUMMARY, 10)
    del old[keys.GSI2_PK], old[keys.GSI2_SK]
    stored(client, [old])

    assert run_ids(store(client).list_for_account("acme")) == [old["run_id"]]
    assert list(store(client).list_for_account("acme", automation="daily summary")) == []


def test_a_rare_automation_s_runs_are_read_without_the_account_s_other_runs(
    client: Any,
) -> None:
    """A daily reminder to 2,000 contacts beside a once-a-day summary: the summary's last 5
    runs are one Query on gsi2 reading 5 items (filtering gsi1 read all 2,005)."""
    stored(client, [origin_of(REMINDER, n) for n in range(2000)])
    summaries = stored(client, [origin_of(SUMMARY, n) for n in range(2000, 2005)])
    requests: list[dict[str, Any]] = []
    responses: list[dict[str, Any]] = []
    events = client.meta.events
    events.register(
        "before-parameter-build.dynamodb.Query", lambda params, **_: requests.append(params)
    )
    events.register("after-call.dynamodb.Query", lambda parsed, **_: responses.append(parsed))

    listed = list(store(client).list_for_account("acme", automation="Daily Summary", limit=50))

    assert run_ids(listed) == run_ids(reversed(summaries))
    assert [request["IndexName"] for request in requests] == [keys.GSI2]
    assert [(page["Count"], page["ScannedCount"]) for page in responses] == [(5, 5)]
