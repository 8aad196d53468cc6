"""``numbers list|connect`` and the ``accounts verify`` warning, against a loopback Twilio API.

The stub (stdlib ``http.server`` on 127.0.0.1) answers the IncomingPhoneNumbers list (paged,
``PhoneNumber`` filter) and update, and the account fetch, with Basic auth, as api.twilio.com
does; the account and its token live in moto, stored the way ``accounts add`` stores them.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pytest
from moto import mock_aws

from sms_automation.adapters.twilio_numbers import PhoneNumber
from sms_automation_cli.main import main
from tests.support.aws import SECRETS_PREFIX, account_registry, use_dummy_aws_credentials
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

SID = "AC22222222222222222222222222222222"
TOKEN = "7f3c0d2b8e6a41f79c1d2e3f4a5b6c7d"
BASE = "https://sms.example.com/prod"
SMS_URL = f"{BASE}/twilio/acme/sms"
STATUS_URL = f"{BASE}/twilio/acme/status"
NUMBERS_PATH = f"/2010-04-01/Accounts/{SID}/IncomingPhoneNumbers"
PAGE_SIZE = 2


def _number(index: int, phone: str, sms_url: str | None) -> dict[str, Any]:
    sid = f"PN{index:032x}"
    return {
        "sid": sid,
        "account_sid": SID,
        "phone_number": phone,
        "friendly_name": phone,
        "sms_url": sms_url,
        "sms_method": "POST",
        "sms_fallback_url": None,
        "sms_fallback_method": "POST",
        "sms_application_sid": None,
        "status_callback": None,
        "status_callback_method": "POST",
        "uri": f"{NUMBERS_PATH}/{sid}.json",
    }


@dataclass
class TwilioStub:
    numbers: list[dict[str, Any]] = field(
        default_factory=lambda: [
            _number(1, "+15005550006", SMS_URL),
            _number(2, "+15005550007", "https://demo.twilio.com/welcome/sms/reply"),
            _number(3, "+15005550008", None),
        ]
    )
    requests: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    fail_with: int | None = None


def _handler(stub: TwilioStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve({})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._serve(parse_qs(self.rfile.read(length).decode(), keep_blank_values=True))

        def _serve(self, form: dict[str, list[str]]) -> None:
            url = urlsplit(self.path)
            stub.requests.append((self.command, url.path, form))
            expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                return self._answer(401, _error(20003, "Authenticate", 401))
            if stub.fail_with is not None:
                return self._answer(stub.fail_with, _error(20500, "Internal error", 500))
            query = {name: values[0] for name, values in parse_qs(url.query).items()}
            if url.path == f"/2010-04-01/Accounts/{SID}.json":
                return self._answer(200, {"sid": SID, "friendly_name": "Acme", "status": "active"})
            if url.path == f"{NUMBERS_PATH}.json" and self.command == "GET":
                return self._answer(200, _page(stub, url.path, query))
            for number in stub.numbers:
                if url.path == number["uri"] and self.command == "POST":
                    for name, values in form.items():
                        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
                        number[snake.lstrip("_")] = values[0]
                    return self._answer(200, number)
            return self._answer(404, _error(20404, f"The requested resource {url.path}", 404))

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def _error(code: int, message: str, status: int) -> dict[str, Any]:
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    return {"code": code, "message": message, "more_info": more_info, "status": status}


def _page(stub: TwilioStub, path: str, query: dict[str, str]) -> dict[str, Any]:
    """Pages of PAGE_SIZE whatever the client asks, so the client must follow next_page_uri."""
    wanted = query.get("PhoneNumber")
    rows = [n for n in stub.numbers if wanted in (None, n["phone_number"])]
    page = int(query.get("Page", "0"))
    chunk = rows[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    more = (page + 1) * PAGE_SIZE < len(rows)
    filters = {"PhoneNumber": wanted} if wanted else {}

    def uri(number: int) -> str:
        return f"{path}?{urlencode({**filters, 'PageSize': PAGE_SIZE, 'Page': number})}"

    return {
        "incoming_phone_numbers": chunk,
        "page": page,
        "page_size": PAGE_SIZE,
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1) if more else None,
        "previous_page_uri": uri(page - 1) if page else None,
        "uri": uri(page),
        "start": page * PAGE_SIZE,
        "end": page * PAGE_SIZE + max(len(chunk) - 1, 0),
    }


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[TwilioStub]:
    stub = TwilioStub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setenv("TWILIO_API_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
    yield stub
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def deployment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto holding account 'acme' (SID, TOKEN) and the deployment's settings in the env."""
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        kwargs = create_table_kwargs()
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(**kwargs)
        monkeypatch.setenv("SMS_AUTOMATION_TABLE", kwargs["TableName"])
        monkeypatch.setenv("SMS_AUTOMATION_SECRETS_PREFIX", SECRETS_PREFIX)
        monkeypatch.setenv("SMS_AUTOMATION_WEBHOOK_BASE_URL", BASE)
        registry = account_registry(kwargs["TableName"], dynamodb, boto3.client("secretsmanager"))
        registry.add("acme", SID, TOKEN, secrets_prefix=SECRETS_PREFIX)
        yield


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*argv: str) -> Run:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        assert TOKEN not in captured.out + captured.err
        return Run(code, captured.out, captured.err)

    return run


def test_list_shows_every_number_across_pages_and_marks_those_elsewhere(
    cli: Any, twilio: TwilioStub
) -> None:
    result = cli("numbers", "list", "acme")

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].endswith(SMS_URL)
    assert lines[1].split() == ["NUMBER", "SMS", "WEBHOOK"]
    here, elsewhere, unset = lines[2:5]
    assert here.split() == ["+15005550006", "POST", SMS_URL]
    assert elsewhere.startswith("+15005550007 ")
    assert "POST https://demo.twilio.com/welcome/sms/reply" in elsewhere
    assert elsewhere.endswith("<- not this deployment")
    assert unset.split() == ["+15005550008", "(none)", "<-", "not", "this", "deployment"]
    assert "2 number(s) do not send to this deployment" in result.out
    assert [query for _, path, query in twilio.requests if path.endswith("Numbers.json")]


def test_list_json_says_which_numbers_point_here(cli: Any, twilio: TwilioStub) -> None:
    result = cli("numbers", "list", "acme", "--json")

    listed = json.loads(result.out)
    assert listed["messaging_request_url"] == SMS_URL
    assert {n["phone_number"]: n["points_here"] for n in listed["numbers"]} == {
        "+15005550006": True,
        "+15005550007": False,
        "+15005550008": False,
    }


def test_connect_sets_sms_url_post_status_callback_and_fallback(
    cli: Any, twilio: TwilioStub
) -> None:
    fallback = "https://fallback.example.com/sms"

    result = cli("numbers", "connect", "acme", "+15005550007", "--fallback-url", fallback)

    assert result.code == 0, result.err
    (update,) = [(path, form) for method, path, form in twilio.requests if method == "POST"]
    assert update[0] == f"{NUMBERS_PATH}/{twilio.numbers[1]['sid']}.json"
    assert {name: values[0] for name, values in update[1].items()} == {
        "SmsUrl": SMS_URL,
        "SmsMethod": "POST",
        "SmsFallbackUrl": fallback,
        "SmsFallbackMethod": "POST",
        "StatusCallback": STATUS_URL,
        "StatusCallbackMethod": "POST",
    }
    assert f"POST {SMS_URL}" in result.out
    assert STATUS_URL in result.out
    after = cli("numbers", "list", "acme", "--json")
    points = {n["phone_number"]: n["points_here"] for n in json.loads(after.out)["numbers"]}
    assert points["+15005550007"] is True
    # One of the account's own numbers from now on: a message from it runs no triggers.
    shown = json.loads(cli("accounts", "show", "acme", "--json").out)
    assert shown["own_numbers"] == ["+15005550007"]


def test_connect_without_fallback_leaves_the_fallback_alone(cli: Any, twilio: TwilioStub) -> None:
    twilio.numbers[2]["sms_fallback_url"] = "https://keep.example.com"

    result = cli("numbers", "connect", "acme", "+15005550008", "--json")

    assert result.code == 0, result.err
    connected = json.loads(result.out)
    assert connected["sms_fallback_url"] == "https://keep.example.com"
    assert connected["points_here"] is True
    (form,) = [form for method, _, form in twilio.requests if method == "POST"]
    assert "SmsFallbackUrl" not in form


def test_connect_unknown_number_exits_1_and_changes_nothing(cli: Any, twilio: TwilioStub) -> None:
    result = cli("numbers", "connect", "acme", "+15005550999")

    assert result.code == 1
    assert "has no number +15005550999" in result.err
    assert not [request for request in twilio.requests if request[0] == "POST"]


def test_connect_refuses_a_number_that_is_not_e164(cli: Any) -> None:
    with pytest.raises(SystemExit) as exited:
        cli("numbers", "connect", "acme", "5005550007")
    assert exited.value.code == 2


def test_twilio_server_error_exits_3(cli: Any, twilio: TwilioStub) -> None:
    twilio.fail_with = 500

    result = cli("numbers", "list", "acme")

    assert result.code == 3
    assert "HTTP 500" in result.err


def test_unknown_account_exits_1(cli: Any, twilio: TwilioStub) -> None:
    result = cli("numbers", "list", "nobody")

    assert result.code == 1
    assert "no account named 'nobody'" in result.err


def test_verify_warns_about_each_number_not_pointing_here(cli: Any, twilio: TwilioStub) -> None:
    result = cli("accounts", "verify", "acme")

    assert result.code == 0, result.err
    assert result.out.startswith("verified:")
    warnings = [line for line in result.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2
    assert "+15005550007 does not send to this deployment" in warnings[0]
    assert "numbers connect acme +15005550007" in warnings[0]
    assert "+15005550008" in warnings[1]


def test_verify_json_lists_the_numbers_not_connected(cli: Any, twilio: TwilioStub) -> None:
    for number in twilio.numbers:
        number["sms_url"] = SMS_URL

    result = cli("accounts", "verify", "acme", "--json")

    assert result.code == 0
    assert json.loads(result.out)["numbers_not_connected"] == []
    assert "warning" not in result.err


@pytest.mark.parametrize(
    ("sms_url", "method", "app", "points"),
    [
        (SMS_URL, "POST", None, True),
        (SMS_URL, "GET", None, False),
        (SMS_URL + "/", "POST", None, False),
        (SMS_URL, "POST", "AP" + "0" * 32, False),
        (None, None, None, False),
    ],
)
def test_points_at_needs_the_exact_url_by_post_and_no_twiml_app(
    sms_url: str | None, method: str | None, app: str | None, points: bool
) -> None:
    number = PhoneNumber("PN" + "0" * 32, "+15005550006", None, sms_url, method, None, None, app)

    assert number.points_at(SMS_URL) is points
