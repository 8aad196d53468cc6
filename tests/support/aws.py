"""AWS test helpers: dummy credentials, a Lambda context, accounts created the way the CLI does,
the AWS operations a handler makes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any, Final, Self

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from sms_automation import keys
from sms_automation.accounts import Account, AccountRegistry
from sms_automation.adapters.account_store import DynamoAccountStore, SecretsManagerTokenStore
from sms_automation.adapters.dynamo_json import key_attributes
from sms_automation.keys import PK

REGION = "us-east-1"
# The stack the tests stand for: template.yaml names secrets (SECRETS_PREFIX) and the
# conversation state machine after it, and grants access by those names.
STACK_NAME = "test"
SECRETS_PREFIX = f"sms-automation/{STACK_NAME}"
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


def account_registry(
    table_name: str, dynamodb: Any, secretsmanager: Any, *, at: datetime | None = None
) -> AccountRegistry:
    """The CLI's registry on these clients; ``at``: a fixed time its writes (a rotation) say."""
    vault = SecretsManagerTokenStore(secretsmanager)
    if at is not None:
        vault = SecretsManagerTokenStore(secretsmanager, clock=lambda: at)
    return AccountRegistry(DynamoAccountStore(table_name, dynamodb), vault)


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


UNPACED: Final = {"long_code": 1000.0, "toll_free": 1000.0, "short_code": 1000.0}
"""Send rates that never pace a test's few sends (``processing.pacing``): the worlds whose
tests are about something else send several SMS from one number within a second of a clock
that may stand still. Pacing's own tests set the rates they need."""


def unpaced(registry: AccountRegistry, name: str = "acme") -> Account:
    return registry.set_send_settings(name, send_rates=dict(UNPACED), send_window=None)


def clear_cached_dependencies(module: ModuleType) -> None:
    """Forget a handler's cached settings and clients (``functools.cache``), its own and its
    composition's (``sms_automation.composition``): a cold start."""
    for value in list(vars(module).values()):
        if isinstance(value, ModuleType) and value.__name__.startswith(
            "sms_automation.composition."
        ):
            clear_cached_dependencies(value)
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


ACCOUNT_ID = "123456789012"  # moto's
# Secret ARNs end in "-" and six random characters; any will do for a policy's "<name>-*" or "/*".
_SECRET_SUFFIX = "-a1B2c3"
# The per-item actions IAM authorises a transaction's items with (there is no
# dynamodb:TransactWriteItems action).
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


@dataclass(frozen=True)
class AwsCall:
    """One authorisation a request needs: the IAM action (``states:StartExecution``) on the
    resource ARN IAM checks it against; ``"*"`` where the request names no resource
    (``scheduler:ListSchedules``, or a service this module does not model): only a statement
    on ``"*"`` allows it; ``None`` for a task token (``states:SendTask*``), which names no
    resource either but is granted on the state machine."""

    action: str
    resource: str | None
    leading_keys: tuple[str, ...] | None = None
    """DynamoDB's ``dynamodb:LeadingKeys``: the partition key values an item request names
    (``pk``: the app and audit tables' HASH key), sorted; ``None`` where the request names none
    this module models (a Query, a Scan, a stream: a condition on it then holds, as IAM's
    ``ForAllValues`` does on an absent key)."""


def _leading_keys(*items: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    """The ``pk`` string values of these keys or items (``None``: none has one)."""
    found = {str(item[PK]["S"]) for item in items if item and "S" in (item.get(PK) or {})}
    return tuple(sorted(found)) or None


def _item_keys(request: Mapping[str, Any]) -> tuple[str, ...] | None:
    """An item request's partition key: its ``Key`` (get, update, delete) or ``Item`` (put)."""
    return _leading_keys(request.get("Key") or request.get("Item"))


def _table_arn(table: str, index: str | None = None) -> str:
    arn = (
        table
        if table.startswith("arn:")
        else f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table}"
    )
    return f"{arn}/index/{index}" if index else arn


def _dynamodb(operation: str, params: dict[str, Any]) -> list[AwsCall]:  # noqa: PLR0911 (a case per request shape)
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [
            AwsCall(
                f"dynamodb:{_TRANSACT_ACTIONS[kind]}",
                _table_arn(item[kind]["TableName"]),
                _item_keys(item[kind]),
            )
            for item in params.get("TransactItems", [])
            for kind in item
        ]
    action = f"dynamodb:{operation}"
    if "StreamArn" in params:  # a table's stream (the dynamodbstreams client signs as dynamodb)
        return [AwsCall(action, params["StreamArn"])]
    if "ShardIterator" in params:  # GetRecords names no ARN: IAM checks the iterator's stream
        return [AwsCall(action, None)]
    if operation == "BatchGetItem":
        return [
            AwsCall(action, _table_arn(table), _leading_keys(*request.get("Keys", [])))
            for table, request in params.get("RequestItems", {}).items()
        ]
    if operation == "BatchWriteItem":
        return [
            AwsCall(action, _table_arn(table), _leading_keys(*(
                (write.get("PutRequest") or {}).get("Item")
                or (write.get("DeleteRequest") or {}).get("Key")
                for write in writes
            )))
            for table, writes in params.get("RequestItems", {}).items()
        ]  # fmt: skip
    table = params.get("TableName")
    if not table:
        return [AwsCall(action, "*")]
    return [AwsCall(action, _table_arn(table, params.get("IndexName")), _item_keys(params))]


def _states(operation: str, params: dict[str, Any]) -> list[AwsCall]:
    if "taskToken" in params:  # SendTask*: None, see AwsCall
        return [AwsCall(f"states:{operation}", None)]
    arn = params.get("stateMachineArn") or params.get("executionArn") or "*"
    return [AwsCall(f"states:{operation}", arn)]


def _secretsmanager(operation: str, params: dict[str, Any]) -> list[AwsCall]:
    secret = params.get("SecretId") or "*"
    if secret != "*" and not secret.startswith("arn:"):
        secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{secret}{_SECRET_SUFFIX}"
    return [AwsCall(f"secretsmanager:{operation}", secret)]


def _scheduler(operation: str, params: dict[str, Any]) -> list[AwsCall]:
    # ListSchedules names no schedule: "*", as IAM wants it.
    name, group = params.get("Name"), params.get("GroupName") or "default"
    arn = f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule/{group}/{name}" if name else "*"
    made = [AwsCall(f"scheduler:{operation}", arn)]
    # A schedule's target role is passed to the scheduler: IAM checks iam:PassRole on it too.
    role = params.get("Target", {}).get("RoleArn")
    if role and operation in ("CreateSchedule", "UpdateSchedule"):
        made.append(AwsCall("iam:PassRole", role))
    return made


def _sqs(operation: str, params: dict[str, Any]) -> list[AwsCall]:
    url = params.get("QueueUrl")
    if not url:
        return [AwsCall(f"sqs:{operation}", "*")]
    account, name = url.rstrip("/").split("/")[-2:]
    return [AwsCall(f"sqs:{operation}", f"arn:aws:sqs:{REGION}:{account}:{name}")]


# S3 operations IAM authorises under another action's name.
_S3_ACTIONS = {
    "ListObjectsV2": "ListBucket",
    "ListObjects": "ListBucket",
    "HeadObject": "GetObject",
    "ListObjectVersions": "ListBucketVersions",
}


def _s3(operation: str, params: dict[str, Any]) -> list[AwsCall]:
    bucket, key = params.get("Bucket"), params.get("Key")
    action = _S3_ACTIONS.get(operation, operation)
    if action == "GetObject" and params.get("VersionId"):
        action = "GetObjectVersion"  # naming a version is its own action
    if not bucket:
        return [AwsCall(f"s3:{action}", "*")]
    return [AwsCall(f"s3:{action}", f"arn:aws:s3:::{bucket}" + (f"/{key}" if key else ""))]


def _lambda(operation: str, params: dict[str, Any]) -> list[AwsCall]:
    name = str(params.get("FunctionName") or "*")
    arn = (
        name
        if name.startswith("arn:") or name == "*"
        else (f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}")
    )
    action = "lambda:InvokeFunction" if operation == "Invoke" else f"lambda:{operation}"
    return [AwsCall(action, arn)]


def _ses(operation: str, params: dict[str, Any]) -> list[AwsCall]:
    # SendEmail is authorised on the identity it sends as (here: the From address's own).
    sender = params.get("FromEmailAddress") or params.get("Source")
    arn = f"arn:aws:ses:{REGION}:{ACCOUNT_ID}:identity/{sender}" if sender else "*"
    return [AwsCall(f"ses:{operation}", arn)]


def _events(operation: str, params: dict[str, Any]) -> list[AwsCall]:
    # PutEvents is authorised on each entry's bus (the default bus when none is named).
    made = []
    for entry in params.get("Entries", []):
        bus = entry.get("EventBusName") or "default"
        arn = (
            bus
            if bus.startswith("arn:")
            else f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/{bus}"
        )
        made.append(AwsCall(f"events:{operation}", arn))
    return made or [AwsCall(f"events:{operation}", "*")]


_AUTHORISATIONS: dict[str, Callable[[str, dict[str, Any]], list[AwsCall]]] = {
    "lambda": _lambda,
    "dynamodb": _dynamodb,
    "states": _states,
    "secretsmanager": _secretsmanager,
    "scheduler": _scheduler,
    "sqs": _sqs,
    "s3": _s3,
    "ses": _ses,
    "events": _events,
}


def authorisations(service: str, operation: str, params: dict[str, Any]) -> list[AwsCall]:
    """What IAM checks for one request (``service`` as IAM prefixes it, in the tests' region):
    a DynamoDB transaction is its items' PutItem/UpdateItem/DeleteItem/ConditionCheckItem/
    GetItem, a Query on an index is on ``table/NAME/index/INDEX``; a service this module does
    not model is its action on ``"*"``, so only a statement on ``"*"`` allows it."""
    known = _AUTHORISATIONS.get(service)
    return known(operation, params) if known else [AwsCall(f"{service}:{operation}", "*")]


def hook_every_client(
    monkeypatch: pytest.MonkeyPatch,
    event_name: str,
    handler: Callable[..., Any],
    *,
    first: bool = False,
) -> None:
    """Register ``handler`` for botocore's ``event_name`` on every client ``boto3.client``
    creates from now on (``first``: ahead of the client's own handlers, ``register_first``).
    Hooks stack: a second call wraps the first's ``boto3.client``, so both see every client."""
    real_client = boto3.client

    def client(*args: Any, **kwargs: Any) -> Any:
        created = real_client(*args, **kwargs)
        events = created.meta.events
        (events.register_first if first else events.register)(event_name, handler)
        return created

    monkeypatch.setattr(boto3, "client", client)


class OneRequestAtATime:
    """Every client ``boto3.client`` creates from now on sends one request at a time, across
    threads: DynamoDB applies a request to its item atomically (of two conditional PutItems of
    one new item exactly one succeeds), moto does not (its PutItem reads the item, checks the
    condition, then writes: two threads can both pass the check). Overlap tests install this so
    their threads meet DynamoDB's rules, not moto's; the threads' requests still interleave.
    A lock is held from botocore's ``before-send`` (ahead of moto's handler, which answers
    there) to its ``response-received`` (botocore emits it after every attempt, answered or
    failed); re-entrant, for a request moto serves by calling a handler in process that makes
    requests of its own on the same thread."""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> Self:
        serial = cls()
        hook_every_client(monkeypatch, "before-send", serial._take, first=True)
        hook_every_client(monkeypatch, "response-received", serial._give_back)
        return serial

    def _take(self, **_: Any) -> None:
        self._lock.acquire()

    def _give_back(self, **_: Any) -> None:
        self._lock.release()


class AwsCalls:
    """The authorisations (IAM action on resource ARN, :func:`authorisations`) that clients
    created through ``boto3.client`` while installed need inside ``recording()``, from the
    thread that entered it only (the in-process Lambda tasks of the state machine run on their
    own threads: wrap their handlers with ``as_function``). moto does not enforce IAM: compare
    what a handler called with what its role grants.

        calls = AwsCalls.install(monkeypatch)
        clear_cached_dependencies(handler)  # its next client goes through the recorder
        with calls.recording("InboundWebhookFunction"):
            handler.lambda_handler(event, context)
        policy = role_policy("InboundWebhookFunction", stack_name=STACK_NAME, names=...)
        assert policy.denied(calls.of("InboundWebhookFunction")) == []
    """

    def __init__(self) -> None:
        self._by_function: dict[str, set[AwsCall]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> Self:
        calls = cls()
        hook_every_client(monkeypatch, "before-parameter-build.*.*", calls._record)
        return calls

    @contextmanager
    def recording(self, function: str) -> Iterator[None]:
        """Record this thread's calls, as ``function``'s (a logical id of template.yaml)."""
        outer = getattr(self._local, "function", _NOT_RECORDING)
        self._local.function = function
        try:
            yield
        finally:
            self._local.function = outer

    def as_function(self, function: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        """``handler``, its calls recorded as ``function``'s on whichever thread it runs."""

        def recorded(*args: Any, **kwargs: Any) -> Any:
            with self.recording(function):
                return handler(*args, **kwargs)

        return recorded

    def of(self, function: str) -> set[AwsCall]:
        with self._lock:
            return set(self._by_function.get(function, set()))

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        function = getattr(self._local, "function", _NOT_RECORDING)
        if function is _NOT_RECORDING:
            return
        service = model.service_model.signing_name  # "states", not botocore's "stepfunctions"
        made = authorisations(service, model.name, params)
        with self._lock:
            self._by_function.setdefault(function, set()).update(made)


_NOT_RECORDING: Any = object()


def clients_made(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every client ``boto3.client`` creates from now on (its ``meta.config``: timeouts,
    retries)."""
    made: list[Any] = []
    real_client = boto3.client

    def client(*args: Any, **kwargs: Any) -> Any:
        created = real_client(*args, **kwargs)
        made.append(created)
        return created

    monkeypatch.setattr(boto3, "client", client)
    return made


def assert_bounded_for_a_waiting_caller(client: Any) -> None:
    """Short connect and read timeouts and few tries: a request someone waits on (the console's
    API, 29 s at API Gateway) fails in a few seconds, never in botocore's 60 s x 5."""
    config = client.meta.config
    assert config.connect_timeout <= 1, config.connect_timeout
    assert config.read_timeout <= 2, config.read_timeout
    tries = config.retries["total_max_attempts"]  # the first one and its retries
    assert tries <= 2, config.retries
    assert tries * (config.connect_timeout + config.read_timeout) <= 6


class RequestCalls:
    """Every AWS call that clients created through ``boto3.client`` while installed make, with
    its parameters (botocore's ``before-parameter-build``): to count a request's reads.

        counting = RequestCalls.install(monkeypatch)
        clear_cached_dependencies(handler)  # its next clients go through the counter
        counting.calls.clear()
        handler.lambda_handler(event, context)
        assert counting.account_reads("acme") == 1
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> Self:
        counting = cls()
        hook_every_client(monkeypatch, "before-parameter-build.*.*", counting._record)
        return counting

    def count(self, operation: str, **params: Any) -> int:
        """The calls of ``operation`` (``GetItem``) whose parameters include ``params``."""
        return sum(
            1
            for name, made in self.calls
            if name == operation and all(made.get(k) == v for k, v in params.items())
        )

    def account_reads(self, account: str) -> int:
        """The reads of ``account``'s item (its record: name, SID, numbers, settings)."""
        return self.count("GetItem", Key=key_attributes(keys.account_key(account)))

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls.append((model.name, dict(params)))


def client_error(code: str, status: int = 400, operation: str = "PutItem") -> ClientError:
    """The ``ClientError`` botocore raises for an AWS error answer with ``code`` and ``status``."""
    response: Any = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)


class CallCounting:
    """A DynamoDB client that counts the ``GetItem`` and ``PutItem`` calls made through it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.exceptions = client.exceptions
        self.calls: list[str] = []

    def get_item(self, **kwargs: Any) -> Any:
        self.calls.append("GetItem")
        return self._client.get_item(**kwargs)

    def put_item(self, **kwargs: Any) -> Any:
        self.calls.append("PutItem")
        return self._client.put_item(**kwargs)


class FailingDynamoDB:
    """A DynamoDB client whose every ``GetItem`` and ``PutItem`` fails with ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    @property
    def exceptions(self) -> Any:
        return boto3.client("dynamodb", region_name=REGION).exceptions

    def get_item(self, **_: Any) -> Any:
        raise self.error

    def put_item(self, **_: Any) -> Any:
        raise self.error


DYNAMODB_FAILURES: Final = (
    client_error("ProvisionedThroughputExceededException"),
    client_error("InternalServerError", 500),
    client_error("AccessDeniedException"),
    EndpointConnectionError(endpoint_url="https://dynamodb.invalid"),
)
"""A DynamoDB call failing for now (throttled, a 5xx, no connection) and for good (denied)."""
