"""``examples/start_automation.py`` (the docs' SigV4 example), run as a script against the real
automations API handler on moto, behind a local stand-in for API Gateway that checks the SigV4
signature as IAM authorisation would (403 before the handler for a missing or wrong one); and
the signing snippet of docs/automations.md, run as written against the demo account."""

from __future__ import annotations

import ast
import hmac
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
import yaml
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from functions.automation_api import handler as api
from sms_automation.automations.http import RUN_RESOURCE, RUNS_RESOURCE
from tests.integration.test_automation_runs import REMINDER
from tests.support.aws import (
    FakeLambdaContext,
    account_registry,
    add_account,
    clear_cached_dependencies,
)
from tests.support.conversation_world import ALICE, World
from tests.support.events import http_api_event
from tests.support.moto_stack import push_triggers
from tests.support.template import ROOT

pytestmark = pytest.mark.integration

SCRIPT = ROOT / "examples" / "start_automation.py"
GUIDE = ROOT / "docs" / "automations.md"
DEMO_TRIGGERS = ROOT / "local" / "demo" / "triggers.yaml"
ACCESS_KEY, SECRET_KEY = "AKIDEXAMPLESIGNER", "example-secret-key"
CALLER = "arn:aws:iam::123456789012:role/booking"
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/\d{8}/(?P<region>[^/]+)/execute-api/"
    r"aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$"
)


def signed_correctly(method: str, url: str, headers: dict[str, str], body: bytes) -> bool:
    """Recompute the signature over what arrived, with the secret only IAM and the caller know."""
    match = _AUTHORIZATION.match(headers.get("authorization", ""))
    if match is None or match["key"] != ACCESS_KEY or "x-amz-date" not in headers:
        return False
    request = AWSRequest(
        method=method,
        url=url,
        data=body,
        headers={name: headers[name] for name in match["signed"].split(";")},
    )
    request.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "execute-api", match["region"])
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    return hmac.compare_digest(expected, match["signature"])


class ApiGatewayStandIn(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self._answer("POST")

    def do_GET(self) -> None:
        self._answer("GET")

    def _answer(self, method: str) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        url = f"http://{headers['host']}{self.path}"
        if not signed_correctly(method, url, headers, body):
            self._send(403, {"message": "Missing Authentication Token"}, {})
            return
        path, _, raw_query = self.path.partition("?")
        parts = path.strip("/").split("/")
        params = {"account": parts[1], "name": parts[2]}
        if len(parts) == 5:
            params["run_id"] = parts[4]
        template = RUN_RESOURCE if "run_id" in params else RUNS_RESOURCE
        iam = {"userArn": CALLER, "callerId": "AROAEXAMPLE:booking", "accessKey": ACCESS_KEY}
        event = http_api_event(
            method,
            f"{method} {template}",
            path,
            path_parameters={k: unquote(v) for k, v in params.items()},
            headers=dict(self.headers.items()),
            body=body.decode() if body else None,
            raw_query=raw_query,
            authorizer={"iam": iam},
        )
        response = api.lambda_handler(event, FakeLambdaContext())
        self._send(response["statusCode"], json.loads(response["body"]), response["headers"])

    def _send(self, status: int, answer: dict[str, Any], headers: dict[str, str]) -> None:
        raw = json.dumps(answer).encode()
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def api_url(world: World) -> Iterator[str]:
    world.push(yaml.safe_dump(REMINDER))
    clear_cached_dependencies(api)
    server = ThreadingHTTPServer(("127.0.0.1", 0), ApiGatewayStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    clear_cached_dependencies(api)


def signer_environment(secret: str = SECRET_KEY, **extra: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_REGION": "eu-west-1",
        "PATH": "/usr/bin:/bin",
        **extra,
    }


def example(*argv: str, secret: str = SECRET_KEY) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own script, with arguments from this test
        [sys.executable, str(SCRIPT), *argv],
        env=signer_environment(secret),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def start_args(api_url: str, *extra: str) -> list[str]:
    return [
        *("--api-url", api_url, "--account", "acme", "--automation", "appointment-reminder"),
        *("--to", ALICE, "--var", "patient=Ann", "--var", "appointment=2026-12-01T10:00:00Z"),
        *extra,
    ]


def test_the_example_starts_a_run_and_a_retry_with_its_key_gets_the_same_run(
    api_url: str, world: World
) -> None:
    first = example(*start_args(api_url, "--idempotency-key", "booking-42"))
    assert first.returncode == 0, first.stderr
    assert "HTTP 201" in first.stderr
    started = json.loads(first.stdout)
    assert (started["created"], started["automation"]) == (True, "appointment-reminder")

    again = example(*start_args(api_url, "--idempotency-key", "booking-42"))
    assert again.returncode == 0
    assert "HTTP 200" in again.stderr
    assert json.loads(again.stdout)["run_id"] == started["run_id"]
    assert len(world.stream.inserts_of_inbound_messages()) == 1

    read = example(*start_args(api_url, "--run-id", started["run_id"]))
    assert read.returncode == 0
    run = json.loads(read.stdout)
    assert (run["run_id"], run["status"], run["requested_by"]) == (
        started["run_id"],
        "queued",
        CALLER,
    )


def test_without_a_key_the_example_makes_one_up_and_prints_it(api_url: str) -> None:
    result = example(*start_args(api_url))
    assert result.returncode == 0
    assert re.search(r"^idempotency key: [0-9a-f-]{36}$", result.stderr, re.MULTILINE)


def test_a_wrong_secret_is_refused_before_the_handler(api_url: str, world: World) -> None:
    result = example(*start_args(api_url), secret="not-the-secret")
    assert result.returncode == 1
    assert "HTTP 403" in result.stderr
    assert world.stream.inserts_of_inbound_messages() == []


def test_invalid_variables_exit_2_with_every_problem(api_url: str, world: World) -> None:
    result = example(
        *("--api-url", api_url, "--account", "acme", "--automation", "appointment-reminder"),
        *("--to", ALICE, "--var", "colour=red"),
    )
    assert result.returncode == 2
    answer = json.loads(result.stdout)
    assert answer["error"] == "invalid_request"
    assert [p["field"] for p in answer["problems"]] == [
        "variables.colour",
        "variables.patient",
        "variables.appointment",
    ]
    assert world.stream.inserts_of_inbound_messages() == []


def guide_snippet() -> str:
    """The one ``python`` block of docs/automations.md that signs a request."""
    blocks = re.findall(r"^```python\n(.*?)^```$", GUIDE.read_text(encoding="utf-8"), re.M | re.S)
    (snippet,) = [block for block in blocks if "SigV4Auth" in block]
    return str(snippet)


def test_the_guides_signing_snippet_starts_the_demo_reminder(api_url: str, world: World) -> None:
    dynamodb = boto3.client("dynamodb")
    add_account(account_registry(world.table, dynamodb, boto3.client("secretsmanager")), "demo")
    push_triggers(world.table, DEMO_TRIGGERS.read_text(encoding="utf-8"), account="demo")
    world.stream.new_records()

    done = subprocess.run(  # noqa: S603 - the guide's own code, as written
        [sys.executable, "-c", guide_snippet()],
        env=signer_environment(API_URL=api_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    status, answer = done.stdout.split(" ", 1)
    started = ast.literal_eval(answer)
    assert (status, started["created"], started["account"]) == ("201", True, "demo")
    assert started["automation"] == "appointment-reminder"
    (stored,) = world.stream.inserts_of_inbound_messages()
    assert stored["dynamodb"]["NewImage"]["requested_by"]["S"] == CALLER
