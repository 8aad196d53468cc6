"""The installed ``sms-automation`` console script, as a subprocess, against moto in server mode.

Proves the CLI reaches whatever ``AWS_ENDPOINT_URL`` names (boto3's normal configuration), the
way it is used against a local emulator.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from urllib.request import Request, urlopen

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.support.aws import REGION, SECRETS_PREFIX
from tests.support.cli import console_script
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

SID = "AC33333333333333333333333333333333"
TOKEN = "5f3c0d2b8e6a41f79c1d2e3f4a5b6c7d"
TABLE = "sms-automation-console-script-test"


@pytest.fixture
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        yield url
    finally:
        urlopen(Request(f"{url}/moto-api/reset", method="POST"), timeout=5).close()
        server.stop()


@pytest.fixture
def environment(moto_server: str) -> dict[str, str]:
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "SYSTEMROOT") if name in os.environ}
    return {
        **keep,
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "SMS_AUTOMATION_TABLE": TABLE,
        "SMS_AUTOMATION_SECRETS_PREFIX": SECRETS_PREFIX,
        "SMS_AUTOMATION_WEBHOOK_BASE_URL": "https://sms.example.com",
    }


def sms_automation(
    environment: dict[str, str], *argv: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return console_script(environment, *argv, stdin=stdin, timeout=60)


def test_console_script_manages_accounts_through_aws_endpoint_url(
    moto_server: str, environment: dict[str, str]
) -> None:
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=moto_server,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    dynamodb.create_table(**create_table_kwargs(TABLE))

    added = sms_automation(
        environment, "accounts", "add", "acme", "--account-sid", SID, "--auth-token-stdin",
        stdin=TOKEN,
    )  # fmt: skip
    listed = sms_automation(environment, "accounts", "list", "--json")
    removed = sms_automation(environment, "accounts", "remove", "acme", "--yes")

    assert added.returncode == 0, added.stderr
    assert "https://sms.example.com/twilio/acme/sms" in added.stdout
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {
            "name": "acme",
            "account_sid": SID,
            "receive_enabled": True,
            "messaging_request_url": "https://sms.example.com/twilio/acme/sms",
        }
    ]
    assert removed.returncode == 0, removed.stderr
    assert dynamodb.scan(TableName=TABLE)["Items"] == []
    secretsmanager = boto3.client(
        "secretsmanager",
        endpoint_url=moto_server,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert secretsmanager.list_secrets()["SecretList"] == []
    for result in (added, listed, removed):
        assert TOKEN not in result.stdout + result.stderr
