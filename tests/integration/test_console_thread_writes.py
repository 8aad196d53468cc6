"""The console's writes on a contact's thread, against moto with the real pipeline (webhook,
trigger processor on the stream, conversations on moto's Step Functions, a Twilio-like server):

- reply by hand: one SMS from the account's number, kept in the thread with its text and
  delivery status and in the action log as the step ``reply``; exactly once for a double click,
  a retry and two requests at the same moment; refused (409) for an opted-out contact;
- take over / hand back: while taken over the triggers still evaluate, but their automatic
  sends (and a new conversation's prompt) are paused in the action log; an answer to an open
  conversation still resolves it; after the hand-back the next message is answered again;
- every write refused to a viewer, a user without a role and a user of another account."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import boto3
import pytest

from functions.console_api import handler as api
from sms_automation.adapters.pace_store import DynamoPaceStore
from sms_automation.composition import console_api as console_api_composition
from sms_automation.composition.action_log import action_log
from sms_automation.console.writes import reply_id
from sms_automation.edge.timestamps import utc_now
from sms_automation.processing.pacing import Bucket, Sender
from sms_automation.processing.port import SETTLE
from tests.support.aws import (
    RequestCalls,
    assert_bounded_for_a_waiting_caller,
    clear_cached_dependencies,
    clients_made,
)
from tests.support.console import ask_and_echo, console_call, console_world
from tests.support.conversation_world import ALICE, BOB, OUR_NUMBER, World
from tests.support.twilio_server import DropConnectionFault, HeldRequestFault, rate_limited

pytestmark = pytest.mark.integration

REPLY = "/console/api/threads/{account}/{contact}/reply"
TAKEOVER = "/console/api/threads/{account}/{contact}/takeover"
HANDBACK = "/console/api/threads/{account}/{contact}/handback"
THREAD = "/console/api/accounts/{account}/contacts/{contact}/thread"
TRIGGERS = ask_and_echo(timeout="1h", expect=["yes", "no"])


@pytest.fixture
def stack(world: World) -> Iterator[World]:
    with console_world(world, TRIGGERS) as ready:
        yield ready


def post(
    route: str, body: Any = None, groups: str | None = "[operator]", contact: str = ALICE,
    account: str = "acme", email: str = "ann@example.com",
) -> dict[str, Any]:  # fmt: skip
    path = {"account": account, "contact": contact}
    return console_call(route, path, groups=groups, body=body, method="POST", email=email)


def thread(contact: str = ALICE) -> dict[str, Any]:
    return dict(console_call(THREAD, {"account": "acme", "contact": contact})["json"])


def steps(table: str, message_sid: str) -> list[dict[str, Any]]:
    return list(action_log(table, boto3.client("dynamodb"), message_sid)["steps"])


def test_a_reply_is_one_sms_from_the_number_the_contact_wrote_to_kept_in_thread_and_log(
    stack: World,
) -> None:
    stack.text("hello")  # Alice wrote to our number; the echo answered
    text = "Hi Ann, a person here: your booking is at 10 — see you €"

    answer = post(REPLY, {"body": text, "key": "compose-0001"})

    assert answer["statusCode"] == 200, answer["json"]
    reply = answer["json"]
    assert reply["state"] == "sent"
    assert reply["from"] == OUR_NUMBER
    assert reply["sid"].startswith("SM")
    assert reply["segments"] == 1
    [sent] = [m for m in stack.twilio.messages() if m["body"] == text]
    assert (sent["to"], sent["from"]) == (ALICE, OUR_NUMBER)
    [step] = steps(stack.table, reply["reply_id"])
    assert (step["step_id"], step["state"], step["resource_sid"]) == ("reply", "done", sent["sid"])
    shown = [i for i in thread()["items"] if i["kind"] == "console_reply"]
    assert shown == [{"key": reply["reply_id"], "sid": sent["sid"], "direction": "outbound",
                      "body": text, "at": shown[0]["at"], "status": shown[0]["status"],
                      "kind": "console_reply", "by": "ann@example.com"}]  # fmt: skip
    assert shown[0]["status"] in {"queued", "sent", "delivered", "done"}


def test_a_double_click_and_a_retry_send_one_sms(stack: World) -> None:
    stack.text("hello")
    request = {"body": "Only once, please", "key": "compose-0002"}

    first, second, retried = (post(REPLY, request) for _ in range(3))

    assert [a["statusCode"] for a in (first, second, retried)] == [200, 200, 200]
    assert first["json"]["sid"] == second["json"]["sid"] == retried["json"]["sid"]
    assert stack.bodies().count("Only once, please") == 1
    assert len([i for i in thread()["items"] if i["kind"] == "console_reply"]) == 1


def test_two_requests_at_the_same_moment_send_one_sms(stack: World) -> None:
    stack.text("hello")
    request = {"body": "Overlap", "key": "compose-0003"}
    arrived, release = threading.Event(), threading.Event()
    stack.twilio.fail_next(HeldRequestFault(arrived, release))

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(post, REPLY, request)
        assert arrived.wait(10), "the first request's create reached Twilio"
        second = post(REPLY, request)  # while the first one's create is in flight
        release.set()
        first_answer = first.result(timeout=30)

    assert second["statusCode"] == 202
    assert second["json"]["state"] == "sending"
    assert first_answer["statusCode"] == 200
    assert stack.bodies().count("Overlap") == 1
    again = post(REPLY, request)
    assert (again["statusCode"], again["json"]["sid"]) == (200, first_answer["json"]["sid"])


def test_two_requests_started_together_send_one_sms(stack: World) -> None:
    stack.text("hello")
    request = {"body": "Together", "key": "compose-0004"}
    start = threading.Barrier(2)

    def go() -> dict[str, Any]:
        start.wait(5)
        return post(REPLY, request)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: go(), range(2)))

    assert sorted(a["statusCode"] for a in answers) in ([200, 200], [200, 202])
    assert stack.bodies().count("Together") == 1


def test_a_reply_is_refused_for_an_opted_out_contact_and_a_key_reused_for_other_text(
    stack: World,
) -> None:
    stack.text("hello", sender=BOB)
    stack.text("STOP", sender=BOB)
    refused = post(REPLY, {"body": "Are you there?", "key": "compose-0005"}, contact=BOB)
    assert refused["statusCode"] == 409
    assert refused["json"]["error"] == "opted_out"
    assert "Are you there?" not in stack.bodies(BOB)

    stack.text("hello")
    assert post(REPLY, {"body": "First", "key": "compose-0006"})["statusCode"] == 200
    reused = post(REPLY, {"body": "Second", "key": "compose-0006"})
    assert (reused["statusCode"], reused["json"]["error"]) == (409, "key_reused")
    assert "Second" not in stack.bodies()


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"key": "compose-0007"}, "body"),
        ({"body": "", "key": "compose-0007"}, "1 to 1600"),
        ({"body": "x" * 1601, "key": "compose-0007"}, "1 to 1600"),
        ({"body": "hi", "key": "short"}, "key is 8-64"),
        ({"body": "hi", "key": "compose-0007", "from": "+15550000000"}, "account's numbers"),
        ({"body": "hi", "key": "compose-0007", "to": ALICE}, "unknown field"),
        (["hi"], "JSON object"),
    ],
)
def test_a_bad_reply_is_a_400_naming_what_is_wrong(stack: World, body: Any, names: str) -> None:
    stack.text("hello")
    answer = post(REPLY, body)
    assert answer["statusCode"] == 400
    assert names in answer["json"]["message"]
    assert stack.bodies() == ["Hi there"]


@pytest.mark.parametrize("route", [REPLY, TAKEOVER, HANDBACK])
@pytest.mark.parametrize(
    ("groups", "account"),
    [
        ("[viewer]", "acme"),
        (None, "acme"),
        ("[admin account:globex]", "acme"),  # another account's admin
        ("[operator account:globex]", "nowhere"),  # no existence oracle: 403, not 404
    ],
)
def test_every_write_is_refused_to_a_viewer_no_role_and_another_accounts_user(
    stack: World, route: str, groups: str | None, account: str
) -> None:
    stack.text("hello")
    body = {"body": "hi", "key": "compose-0008"} if route == REPLY else {}

    answer = post(route, body, groups=groups, account=account)

    assert answer["statusCode"] == 403
    assert "acme" not in json.dumps(answer["json"]) or account == "acme"
    assert stack.bodies() == ["Hi there"]
    assert thread()["taken_over"] is None


@pytest.mark.parametrize("groups", ["[operator]", "[admin]", "[operator account:acme]"])
def test_operators_and_admins_may_write_and_an_unknown_account_is_a_404(
    stack: World, groups: str
) -> None:
    assert post(TAKEOVER, {}, groups=groups)["statusCode"] == 200
    assert post(HANDBACK, {}, groups=groups)["statusCode"] == 200
    if "account:" not in groups:
        assert post(TAKEOVER, {}, groups=groups, account="nowhere")["statusCode"] == 404


def test_while_taken_over_triggers_run_but_send_nothing_and_after_hand_back_they_answer(
    stack: World,
) -> None:
    taken = post(TAKEOVER, {"minutes": 30}, email="bo@example.com")
    assert taken["statusCode"] == 200
    held = taken["json"]["taken_over"]
    assert held["by"] == "bo@example.com"
    assert thread()["taken_over"] == held

    quiet = stack.text("hello")
    assert stack.bodies() == []
    assert stack.run_status(quiet) == "completed"  # evaluated and recorded, not failed
    [paused] = steps(stack.table, quiet)
    assert paused["state"] == "paused"
    since = held["since"]
    assert paused["detail"].startswith(f"paused: taken over by b***@example.com since {since}")
    assert post(REPLY, {"body": "A person answers", "key": "compose-0009"})["statusCode"] == 200
    assert stack.bodies() == ["A person answers"]  # a person's reply is never paused

    back = post(HANDBACK, {})
    assert back["json"] == {"taken_over": None, "was": held}
    assert thread()["taken_over"] is None
    stack.text("hello")
    assert stack.bodies() == ["A person answers", "Hi there"]


def test_a_new_conversation_is_called_off_and_an_open_one_still_resolves(stack: World) -> None:
    open_one = stack.text("book a table")
    stack.registered(open_one)
    assert stack.bodies() == ["Reply YES to confirm"]
    assert post(TAKEOVER, {})["statusCode"] == 200

    stack.text("yes")  # the answer resolves the open conversation ...
    assert stack.finished(open_one) == "SUCCEEDED"
    assert stack.conversation(open_one).status == "replied"
    assert stack.bodies() == ["Reply YES to confirm"]  # ... and its "Thanks" is paused
    [thanks] = [s for s in steps(stack.table, open_one) if s["state"] == "paused"]
    assert thanks["detail"].startswith("paused: taken over by a***@example.com")

    assert post(TAKEOVER, {}, contact=BOB)["statusCode"] == 200
    new_one = stack.text("book again", sender=BOB)  # nobody asks Bob: the conversation is off
    assert stack.finished(new_one) == "SUCCEEDED"
    called_off = stack.conversation(new_one)
    assert called_off.status == "cancelled"
    assert stack.bodies(BOB) == []
    [prompt] = steps(stack.table, new_one)
    assert (prompt["step_id"], prompt["state"]) == ("ask/1/prompt", "paused")


def test_a_takeover_time_out_of_bounds_is_a_400(stack: World) -> None:
    for minutes in (0, 721, "10", True):
        answer = post(TAKEOVER, {"minutes": minutes})
        assert answer["statusCode"] == 400
        assert "1 to 720" in answer["json"]["message"]
    assert thread()["taken_over"] is None
    assert utc_now()  # the takeover's time is the function's clock


def test_each_write_is_in_the_audit_record_once_without_the_text(stack: World) -> None:
    stack.text("hello")
    request = {"body": "Secret words for Ann", "key": "compose-0010"}
    assert post(REPLY, request)["statusCode"] == 200
    assert post(REPLY, request)["statusCode"] == 200  # a retry: one SMS, one entry
    assert post(TAKEOVER, {"minutes": 15}, email="bo@example.com")["statusCode"] == 200
    assert post(HANDBACK, {}, email="cy@example.com")["statusCode"] == 200

    answer = console_call("/console/api/audit/{account}", {"account": "acme"})
    items = answer["json"]["items"]

    assert [(i["action"], i["actor"]) for i in items] == [
        ("contact.handback", "cy@example.com"),
        ("contact.takeover", "bo@example.com"),
        ("contact.reply", "ann@example.com"),
    ]
    assert all(i["target"] == "+1********01" for i in items)
    reply = items[2]["detail"]
    assert (reply["from"], reply["state"], reply["segments"]) == ("+1********06", "sent", 1)
    assert items[0]["detail"]["taken_over_by"] == "bo@example.com"
    assert "Secret words" not in answer["body"]
    assert ALICE not in answer["body"]


def test_a_padded_from_is_the_number_itself_so_a_contact_who_stopped_it_is_refused(
    stack: World,
) -> None:
    stack.text("hello", sender=BOB)
    stack.text("STOP", sender=BOB)

    padded = post(REPLY, {"body": "Hi?", "key": "compose-0011", "from": f" {OUR_NUMBER} "},
                  contact=BOB)  # fmt: skip

    assert (padded["statusCode"], padded["json"]["error"]) == (409, "opted_out")
    assert "Hi?" not in stack.bodies(BOB)


def test_twilio_saying_slow_down_is_a_503_not_sent_and_the_same_key_sends_it_once(
    stack: World,
) -> None:
    stack.text("hello")
    request = {"body": "Paced by Twilio", "key": "compose-0012"}
    stack.twilio.fail_next(rate_limited(), rate_limited(), rate_limited())  # every attempt

    paced = post(REPLY, request)

    assert paced["statusCode"] == 503
    assert paced["json"]["error"] == "not_sent"
    assert paced["json"]["retry_after"] >= 2  # Twilio's Retry-After, or the least wait
    assert paced["headers"]["Retry-After"] == str(paced["json"]["retry_after"])
    assert "Paced by Twilio" not in stack.bodies()
    # the console's replies draw from the sender's bucket: Twilio's 429 slowed it for all
    assert (
        DynamoPaceStore(stack.table, boto3.client("dynamodb"))
        .read(Sender("acme", OUR_NUMBER))
        .factor
        == 0.5
    )
    sent, again = post(REPLY, request), post(REPLY, request)
    assert (sent["statusCode"], sent["json"]["state"]) == (200, "sent")
    assert again["json"]["sid"] == sent["json"]["sid"]
    assert stack.bodies().count("Paced by Twilio") == 1


def test_a_reply_its_sender_has_no_room_for_is_a_503_with_the_wait_and_nothing_claimed(
    stack: World,
) -> None:
    stack.text("hello")
    busy = int(utc_now().timestamp() * 1000) + 60_000  # the bucket and the overdraft, used up
    buckets, ours = (
        DynamoPaceStore(stack.table, boto3.client("dynamodb")),
        Sender("acme", OUR_NUMBER),
    )
    seen = buckets.read(ours).version  # the echo's send drew from it already
    assert buckets.write(ours, Bucket(tat=busy), seen=seen, expires_at=9_999_999_999)
    request = {"body": "Wait for the bucket", "key": "compose-0013"}

    paced = post(REPLY, request)

    assert (paced["statusCode"], paced["json"]["error"]) == (503, "not_sent")
    assert 50 <= paced["json"]["retry_after"] <= 60
    assert "Wait for the bucket" not in stack.bodies()
    reply = reply_id("acme", ALICE, "compose-0013")
    assert steps(stack.table, reply) == []  # released: sending again claims it afresh


def test_an_unknown_outcome_is_a_202_unknown_and_checking_again_never_sends_twice(
    stack: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack.text("hello")
    request = {"body": "Lost answer", "key": "compose-0014"}
    stack.twilio.fail_next(DropConnectionFault(after_processing=True))  # created, no answer

    unknown = post(REPLY, request)

    assert unknown["statusCode"] == 202
    assert (unknown["json"]["state"], unknown["json"]["retry_after"] >= 1) == ("unknown", True)
    checked = post(REPLY, request)  # "check again": the ledger looks at Twilio's list
    assert checked["statusCode"] in {200, 202}
    assert checked["json"]["state"] in {"sent", "unknown"}
    assert stack.bodies().count("Lost answer") == 1
    [step] = steps(stack.table, unknown["json"]["reply_id"])
    assert step["state"] in {"started", "done"}
    # Past the settle time, the check finds the first send in Twilio's list: sent, that SID.
    [first] = [m for m in stack.twilio.messages() if m["body"] == "Lost answer"]
    later = utc_now() + SETTLE + timedelta(seconds=30)
    monkeypatch.setattr(console_api_composition, "utc_now", lambda: later)
    clear_cached_dependencies(api)  # a Lambda that starts then, on that clock

    settled = post(REPLY, request)

    assert (settled["statusCode"], settled["json"]["state"]) == (200, "sent"), settled["json"]
    assert settled["json"]["sid"] == first["sid"]
    assert stack.bodies().count("Lost answer") == 1
    [step] = steps(stack.table, unknown["json"]["reply_id"])
    assert (step["state"], step["resource_sid"]) == ("done", first["sid"])


def test_a_reply_s_secrets_client_is_bounded_for_a_waiting_request(
    stack: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack.text("hello")
    made = clients_made(monkeypatch)
    clear_cached_dependencies(api)
    answer = post(REPLY, {"body": "a person here", "key": "compose-bounded-1"})
    assert answer["json"]["state"] == "sent", answer["json"]
    secrets = [c for c in made if c.meta.service_model.service_name == "secretsmanager"]
    assert secrets, "the reply reads the account's token"
    for client in secrets:
        assert_bounded_for_a_waiting_caller(client)


def test_a_reply_reads_the_account_once_its_send_using_the_record_the_request_read(
    stack: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack.text("hello")
    counting = RequestCalls.install(monkeypatch)
    clear_cached_dependencies(api)  # a cold function: nothing cached of the account
    for key in ("compose-once-001", "compose-once-002"):
        counting.calls.clear()
        answer = post(REPLY, {"body": f"a person here {key}", "key": key})
        assert answer["json"]["state"] == "sent", answer["json"]
        assert counting.account_reads("acme") == 1, key
