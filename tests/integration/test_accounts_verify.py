"""``accounts verify`` against a Twilio-like API served on 127.0.0.1 (stdlib ``http.server``).

The stub checks HTTP Basic auth and answers the way api.twilio.com does: the account resource on
success, ``{"code", "message", "more_info", "status"}`` bodies on errors.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sms_automation.adapters.twilio_verify import VerificationOutcome, verify_twilio_account
from sms_automation_cli.main import main
from tests.support.aws import SECRETS_PREFIX, account_registry, use_dummy_aws_credentials
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

SID = "AC11111111111111111111111111111111"
TOKEN = "5f3c0d2b8e6a41f79c1d2e3f4a5b6c7d"
WRONG_TOKEN = "00000000000000000000000000000000"
ACCOUNT_PATH = f"/2010-04-01/Accounts/{SID}.json"
FAST_TIMEOUT = 0.3


@dataclass
class TwilioAccount:
    auth_token: str = TOKEN
    friendly_name: str = "Acme Ltd"
    status: str = "active"
    type: str = "Full"


@dataclass
class TwilioApiStub:
    """What the stub knows and how it misbehaves; ``requests`` records (path, Authorization)."""

    accounts: dict[str, TwilioAccount] = field(default_factory=lambda: {SID: TwilioAccount()})
    server_error: bool = False
    delay_seconds: float = 0.0
    missing_resources: set[str] = field(default_factory=set)  # authenticate, then 404
    requests: list[tuple[str, str]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)


def twilio_error(code: int, message: str, status: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def make_handler(stub: TwilioApiStub) -> type[BaseHTTPRequestHandler]:
    class TwilioLikeHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            authorization = self.headers.get("Authorization", "")
            stub.requests.append((self.path, authorization))
            if stub.delay_seconds:
                stub.stopping.wait(stub.delay_seconds)
            if stub.server_error:
                self.answer(500, twilio_error(20500, "Internal Server Error", 500))
                return
            sid = self.path.removeprefix("/2010-04-01/Accounts/").removesuffix(".json")
            user, _, password = self.basic_auth(authorization)
            known = stub.accounts.get(user)
            if known is None or password != known.auth_token:
                self.answer(401, twilio_error(20003, "Authenticate", 401))
                return
            account = stub.accounts.get(sid) if sid == user else None
            if account is None or sid in stub.missing_resources:
                message = f"The requested resource {self.path} was not found"
                self.answer(404, twilio_error(20404, message, 404))
                return
            self.answer(
                200,
                {
                    "sid": sid,
                    "friendly_name": account.friendly_name,
                    "status": account.status,
                    "type": account.type,
                    "auth_token": account.auth_token,  # Twilio returns it; we must not print it
                    "owner_account_sid": sid,
                    "uri": self.path,
                },
            )

        @staticmethod
        def basic_auth(header: str) -> tuple[str, str, str]:
            scheme, _, encoded = header.partition(" ")
            if scheme != "Basic":
                return "", "", ""
            return base64.b64decode(encoded).decode().partition(":")

        def answer(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return TwilioLikeHandler


@pytest.fixture
def twilio_api() -> Iterator[tuple[TwilioApiStub, str]]:
    stub = TwilioApiStub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(stub))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield stub, f"http://127.0.0.1:{server.server_address[1]}"
    stub.stopping.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def stored_account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A moto deployment holding account 'acme' (SID, token); returns a token setter."""
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        kwargs = create_table_kwargs()
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(**kwargs)
        monkeypatch.setenv("SMS_AUTOMATION_TABLE", kwargs["TableName"])
        monkeypatch.setenv("SMS_AUTOMATION_SECRETS_PREFIX", SECRETS_PREFIX)
        monkeypatch.setenv("SMS_AUTOMATION_WEBHOOK_BASE_URL", "https://sms.example.com")
        registry = account_registry(kwargs["TableName"], dynamodb, boto3.client("secretsmanager"))

        def store(token: str = TOKEN) -> None:
            registry.add("acme", SID, token, secrets_prefix=SECRETS_PREFIX)

        yield store


@dataclass
class Verify:
    code: int
    out: str
    err: str
    seconds: float


@pytest.fixture
def verify(
    stored_account: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Any:
    def run(base_url: str, *extra: str, token: str = TOKEN) -> Verify:
        stored_account(token)
        monkeypatch.setenv("TWILIO_API_BASE_URL", base_url)
        capsys.readouterr()
        started = time.monotonic()
        code = main(["accounts", "verify", "acme", "--timeout", str(FAST_TIMEOUT), *extra])
        seconds = time.monotonic() - started
        captured = capsys.readouterr()
        for output in (captured.out, captured.err):
            assert token not in output
        return Verify(code, captured.out, captured.err, seconds)

    return run


def test_verify_active_account_exits_0_with_name_status_and_type(
    verify: Any, twilio_api: tuple[TwilioApiStub, str]
) -> None:
    stub, base_url = twilio_api

    result = verify(base_url)

    assert result.code == 0, result.err
    assert result.out.strip() == f"verified: 'Acme Ltd' ({SID}) is active, type Full"
    expected_auth = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    # Then the account's numbers (tests/integration/test_numbers_cli.py): this stub has none.
    numbers_path = f"/2010-04-01/Accounts/{SID}/IncomingPhoneNumbers.json"
    assert stub.requests == [(ACCOUNT_PATH, expected_auth), (numbers_path, expected_auth)]
    assert "warning: could not list the account's numbers: HTTP 404" in result.err


def test_verify_json_reports_every_field(
    verify: Any, twilio_api: tuple[TwilioApiStub, str]
) -> None:
    stub, base_url = twilio_api
    stub.accounts[SID].type = "Trial"

    result = verify(f"{base_url}/", "--json")

    assert result.code == 0
    assert json.loads(result.out) == {
        "name": "acme",
        "outcome": "verified",
        "account_sid": SID,
        "base_url": base_url,
        "detail": "credentials accepted",
        "friendly_name": "Acme Ltd",
        "status": "active",
        "type": "Trial",
        "http_status": 200,
        "twilio_code": None,
        "more_info": None,
        "numbers_not_connected": None,  # this stub cannot list numbers
    }


def test_verify_wrong_token_exits_1_with_a_hint(
    verify: Any, twilio_api: tuple[TwilioApiStub, str]
) -> None:
    _, base_url = twilio_api

    result = verify(base_url, token=WRONG_TOKEN)

    assert result.code == 1
    assert "rejected the stored credentials" in result.err
    assert "HTTP 401" in result.err
    assert "error 20003" in result.err
    assert "https://www.twilio.com/docs/errors/20003" in result.err
    assert "copy the Auth Token again from the Twilio Console" in result.err
    assert "rotate-token acme" in result.err


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_verify_inactive_account_exits_1_naming_the_status(
    verify: Any, twilio_api: tuple[TwilioApiStub, str], status: str
) -> None:
    stub, base_url = twilio_api
    stub.accounts[SID].status = status

    result = verify(base_url)

    assert result.code == 1
    assert f"is {status}" in result.err


def test_verify_account_sid_not_found_exits_1(
    verify: Any, twilio_api: tuple[TwilioApiStub, str]
) -> None:
    stub, base_url = twilio_api
    stub.missing_resources.add(SID)

    result = verify(base_url)

    assert result.code == 1
    assert f"Twilio has no account {SID}" in result.err
    assert "HTTP 404" in result.err
    assert "error 20404" in result.err


def test_verify_server_error_exits_3_saying_retry_and_the_base_url(
    verify: Any, twilio_api: tuple[TwilioApiStub, str]
) -> None:
    stub, base_url = twilio_api
    stub.server_error = True

    result = verify(base_url)

    assert result.code == 3
    assert "HTTP 500" in result.err
    assert base_url in result.err
    assert "retry" in result.err


def test_verify_connection_refused_exits_3_saying_retry_and_the_base_url(
    verify: Any, closed_port_url: str
) -> None:
    result = verify(closed_port_url)

    assert result.code == 3
    assert "cannot connect" in result.err
    assert closed_port_url in result.err
    assert "retry" in result.err


def test_verify_timeout_exits_3_within_the_client_timeout(
    verify: Any, twilio_api: tuple[TwilioApiStub, str]
) -> None:
    stub, base_url = twilio_api
    stub.delay_seconds = 5

    result = verify(base_url)

    assert result.code == 3
    assert f"no answer within {FAST_TIMEOUT:g} s" in result.err
    assert base_url in result.err


def test_verify_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["accounts", "verify", "--help"])
    out = capsys.readouterr().out
    for line in ("0  verified", "1  not verified", "3  Twilio not reachable", "20003", "20404"):
        assert line in out


def test_verify_twilio_account_ignores_edge_and_region_settings(
    twilio_api: tuple[TwilioApiStub, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stub, base_url = twilio_api
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    monkeypatch.setenv("TWILIO_REGION", "ie1")

    verification = verify_twilio_account(SID, TOKEN, base_url=base_url, timeout=FAST_TIMEOUT)

    assert verification.outcome is VerificationOutcome.VERIFIED
    assert [path for path, _ in stub.requests] == [ACCOUNT_PATH]
