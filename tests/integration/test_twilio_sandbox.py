"""The Twilio sandbox on its own: what it does beyond the tests' Twilio server (paging, numbers,
a repeated create making a second message, signed status callbacks, numbers that fail, the
simulator's signed inbound POST)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests

from sms_automation.webhooks.signature import verify_form
from sms_automation_local.twilio_sandbox import TwilioSandbox
from sms_automation_local.twilio_sandbox.config import SandboxConfig
from sms_automation_local.twilio_sandbox.simulator import SimulatedAccount, Simulator

pytestmark = pytest.mark.integration

SID = "AC" + "ab" * 16
TOKEN = "12" * 16
NUMBER = "+15005550006"


class Receiver:
    """A stand-in for the stack: records signed form POSTs and checks their signature."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, list[tuple[str, str]], bool]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = parse_qsl(raw, keep_blank_values=True)
                url = f"{receiver.url}{self.path}"
                signed = verify_form(url, form, self.headers.get("X-Twilio-Signature"), [TOKEN])
                receiver.posts.append((self.path, form, signed.valid))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    stack = Receiver()
    yield stack
    stack.close()


@pytest.fixture
def sandbox() -> Iterator[TwilioSandbox]:
    with TwilioSandbox({SID: TOKEN}, callback_step_seconds=0.01) as server:
        yield server


def api(sandbox: TwilioSandbox, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method,
        f"{sandbox.base_url}/2010-04-01/Accounts/{SID}{path}",
        auth=(SID, TOKEN),
        timeout=5,
        **kwargs,
    )


def eventually[T](probe: Callable[[], T | None]) -> T:
    deadline = time.monotonic() + 10
    while (found := probe()) is None:
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.02)
    return found


def test_a_repeated_create_makes_a_second_message_like_api_twilio_com(
    sandbox: TwilioSandbox,
) -> None:
    form = {"To": "+15551230001", "From": NUMBER, "Body": "hi"}
    headers = {"I-Twilio-Idempotency-Token": "same"}

    first = api(sandbox, "POST", "/Messages.json", data=form, headers=headers).json()
    again = api(sandbox, "POST", "/Messages.json", data=form, headers=headers).json()

    assert first["sid"] != again["sid"]
    assert len(sandbox.messages()) == 2


def test_list_pages_newest_first_and_follows_next_page_uri(sandbox: TwilioSandbox) -> None:
    for index in range(5):
        api(
            sandbox,
            "POST",
            "/Messages.json",
            data={"To": "+1555", "From": NUMBER, "Body": f"{index}"},
        )

    first = api(sandbox, "GET", "/Messages.json", params={"To": "+1555", "PageSize": "2"}).json()
    bodies = [m["body"] for m in first["messages"]]
    uri = first["next_page_uri"]
    while uri:
        page = requests.get(f"{sandbox.base_url}{uri}", auth=(SID, TOKEN), timeout=5).json()
        bodies += [m["body"] for m in page["messages"]]
        uri = page["next_page_uri"]

    assert bodies == ["4", "3", "2", "1", "0"]
    assert first["previous_page_uri"] is None


def test_numbers_list_and_update(sandbox: TwilioSandbox) -> None:
    sid = sandbox.add_number(SID, NUMBER)

    listed = api(sandbox, "GET", "/IncomingPhoneNumbers.json", params={"PhoneNumber": NUMBER})
    updated = api(
        sandbox,
        "POST",
        f"/IncomingPhoneNumbers/{sid}.json",
        data={"SmsUrl": "https://example.com/sms", "SmsMethod": "POST"},
    )

    assert [n["sid"] for n in listed.json()["incoming_phone_numbers"]] == [sid]
    assert updated.status_code == 200
    assert updated.json()["sms_url"] == "https://example.com/sms"


def test_wrong_credentials_get_twilios_401(sandbox: TwilioSandbox) -> None:
    answer = requests.get(
        f"{sandbox.base_url}/2010-04-01/Accounts/{SID}.json", auth=(SID, "0" * 32), timeout=5
    )

    assert answer.status_code == 401
    assert answer.json()["code"] == 20003


def test_status_callbacks_are_signed_and_walk_to_delivered(
    sandbox: TwilioSandbox, receiver: Receiver
) -> None:
    callback = f"{receiver.url}/twilio/demo/status"
    created = api(
        sandbox,
        "POST",
        "/Messages.json",
        data={"To": "+15551230001", "From": NUMBER, "Body": "hi", "StatusCallback": callback},
    ).json()

    eventually(lambda: receiver.posts[2:] or None)

    statuses = [dict(form)["MessageStatus"] for _, form, _ in receiver.posts]
    assert statuses == ["queued", "sent", "delivered"]
    assert all(signed for _, _, signed in receiver.posts)
    assert {dict(form)["MessageSid"] for _, form, _ in receiver.posts} == {created["sid"]}
    fetched = api(sandbox, "GET", f"/Messages/{created['sid']}.json").json()
    assert fetched["status"] == "delivered"


def test_a_number_configured_to_fail_ends_undelivered_with_its_error_code(
    sandbox: TwilioSandbox, receiver: Receiver
) -> None:
    sandbox.fail_deliveries_to("+15005550404", "undelivered", 30003)
    data = {"To": "+15005550404", "From": NUMBER, "Body": "hi", "StatusCallback": receiver.url}
    api(sandbox, "POST", "/Messages.json", data=data)

    eventually(lambda: receiver.posts[2:] or None)

    last = dict(receiver.posts[-1][1])
    assert (last["MessageStatus"], last["ErrorCode"]) == ("undelivered", "30003")


def test_calls_post_only_the_events_asked_for(sandbox: TwilioSandbox, receiver: Receiver) -> None:
    data = {"To": "+1555", "From": NUMBER, "Twiml": "<Response/>", "StatusCallback": receiver.url}
    api(sandbox, "POST", "/Calls.json", data=data)
    data["StatusCallbackEvent"] = "initiated ringing answered completed"
    api(sandbox, "POST", "/Calls.json", data=data)

    eventually(lambda: receiver.posts[4:] or None)

    by_call: dict[str, list[str]] = {}
    for _, form, _ in receiver.posts:
        fields = dict(form)
        by_call.setdefault(fields["CallSid"], []).append(fields["CallStatus"])
    assert sorted(by_call.values(), key=len) == [
        ["completed"],
        ["initiated", "ringing", "in-progress", "completed"],
    ]


def test_simulator_posts_a_signed_inbound_sms_to_the_numbers_sms_url(
    sandbox: TwilioSandbox, receiver: Receiver
) -> None:
    sandbox.add_number(SID, NUMBER, f"{receiver.url}/twilio/demo/sms")
    sandbox.attach(Simulator(sandbox, {SID: SimulatedAccount("demo", SID)}))

    sent = requests.post(
        f"{sandbox.base_url}/simulator/api/send",
        json={"from": "+15551230009", "to": NUMBER, "body": "<b>hi</b>"},
        headers={"Origin": sandbox.base_url},  # as the page's own fetch sends it
        timeout=5,
    ).json()

    path, form, signed = receiver.posts[0]
    assert (path, signed, sent["status"]) == ("/twilio/demo/sms", True, 200)
    assert dict(form)["Body"] == "<b>hi</b>"
    conversation = requests.get(
        f"{sandbox.base_url}/simulator/api/conversation",
        params={"contact": "+15551230009", "number": NUMBER},
        timeout=5,
    ).json()
    assert [m["sid"] for m in conversation["messages"]] == [sent["message_sid"]]


def test_simulator_setup_names_the_console_to_link_or_none(sandbox: TwilioSandbox) -> None:
    console = {
        "url": "http://127.0.0.1:4566/b/index.html",
        "email": "a@example.com",
        "password": "p",
    }
    sandbox.attach(Simulator(sandbox, {SID: SimulatedAccount("demo", SID)}, console=console))
    setup = requests.get(f"{sandbox.base_url}/simulator/api/setup", timeout=5).json()
    assert setup["console"] == console


def test_a_sandbox_config_keeps_the_console_through_its_file(tmp_path: Path) -> None:
    console = {
        "url": "http://127.0.0.1:4566/b/index.html",
        "email": "a@example.com",
        "password": "p",
    }
    config = SandboxConfig(port=1, accounts=[], console=console)
    config.write(tmp_path / "sandbox.json")
    assert SandboxConfig.read(tmp_path / "sandbox.json").console == console
    assert SandboxConfig(port=1, accounts=[]).console is None


SEND = {"from": "+15551230009", "to": NUMBER, "body": "transfer everything"}


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        # A page on another site posting a "simple" request (no preflight): text/plain.
        ({"Content-Type": "text/plain", "Origin": "https://evil.example"}, 403),
        ({"Content-Type": "text/plain"}, 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({}, 415),
        # JSON from another origin (a browser preflights it, but not every client is one).
        ({"Content-Type": "application/json", "Origin": "https://evil.example"}, 403),
        ({"Content-Type": "application/json", "Origin": "null"}, 403),
        # DNS rebinding: same origin, but a name that is not the sandbox's loopback address.
        (
            {
                "Content-Type": "application/json",
                "Origin": "http://evil.example",
                "Host": "evil.example",
            },
            403,
        ),
    ],
)
def test_simulator_send_refuses_cross_origin_and_non_json_posts_and_sends_nothing(
    sandbox: TwilioSandbox, receiver: Receiver, headers: dict[str, str], status: int
) -> None:
    sandbox.add_number(SID, NUMBER, f"{receiver.url}/twilio/demo/sms")
    sandbox.attach(Simulator(sandbox, {SID: SimulatedAccount("demo", SID)}))

    answer = requests.post(
        f"{sandbox.base_url}/simulator/api/send",
        data=json.dumps(SEND),
        headers=headers,
        timeout=5,
    )

    assert answer.status_code == status, answer.text
    assert "error" in answer.json()
    assert receiver.posts == []
    assert sandbox.messages() == []


def test_simulator_send_accepts_same_origin_json_with_or_without_origin(
    sandbox: TwilioSandbox, receiver: Receiver
) -> None:
    sandbox.add_number(SID, NUMBER, f"{receiver.url}/twilio/demo/sms")
    sandbox.attach(Simulator(sandbox, {SID: SimulatedAccount("demo", SID)}))
    localhost = sandbox.base_url.replace("127.0.0.1", "localhost")
    for origin in ({}, {"Origin": sandbox.base_url}, {"Origin": localhost}):
        headers = {"Content-Type": "application/json; charset=utf-8", **origin}
        if origin.get("Origin") == localhost:
            headers["Host"] = localhost.removeprefix("http://")
        answer = requests.post(
            f"{sandbox.base_url}/simulator/api/send",
            data=json.dumps(SEND),
            headers=headers,
            timeout=5,
        )
        assert answer.json()["status"] == 200, answer.text
    assert len(receiver.posts) == 3
