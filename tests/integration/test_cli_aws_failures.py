"""Every command reports an AWS call that failed the same way: one line on stderr naming the
error code and the command, "try again" when a retry may succeed, else what to check; exit 1,
no traceback, nothing changed. Faults are injected at the client seam (``AwsFaults``) on moto;
missing credentials, region and profile are real, in the console script's own process."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import boto3
import pytest
from moto import mock_aws

from sms_automation_cli.context import ENV_TABLE
from tests.resilience.faults import CONNECTION_ERROR, AwsFaults
from tests.support.aws import (
    SECRETS_PREFIX,
    TEST_AUTH_TOKEN,
    account_registry,
    add_account,
    use_dummy_aws_credentials,
)
from tests.support.cli import console_script
from tests.support.cli import run_cli as cli
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

SID = "AC00000000000000000000000000000042"
NEW_TOKEN = "fedcba9876543210fedcba9876543210"
TRIGGERS = """
version: 1
triggers:
  - name: hello
    actions:
      - type: send_sms
        body: "Thanks"
"""
PERMANENT = "trying again will not help"


@dataclass
class Deployment:
    table: str
    queue_url: str

    def state(self) -> dict[str, Any]:
        """Everything a command could change: the table's items, the secrets, the queue."""
        items = boto3.client("dynamodb").scan(TableName=self.table, ConsistentRead=True)["Items"]
        secrets = boto3.client("secretsmanager").list_secrets()["SecretList"]
        queue = boto3.client("sqs").get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return {
            "items": sorted(json.dumps(item, sort_keys=True) for item in items),
            "secrets": sorted(secret["Name"] for secret in secrets),
            "queue": queue,
        }


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Deployment]:
    """Account acme, its trigger file pushed, one DLQ entry; the CLI pointed at them."""
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        kwargs = create_table_kwargs()
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(**kwargs)
        add_account(account_registry(kwargs["TableName"], dynamodb, boto3.client("secretsmanager")))
        sqs = boto3.client("sqs")
        queue_url = sqs.create_queue(QueueName="trigger-processor-dlq")["QueueUrl"]
        sqs.send_message(QueueUrl=queue_url, MessageBody="{}")
        for name, value in {
            ENV_TABLE: kwargs["TableName"],
            "SMS_AUTOMATION_SECRETS_PREFIX": SECRETS_PREFIX,
            "SMS_AUTOMATION_WEBHOOK_BASE_URL": "https://sms.example.com",
            "SMS_AUTOMATION_DLQ_URL": queue_url,
        }.items():
            monkeypatch.setenv(name, value)
        triggers = tmp_path / "triggers.yaml"
        triggers.write_text(TRIGGERS, encoding="utf-8")
        monkeypatch.chdir(tmp_path)
        yield Deployment(kwargs["TableName"], queue_url)


class Command(NamedTuple):
    argv: tuple[str, ...]
    service: str  # of the call that fails
    operation: str
    stdin: str = ""


COMMANDS = {
    "accounts list": Command(("accounts", "list"), "dynamodb", "Query"),
    "accounts add": Command(
        ("accounts", "add", "globex", "--account-sid", SID, "--auth-token-stdin"),
        "dynamodb",
        "PutItem",
        NEW_TOKEN,
    ),
    "accounts enable": Command(("accounts", "enable", "acme"), "dynamodb", "UpdateItem"),
    "accounts rotate-token": Command(
        ("accounts", "rotate-token", "acme", "--auth-token-stdin"),
        "secretsmanager",
        "PutSecretValue",
        NEW_TOKEN,
    ),
    "triggers push": Command(
        ("triggers", "push", "acme", "triggers.yaml"), "dynamodb", "TransactWriteItems"
    ),
    "triggers list": Command(("triggers", "list", "acme"), "dynamodb", "Query"),
    "dead-letters list": Command(("dead-letters", "list"), "sqs", "ReceiveMessage"),
    "messages list": Command(("messages", "list"), "dynamodb", "Query"),
    "automations runs": Command(("automations", "runs", "acme"), "dynamodb", "Query"),
    "conversations list": Command(("conversations", "list", "acme"), "dynamodb", "Query"),
}


def run_failing(
    deployment: Deployment,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    error: str,
) -> str:
    """``command`` with its call failing with ``error`` (every attempt): its one stderr line,
    after checking the exit code, stdout, the lack of a traceback and the unchanged state."""
    argv, service, operation, stdin = COMMANDS[command]
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))  # not a terminal
    before = deployment.state()
    faults = AwsFaults.install(monkeypatch)
    faults.fail(service, operation, error=error, times=100)

    code, out, err = cli(capsys, *argv)

    assert faults.injected, f"{command} never called {service}.{operation}"
    assert (code, out) == (1, "")
    assert "Traceback" not in err
    [line] = err.splitlines()
    assert f"sms-automation {command} failed" in line
    assert NEW_TOKEN not in err
    assert TEST_AUTH_TOKEN not in err
    assert deployment.state() == before
    return line


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("error", ["ProvisionedThroughputExceededException", CONNECTION_ERROR])
def test_a_call_failing_for_now_is_one_line_saying_try_again(
    deployment: Deployment,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    error: str,
) -> None:
    line = run_failing(deployment, monkeypatch, capsys, command, error)

    code = "EndpointConnectionError" if error == CONNECTION_ERROR else error
    assert line.startswith("error: ")
    assert f"did not answer or refused for now ({code})" in line
    assert line.endswith(": try again")


@pytest.mark.parametrize(
    ("command", "error"),
    [(command, "AccessDeniedException") for command in COMMANDS]
    # No such table: a wrong table name (a missing secret is the accounts commands' own error).
    + [
        (command, "ResourceNotFoundException")
        for command, c in COMMANDS.items()
        if c.service == "dynamodb"
    ],
)
def test_a_call_refused_for_good_is_one_line_saying_what_to_check(
    deployment: Deployment,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    error: str,
) -> None:
    line = run_failing(deployment, monkeypatch, capsys, command, error)

    refused = COMMANDS[command]
    assert line.startswith(f"error: AWS refused the request ({error}); ")
    assert "Check your AWS credentials (profile, region)" in line
    if refused.service == "dynamodb":
        resource = f"table {deployment.table!r} (dynamodb:{refused.operation})"
    elif refused.service == "sqs":
        resource = f"the DLQ (sqs:{refused.operation})"
    else:
        resource = f"the auth token secrets (secretsmanager:{refused.operation})"
    assert f"their permissions on {resource}" in line
    assert line.endswith(PERMANENT)


def test_a_command_that_explains_an_error_keeps_doing_so(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "triggers", "list", "globex")
    assert (code, err) == (
        1,
        "error: no account named 'globex' (see: sms-automation accounts list)\n",
    )

    code, _, err = cli(capsys, "messages", "list", "--account", "globex")
    assert (code, err) == (
        1,
        "error: no account named 'globex' (see: sms-automation accounts list)\n",
    )


def test_the_stack_lookup_refused_names_describe_stacks(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(ENV_TABLE)
    AwsFaults.install(monkeypatch).fail("cloudformation", "DescribeStacks", error="AccessDenied")

    code, out, err = cli(capsys, "messages", "list")

    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith("error: AWS refused the request (AccessDenied); ")
    assert "permissions on the stack (cloudformation:DescribeStacks)" in line
    assert line.endswith(PERMANENT)


def test_no_such_stack_still_says_how_to_point_at_the_deployment(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(ENV_TABLE)

    code, _, err = cli(capsys, "--stack", "nowhere", "messages", "list")

    assert code == 1
    assert err.startswith("error: stack 'nowhere' not found")
    assert "pass --stack NAME" in err


# --- no credentials, region or profile: the console script in a bare environment ---------------


def bare_environment(home: Path, **extra: str) -> dict[str, str]:
    """No AWS configuration at all (no files, no instance metadata), the table named."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        ENV_TABLE: "sms-automation-table",
        **extra,
    }


@pytest.mark.parametrize(
    ("extra", "says", "how"),
    [
        (
            {"AWS_DEFAULT_REGION": "us-east-1"},
            "error: no usable AWS credentials (NoCredentialsError); ",
            "AWS_PROFILE naming a profile of ~/.aws/config",
        ),
        ({}, "error: no AWS region configured (NoRegionError); ", "Set AWS_DEFAULT_REGION"),
        (
            {"AWS_PROFILE": "nowhere"},
            "error: the AWS profile in AWS_PROFILE is not configured (ProfileNotFound); ",
            "Set AWS_PROFILE to a profile of ~/.aws/config",
        ),
    ],
)
@pytest.mark.parametrize(
    "argv", [("accounts", "list"), ("messages", "list"), ("automations", "runs", "acme")]
)
def test_missing_aws_configuration_says_how_to_configure_it(
    tmp_path: Path, extra: dict[str, str], says: str, how: str, argv: tuple[str, ...]
) -> None:
    done = console_script(bare_environment(tmp_path, **extra), *argv)

    assert done.returncode == 1
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(says)
    assert f"sms-automation {' '.join(argv[:2])} failed" in line
    assert how in line
    assert line.endswith(PERMANENT)
