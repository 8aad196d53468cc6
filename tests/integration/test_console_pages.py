"""The console's automations and accounts pages through the console API handler, against moto
and the Twilio sandbox (real HTTP), with the real pipeline: a run started from the console is
processed from the table's stream like any run; the routes answer their contract; the role
and account-scope matrix over every page route; one run per submitted form under overlap; bad
input named; the auth token never answered, logged or audited."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import yaml

from functions.console_api import handler as api
from sms_automation.adapters.account_store import SecretsManagerTokenStore
from sms_automation.adapters.audit_log import DynamoAuditStore
from sms_automation.adapters.automation_run_store import DynamoAutomationRunStore
from tests.resilience.faults import CONNECTION_ERROR, AwsFaults
from tests.support.aws import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    OneRequestAtATime,
    RequestCalls,
    account_registry,
    assert_bounded_for_a_waiting_caller,
    clear_cached_dependencies,
    clients_made,
)
from tests.support.console import console_call, console_world
from tests.support.conversation_world import ALICE, OUR_NUMBER, World
from tests.support.moto_stack import push_triggers

pytestmark = pytest.mark.integration

ACCOUNT = "/console/api/accounts/{account}"
AUTOMATIONS = ACCOUNT + "/automations"
START = ACCOUNT + "/automations/{automation}/runs"
RUNS = ACCOUNT + "/runs"
RUN = ACCOUNT + "/runs/{run_id}"
NUMBERS = ACCOUNT + "/numbers"
VERIFY = ACCOUNT + "/verify"
RECEIVE = ACCOUNT + "/receive"
CONNECT = ACCOUNT + "/numbers/connect"
TOKEN = ACCOUNT + "/auth-token"
HOOKS = "https://hooks.example.com/dev"  # the world's WEBHOOK_BASE_URL
OTHER_NUMBER = "+15005550007"
NEW_TOKEN = "fedcba9876543210fedcba9876543210"
FORM_KEY = "form-0123456789abcdef"
TRIGGERS = {
    "version": 1,
    "triggers": [],
    "automations": [
        {
            "name": "reminder",
            "description": "Remind a patient",
            "from": OUR_NUMBER,
            "inputs": [
                {"name": "patient", "required": True},
                {"name": "visits", "type": "integer", "default": "1"},
            ],
            "actions": [{"type": "send_sms", "body": "Hi %patient%, visit %visits%"}],
        }
    ],
}


@pytest.fixture
def stack(world: World) -> Iterator[World]:
    with console_world(world, TRIGGERS) as ready:
        world.twilio.add_number(TEST_ACCOUNT_SID, OUR_NUMBER, f"{HOOKS}/twilio/acme/sms")
        world.twilio.add_number(TEST_ACCOUNT_SID, OTHER_NUMBER, "https://demo.twilio.com/sms")
        yield ready


def call(
    method: str,
    route: str,
    groups: str | None = "[admin]",
    body: Any = None,
    query: dict[str, str] | None = None,
    **path: str,
) -> dict[str, Any]:
    return console_call(route, path, groups=groups, query=query, body=body, method=method)


def form(key: str = FORM_KEY, **changes: Any) -> dict[str, Any]:
    return {"to": ALICE, "variables": {"patient": "Ann"}, "idempotency_key": key} | changes


def audit_entries(world: World, account: str = "acme") -> list[Any]:
    store = DynamoAuditStore("audit-test", boto3.client("dynamodb"))
    return list(store.page(account, after=None, size=100).entries)


def origins(world: World, account: str = "acme") -> list[dict[str, Any]]:
    store = DynamoAutomationRunStore(world.table, boto3.client("dynamodb"))
    return list(store.list_for_account(account))


# --- automations -------------------------------------------------------------------------------


def test_an_operator_starts_a_run_from_the_form_and_follows_it_to_its_end(stack: World) -> None:
    listed = call("GET", AUTOMATIONS, "[viewer]", account="acme")["json"]
    [reminder] = listed["items"]
    assert reminder["inputs"][1] == {"name": "visits", "type": "integer", "required": False,
                                     "default": "1", "description": ""}  # fmt: skip

    started = call("POST", START, "[operator]", form(), account="acme", automation="reminder")
    assert started["statusCode"] == 200, started["json"]
    run_id = started["json"]["run_id"]
    assert started["json"]["created"] is True
    assert stack.deliver() == {"batchItemFailures": []}  # the processor runs it from the stream
    assert stack.bodies() == ["Hi Ann, visit 1"]

    runs = call("GET", RUNS, "[viewer]", account="acme")["json"]
    assert [(r["run_id"], r["status"], r["source"]) for r in runs["items"]] == [
        (run_id, "completed", "console")
    ]
    detail = call("GET", RUN, "[viewer]", account="acme", run_id=run_id)["json"]
    assert (detail["requested_by"], detail["ended"]) == ("ann@example.com", True)
    assert [s["state"] for s in detail["steps"]] == ["done"]
    [entry] = audit_entries(stack)
    assert (entry.action, entry.actor, entry.target) == ("automation.start", "ann@example.com",
                                                         "reminder")  # fmt: skip
    assert entry.detail["run_id"] == run_id


def test_two_submits_of_one_form_at_the_same_moment_start_one_run(
    stack: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Overlapping requests meet in DynamoDB, each on its own warm Lambda instance (one request
    # per instance at a time); the threads stand for those instances. DynamoDB applies each
    # request atomically, moto does not across threads (two conditional PutItems of one new
    # run could both pass the check): its requests are made one at a time, the four requests'
    # still interleave. Warm this process first (a refused form builds the start path and its
    # clients, starts nothing): boto3 sessions are not thread-safe, so four threads building
    # clients at once fail in ways Lambda never sees.
    OneRequestAtATime.install(monkeypatch)
    warm = call("POST", START, "[operator]", form(variables={}), account="acme",
                automation="reminder")  # fmt: skip
    assert warm["statusCode"] == 400
    made = clients_made(monkeypatch)
    barrier = threading.Barrier(4)
    answers: list[dict[str, Any]] = []

    def submit() -> None:
        barrier.wait()
        answers.append(call("POST", START, "[operator]", form(), account="acme",
                            automation="reminder"))  # fmt: skip

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert made == [], "the warm-up built every client the start path uses"
    assert sorted(a["statusCode"] for a in answers) == [200, 200, 200, 200]
    assert len({a["json"]["run_id"] for a in answers}) == 1
    assert sorted(a["json"]["created"] for a in answers) == [False, False, False, True]
    assert len(origins(stack)) == 1
    assert len(audit_entries(stack)) == 1
    stack.deliver()
    assert stack.bodies() == ["Hi Ann, visit 1"], "one run, one message"


@pytest.mark.parametrize("error", ["ProvisionedThroughputExceededException", CONNECTION_ERROR])
def test_the_run_store_failing_for_now_is_a_503_storage_unavailable_and_starts_nothing(
    stack: World, monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    faults = AwsFaults.install(monkeypatch)
    faults.fail("dynamodb", "PutItem", error=error, when=lambda p: p["TableName"] == stack.table)
    clear_cached_dependencies(api)  # a new client, through the faulty boto3.client

    answer = call("POST", START, "[operator]", form(), account="acme", automation="reminder")

    assert (answer["statusCode"], answer["json"]["error"]) == (503, "storage_unavailable")
    assert "submit again" in answer["json"]["message"]
    assert origins(stack) == []
    assert stack.deliver() == {"batchItemFailures": []}
    assert stack.twilio.messages() == []


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        (form(variables={}), 400, ["variables.patient"]),
        (form(variables={"patient": "Ann", "visits": "two", "colour": "x"}), 400,
         ["variables.colour", "variables.visits"]),
        (form(to="555"), 400, ["to"]),
        ({"to": ALICE, "variables": {"patient": "Ann"}}, 400, ["idempotency_key"]),
        (form(sort="x"), 400, ["sort"]),
        ("[1, 2]", 400, ["body"]),
        ("{not json", 400, ["body"]),
        (json.dumps(form(variables={"patient": "x" * 70_000})), 413, []),
    ],
)  # fmt: skip
def test_a_bad_form_is_refused_with_each_field_named_and_starts_nothing(
    stack: World, body: Any, status: int, fields: list[str]
) -> None:
    answer = call("POST", START, "[operator]", body, account="acme", automation="reminder")

    assert answer["statusCode"] == status, answer["json"]
    named = sorted(p["field"] for p in answer["json"].get("problems", []))
    assert named == sorted(fields)
    assert origins(stack) == []
    assert audit_entries(stack) == []


def test_an_unknown_automation_or_account_is_a_404_and_runs_page_by_cursor(stack: World) -> None:
    assert call("POST", START, "[admin]", form(), account="acme",
                automation="nosuch")["statusCode"] == 404  # fmt: skip
    assert call("GET", AUTOMATIONS, account="nosuch")["statusCode"] == 404
    for n in range(3):
        call("POST", START, "[operator]", form(f"{FORM_KEY}{n}"), account="acme",
             automation="reminder")  # fmt: skip
    first = call("GET", RUNS, query={"limit": "2"}, account="acme")["json"]
    second = call("GET", RUNS, query={"limit": "2", "cursor": first["next_cursor"]},
                  account="acme")["json"]  # fmt: skip
    assert (len(first["items"]), len(second["items"]), second["next_cursor"]) == (2, 1, None)
    only = call("GET", RUNS, query={"automation": "REMINDER"}, account="acme")["json"]["items"]
    assert len(only) == 3
    assert call("GET", RUNS, query={"limit": "0"}, account="acme")["statusCode"] == 400
    assert call("GET", RUN, account="acme", run_id="RU" + "0" * 32)["statusCode"] == 404


# --- accounts ----------------------------------------------------------------------------------


def test_every_role_reads_the_account_its_url_and_its_numbers_from_twilio(stack: World) -> None:
    for role in ("viewer", "operator", "admin"):
        detail = call("GET", ACCOUNT, f"[{role} account:acme]", account="acme")["json"]
        assert detail["messaging_request_url"] == f"{HOOKS}/twilio/acme/sms"
        assert detail["receive"] is True
        numbers = call("GET", NUMBERS, f"[{role}]", account="acme")["json"]
        assert {n["phone_number"]: n["points_here"] for n in numbers["items"]} == {
            OUR_NUMBER: True, OTHER_NUMBER: False,
        }  # fmt: skip
        verified = call("POST", VERIFY, f"[{role}]", account="acme")["json"]
        assert verified["outcome"] == "verified"
        for answer in (detail, numbers, verified):  # (the test token is inside the test SID)
            assert TEST_AUTH_TOKEN not in json.dumps(answer).replace(TEST_ACCOUNT_SID, "")
    assert audit_entries(stack) == []


def test_an_admin_turns_receiving_off_and_connects_a_number_each_audited(stack: World) -> None:
    off = call("PUT", RECEIVE, "[admin]", {"enabled": False}, account="acme")
    assert off["json"]["receive"] is False
    connected = call("POST", CONNECT, "[admin]", {"number": OTHER_NUMBER}, account="acme")
    assert connected["statusCode"] == 200, connected["json"]
    assert connected["json"]["points_here"] is True
    [twilio_number] = [n for n in stack.twilio.numbers() if n["phone_number"] == OTHER_NUMBER]
    assert twilio_number["sms_url"] == f"{HOOKS}/twilio/acme/sms"
    account = account_registry(stack.table, boto3.client("dynamodb"),
                               boto3.client("secretsmanager")).get("acme")  # fmt: skip
    assert (account.receive_enabled, OTHER_NUMBER in account.own_numbers) == (False, True)
    entries = audit_entries(stack)
    assert [e.action for e in entries] == ["account.update", "account.update"]
    assert entries[1].detail == {"receive": False, "receive_was": True}
    assert OTHER_NUMBER not in json.dumps([e.detail for e in entries])
    assert call("POST", CONNECT, "[admin]", {"number": "+15005550099"},
                account="acme")["statusCode"] == 404  # fmt: skip


def test_the_auth_token_is_replaced_only_when_twilio_accepts_it_and_never_shown(
    stack: World, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = call("PUT", TOKEN, "[admin]", {"auth_token": NEW_TOKEN}, account="acme")
    assert refused["statusCode"] == 400  # Twilio does not accept it yet
    stack.twilio.add_account(TEST_ACCOUNT_SID, NEW_TOKEN)  # as the Twilio Console's new token
    replaced = call("PUT", TOKEN, "[admin]", {"auth_token": NEW_TOKEN}, account="acme")

    assert replaced["statusCode"] == 200, replaced["json"]
    assert replaced["json"]["replaced"] is True
    secret = "sms-automation/test/accounts/acme"
    tokens = SecretsManagerTokenStore(boto3.client("secretsmanager")).get(secret)
    assert (tokens.current, tokens.previous) == (NEW_TOKEN, TEST_AUTH_TOKEN)
    [entry] = audit_entries(stack)
    shown = json.dumps([replaced["json"], refused["json"], entry.detail]) + capsys.readouterr().out
    shown = shown.replace(TEST_ACCOUNT_SID, "")  # (the test token is inside the test SID)
    assert NEW_TOKEN not in shown
    assert TEST_AUTH_TOKEN not in shown
    # The page works on with the new token: Twilio lists the numbers with it.
    assert call("GET", NUMBERS, "[viewer]", account="acme")["statusCode"] == 200


@pytest.mark.parametrize(
    ("method", "route", "body"),
    [
        ("PUT", RECEIVE, {"enabled": "off"}),
        ("PUT", RECEIVE, {}),
        ("PUT", RECEIVE, "not json"),
        ("POST", CONNECT, {"number": "0015005550007"}),
        ("PUT", TOKEN, {"auth_token": "with space"}),
        ("PUT", TOKEN, {"auth_token": ""}),
        ("PUT", TOKEN, {"auth_token": NEW_TOKEN[:16] + "\u20ac" + NEW_TOKEN[16:]}),  # not 503
        ("PUT", TOKEN, {"token": NEW_TOKEN}),
    ],
)
def test_bad_account_input_is_a_400_that_changes_nothing(
    stack: World, method: str, route: str, body: Any
) -> None:
    answer = call(method, route, "[admin]", body, account="acme")
    assert answer["statusCode"] == 400, answer["json"]
    assert NEW_TOKEN not in answer["body"]
    assert audit_entries(stack) == []


# --- the matrix: every page route x roles x a foreign account ----------------------------------

READS = [
    ("GET", AUTOMATIONS, {}, None),
    ("GET", RUNS, {}, None),
    ("GET", RUN, {"run_id": "{run}"}, None),
    ("GET", ACCOUNT, {}, None),
    ("GET", NUMBERS, {}, None),
    ("POST", VERIFY, {}, None),
]
CHANGES = [
    ("POST", START, {"automation": "reminder"}, form(), "operator"),
    ("PUT", RECEIVE, {}, {"enabled": False}, "admin"),
    ("POST", CONNECT, {}, {"number": OTHER_NUMBER}, "admin"),
    ("PUT", TOKEN, {}, {"auth_token": TEST_AUTH_TOKEN}, "admin"),
]


def globex_run(stack: World) -> str:
    answer = call("POST", START, "[admin]", form("form-globex-000000000"), account="globex",
                  automation="reminder")  # fmt: skip
    return str(answer["json"].get("run_id", "RU" + "1" * 32))


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_a_user_of_account_a_reads_and_changes_nothing_of_account_b(
    stack: World, role: str
) -> None:
    push_triggers(stack.table, yaml.safe_dump(TRIGGERS), account="globex")
    run = globex_run(stack)
    before = audit_entries(stack, "globex")
    scoped = f"[{role} account:acme]"
    for method, route, path, body in READS:
        parameters = {k: v.replace("{run}", run) for k, v in path.items()}
        refused = call(method, route, scoped, body, account="globex", **parameters)
        assert refused["statusCode"] == 403, (route, refused["json"])
        assert run not in refused["body"]
        assert call(method, route, f"[{role}]", body, account="globex",
                    **parameters)["statusCode"] == 200, route  # fmt: skip
    for method, route, path, body, _ in CHANGES:
        refused = call(method, route, scoped, body, account="globex", **path)
        assert refused["statusCode"] == 403, (route, refused["json"])
    # Nor by a parameter: a run of globex under acme's path is not found, a cursor is refused.
    assert call("GET", RUN, scoped, account="acme", run_id=run)["statusCode"] == 404
    assert len(origins(stack, "globex")) == 1
    assert audit_entries(stack, "globex") == before


@pytest.mark.parametrize(("method", "route", "path", "body", "least"), CHANGES)
@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_a_change_above_the_user_s_role_is_refused_before_anything_happens(
    stack: World, role: str, method: str, route: str, path: dict[str, str], body: Any, least: str
) -> None:
    answer = call(method, route, f"[{role}]", body, account="acme", **path)
    if least == "operator" and role == "operator":
        assert answer["statusCode"] == 200
        return
    assert answer["statusCode"] == 403
    assert answer["json"]["error"] == "forbidden"
    assert origins(stack) == []
    assert audit_entries(stack) == []
    assert stack.twilio.numbers()[1]["sms_url"] == "https://demo.twilio.com/sms"


def test_a_start_reads_the_account_once(stack: World, monkeypatch: pytest.MonkeyPatch) -> None:
    counting = RequestCalls.install(monkeypatch)
    clear_cached_dependencies(api)
    call("GET", AUTOMATIONS, "[viewer]", account="acme")  # (the page's clients made)
    counting.calls.clear()
    started = call("POST", START, "[operator]", form(), account="acme", automation="reminder")
    assert started["statusCode"] in {200, 201}, started["json"]
    assert counting.account_reads("acme") == 1


def test_turning_receiving_off_reads_the_account_once_and_writes_it_once(
    stack: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = RequestCalls.install(monkeypatch)
    clear_cached_dependencies(api)
    counting.calls.clear()
    off = call("PUT", RECEIVE, "[admin]", {"enabled": False}, account="acme")
    assert (off["statusCode"], off["json"]["receive"]) == (200, False)
    assert counting.account_reads("acme") == 1
    assert counting.count("UpdateItem") == 1
    counting.calls.clear()
    again = call("PUT", RECEIVE, "[admin]", {"enabled": False}, account="acme")
    assert (again["json"]["receive"], counting.account_reads("acme")) == (False, 1)
    assert counting.count("UpdateItem") == 0, "nothing to change"


def test_replacing_the_token_reads_the_secret_once_and_writes_it_once(
    stack: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack.twilio.add_account(TEST_ACCOUNT_SID, NEW_TOKEN)
    counting = RequestCalls.install(monkeypatch)
    clear_cached_dependencies(api)
    counting.calls.clear()
    replaced = call("PUT", TOKEN, "[admin]", {"auth_token": NEW_TOKEN}, account="acme")
    assert replaced["json"]["replaced"] is True
    assert counting.account_reads("acme") == 1
    assert (counting.count("GetSecretValue"), counting.count("PutSecretValue")) == (1, 1)
    counting.calls.clear()
    same = call("PUT", TOKEN, "[admin]", {"auth_token": NEW_TOKEN}, account="acme")
    assert same["json"]["replaced"] is False
    assert (counting.count("GetSecretValue"), counting.count("PutSecretValue")) == (1, 0)
    assert [e.action for e in audit_entries(stack)] == ["account.update"]


def test_the_token_s_secrets_client_is_bounded_for_a_waiting_request(
    stack: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack.twilio.add_account(TEST_ACCOUNT_SID, NEW_TOKEN)
    made = clients_made(monkeypatch)
    clear_cached_dependencies(api)
    assert call("PUT", TOKEN, "[admin]", {"auth_token": NEW_TOKEN}, account="acme")["json"][
        "replaced"
    ]
    secrets = [c for c in made if c.meta.service_model.service_name == "secretsmanager"]
    assert secrets, "the replacement reads and writes the secret"
    for client in secrets:
        assert_bounded_for_a_waiting_caller(client)
