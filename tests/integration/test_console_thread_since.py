"""A contact thread's ``since`` cursor (``console.thread_cursor``) against moto with the real
pipeline: given back, the thread answers only what changed — a new message, a delivery status,
a conversation's answer — and nothing (with a small read) when nothing did; a malformed cursor,
or one of another thread or account, is a 400 (403 for an account the user may not see) that
reads and answers nothing of it."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import yaml

from functions.console_api import handler as api
from sms_automation.adapters.message_store import DynamoMessageStore
from sms_automation.adapters.outbound_store import DynamoOutboundStore
from sms_automation.console.thread_cursor import ThreadCursor, decode
from sms_automation.webhooks.inbound_message import InboundMessage
from tests.integration.test_console_api import (
    THREAD,
    TRIGGERS,
    call,
    receive_in_globex,
    sent_sids,
)
from tests.support.aws import account_registry, add_account, clear_cached_dependencies
from tests.support.conversation_world import ALICE, BOB, World, new_sid

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(world: World) -> Iterator[World]:
    world.push(yaml.safe_dump(TRIGGERS))
    add_account(account_registry(world.table, boto3.client("dynamodb"),
                                 boto3.client("secretsmanager")), "globex")  # fmt: skip
    clear_cached_dependencies(api)
    yield world
    clear_cached_dependencies(api)


class ItemsRead:
    """Items (and index entries) DynamoDB returned to the calls made while counting: botocore's
    ``after-call`` event on the default session, which the console's client is made from."""

    def __init__(self) -> None:
        self.count = 0
        self.counting = False

    def __call__(self, parsed: Mapping[str, Any], model: Any, **_: Any) -> None:
        if not self.counting:
            return
        if model.name == "Query":
            self.count += int(parsed.get("ScannedCount", 0))
        elif model.name == "GetItem":
            self.count += 1 if parsed.get("Item") else 0
        elif model.name == "BatchGetItem":
            self.count += sum(len(items) for items in parsed.get("Responses", {}).values())

    def during(self, action: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], int]:
        self.count, self.counting = 0, True
        try:
            return action(), self.count
        finally:
            self.counting = False


@pytest.fixture
def reads(stack: World) -> Iterator[ItemsRead]:
    counter = ItemsRead()
    session = boto3.DEFAULT_SESSION
    assert session is not None
    session.events.register("after-call.dynamodb", counter)
    yield counter
    session.events.unregister("after-call.dynamodb", counter)


def thread(contact: str = ALICE, since: str | None = None, groups: str = "[viewer]") -> Any:
    return call(THREAD, groups, {"since": since} if since else None, account="acme",
                contact=contact)  # fmt: skip


def old_messages(stack: World, count: int) -> None:
    """``count`` messages of other contacts, received long ago (settled, out of any window)."""
    store = DynamoMessageStore(stack.table, boto3.client("dynamodb"))
    for n in range(count):
        sid = new_sid()
        params = (("MessageSid", sid), ("From", f"+1555010{n:04d}"), ("To", "+15005550006"),
                  ("Body", "old"))  # fmt: skip
        store.put_new(InboundMessage("acme", "2026-01-01T10:00:00.000Z", params, {}).to_item())


def test_a_poll_answers_what_changed_only(stack: World, reads: ItemsRead) -> None:
    old_messages(stack, 60)
    hello = stack.text("hello")  # Alice; the echo answers "Hi there" (queued: still open)
    [sent] = sent_sids(stack)

    whole, read_whole = reads.during(lambda: thread()["json"])
    assert whole["delta"] is False
    assert [i["sid"] for i in whole["items"]] == [hello, sent]

    # Nothing changed: an empty delta, read from the window and the open message only.
    quiet, read_quiet = reads.during(lambda: thread(since=whole["cursor"])["json"])
    assert (quiet["delta"], quiet["items"]) == (True, [])
    assert read_whole > 60
    assert read_quiet < read_whole / 4, (read_quiet, read_whole)

    # A delivery status: the message's group again, its status updated.
    DynamoOutboundStore(stack.table, boto3.client("dynamodb")).record_status(
        sent, "delivered", kind="sms", account="acme", error_code=None,
        received_at=datetime.now(UTC), params={},
    )  # fmt: skip
    status = thread(since=quiet["cursor"])["json"]
    assert {i["sid"]: i["status"] for i in status["items"]}[sent] == "delivered"

    # A new message (and its echo), nothing of what did not change.
    later = stack.text("hello again")
    news = thread(since=status["cursor"])["json"]
    shown = [i["sid"] for i in news["items"]]
    assert later in shown
    assert hello not in shown
    assert sent not in shown
    assert len(shown) == 2
    assert thread(since=news["cursor"])["json"]["items"] == []


def test_a_conversations_answer_appears_in_the_delta(stack: World) -> None:
    book = stack.text("book me", sender=BOB)
    stack.registered(book)
    before = thread(BOB)["json"]
    assert [i["kind"] for i in before["items"]] == ["message", "conversation_prompt"]

    answer = stack.text("yes", sender=BOB)

    delta = thread(BOB, since=before["cursor"])["json"]
    kinds = {i["sid"]: i["kind"] for i in delta["items"]}
    assert kinds[answer] == "conversation_answer"
    assert book not in kinds or kinds[book] == "message"


def test_a_malformed_cursor_is_a_400_naming_since(stack: World) -> None:
    stack.text("hello")
    mine = thread()["json"]["cursor"]
    document = json.loads(base64.urlsafe_b64decode(mine + "=" * (-len(mine) % 4)))
    wrong_types = {**document, "m": ["SM1"]}
    newline_after = {**document, "s": document["s"] + "\n"}  # a pattern's $ would let it by
    for since in [
        base64.urlsafe_b64encode(json.dumps(newline_after).encode()).decode(),
        "garbage!",
        "x" * 5000,
        mine[:-6],
        base64.urlsafe_b64encode(json.dumps(wrong_types).encode()).decode(),
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
    ]:
        answer = thread(since=since)
        assert answer["statusCode"] == 400, since[:40]
        assert "since" in answer["json"]["message"]
    assert call(THREAD, query={"after": mine}, account="acme", contact=ALICE)["statusCode"] == 400
    # Another contact's cursor, even of the same account.
    assert thread(BOB, since=mine)["statusCode"] == 400


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_a_cursor_of_account_b_reads_nothing_of_it(stack: World, role: str) -> None:
    sid = receive_in_globex(stack)  # Alice wrote to globex too
    answer = call(THREAD, "[admin]", account="globex", contact=ALICE)["json"]
    foreign = answer["cursor"]
    assert sid in decode(foreign).messages  # it follows globex's message (not evaluated yet)
    refused = thread(since=foreign, groups=f"[{role} account:acme]")
    assert refused["statusCode"] == 403
    assert refused["json"]["error"] == "forbidden"
    mixed = thread(since=foreign, groups=f"[{role}]")
    assert mixed["statusCode"] == 400
    assert sid not in mixed["body"]
    # A cursor forged for acme's thread with Alice that names globex's message: read, refused.
    forged = ThreadCursor("acme", ALICE, "2026-01-01T00:00:00.000Z", {sid: "0" * 12}).encode()
    for groups in (f"[{role} account:acme]", f"[{role}]"):
        answer = thread(since=forged, groups=groups)
        assert answer["statusCode"] == 400
        assert sid not in answer["body"]
        assert "globex" not in answer["body"]
    # And one naming another contact's message of acme.
    bob = stack.text("hello", sender=BOB)
    forged = ThreadCursor("acme", ALICE, "2026-01-01T00:00:00.000Z", {bob: "0" * 12}).encode()
    assert thread(since=forged, groups=f"[{role} account:acme]")["statusCode"] == 400
