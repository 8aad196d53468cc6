"""The console API on the deployed local stack: users invited with the CLI into the real user
pool, signed in with Cognito (USER_PASSWORD_AUTH), calling the HTTP API through its real JWT
authorizer: a token of the pool → 200 with the user's role and the demo account's inbox (a
message sent with ``simulate sms`` in it); no token or a tampered one → 401 (the authorizer);
a viewer limited to another account → 403 (the function).

Needs ``cryptography`` in the emulator's venv (local/requirements-emulator.txt): without it the
emulator signs tokens with random bytes and every JWT route answers 401.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest

from sms_automation_local.demo import DEMO_CONTACT
from sms_automation_local.readiness import stack_outputs
from sms_automation_local.state import LocalState
from tests.e2e.conftest import sms_automation
from tests.e2e.polling import wait_for

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-Horse-9-Battery"


def get(url: str, token: str | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body or b"{}")
        except json.JSONDecodeError:
            return error.code, {"raw": body.decode("utf-8", "replace")}


def send(method: str, url: str, token: str, body: dict[str, Any]) -> int:
    """``method`` (a write) with a JSON body and the bearer token: the status."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def signed_in(stack: LocalState, cli_env: dict[str, str], email: str, *options: str) -> str:
    """Invite ``email`` with the CLI, set a permanent password as the user would at first
    sign-in, sign in: the Id token."""
    added = sms_automation(cli_env, "console", "add-user", email, *options)
    assert added.returncode == 0, added.stderr
    outputs = stack_outputs(stack)
    cognito = boto3.client("cognito-idp", **_aws(stack))
    cognito.admin_set_user_password(
        UserPoolId=outputs["UserPoolId"], Username=email, Password=PASSWORD, Permanent=True
    )
    answer = cognito.initiate_auth(
        ClientId=outputs["UserPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    return str(answer["AuthenticationResult"]["IdToken"])


def _aws(stack: LocalState) -> dict[str, str]:
    return {
        "endpoint_url": stack.endpoint_url,
        "region_name": stack.region,
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }


@pytest.fixture(scope="module")
def console_url(local_stack: LocalState) -> str:
    """``ConsoleApiUrl`` is the AWS form; the emulator serves the API's ``$default`` stage at
    ``{endpoint}/_aws/execute-api/{id}``."""
    aws_url = stack_outputs(local_stack)["ConsoleApiUrl"]
    found = re.fullmatch(r"https://([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com", aws_url)
    assert found is not None, aws_url
    return f"{local_stack.endpoint_url}/_aws/execute-api/{found.group(1)}/console/api"


def test_a_signed_in_user_reads_their_inbox_and_others_are_refused(
    local_stack: LocalState, cli_env: dict[str, str], console_url: str
) -> None:
    demo = local_stack.demo_account
    sent = sms_automation(
        cli_env, "simulate", "sms", "--from", DEMO_CONTACT, "--body", "for the console", "--json"
    )
    assert sent.returncode == 0, sent.stderr
    sid = json.loads(sent.stdout)["message_sid"]

    token = signed_in(local_stack, cli_env, "admin-e2e@example.com", "--role", "admin")
    status, me = get(f"{console_url}/me", token)
    assert (status, me) == (
        200,
        {"email": "admin-e2e@example.com", "role": "admin", "accounts": None},
    )
    status, accounts = get(f"{console_url}/accounts", token)
    assert status == 200
    assert demo in [a["name"] for a in accounts["items"]]

    def listed() -> list[dict[str, Any]] | None:
        status, page = get(f"{console_url}/accounts/{demo}/messages", token)
        assert status == 200, page
        return page["items"] if any(m["sid"] == sid for m in page["items"]) else None

    [message] = [m for m in wait_for("the message in the inbox", listed) if m["sid"] == sid]
    assert message["body"] == "for the console"
    assert message["from"] == DEMO_CONTACT

    assert get(f"{console_url}/me")[0] == 401  # no token: the authorizer
    assert get(f"{console_url}/accounts/{demo}/messages")[0] == 401
    head, payload, signature = token.split(".")
    assert get(f"{console_url}/me", f"{head}.{payload}.{signature[::-1]}")[0] == 401

    other = signed_in(
        local_stack, cli_env, "viewer-e2e@example.com", "--role", "viewer", "--account", demo
    )
    assert get(f"{console_url}/accounts/{demo}/messages", other)[0] == 200
    _, scoped = get(f"{console_url}/me", other)
    assert scoped["accounts"] == [demo]
    assert get(f"{console_url}/accounts/another/messages", other)[0] == 403
    assert get(f"{console_url}/accounts/another/messages/{sid}", other)[0] == 403
