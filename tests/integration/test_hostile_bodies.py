"""Hostile message bodies through every action type: nothing stalls, crashes, leaks or repeats.

Every inbound body is written by whoever has a phone. Each body below goes the whole way, as in
production: a signed webhook stores it, moto's stream hands it to the real trigger processor,
whose trigger uses it in every place a body can reach — regex conditions and extractions, an
``if``, ``set_variable``, a record, two HTTP requests (URL path and query, ``query:``, ``json:``,
a header, a text body) to a real server on 127.0.0.1, a call's TwiML and a reply SMS to the
Twilio test server.

For every body: the record is processed (no batch failure), every step is finished (none left
``started``: a crash would leave its claim), the reply is sent exactly once with the body as it
came, what reached the HTTP server parses back to the original text, the TwiML is well-formed,
and no log line or traceback holds the text. No timing is asserted: a stalled evaluation is
caught by a hang guard (a generous join timeout), so an exponential pattern fails the test
instead of hanging the suite.
"""

from __future__ import annotations

import json
import logging
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import boto3
import pytest
from moto import mock_aws

from functions.inbound_webhook import handler as inbound
from functions.trigger_processor import handler as processor
from sms_automation.adapters.evaluation_store import DynamoEvaluationStore
from sms_automation.adapters.step_ledger import DynamoStepLedger
from sms_automation.processing.ledger import StepState
from sms_automation.triggers.twiml import xml_safe
from tests.support.aws import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    FakeLambdaContext,
    clear_cached_dependencies,
    use_dummy_aws_credentials,
)
from tests.support.events import inbound_example, signed_webhook_event
from tests.support.hang_guard import run_guarded
from tests.support.moto_stack import deploy, push_triggers
from tests.support.streams import TableStream, stream_event
from tests.support.twilio_server import TwilioTestServer

pytestmark = pytest.mark.integration

SENDER = "+14155550101"
MESSAGE_SID = "SM11111111111111111111111111111111"  # the plain example's
CANARY = "Qz7canary"
"""In every body: letters and digits only, so it shows in any escaping a log line may apply."""


def _hostile(text: str, length: int | None = None) -> str:
    """``text`` behind the canary, cut to ``length`` characters when given."""
    marked = f"{CANARY} {text}"
    return marked if length is None else marked[:length]


HOSTILE_BODIES: dict[str, str] = {
    # ReDoS shapes from issue 13: exponential on a backtracking engine.
    "nested-repeat-24": _hostile("x" * 24),
    "nested-repeat-1600": _hostile("x" * 1_600, 1_600),
    "bounded-group-near-miss": _hostile("aaaa bbbb cccc dddd eee!"),
    "words-1600": _hostile("word " * 320, 1_599) + "!",
    # Rendering: URL, JSON, TwiML, headers, templates.
    "url-breakers": _hostile("a b/c?d=e&f=g#h@i:j\\k +1 ../../admin %2e%2e/ café"),
    "json-breakers": _hostile('"}, {"admin": true, "x": "\n\r\t\\u0000 \'single\''),
    "header-injection": _hostile("hi\r\nX-Injected: 1\r\n\r\nGET /admin HTTP/1.1"),
    "markup": _hostile('<Say>x</Say>]]><![CDATA[<script>alert(1)</script> &amp; &lt; "q"'),
    "stray-percent": _hostile("%Body% %From %% %2B %00 %zz 100% %{x}% %trigger%%"),
    "control-characters": _hostile(
        "".join(chr(c) for c in range(1, 32) if c != 13) + "\x7f\x85 end"
    ),
    "long-unicode": _hostile("café 👩🏽‍⚕️ Привет مرحبا 漢字 e\u0301 \u202eRTL\u202c " * 60, 1_600),
    "astral-1600": _hostile("\U0001d518" * 1_600, 1_600),  # outside the BMP: 2 UTF-16 units each
}

TRIGGERS = """
version: 1
triggers:
  - name: hostile
    extract:
      - regex: '(?P<xs>(x+x+)+y)'
      - regex: '^(?P<words>(\\w+\\s?){1,40})$'
    actions:
      - type: if
        condition:
          any:
            - {field: Body, regex: '(x+x+)+y'}
            - {field: Body, regex: '^(\\w+\\s?){1,40}$'}
            - {field: Body, regex: '(a|aa)+$'}
            - {field: Body, contains: "%From%"}
        then:
          - type: set_variable
            name: verdict
            value: "matched %Body%"
        else:
          - type: set_variable
            name: verdict
            value: "unmatched %Body%"
      - type: extract
        extract:
          - between: {start: "<", end: ">"}
            into: tag
          - split: {delimiter: "%", index: -1}
            into: last_percent
      - type: record
        id: keep
        item: {body: "%Body%", verdict: "%verdict%", words: "%words%", tag: "%tag%"}
      - type: http_request
        id: hook
        method: POST
        url: "{base}/hook/%Body%?phone=%From%&text=%Body%"
        query: {q: "%Body%"}
        json: {text: "%Body%", pair: ["%Body%", "%From%"], verdict: "%verdict%", n: 1}
        into: hook
      - type: http_request
        id: header
        method: PUT
        url: "{base}/text"
        headers: {X-Text: "%Body%"}
        body: "%Body% / %hook.status%"
      - type: make_call
        id: call
        to: "+15005550012"
        say: {text: "%Body%"}
      - type: send_sms
        id: reply
        body: "%Body%"
"""


@dataclass
class Received:
    method: str
    raw_path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class CaptureServer:
    """A real HTTP server on 127.0.0.1 that records every request it answers."""

    received: list[Received] = field(default_factory=list)

    def __enter__(self) -> CaptureServer:
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                capture.received.append(
                    Received(self.command, self.path, dict(self.headers), self.rfile.read(length))
                )
                payload = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_PUT = do_GET = _answer

            def log_message(self, *_args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"


@dataclass
class World:
    twilio: TwilioTestServer
    capture: CaptureServer
    table: str
    records_table: str
    stream: TableStream


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    use_dummy_aws_credentials(monkeypatch)
    # Like api.twilio.com: a repeated create makes a second message, whatever its headers.
    twilio_server = TwilioTestServer(
        {TEST_ACCOUNT_SID: TEST_AUTH_TOKEN}, honour_idempotency_token=False
    )
    with mock_aws(), twilio_server as twilio, CaptureServer() as capture:
        deployed = deploy(monkeypatch, twilio_base_url=twilio.base_url)
        monkeypatch.setenv("HTTP_ALLOW_PRIVATE_NETWORKS", "true")  # the capture server is local
        for module in (inbound, processor):
            clear_cached_dependencies(module)
        push_triggers(deployed.table, TRIGGERS.replace("{base}", capture.base_url))
        stream = TableStream(deployed.table)
        stream.new_records()  # skip the account and trigger writes
        yield World(twilio, capture, deployed.table, deployed.records_table, stream)
        for module in (inbound, processor):
            clear_cached_dependencies(module)


def _form(body: str) -> str:
    """The plain example's form with its Body replaced, encoded as Twilio encodes it."""
    raw = str(inbound_example("sms_plain")["raw_body"])
    return raw.replace("Body=Hello+there", "Body=" + quote(body, safe="").replace("%20", "+"))


def _fragments(body: str) -> list[str]:
    """Pieces of the body that must not appear in any log line, raw or JSON-escaped."""
    piece = body[:40]
    if len(piece.strip()) < 12:
        return []
    return [piece, json.dumps(piece)[1:-1], json.dumps(piece, ensure_ascii=False)[1:-1]]


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_hostile_body_runs_every_action_once_and_leaks_nothing(
    world: World,
    body: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    stored = inbound.lambda_handler(
        signed_webhook_event("acme", _form(body), TEST_AUTH_TOKEN), FakeLambdaContext()
    )
    assert stored["statusCode"] == 200
    [record] = world.stream.inserts_of_inbound_messages()
    message_sid = MESSAGE_SID

    def deliver() -> Any:
        return processor.lambda_handler(stream_event([record]), FakeLambdaContext())

    # Processed in full, twice over (a redelivery): no failure, nothing repeated.
    assert run_guarded(deliver) == {"batchItemFailures": []}
    assert run_guarded(deliver) == {"batchItemFailures": []}

    steps = {
        entry.step_id: entry
        for entry in DynamoStepLedger(world.table, boto3.client("dynamodb")).entries(message_sid)
    }
    assert StepState.STARTED not in {entry.state for entry in steps.values()}, steps
    run = DynamoEvaluationStore(world.table, boto3.client("dynamodb")).get(message_sid)
    assert run is not None
    assert run.status == "completed"

    # The reply: exactly once, the text as it came.
    [sms] = world.twilio.messages()
    assert (sms["to"], sms["body"]) == (SENDER, body)

    # The record: the text as it came.
    [item] = boto3.client("dynamodb").scan(TableName=world.records_table)["Items"]
    assert item["body"]["S"] == body

    # The call: well-formed TwiML reading the text (minus what XML cannot carry).
    [call] = world.twilio.calls()
    say = ET.fromstring(call["twiml"]).find("Say")  # noqa: S314 (our own output)
    assert say is not None
    assert say.text == _xml_line_ends(xml_safe(body))

    # The JSON request: the URL's path and query and the JSON body parse back to the text.
    [hook] = [r for r in world.capture.received if r.method == "POST"]
    path, _, query = hook.raw_path.partition("?")
    assert unquote(path.removeprefix("/hook/"), errors="strict") == body
    assert parse_qs(query, keep_blank_values=True, strict_parsing=True) == {
        "phone": [SENDER],
        "text": [body],
        "q": [body],
    }
    assert hook.headers["Content-Type"] == "application/json"
    sent = json.loads(hook.body)
    assert sent["text"] == body
    assert sent["pair"] == [body, SENDER]
    assert sent["n"] == 1
    assert steps["hostile/hook"].state is StepState.DONE

    # The header: sent as the text, or skipped for this step alone (a line break would inject
    # headers); the steps after it ran either way (above).
    header = steps.get("hostile/header")
    if header is not None and header.state is StepState.DONE:
        [put] = [r for r in world.capture.received if r.method == "PUT"]
        assert put.body.decode("utf-8") == f"{body} / 200"
        assert "X-Injected" not in put.headers
    else:  # skipped before anything was sent, with its reason in the action log
        assert all(r.method != "PUT" for r in world.capture.received)
        [skipped] = [d for d in run.diagnostics if d.get("step_id") == "hostile/header"]
        assert skipped["severity"] == "error"
        assert "control character" in skipped["message"]
        assert body[:12] not in skipped["message"]

    # Nothing the processor printed or logged holds the text.
    printed = capsys.readouterr()
    logged = printed.out + printed.err + caplog.text
    assert CANARY not in logged
    for fragment in _fragments(body):
        assert fragment not in logged


def _xml_line_ends(text: str) -> str:
    """What any XML parser reads back: CR LF and a lone CR become LF (XML 1.0, 2.11)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
