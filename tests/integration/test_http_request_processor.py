"""``http_request`` in the real trigger processor: a signed webhook stores a message, moto's
stream carries it to the processor, which calls a real HTTP server on 127.0.0.1 and replies
through a Twilio-like server. Hostile message text in the URL, the headers and a JSON body
never crashes the record, never stops the reply, and never reaches the logs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

import boto3
import pytest
from moto import mock_aws

from functions.inbound_webhook import handler as inbound
from functions.trigger_processor import handler as processor
from sms_automation.adapters.step_ledger import DynamoStepLedger
from sms_automation.processing.ledger import StepEntry, StepState
from tests.support.aws import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    FakeLambdaContext,
    clear_cached_dependencies,
    use_dummy_aws_credentials,
)
from tests.support.events import inbound_example, signed_webhook_event
from tests.support.http_servers import HangUpServer, serving
from tests.support.moto_stack import deploy, push_triggers
from tests.support.streams import TableStream, stream_event
from tests.support.twilio_server import TwilioTestServer

pytestmark = pytest.mark.integration

SMS_SID = "SM11111111111111111111111111111111"
SENDER = "+14155550101"


class _Hook(BaseHTTPRequestHandler):
    """Records each request (path, headers as UTF-8, body) and answers 200 with JSON."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.server.received.append(  # type: ignore[attr-defined]
            {
                "path": self.path,
                "headers": {
                    k.lower(): v.encode("latin-1").decode() for k, v in self.headers.items()
                },
                "body": self.rfile.read(length).decode(),
            }
        )
        body = b'{"name": "Jo"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        return


class HookServer(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Hook)
        self.received: list[dict[str, Any]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@dataclass
class World:
    twilio: TwilioTestServer
    hook: HookServer
    hangup_url: str
    table: str
    stream: TableStream

    def push(self, triggers: str) -> None:
        push_triggers(self.table, triggers)
        self.stream.new_records()  # skip the trigger write

    def receive(self, body: str) -> None:
        raw = inbound_example("sms_plain")["raw_body"].replace(
            "Body=Hello+there", f"Body={quote_plus(body)}"
        )
        event = signed_webhook_event("acme", raw, TEST_AUTH_TOKEN)
        assert inbound.lambda_handler(event, FakeLambdaContext())["statusCode"] == 200

    def deliver(self) -> dict[str, Any]:
        batch = self.stream.inserts_of_inbound_messages()
        return dict(processor.lambda_handler(stream_event(batch), FakeLambdaContext()))

    def steps(self) -> dict[str, StepEntry]:
        ledger = DynamoStepLedger(self.table, boto3.client("dynamodb"))
        return {entry.step_id: entry for entry in ledger.entries(SMS_SID)}


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    use_dummy_aws_credentials(monkeypatch)
    with (
        serving(HookServer()) as hook,
        serving(HangUpServer()) as hangup,
        mock_aws(),
        TwilioTestServer({TEST_ACCOUNT_SID: TEST_AUTH_TOKEN}) as twilio,
    ):
        deployed = deploy(monkeypatch, twilio_base_url=twilio.base_url)
        monkeypatch.setenv("HTTP_ALLOW_PRIVATE_NETWORKS", "true")  # the hook is on 127.0.0.1
        for module in (inbound, processor):
            clear_cached_dependencies(module)
        stream = TableStream(deployed.table)
        stream.new_records()  # skip the account write
        yield World(twilio, hook, hangup.url, deployed.table, stream)
        for module in (inbound, processor):
            clear_cached_dependencies(module)


def triggers(url: str, **extra: str) -> str:
    fields = "".join(f"        {name}: {value}\n" for name, value in extra.items())
    return (
        "version: 1\n"
        "triggers:\n"
        "  - name: crm\n"
        "    actions:\n"
        "      - type: http_request\n"
        f'        url: "{url}"\n'
        f"{fields}"
        "        into: crm\n"
        "      - type: send_sms\n"
        '        body: "Thanks %crm.json.name%"\n'
    )


HOSTILE = 'Hello world, café "quoted" & 100% + 1 = 2 #tag\\'


def test_message_text_in_the_url_is_encoded_and_the_reply_still_goes(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.push(triggers(f"{world.hook.base_url}/users/%Body%?phone=%From%&text=%Body%"))
    world.receive(HOSTILE)
    capsys.readouterr()
    assert world.deliver() == {"batchItemFailures": []}

    [request] = world.hook.received
    target = urlsplit(request["path"])
    assert parse_qs(target.query, strict_parsing=True) == {"phone": [SENDER], "text": [HOSTILE]}
    assert target.path.count("/") == 2
    assert [sms["body"] for sms in world.twilio.messages()] == ["Thanks Jo"]
    assert {k: v.state for k, v in world.steps().items()} == {
        "crm/1": StepState.DONE,
        "crm/2": StepState.DONE,
    }
    assert "café" not in capsys.readouterr().out


def test_message_text_in_a_header_and_a_json_body_is_sent_intact(world: World) -> None:
    world.push(
        triggers(
            f"{world.hook.base_url}/hook",
            method="POST",
            headers='{X-Text: "%Body%"}',
            json='{text: "%Body%", from: "%From%", n: 1}',
        )
    )
    body = HOSTILE + " 😀"
    world.receive(body)
    assert world.deliver() == {"batchItemFailures": []}

    [request] = world.hook.received
    assert request["headers"]["x-text"] == body
    assert request["headers"]["content-type"] == "application/json"
    assert json.loads(request["body"]) == {"text": body, "from": SENDER, "n": 1}
    assert [sms["body"] for sms in world.twilio.messages()] == ["Thanks Jo"]


def test_a_host_variable_that_is_not_a_host_name_skips_the_step_and_the_reply_still_goes(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.push(triggers("http://%Body%.tenants.example/hook"))
    world.receive("evil.com@127.0.0.1#")
    capsys.readouterr()
    assert world.deliver() == {"batchItemFailures": []}
    assert world.hook.received == []
    assert [sms["body"] for sms in world.twilio.messages()] == ["Thanks "]
    assert "evil.com" not in capsys.readouterr().out


def test_a_request_without_an_answer_fails_its_step_once_and_the_reply_still_goes(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.push(triggers(world.hangup_url + "?text=%Body%", method="POST"))
    world.receive(HOSTILE)
    capsys.readouterr()
    assert world.deliver() == {"batchItemFailures": []}

    steps = world.steps()
    assert steps["crm/1"].state is StepState.FAILED
    assert "no response" in steps["crm/1"].detail
    assert "café" not in steps["crm/1"].detail
    assert steps["crm/2"].state is StepState.DONE
    assert len(world.twilio.messages()) == 1
    assert "café" not in capsys.readouterr().out
