"""The audit record against moto: the DynamoDB store (its own table from template.yaml: newest
first, pages, TTL, never a rewrite) and the console route ``GET /console/api/audit/{account}``
through the handler (every role reads it, account scope on the path and the cursor, bad input
is a 400, an unknown account a 404)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from functions.console_api import handler as api
from sms_automation.adapters.audit_log import DynamoAuditStore
from sms_automation.composition.console_api import dynamo_audit
from sms_automation.console.audit import AuditEntry, AuditLog
from sms_automation.console.queries import Cursor
from tests.support.aws import (
    account_registry,
    add_account,
    clear_cached_dependencies,
    use_dummy_aws_credentials,
)
from tests.support.console import console_call
from tests.support.moto_stack import MotoStack, deploy

pytestmark = pytest.mark.integration

AUDIT = "/console/api/audit/{account}"
AUDIT_TABLE = "audit-test"
NOW = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoStack]:
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        deployed = deploy(monkeypatch, twilio_base_url="http://127.0.0.1:9")
        registry = account_registry(
            deployed.table, boto3.client("dynamodb"), boto3.client("secretsmanager")
        )
        add_account(registry, "globex")
        clear_cached_dependencies(api)
        yield deployed
        clear_cached_dependencies(api)


def audit_log(start: datetime = NOW) -> AuditLog:
    moments = (start + timedelta(seconds=n) for n in range(1000))
    return AuditLog(DynamoAuditStore(AUDIT_TABLE, boto3.client("dynamodb")), lambda: next(moments))


def call(
    groups: str | None = "[viewer]", query: dict[str, str] | None = None, account: str = "acme"
) -> dict[str, Any]:
    return console_call(AUDIT, {"account": account}, groups=groups, query=query)


def test_the_store_reads_newest_first_page_by_page_with_a_ttl_and_never_rewrites(
    stack: MotoStack,
) -> None:
    log = audit_log()
    for n in range(5):
        log.record(actor="bo@example.com", action="trigger.push", account="acme", target=f"v{n}",
                   detail={"version": n, "contact": "+14155550123"})  # fmt: skip
    log.record(actor="bo@example.com", action="trigger.push", account="globex", target="g")
    store = DynamoAuditStore(AUDIT_TABLE, boto3.client("dynamodb"))
    targets: list[str] = []
    after = None
    while True:
        page = store.page("acme", after=after, size=2)
        targets += [entry.target for entry in page.entries]
        if page.end is None:
            break
        after = page.end
    assert targets == ["v4", "v3", "v2", "v1", "v0"]
    [newest] = store.page("acme", after=None, size=1).entries
    assert newest.detail == {"version": 4, "contact": "+1********23"}

    items = boto3.client("dynamodb").scan(TableName=AUDIT_TABLE)["Items"]
    assert len(items) == 6
    expiry = int((NOW + timedelta(days=400, seconds=4)).timestamp())
    assert {"N": str(expiry)} in [item["expires_at"] for item in items]
    assert "4155550123" not in json.dumps(items), "no full number is stored"

    again = AuditEntry(newest.id, newest.at, "eve@example.com", "trigger.push", "acme", "x", {})
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        store.put(again, expires_at=0)


@pytest.mark.parametrize("groups", ["[viewer]", "[operator account:acme]", "[admin]"])
def test_every_role_that_may_see_the_account_reads_its_record(
    stack: MotoStack, groups: str
) -> None:
    audit_log().record(actor="bo@example.com", action="conversation.cancel", account="acme",
                       target="SM1:ask/1", detail={"outcome": "cancelled"})  # fmt: skip
    answer = call(groups)
    assert answer["statusCode"] == 200
    [item] = answer["json"]["items"]
    assert item == {
        "id": item["id"],
        "at": "2026-12-07T04:00:00.000Z",
        "actor": "bo@example.com",
        "action": "conversation.cancel",
        "target": "SM1:ask/1",
        "detail": {"outcome": "cancelled"},
    }
    assert answer["json"]["next_cursor"] is None


def test_a_user_of_another_account_is_refused_whatever_the_path_or_cursor(
    stack: MotoStack,
) -> None:
    log = audit_log()
    for n in range(3):
        log.record(actor="bo@example.com", action="trigger.push", account="globex",
                   target=f"secret-{n}")  # fmt: skip
    refused = call("[admin account:acme]", account="globex")
    assert refused["statusCode"] == 403
    assert "secret" not in refused["body"]
    # A cursor naming globex, on acme's path: 403 (not theirs), without a read of globex.
    cursor = Cursor("globex", "2026-12-07T04:00:09.000Z#" + "f" * 32).encode()
    crossed = call("[viewer account:acme]", {"cursor": cursor}, account="acme")
    assert crossed["statusCode"] == 403
    assert "secret" not in crossed["body"]
    # For a user who may see both: a 400, the cursor is not this listing's.
    assert call("[admin]", {"cursor": cursor}, account="acme")["statusCode"] == 400
    # No role at all, and an unknown account (existence told only to who may see every one).
    assert call(None)["statusCode"] == 403
    assert call("[viewer account:acme]", account="nobody")["statusCode"] == 403
    assert call("[admin]", account="nobody")["statusCode"] == 404


def test_pages_follow_the_cursor_and_bad_input_is_a_400(stack: MotoStack) -> None:
    log = audit_log()
    for n in range(5):
        log.record(actor="bo@example.com", action="dead_letter.redrive", account="acme",
                   target=f"entry-{n}")  # fmt: skip
    seen: list[str] = []
    query = {"limit": "2"}
    pages = 0
    while True:
        page = call("[viewer]", query)
        assert page["statusCode"] == 200, page["body"]
        seen += [item["target"] for item in page["json"]["items"]]
        pages += 1
        if page["json"]["next_cursor"] is None:
            break
        query = {"limit": "2", "cursor": page["json"]["next_cursor"]}
    assert seen == [f"entry-{n}" for n in reversed(range(5))]
    assert pages == 3

    forged = base64.urlsafe_b64encode(b'{"a":"acme","k":"ACCOUNT#globex"}').decode()
    for bad in (
        {"cursor": "not-a-cursor!"},
        {"cursor": forged},
        {"cursor": "x" * 600},
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"since": "2026-01-01"},
    ):
        answer = call("[viewer]", bad)
        assert answer["statusCode"] == 400, bad
        assert answer["json"]["error"] == "bad_request"


def test_the_composition_writes_where_the_route_reads(stack: MotoStack) -> None:
    dynamo_audit(AUDIT_TABLE, boto3.client("dynamodb")).record(
        actor="bo@example.com", action="automation.start", account="acme", target="reminder"
    )
    [item] = call("[viewer]")["json"]["items"]
    assert (item["action"], item["target"]) == ("automation.start", "reminder")


def test_an_action_recorded_twice_at_the_same_moment_or_on_a_retry_is_one_entry(
    stack: MotoStack,
) -> None:
    """``once``: the second of two requests at the same moment (same time, same id: its
    transaction is cancelled by the first's claim) and a later retry write nothing."""
    store = DynamoAuditStore(AUDIT_TABLE, boto3.client("dynamodb"))
    same_moment = AuditLog(store, lambda: NOW)
    later = AuditLog(store, lambda: NOW + timedelta(minutes=1))
    start = {"actor": "bo@example.com", "action": "automation.start", "account": "acme",
             "target": "reminder", "detail": {"run_id": "RU1"}, "once": "RU1"}  # fmt: skip
    first = same_moment.record(**start)
    assert first is not None
    assert same_moment.record(**start) is None
    assert later.record(**start) is None
    assert same_moment.record(**start | {"once": "RU2", "detail": {"run_id": "RU2"}}) is not None
    entries = store.page("acme", after=None, size=10).entries
    assert sorted(e.detail["run_id"] for e in entries) == ["RU1", "RU2"]
    assert first in entries
