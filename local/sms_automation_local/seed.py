"""The demo account, added through the real ``sms-automation`` console script, idempotently."""

from __future__ import annotations

import io
import json
import os
import subprocess
import zipfile
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from sms_automation_local.demo import (
    DEMO_ACCOUNT,
    DEMO_ACCOUNT_SID,
    DEMO_AUTH_TOKEN,
    DEMO_BUS,
    DEMO_FUNCTION,
    EMULATOR_ACCOUNT,
)
from sms_automation_local.layout import ROOT, Layout

DEMO_TRIGGERS = ROOT / "local" / "demo" / "triggers.yaml"


class SeedFailed(RuntimeError):
    pass


def cli_environment(aws: Mapping[str, str], stack_name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SMS_AUTOMATION_"))}
    env.pop("TWILIO_AUTH_TOKEN", None)
    return {**env, **aws, "SMS_AUTOMATION_STACK": stack_name}


def _cli(
    layout: Layout, env: Mapping[str, str], *argv: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our console script, fixed arguments)
        [str(layout.cli), *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=dict(env),
        timeout=120,
        check=False,
    )


def seed_demo_account(layout: Layout, env: Mapping[str, str]) -> bool:
    """Add the demo account unless it exists with the demo SID; True when it was added."""
    shown = _cli(layout, env, "accounts", "show", DEMO_ACCOUNT, "--json")
    if shown.returncode == 0:
        if json.loads(shown.stdout).get("account_sid") == DEMO_ACCOUNT_SID:
            return False
        raise SeedFailed(
            f"an account {DEMO_ACCOUNT!r} exists with another Account SID; remove it with "
            f"`sms-automation accounts remove {DEMO_ACCOUNT} --yes` or run `make reset`"
        )
    added = _cli(
        layout,
        env,
        "accounts",
        "add",
        DEMO_ACCOUNT,
        "--account-sid",
        DEMO_ACCOUNT_SID,
        "--auth-token-stdin",
        stdin=DEMO_AUTH_TOKEN,
    )
    if added.returncode != 0:
        raise SeedFailed(f"sms-automation accounts add {DEMO_ACCOUNT} failed: {added.stderr}")
    return True


def push_demo_triggers(layout: Layout, env: Mapping[str, str]) -> None:
    """``triggers push demo local/demo/triggers.yaml``: a new version only when it changed."""
    pushed = _cli(layout, env, "triggers", "push", DEMO_ACCOUNT, str(DEMO_TRIGGERS))
    if pushed.returncode != 0:
        raise SeedFailed(
            f"sms-automation triggers push {DEMO_ACCOUNT} failed: {pushed.stderr}{pushed.stdout}"
        )


def _emulator_client(service: str, endpoint_url: str, region: str) -> Any:
    import boto3

    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 (the emulator's dummy credentials)
    )


def verify_email_sender(endpoint_url: str, region: str, address: str) -> None:
    """The demo's ``EmailSenders`` address as an SES identity on the emulator (verified at once
    there; on AWS you verify yours: docs/deploy.md). Idempotent."""
    ses = _emulator_client("sesv2", endpoint_url, region)
    try:
        ses.create_email_identity(EmailIdentity=address)
    except ses.exceptions.AlreadyExistsException:
        return


ECHO_CODE = "def handler(event, context):\n    return event\n"


def create_action_targets(endpoint_url: str, region: str) -> None:
    """The demo's ``invoke_lambda`` function (it answers with its event) and ``publish_event``
    bus on the emulator, before the stack is deployed with their ARNs. Idempotent."""
    events = _emulator_client("events", endpoint_url, region)
    with suppress(events.exceptions.ResourceAlreadyExistsException):
        events.create_event_bus(Name=DEMO_BUS)
    functions = _emulator_client("lambda", endpoint_url, region)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", ECHO_CODE)
    with suppress(functions.exceptions.ResourceConflictException):
        functions.create_function(
            FunctionName=DEMO_FUNCTION,
            Runtime="python3.12",
            Role=f"arn:aws:iam::{EMULATOR_ACCOUNT}:role/{DEMO_FUNCTION}",
            Handler="index.handler",
            Code={"ZipFile": code.getvalue()},
            Timeout=5,
        )
