"""AWS test helpers: dummy credentials, a Lambda context, accounts created the way the CLI does,
the AWS operations a handler makes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Self

import boto3
import pytest

from sms_automation.accounts import Account, AccountRegistry
from sms_automation.adapters.account_store import DynamoAccountStore, SecretsManagerTokenStore

REGION = "us-east-1"
SECRETS_PREFIX = "sms-automation/test"
TEST_ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
TEST_AUTH_TOKEN = "0123456789abcdef0123456789abcdef"


def use_dummy_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never reach a real AWS account from a test, whatever the developer's shell holds."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    # moto >= 5.2 with botocore >= 1.44.4: DynamoDB Streams fail in mock_aws without this.
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


@dataclass
class FakeLambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:test-function"
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def account_registry(table_name: str, dynamodb: Any, secretsmanager: Any) -> AccountRegistry:
    return AccountRegistry(
        DynamoAccountStore(table_name, dynamodb), SecretsManagerTokenStore(secretsmanager)
    )


def add_account(
    registry: AccountRegistry,
    name: str = "acme",
    *,
    account_sid: str = TEST_ACCOUNT_SID,
    auth_token: str = TEST_AUTH_TOKEN,
    receive_enabled: bool = True,
) -> Account:
    return registry.add(
        name,
        account_sid,
        auth_token,
        secrets_prefix=SECRETS_PREFIX,
        receive_enabled=receive_enabled,
    )


def clear_cached_dependencies(module: ModuleType) -> None:
    """Forget a handler's cached settings and clients (``functools.cache``): a cold start."""
    for value in vars(module).values():
        cache_clear = getattr(value, "cache_clear", None)
        if callable(cache_clear) and getattr(value, "__module__", None) == module.__name__:
            cache_clear()


def use_webhook_environment(monkeypatch: pytest.MonkeyPatch, table_name: str) -> None:
    """The webhook functions' environment as the template sets it (no public base URL)."""
    for name, value in {
        "TABLE_NAME": table_name,
        "SECRETS_PREFIX": SECRETS_PREFIX,
        "PUBLIC_BASE_URL": "",
        "MAX_BODY_BYTES": "65536",
    }.items():
        monkeypatch.setenv(name, value)


class AwsCalls:
    """The operations (``service:Operation``, as IAM names them) that clients created through
    ``boto3.client`` while installed make inside ``recording()``, from this thread only (the
    in-process Lambda tasks of the state machine run on their own threads). moto does not
    enforce IAM: compare what a handler called with what its role grants.

        calls = AwsCalls.install(monkeypatch)
        clear_cached_dependencies(handler)  # its next client goes through the recorder
        with calls.recording():
            handler.lambda_handler(event, context)
        assert calls.made - granted == set()
    """

    def __init__(self) -> None:
        self.made: set[str] = set()
        self._recording_thread: int | None = None

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> Self:
        calls = cls()
        real_client = boto3.client

        def client(*args: Any, **kwargs: Any) -> Any:
            created = real_client(*args, **kwargs)
            created.meta.events.register("before-call.*.*", calls._record)
            return created

        monkeypatch.setattr(boto3, "client", client)
        return calls

    @contextmanager
    def recording(self) -> Iterator[None]:
        self._recording_thread = threading.get_ident()
        try:
            yield
        finally:
            self._recording_thread = None

    def _record(self, model: Any, **_: Any) -> None:
        if self._recording_thread == threading.get_ident():
            self.made.add(f"{model.service_model.service_name}:{model.name}")
