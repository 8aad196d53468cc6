"""The console's Conversations routes against moto with the real pipeline (webhook, processor,
the conversation state machine on moto's executor): the waiting conversations of an account
with their deadlines and reminders, page by page; cancel through the CLI's path (the execution
ends, the contact's next text runs the triggers again), audited ``conversation.cancel``;
refused to a viewer (403) and to a user of another account (403 on its path, 404 on its own:
no leak); 409 when it already ended; two cancels at the same moment end it once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from functions.console_api import handler as api
from sms_automation.console.queries import Cursor
from tests.support.aws import FakeLambdaContext, clear_cached_dependencies
from tests.support.console import ask_and_echo, console_call, console_world
from tests.support.conversation_world import ALICE, BOB, World
from tests.support.events import console_api_event

pytestmark = pytest.mark.integration

LIST = "/console/api/accounts/{account}/conversations"
CANCEL = "/console/api/accounts/{account}/conversations/cancel"
AUDIT = "/console/api/audit/{account}"
CAROL = "+14155550103"
TRIGGERS = ask_and_echo(timeout="2h", remind=[{"after": "1h", "text": "Still there?"}])


@pytest.fixture
def stack(world: World) -> Iterator[World]:
    with console_world(world, TRIGGERS) as ready:
        yield ready


def call(
    route: str,
    groups: str | None = "[viewer]",
    query: dict[str, str] | None = None,
    body: Any = None,
    account: str = "acme",
    email: str = "ann@example.com",
) -> dict[str, Any]:
    path = {"account": account}
    return console_call(route, path, groups=groups, query=query, body=body, email=email)


def booked(world: World, sender: str) -> str:
    sid = world.text("book me", sender)
    world.registered(sid)
    return f"{sid}:ask/1"


def test_the_waiting_conversations_with_deadline_and_reminders_page_by_page(
    stack: World,
) -> None:
    first = booked(stack, ALICE)
    second = booked(stack, BOB)
    answered = booked(stack, CAROL)
    stack.text("yes", CAROL)
    assert stack.finished(answered.split(":")[0]) == "SUCCEEDED"

    listing = call(LIST)
    assert listing["statusCode"] == 200
    items = listing["json"]["items"]
    assert [i["id"] for i in items] == [second, first]  # newest first; the answered one left out
    assert listing["json"]["next_cursor"] is None
    item = items[0]
    assert item["contact"] == BOB
    assert item["status"] == "waiting"
    assert item["trigger"] == "ask"
    assert item["deadline"] > item["started_at"]
    assert [r["text"] for r in item["reminders"]] == ["Still there?"]
    assert item["started_at"] < item["reminders"][0]["at"] < item["deadline"]
    assert (item["attempts"], item["prompt"]) == (0, "Reply YES to confirm")

    every = call(LIST, query={"state": "all"})["json"]["items"]
    assert [(i["id"], i["status"]) for i in every] == [
        (answered, "replied"), (second, "waiting"), (first, "waiting"),
    ]  # fmt: skip
    assert every[0]["resolved_at"][:19] >= every[0]["started_at"][:19]
    assert every[1]["resolved_at"] is None

    seen: list[str] = []
    query = {"limit": "1"}
    while True:
        page = call(LIST, "[operator]", query)["json"]
        seen += [i["id"] for i in page["items"]]
        if page["next_cursor"] is None:
            break
        query = {"limit": "1", "cursor": page["next_cursor"]}
    assert seen == [second, first]

    inbox_cursor = Cursor("acme", "2026-12-07T04:00:00.000Z#SM123").encode()
    for bad in ({"cursor": "%%%"}, {"cursor": inbox_cursor}, {"limit": "0"}, {"state": "done"}):
        assert call(LIST, query=bad)["statusCode"] == 400, bad
    other = Cursor("globex", f"2026-12-07T04:00:00Z#SM{'0' * 32}#ask/1").encode()
    assert call(LIST, "[viewer account:acme]", {"cursor": other})["statusCode"] == 403
    assert call(LIST, "[viewer account:globex]")["statusCode"] == 403
    assert call(LIST, "[viewer]", account="globex")["json"]["items"] == []


def test_an_operator_cancels_through_the_cli_path_and_it_is_audited(stack: World) -> None:
    conversation = booked(stack, ALICE)
    sid = conversation.split(":")[0]
    answer = call(CANCEL, "[operator account:acme]", body={"id": conversation},
                  email="bo@example.com")  # fmt: skip
    assert answer["statusCode"] == 200, answer["body"]
    assert answer["json"] == {"id": conversation, "status": "cancelled"}
    assert stack.conversation(sid).status == "cancelled"
    assert stack.finished(sid) == "SUCCEEDED"  # the execution ended without running a branch
    assert call(LIST)["json"]["items"] == []
    # The contact is free again: their next text runs the triggers, not the conversation.
    stack.text("hello again")
    assert stack.bodies()[-1] == "Hi there"

    [entry] = call(AUDIT)["json"]["items"]
    assert (entry["actor"], entry["action"], entry["target"]) == (
        "bo@example.com", "conversation.cancel", conversation,
    )  # fmt: skip
    assert entry["detail"] == {"contact": "+1********01", "trigger": "ask"}

    again = call(CANCEL, "[admin]", body={"id": conversation})
    assert again["statusCode"] == 409
    assert again["json"]["error"] == "conflict"
    assert "cancelled" in again["json"]["message"]
    assert len(call(AUDIT)["json"]["items"]) == 1


def test_a_viewer_and_users_of_another_account_are_refused_without_a_leak(
    stack: World,
) -> None:
    conversation = booked(stack, ALICE)
    sid = conversation.split(":")[0]
    viewer = call(CANCEL, "[viewer]", body={"id": conversation})
    assert viewer["statusCode"] == 403
    assert "operator" in viewer["json"]["message"]
    # An operator of globex: acme's path is refused; on globex's path acme's conversation is
    # "not found", as one that does not exist (the same answer, nothing about it told).
    assert call(CANCEL, "[operator account:globex]", body={"id": conversation})["statusCode"] == 403
    theirs = call(CANCEL, "[operator account:globex]", body={"id": conversation}, account="globex")
    missing = call(CANCEL, "[operator account:globex]", account="globex",
                   body={"id": f"SM{'f' * 32}:ask/1"})  # fmt: skip
    assert theirs["statusCode"] == missing["statusCode"] == 404
    assert ALICE not in theirs["body"]
    assert call(CANCEL, None, body={"id": conversation})["statusCode"] == 403
    assert stack.conversation(sid).status == "waiting"
    assert call(AUDIT)["json"]["items"] == []


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        "[1]",
        json.dumps({"id": 5}),
        json.dumps({"id": "SM1:ask/1"}),
        json.dumps({"id": "x" * 400}),
        json.dumps({"note": "x" * 5000}),
    ],
)
def test_a_bad_cancel_body_is_a_400(stack: World, body: str) -> None:
    answer = call(CANCEL, "[operator]", body=body)
    assert answer["statusCode"] == 400
    assert answer["json"]["error"] == "bad_request"


def test_two_cancels_at_the_same_moment_end_it_once(stack: World) -> None:
    conversation = booked(stack, ALICE)
    clear_cached_dependencies(api)
    api.lambda_handler(console_api_event("/console/api/me"), FakeLambdaContext())  # warm
    start = threading.Barrier(2)
    statuses: list[int] = []

    def cancel(email: str) -> None:
        event = console_api_event(CANCEL, {"account": "acme"}, groups="[operator]", email=email,
                                  method="POST", body=json.dumps({"id": conversation}))  # fmt: skip
        start.wait()
        statuses.append(api.lambda_handler(event, FakeLambdaContext())["statusCode"])

    threads = [threading.Thread(target=cancel, args=(f"{n}@example.com",)) for n in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]
    assert stack.conversation(conversation.split(":")[0]).status == "cancelled"
    assert len(call(AUDIT)["json"]["items"]) == 1
