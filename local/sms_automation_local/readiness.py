"""Is the local stack ready? Four checks, each with what to do when it fails.

Every AWS call goes to the emulator named in the state file with its dummy credentials, so
``sms-automation local status`` works without the shell exporting anything.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from sms_automation.adapters.account_store import DynamoAccountStore
from sms_automation_local.state import LocalState

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_dynamodb import DynamoDBClient

READY_PATH: Final = "/_ministack/ready"
SANDBOX_READY_PATH: Final = "/sandbox/ready"
_STACK_READY: Final = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE"})
_AWS_CONFIG: Final = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 1})


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


def emulator_ready(endpoint_url: str, timeout: float = 3.0) -> bool:
    """The emulator's own readiness route answers 200 (any server on the port, not only ours)."""
    try:
        with urllib.request.urlopen(  # noqa: S310 (an http URL we built)
            endpoint_url.rstrip("/") + READY_PATH, timeout=timeout
        ) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _client(state: LocalState, service: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=state.endpoint_url,
        region_name=state.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 (the emulator's dummy credentials)
        config=_AWS_CONFIG,
    )


def stack_outputs(state: LocalState) -> dict[str, str]:
    """The deployed stack's outputs; ``LookupError`` when it is not deployed and complete."""
    cfn: CloudFormationClient = _client(state, "cloudformation")
    try:
        stack = cfn.describe_stacks(StackName=state.stack_name)["Stacks"][0]
    except ClientError as error:
        raise LookupError(f"stack {state.stack_name!r} not found") from error
    if stack["StackStatus"] not in _STACK_READY:
        raise LookupError(f"stack {state.stack_name!r} is {stack['StackStatus']}")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def webhook_answers(url: str, timeout: float = 15.0) -> tuple[bool, str]:
    """A GET reaches the webhook function, which refuses it with its own 405 (nothing stored).

    The API's own answers differ: 403 for an unknown route, 5xx when the function fails.
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return False, f"GET answered {response.status}, expected the function's 405"
    except urllib.error.HTTPError as error:
        with error:
            body = error.read().decode("utf-8", "replace")
        try:
            reason = json.loads(body).get("error")
        except (ValueError, AttributeError):
            reason = None
        if error.code == 405 and reason:
            return True, "the webhook function answers"
        return False, f"GET answered {error.code}: {body[:200]}"
    except (urllib.error.URLError, OSError) as error:
        return False, f"no answer: {error}"


def check_stack(state: LocalState) -> list[Check]:
    """Emulator, stack, demo account, webhook (and the Twilio sandbox when the state names
    one): stops at the first failure (the rest need it)."""
    checks: list[Check] = []
    context: dict[str, str] = {}  # stack outputs, once the stack check has read them
    steps: list[Callable[[], Check]] = [
        lambda: _check_emulator(state),
        lambda: _check_deployed(state, context),
        lambda: _check_demo_account(state, context),
        lambda: _check_webhook(state),
    ]
    if state.sandbox_url:
        steps.append(lambda: _check_sandbox(state))
    for step in steps:
        check = step()
        checks.append(check)
        if not check.ok:
            break
    return checks


def _check_emulator(state: LocalState) -> Check:
    if emulator_ready(state.endpoint_url):
        return Check("emulator", True, f"answers at {state.endpoint_url}")
    return Check("emulator", False, f"no answer at {state.endpoint_url}: is `make run` running?")


def _check_deployed(state: LocalState, context: dict[str, str]) -> Check:
    try:
        outputs = stack_outputs(state)
    except (LookupError, BotoCoreError) as error:
        return Check("stack", False, f"{error}: `make run` deploys it")
    if outputs.get("ApiId") != state.api_id:
        return Check("stack", False, f"API {outputs.get('ApiId')!r} is not {state.api_id!r}")
    context.update(outputs)
    return Check("stack", True, f"{state.stack_name} deployed")


def _check_demo_account(state: LocalState, context: dict[str, str]) -> Check:
    dynamodb: DynamoDBClient = _client(state, "dynamodb")
    try:
        account = DynamoAccountStore(context["TableName"], dynamodb, consistent_reads=True).get(
            state.demo_account
        )
    except (KeyError, ClientError, BotoCoreError) as error:
        return Check("demo account", False, f"cannot read accounts: {error}")
    if account is None:
        return Check(
            "demo account", False, f"no account {state.demo_account!r}: `make run` seeds it"
        )
    return Check("demo account", True, f"{account.name} ({account.account_sid})")


def _check_sandbox(state: LocalState) -> Check:
    try:
        with urllib.request.urlopen(  # noqa: S310 (an http URL from the state file)
            state.sandbox_url + SANDBOX_READY_PATH, timeout=3.0
        ) as response:
            ok = response.status == 200
    except (urllib.error.URLError, OSError) as error:
        return Check("twilio sandbox", False, f"no answer at {state.sandbox_url}: {error}")
    return Check("twilio sandbox", ok, f"answers at {state.sandbox_url}")


def _check_webhook(state: LocalState) -> Check:
    url = state.messaging_request_url(state.demo_account)
    ok, detail = webhook_answers(url)
    return Check("webhook", ok, f"{url}: {detail}")
