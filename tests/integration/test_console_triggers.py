"""The console's Triggers routes through the console API handler, against moto with the real
pipeline (webhook, trigger processor): read, validate at line:column, dry run (nothing sent,
nothing written), diff, push with the version edited from (409 when it moved), history and
rollback; viewers and operators refused on push and rollback, another account's user refused
on every route without a byte of that account's file; hostile input a 400 or 413 at once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import yaml

from functions.console_api import handler as api
from sms_automation.triggers.versions import MAX_SOURCE_BYTES
from tests.support.aws import RequestCalls, clear_cached_dependencies
from tests.support.console import console_call, console_world
from tests.support.conversation_world import ALICE, OUR_NUMBER, World
from tests.support.moto_stack import push_triggers

pytestmark = pytest.mark.integration

BASE = "/console/api/accounts/{account}/triggers"
VERSIONS = f"{BASE}/versions"
VERSION = f"{BASE}/versions/{{version}}"
VALIDATE, TEST, DIFF, ROLLBACK = (f"{BASE}/{name}" for name in ("validate", "test", "diff",
                                                                "rollback"))  # fmt: skip
ADMIN = "[admin]"

LIVE = yaml.safe_dump(
    {
        "version": 1,
        "triggers": [
            {
                "name": "echo",
                "when": {"field": "Body", "starts_with": "hello"},
                "actions": [{"type": "send_sms", "body": "Hi there"}],
            }
        ],
    }
)
EDITED = LIVE.replace("Hi there", "Hello from the console")
INVALID = (
    "version: 1\ntriggers:\n  - name: echo\n    actions:\n      - type: send_sms\n"
    "        boddy: x\n"
)
GLOBEX_SECRET = "globex private reply text"


@pytest.fixture
def stack(world: World) -> Iterator[World]:
    with console_world(world, LIVE) as ready:
        push_triggers(world.table, LIVE.replace("Hi there", GLOBEX_SECRET), account="globex")
        yield ready


def call(
    route: str,
    groups: str | None = "[viewer]",
    body: Any = None,
    *,
    method: str | None = None,
    raw: str | None = None,
    account: str = "acme",
    **path: str,
) -> dict[str, Any]:
    sent = raw if raw is not None else (None if body is None else json.dumps(body))
    return console_call(route, {"account": account, **path}, groups=groups, body=sent,
                        method=method)  # fmt: skip


def push(text: str, expected: int, groups: str = ADMIN) -> dict[str, Any]:
    return call(BASE, groups, {"text": text, "expected_version": expected}, method="PUT")


def live_version(stack: World) -> int:
    return int(call(BASE)["json"]["version"])


def test_an_admin_edits_validates_diffs_pushes_and_the_next_message_follows(stack: World) -> None:
    current = call(BASE)["json"]
    assert (current["version"], current["text"]) == (1, LIVE)

    checked = call(VALIDATE, ADMIN, {"text": EDITED})["json"]
    assert checked["ok"] is True
    assert checked["summary"] == {"triggers": 1, "enabled": 1, "automations": 0, "schedules": 0}
    assert checked["flow"]["triggers"][0]["actions"][0]["text"].endswith("“Hello from the console”")
    diff = call(DIFF, ADMIN, {"text": EDITED, "expected_version": 1})["json"]
    assert diff["live_version"] == 1
    assert diff["stale"] is False
    assert "-  - body: Hi there" in diff["diff"]
    assert "+  - body: Hello from the console" in diff["diff"]

    pushed = push(EDITED, 1)
    assert pushed["statusCode"] == 200, pushed["json"]
    assert pushed["json"]["version"] == 2
    assert pushed["json"]["trigger_names"] == ["echo"]
    stack.stream.new_records()
    stack.text("hello")
    assert stack.bodies(ALICE)[-1] == "Hello from the console"

    history = call(VERSIONS)["json"]
    assert history["current"] == 2
    assert [(v["version"], v["pushed_by"]) for v in history["items"]] == [
        (2, "ann@example.com"),
        (1, None),
    ]
    assert call(VERSION, version="1")["json"]["text"] == LIVE


def test_an_invalid_file_shows_each_problem_at_line_and_column_and_cannot_be_pushed(
    stack: World,
) -> None:
    checked = call(VALIDATE, "[viewer]", {"text": INVALID})
    assert checked["statusCode"] == 200
    [problem] = checked["json"]["problems"]
    assert (problem["line"], problem["column"]) == (6, 9)
    assert "unknown field 'boddy'" in problem["message"]
    assert checked["json"]["flow"] is None

    refused = push(INVALID, 1)
    assert refused["statusCode"] == 400
    assert refused["json"]["error"] == "invalid_trigger_file"
    assert refused["json"]["problems"] == checked["json"]["problems"]
    assert live_version(stack) == 1


def test_a_push_edited_from_a_version_no_longer_live_is_a_409_and_stores_nothing(
    stack: World,
) -> None:
    assert push(EDITED, 1)["statusCode"] == 200
    stale = push(EDITED.replace("console", "other tab"), 1)
    assert stale["statusCode"] == 409
    assert stale["json"]["error"] == "conflict"
    assert live_version(stack) == 2
    assert call(DIFF, ADMIN, {"text": EDITED, "expected_version": 1})["json"]["stale"] is True
    assert call(ROLLBACK, ADMIN, {"version": 1, "expected_version": 1})["statusCode"] == 409
    audit = call("/console/api/audit/{account}")["json"]["items"]
    assert [entry["action"] for entry in audit] == ["trigger.push"], "only what was stored"


def test_rollback_makes_an_old_text_live_as_a_new_version(stack: World) -> None:
    push(EDITED, 1)
    rolled = call(ROLLBACK, ADMIN, {"version": 1, "expected_version": 2})
    assert rolled["statusCode"] == 200, rolled["json"]
    assert rolled["json"] == {"version": 3, "restored_from": 1, "previous_version": 2}
    assert call(BASE)["json"]["text"] == LIVE
    assert call(VERSIONS)["json"]["items"][0]["restored_from"] == 1
    audit = call("/console/api/audit/{account}")["json"]["items"]
    assert [(e["action"], e["actor"], e["detail"]) for e in audit] == [
        ("trigger.rollback", "ann@example.com",
         {"version": 3, "restored_from": 1, "previous_version": 2}),
        ("trigger.push", "ann@example.com",
         {"version": 2, "previous_version": 1, "fingerprint": audit[1]["detail"]["fingerprint"],
          "triggers": 1}),
    ]  # fmt: skip
    stack.stream.new_records()
    stack.text("hello")
    assert stack.bodies(ALICE)[-1] == "Hi there"
    assert call(ROLLBACK, ADMIN, {"version": 9, "expected_version": 3})["statusCode"] == 404


def test_a_dry_run_against_a_stored_or_typed_message_sends_and_writes_nothing(
    stack: World,
) -> None:
    stored = stack.text("hello stored")
    sent_before = len(stack.twilio.messages())
    items_before = boto3.client("dynamodb").scan(TableName=stack.table)["Count"]

    by_sid = call(TEST, "[viewer]", {"text": EDITED, "message": {"sid": stored}})["json"]
    assert by_sid["ok"] is True
    assert by_sid["matched"] == ["echo"]
    [step] = by_sid["steps"]
    assert step["description"] == (
        f"send_sms to {ALICE} from {OUR_NUMBER}: 'Hello from the console'"
    )
    assert "status: " in by_sid["report"][0]

    typed = {"from": "+14155550199", "to": OUR_NUMBER, "body": "hello there", "channel": "whatsapp"}
    live = call(TEST, "[operator]", {"message": typed})["json"]  # no text: the live version
    assert live["steps"][0]["description"].startswith("send_sms to whatsapp:+14155550199")
    assert live["steps"][0]["body"] == "Hi there"
    none = call(TEST, "[viewer]", {"message": {**typed, "body": "bye"}})["json"]
    assert none["matched"] == []
    assert none["steps"] == []

    assert len(stack.twilio.messages()) == sent_before
    assert boto3.client("dynamodb").scan(TableName=stack.table)["Count"] == items_before
    invalid = call(TEST, "[viewer]", {"text": INVALID, "message": typed})["json"]
    assert invalid["ok"] is False
    assert invalid["problems"][0]["line"] == 6


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_viewers_and_operators_read_and_test_but_may_not_push_or_roll_back(
    stack: World, role: str
) -> None:
    groups = f"[{role}]"
    assert call(BASE, groups)["statusCode"] == 200
    assert call(VALIDATE, groups, {"text": EDITED})["statusCode"] == 200
    refused = push(EDITED, 1, groups)
    assert refused["statusCode"] == 403
    assert refused["json"]["error"] == "forbidden"
    back = call(ROLLBACK, groups, {"version": 1, "expected_version": 1})
    assert back["statusCode"] == 403
    # Refused before the body is read: a bad body changes nothing.
    assert call(BASE, groups, raw="{not json", method="PUT")["statusCode"] == 403
    assert live_version(stack) == 1
    assert call("/console/api/audit/{account}", groups)["json"]["items"] == []


FOREIGN = [
    (BASE, None, {}, None),
    (VERSIONS, None, {}, None),
    (VERSION, None, {"version": "1"}, None),
    (VALIDATE, {"text": LIVE}, {}, None),
    (TEST, {"message": {"from": ALICE, "to": OUR_NUMBER, "body": "hello"}}, {}, None),
    (DIFF, {"text": LIVE, "expected_version": 1}, {}, None),
    (BASE, {"text": LIVE, "expected_version": 1}, {}, "PUT"),
    (ROLLBACK, {"version": 1, "expected_version": 1}, {}, None),
]


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_a_user_of_account_a_reads_or_changes_nothing_of_account_b(stack: World, role: str) -> None:
    for route, body, path, method in FOREIGN:
        refused = call(route, f"[{role} account:acme]", body, method=method, account="globex",
                       **path)  # fmt: skip
        assert refused["statusCode"] == 403, (route, refused["json"])
        assert GLOBEX_SECRET not in refused["body"]
    assert int(call(BASE, ADMIN, account="globex")["json"]["version"]) == 1


BAD_INPUT = [
    (VALIDATE, "{not json", None, "not valid JSON"),
    (VALIDATE, "[]", None, "JSON object"),
    (VALIDATE, json.dumps({"text": 12}), None, "text"),
    (VALIDATE, json.dumps({"text": "", "extra": 1}), None, "extra"),
    (BASE, json.dumps({"text": LIVE, "expected_version": "1"}), "PUT", "expected_version"),
    (BASE, json.dumps({"text": LIVE, "expected_version": -1}), "PUT", "expected_version"),
    (ROLLBACK, json.dumps({"version": True, "expected_version": 1}), None, "version"),
    (TEST, json.dumps({"message": "hello"}), None, "message"),
    (TEST, json.dumps({"message": {"sid": "SM-x"}}), None, "SID"),
    (TEST, json.dumps({"message": {"from": "me!", "to": OUR_NUMBER}}), None, "message.from"),
    (
        TEST,
        json.dumps({"message": {"from": ALICE, "to": OUR_NUMBER, "channel": "fax"}}),
        None,
        "channel",
    ),
    (
        TEST,
        json.dumps({"message": {"from": ALICE, "to": OUR_NUMBER, "body": "x" * 1601}}),
        None,
        "message.body",
    ),
    (TEST, json.dumps({"message": {"sid": "SM1"}, "replies": ["a"] * 11}), None, "replies"),
    (VALIDATE, "[" * 100_000 + "]" * 100_000, None, "not valid JSON"),
]


def test_bad_input_is_a_400_naming_what_is_wrong(stack: World) -> None:
    for route, raw, method, names in BAD_INPUT:
        answer = call(route, ADMIN, raw=raw, method=method)
        assert answer["statusCode"] == 400, (raw[:80], answer["json"])
        assert names in answer["json"]["message"], raw[:80]
    assert call(VERSION, version="x")["statusCode"] == 400
    assert call(VERSION, version="7")["statusCode"] == 404
    assert call(TEST, body={"message": {"sid": "SM" + "0" * 32}})["statusCode"] == 404
    assert live_version(stack) == 1


def test_a_huge_or_hostile_file_is_refused_at_once(stack: World) -> None:
    huge = "version: 1\n#" + "x" * MAX_SOURCE_BYTES + "\n"
    too_large = call(VALIDATE, ADMIN, {"text": huge})
    assert too_large["statusCode"] == 413
    assert push(huge, 1)["statusCode"] == 413
    levels = ["version: 1", "triggers: []", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 8)}]" for n in range(1, 12)]
    laughs = call(VALIDATE, ADMIN, {"text": "\n".join(levels)})["json"]
    assert "values (aliases of aliases?)" in laughs["problems"][0]["message"]
    deep = call(VALIDATE, ADMIN, {"text": "version: 1\ntriggers: " + "[" * 10_000})["json"]
    assert "nested deeper than" in deep["problems"][0]["message"]
    assert live_version(stack) == 1


def stored_unaudited(stack: World, text: str, by: str, *, restored_from: int | None = None
                     ) -> None:  # fmt: skip
    """What an admin's push (or rollback) leaves when its audit write failed: the version
    stored, with who pushed it, and no audit entry (the admin saw a 500)."""
    from datetime import UTC, datetime

    from sms_automation.adapters.trigger_store import DynamoTriggerStore

    store = DynamoTriggerStore(stack.table, boto3.client("dynamodb"))
    if restored_from is not None:
        store.rollback("acme", restored_from, datetime.now(UTC), pushed_by=by)
        return
    from sms_automation.triggers.publish import publish

    publish(store, "acme", text, now=datetime.now(UTC), pushed_by=by)


def audit_of(account: str = "acme") -> list[dict[str, Any]]:
    return call("/console/api/audit/{account}", account=account)["json"]["items"]


def test_a_replayed_push_is_audited_once_and_only_for_the_admin_who_pushed_it(
    stack: World,
) -> None:
    assert push(EDITED, 1)["statusCode"] == 200
    again = push(EDITED, 1)  # the same request again (the page's retry): nothing new stored
    assert again["statusCode"] == 409
    assert live_version(stack) == 2
    assert [e["action"] for e in audit_of()] == ["trigger.push"], "one entry, not two"

    stored_unaudited(stack, EDITED.replace("console", "retry"), by="ann@example.com")
    assert audit_of()[0]["detail"]["version"] == 2  # version 3 is not in the record yet
    assert push(EDITED.replace("console", "retry"), 2)["statusCode"] == 409  # ann's retry
    found = audit_of()
    assert [(e["action"], e["detail"]["version"]) for e in found] == [
        ("trigger.push", 3), ("trigger.push", 2),
    ]  # fmt: skip
    assert found[0]["actor"] == "ann@example.com"
    assert found[0]["detail"]["found_done"] is True
    assert push(EDITED.replace("console", "retry"), 2)["statusCode"] == 409
    assert len(audit_of()) == 2, "a second replay writes nothing"


def test_a_push_or_rollback_someone_else_made_is_a_plain_409_with_no_audit_entry(
    stack: World,
) -> None:
    stored_unaudited(stack, EDITED, by="cy@example.com")  # another admin's push, same text
    assert push(EDITED, 1)["statusCode"] == 409
    stored_unaudited(stack, LIVE, by="cy@example.com", restored_from=1)
    assert call(ROLLBACK, ADMIN, {"version": 1, "expected_version": 2})["statusCode"] == 409
    assert push(LIVE, 1)["statusCode"] == 409  # not the same change: a push, not a rollback
    assert audit_of() == []


def test_a_replayed_rollback_is_audited_once(stack: World) -> None:
    assert push(EDITED, 1)["statusCode"] == 200
    stored_unaudited(stack, LIVE, by="ann@example.com", restored_from=1)
    replay = call(ROLLBACK, ADMIN, {"version": 1, "expected_version": 2})
    assert replay["statusCode"] == 409
    newest = audit_of()[0]
    assert (newest["action"], newest["detail"]) == (
        "trigger.rollback",
        {"version": 3, "restored_from": 1, "previous_version": 2, "found_done": True},
    )
    assert call(ROLLBACK, ADMIN, {"version": 1, "expected_version": 2})["statusCode"] == 409
    assert [e["action"] for e in audit_of()] == ["trigger.rollback", "trigger.push"]


def test_a_push_and_a_rollback_read_the_account_once(
    stack: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = RequestCalls.install(monkeypatch)
    clear_cached_dependencies(api)  # its clients go through the counter
    counting.calls.clear()
    assert push(EDITED, 1)["statusCode"] == 200
    assert counting.account_reads("acme") == 1, "the admin check reads it; the push does not"
    counting.calls.clear()
    assert call(ROLLBACK, ADMIN, {"version": 1, "expected_version": 2})["statusCode"] == 200
    assert counting.account_reads("acme") == 1
