"""The console API handler on HTTP API events carrying verified JWT claims, against moto with
the real pipeline (webhook, trigger processor, conversations): every route answers its
contract; roles and account scope are enforced on every route, path, query and cursor (the
matrix); bad input is a 400 naming the parameter; the log has no number and no body."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from sms_automation.adapters.outbound_store import DynamoOutboundStore
from sms_automation.console.queries import Cursor
from tests.support.console import ask_and_echo, console_call, console_world
from tests.support.conversation_world import ALICE, BOB, OUR_NUMBER, World

pytestmark = pytest.mark.integration

ME = "/console/api/me"
ACCOUNTS = "/console/api/accounts"
MESSAGES = "/console/api/accounts/{account}/messages"
THREAD = "/console/api/accounts/{account}/contacts/{contact}/thread"
MESSAGE = "/console/api/accounts/{account}/messages/{sid}"
SUMMARY = "/console/api/accounts/{account}/summary"
TRIGGERS = ask_and_echo(timeout="1h", expect=["yes", "no"])


@pytest.fixture
def stack(world: World) -> Iterator[World]:
    with console_world(world, TRIGGERS) as ready:
        yield ready


def call(
    route: str, groups: str | None = "[viewer]", query: dict[str, str] | None = None, **path: str
) -> dict[str, Any]:
    return console_call(route, path, groups=groups, query=query)


def test_the_routes_answer_their_contract(stack: World) -> None:
    hello = stack.text("hello <script>alert(1)</script>")
    book = stack.text("book me", sender=BOB)
    stack.registered(book)
    answer = stack.text("yes", sender=BOB)

    me = call(ME, "[viewer account:acme]")["json"]
    assert me == {"email": "ann@example.com", "role": "viewer", "accounts": ["acme"]}
    accounts = call(ACCOUNTS, "[admin]")["json"]["items"]
    assert [a["name"] for a in accounts] == ["acme", "globex"]
    assert set(accounts[0]) == {"name", "numbers", "receive", "time_zone"}
    assert "auth" not in json.dumps(accounts).lower()

    inbox = call(MESSAGES, account="acme")
    assert [m["sid"] for m in inbox["json"]["items"]] == [answer, book, hello]
    assert inbox["json"]["next_cursor"] is None
    first = inbox["json"]["items"][2]
    assert first["body"] == "hello <script>alert(1)</script>"
    assert "<" not in inbox["body"], "a body's markup is escaped in the JSON text"
    assert first | {"body": ""} == {
        "sid": hello, "direction": "inbound", "from": ALICE, "to": OUR_NUMBER, "body": "",
        "at": first["at"], "status": "received", "channel": "sms",
    }  # fmt: skip

    thread = call(THREAD, account="acme", contact=BOB)["json"]
    kinds = [(i["kind"], i["direction"]) for i in thread["items"]]
    assert kinds[:3] == [
        ("message", "inbound"),
        ("conversation_prompt", "outbound"),
        ("conversation_answer", "inbound"),
    ]  # then "Thanks", once the resumed conversation has sent it
    assert thread["items"][1]["body"] == "Reply YES to confirm"
    assert thread["items"][2]["sid"] == answer
    assert thread["opted_out"] is False

    detail = call(MESSAGE, account="acme", sid=hello)["json"]
    assert detail["parameters"]["Body"] == "hello <script>alert(1)</script>"
    assert detail["text"].startswith("FROM: ")
    [step] = detail["steps"]
    assert step["state"] == "done"
    assert step["twilio_sid"].startswith("SM")
    assert set(step) == {"step", "state", "detail", "twilio_sid", "error_code", "error_url"}

    before = len(sent_sids(stack))  # the resumed conversation's "Thanks" may still be on its way
    summary = call(SUMMARY, account="acme")["json"]
    assert summary["received"] == 3
    assert before <= summary["sent"] <= len(sent_sids(stack))  # the counters: every send, once
    assert summary["failed"] == 0
    assert set(summary) == {"date", "time_zone", "received", "sent", "failed",
                            "open_conversations"}  # fmt: skip
    assert call(SUMMARY, account="acme", query={"date": "2001-01-01"})["json"]["received"] == 0


def sent_sids(stack: World, account: str = "acme") -> list[str]:
    """The SMS the project created for ``account``, from the outbound items themselves."""
    items = boto3.client("dynamodb").scan(TableName=stack.table)["Items"]
    return [i["sid"]["S"] for i in items if i.get("kind", {}).get("S") == "outbound"
            and i.get("account", {}).get("S") == account
            and i.get("outbound_kind", {}).get("S") == "sms"]  # fmt: skip


def test_the_summary_counts_a_failed_delivery_once_and_only_in_its_account(stack: World) -> None:
    stack.text("hello")
    stack.text("hello again")
    [first, second] = sent_sids(stack)
    outbound = DynamoOutboundStore(stack.table, boto3.client("dynamodb"))
    for _ in range(2):  # Twilio retried the callback
        outbound.record_status(first, "undelivered", kind="sms", account="acme", error_code="30003",
                               received_at=datetime.now(UTC), params={})  # fmt: skip
    outbound.record_status(second, "delivered", kind="sms", account="acme", error_code=None,
                           received_at=datetime.now(UTC), params={})  # fmt: skip
    receive_in_globex(stack)
    acme = call(SUMMARY, account="acme")["json"]
    assert (acme["received"], acme["sent"], acme["failed"]) == (2, 2, 1)
    globex = call(SUMMARY, "[viewer account:globex]", account="globex")["json"]
    assert (globex["sent"], globex["failed"]) == (len(sent_sids(stack, "globex")), 0)
    assert call(SUMMARY, "[viewer account:globex]", account="acme")["statusCode"] == 403


def test_inbox_pages_with_a_cursor_and_filters_within_a_bounded_scan(stack: World) -> None:
    sids = [stack.receive(f"note {n}") for n in range(5)]
    other = stack.receive("from bob", sender=BOB)
    seen: list[str] = []
    query = {"limit": "2"}
    while True:
        page = call(MESSAGES, query=query, account="acme")["json"]
        seen += [m["sid"] for m in page["items"]]
        if page["next_cursor"] is None:
            break
        query = {"limit": "2", "cursor": page["next_cursor"]}
    assert seen == [other, *reversed(sids)]
    by_contact = call(MESSAGES, query={"contact": BOB}, account="acme")["json"]["items"]
    assert [m["sid"] for m in by_contact] == [other]
    by_text = call(MESSAGES, query={"text": "NOTE 3"}, account="acme")["json"]["items"]
    assert [m["sid"] for m in by_text] == [sids[3]]
    assert call(MESSAGES, query={"channel": "whatsapp"}, account="acme")["json"]["items"] == []
    assert call(MESSAGES, query={"until": "2001-01-01"}, account="acme")["json"]["items"] == []


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "1000"}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-02-30"}, "since"),
        ({"since": "2026-02-02", "until": "2026-02-01"}, "since"),
        ({"channel": "fax"}, "channel"),
        ({"contact": "'; drop"}, "contact"),
        ({"text": "x" * 101}, "text"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "x" * 600}, "cursor"),
        ({"sort": "asc"}, "sort"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(
    stack: World, query: dict[str, str], names: str
) -> None:
    answer = call(MESSAGES, query=query, account="acme")
    assert answer["statusCode"] == 400
    assert names in answer["json"]["message"]


def test_bad_path_and_summary_input_is_a_400(stack: World) -> None:
    assert call(MESSAGE, account="acme", sid="SM-x")["statusCode"] == 400
    assert call(THREAD, account="acme", contact="nobody!")["statusCode"] == 400
    assert call(SUMMARY, query={"date": "07/12/2026"}, account="acme")["statusCode"] == 400
    assert call(MESSAGE, account="acme", sid="SM" + "0" * 32)["statusCode"] == 404
    assert call(MESSAGES, account="nosuch", groups="[admin]")["statusCode"] == 404


# --- the matrix: every route x roles x a foreign account -------------------------------------

FOREIGN_ROUTES = [
    (MESSAGES, {}, {}),
    (THREAD, {"contact": ALICE}, {}),
    (MESSAGE, {"sid": "{globex_sid}"}, {}),
    (SUMMARY, {}, {}),
    (SUMMARY, {}, {"date": "2026-01-01"}),
]


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
@pytest.mark.parametrize(("route", "path", "query"), FOREIGN_ROUTES)
def test_a_user_of_account_a_reads_nothing_of_account_b(
    stack: World, role: str, route: str, path: dict[str, str], query: dict[str, str]
) -> None:
    sid = receive_in_globex(stack)
    scoped = f"[{role} account:acme]"
    parameters = {k: v.replace("{globex_sid}", sid) for k, v in path.items()}
    refused = call(route, scoped, query, account="globex", **parameters)
    assert refused["statusCode"] == 403, refused["json"]
    assert refused["json"]["error"] == "forbidden"
    assert sid not in refused["body"]
    # The same request for the user's own account, or by an unscoped user, is answered.
    assert call(route, f"[{role}]", query, account="globex", **parameters)["statusCode"] == 200
    mine = {k: v.replace(sid, stack.text("hello")) for k, v in parameters.items()}
    assert call(route, scoped, query, account="acme", **mine)["statusCode"] == 200


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_a_scoped_user_lists_only_their_accounts_and_cannot_pass_a_foreign_cursor(
    stack: World, role: str
) -> None:
    sid = receive_in_globex(stack)
    listed = call(ACCOUNTS, f"[{role} account:acme]")["json"]["items"]
    assert [a["name"] for a in listed] == ["acme"]
    foreign = Cursor("globex", f"2099-01-01T00:00:00.000Z#{sid}").encode()
    refused = call(MESSAGES, f"[{role} account:acme]", {"cursor": foreign}, account="acme")
    assert refused["statusCode"] == 403
    # An unscoped user's cursor of another listing is a 400, and reads nothing of globex.
    mixed = call(MESSAGES, f"[{role}]", {"cursor": foreign}, account="acme")
    assert mixed["statusCode"] == 400
    assert sid not in mixed["body"]


@pytest.mark.parametrize("groups", [None, "[]", "[account:acme]", "[viewers admins]", ""])
def test_a_user_in_no_role_group_is_refused_on_every_route(
    stack: World, groups: str | None
) -> None:
    for route, path in [(ME, {}), (ACCOUNTS, {}), (MESSAGES, {"account": "acme"}),
                        (THREAD, {"account": "acme", "contact": ALICE}),
                        (MESSAGE, {"account": "acme", "sid": "SM00"}),
                        (SUMMARY, {"account": "acme"})]:  # fmt: skip
        assert call(route, groups, **path)["statusCode"] == 403, route


def test_the_log_names_route_outcome_and_user_never_a_number_or_a_body(
    stack: World, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.text("hello secret words")
    capsys.readouterr()
    call(MESSAGES, query={"contact": ALICE, "text": "secret"}, account="acme")
    call(THREAD, account="acme", contact=ALICE)
    call(MESSAGES, "[viewer account:globex]", account="acme")
    output = capsys.readouterr().out
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert [line["outcome"] for line in lines] == ["ok", "ok", "denied"]
    assert ALICE not in output
    assert ALICE[1:] not in output
    assert "secret" not in output


def receive_in_globex(stack: World) -> str:
    """A message stored for account globex (the webhook's item, written as it writes it)."""
    from sms_automation.adapters.message_store import DynamoMessageStore
    from sms_automation.webhooks.inbound_message import InboundMessage
    from tests.support.conversation_world import new_sid

    sid = new_sid()
    params = (("MessageSid", sid), ("From", ALICE), ("To", "+15005550099"), ("Body", "globex"))
    message = InboundMessage("globex", "2026-01-01T10:00:00.000Z", params, {})
    DynamoMessageStore(stack.table, boto3.client("dynamodb")).put_new(message.to_item())
    return sid


def test_a_cursor_outside_since_until_is_a_400_not_a_failed_read(stack: World) -> None:
    """DynamoDB refuses a start key outside the key condition ("outside query boundaries"): a
    cursor kept while since / until changed is the caller's mistake, said as such."""
    stack.receive("one")
    stack.receive("two")
    cursor = call(MESSAGES, query={"limit": "1"}, account="acme")["json"]["next_cursor"]
    for bounds in ({"until": "2001-01-01"}, {"since": "2099-01-01"}):
        answer = call(MESSAGES, query={"cursor": cursor, **bounds}, account="acme")
        assert answer["statusCode"] == 400, answer["json"]
        assert "cursor" in answer["json"]["message"]
