"""Accounts in DynamoDB, their auth tokens in Secrets Manager, and the webhook's cached view.

Plain boto3 clients, injected: this module imports nothing but the standard library and the
domain, because the webhook imports it on its hot path (no pydantic, no twilio, no Powertools
parameters; ``python -X importtime``: Powertools' parameters utility costs ~65 ms on top of
boto3 itself and adds nothing a ``GetSecretValue`` call does not do here).

Errors surface as the domain's exceptions (``AccountNotFound``, ``AccountAlreadyExists``, ...),
chosen by the AWS error code, never by message text.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final, Protocol

from sms_automation.accounts import (
    ACCOUNT_NAME_PATTERN,
    Account,
    AccountAlreadyExists,
    AccountNotFound,
    AuthTokens,
    AuthTokenSecretAlreadyExists,
    AuthTokenSecretNotFound,
    MalformedAuthTokenSecret,
)
from sms_automation.adapters.dynamo_json import key_attributes
from sms_automation.adapters.index_reads import indexed_items
from sms_automation.edge.timestamps import parse_utc_timestamp, utc_timestamp
from sms_automation.keys import (
    ACCOUNTS_INDEX_PK,
    GSI1,
    GSI1_PK,
    GSI1_SK,
    KIND_ACCOUNT,
    PK,
    account_key,
)
from sms_automation.send_cap import DEFAULT_SEND_CAP, SendCap

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef
    from mypy_boto3_secretsmanager import SecretsManagerClient

    from sms_automation.send_settings import SendWindow

ACCOUNT_CACHE_SECONDS: Final = 30.0
"""How long the webhook trusts an account record: ``enable``/``disable``/``add``/``remove``
take effect within this time on a warm Lambda."""

AUTH_TOKEN_CACHE_SECONDS: Final = 300.0
"""How long the webhook trusts a token secret. Rotation rule: keep the previous token accepted
(do not ``rotate-token --clear-previous`` or promote the secondary token in Twilio) for longer
than this. The previous token's window (``AuthTokens.previous_accepted_until``) is checked
against the clock at each verification, so a cached secret never extends it."""

CACHE_MAX_ENTRIES: Final = 1024
"""Bound per cache: unknown names are cached too, and a warm Lambda must not grow without end."""

_SECRET_DESCRIPTION = "Twilio auth tokens (current, previous) for one sms-automation account"  # noqa: S105


def account_to_item(account: Account) -> dict[str, AttributeValueTypeDef]:
    """The send cap, own numbers and time zone are written only when set (an empty set cannot
    be)."""
    settings: dict[str, AttributeValueTypeDef] = {}
    if account.own_numbers:
        settings["own_numbers"] = {"SS": sorted(account.own_numbers)}
    if account.send_cap != DEFAULT_SEND_CAP:
        settings |= _send_cap_attributes(account.send_cap)
    if account.timezone:
        settings["timezone"] = {"S": account.timezone}
    if account.help_text:
        settings["help_text"] = {"S": account.help_text}
    if account.opt_out_keywords:
        settings["opt_out_keywords"] = {"SS": sorted(account.opt_out_keywords)}
    settings |= _send_settings_attributes(account.rates, account.send_window)
    return {
        **settings,
        **key_attributes(account_key(account.name)),
        "kind": {"S": KIND_ACCOUNT},
        GSI1_PK: {"S": ACCOUNTS_INDEX_PK},
        GSI1_SK: {"S": account.name},
        "name": {"S": account.name},
        "account_sid": {"S": account.account_sid},
        "receive_enabled": {"BOOL": account.receive_enabled},
        "secret_id": {"S": account.secret_id},
        "created_at": {"S": account.created_at},
        "updated_at": {"S": account.updated_at},
    }


def account_from_item(item: Mapping[str, AttributeValueTypeDef]) -> Account:
    return Account(
        name=item["name"]["S"],
        account_sid=item["account_sid"]["S"],
        receive_enabled=item["receive_enabled"]["BOOL"],
        secret_id=item["secret_id"]["S"],
        created_at=item["created_at"]["S"],
        updated_at=item["updated_at"]["S"],
        send_cap=_send_cap(item),
        own_numbers=frozenset(item.get("own_numbers", {}).get("SS", ())),
        timezone=item.get("timezone", {}).get("S") or None,  # none stored: UTC
        help_text=item.get("help_text", {}).get("S", ""),
        opt_out_keywords=frozenset(item.get("opt_out_keywords", {}).get("SS", ())),
        send_rates=tuple(
            sorted(
                (key, float(value["N"]))
                for key, value in item.get("send_rates", {}).get("M", {}).items()
            )
        ),
        send_window=_send_window(item),
    )


def _send_window(item: Mapping[str, AttributeValueTypeDef]) -> SendWindow | None:
    text = item.get("send_window", {}).get("S")
    if not text:
        return None
    from sms_automation.send_settings import SendWindow  # only for accounts that keep one

    return SendWindow.parse(text)


def _send_settings_attributes(
    rates: Mapping[str, float], window: SendWindow | None
) -> dict[str, AttributeValueTypeDef]:
    """Only what is set (an empty map is not written)."""
    attributes: dict[str, AttributeValueTypeDef] = {}
    if rates:
        attributes["send_rates"] = {"M": {key: {"N": repr(rate)} for key, rate in rates.items()}}
    if window is not None:
        attributes["send_window"] = {"S": window.describe()}
    return attributes


def _send_cap_attributes(cap: SendCap) -> dict[str, AttributeValueTypeDef]:
    return {
        "send_cap_count": {"N": str(cap.count)},
        "send_cap_window_seconds": {"N": str(cap.window_seconds)},
    }


def _send_cap(item: Mapping[str, AttributeValueTypeDef]) -> SendCap:
    """The account's cap; accounts added before caps existed have the default."""
    if "send_cap_count" not in item:
        return DEFAULT_SEND_CAP
    return SendCap(
        count=int(item["send_cap_count"]["N"]),
        window_seconds=int(item["send_cap_window_seconds"]["N"]),
    )


def _key(name: str) -> dict[str, AttributeValueTypeDef]:
    return key_attributes(account_key(name))


class DynamoAccountStore:
    """Account items in the single table (see ``keys``); implements ``AccountRecords``."""

    def __init__(
        self,
        table_name: str,
        dynamodb_client: DynamoDBClient,
        *,
        consistent_reads: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._table = table_name
        self._client = dynamodb_client
        self._consistent_reads = consistent_reads
        self._clock = clock

    def get(self, name: str) -> Account | None:
        response = self._client.get_item(
            TableName=self._table, Key=_key(name), ConsistentRead=self._consistent_reads
        )
        item = response.get("Item")
        return account_from_item(item) if item else None

    def create(self, account: Account) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=account_to_item(account),
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": PK},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            raise AccountAlreadyExists(account.name) from None

    def list(self) -> list[Account]:
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            IndexName=GSI1,
            KeyConditionExpression="#gsi1pk = :accounts",
            ExpressionAttributeNames={"#gsi1pk": GSI1_PK},
            ExpressionAttributeValues={":accounts": {"S": ACCOUNTS_INDEX_PK}},
        )
        return [account_from_item(item) for item in indexed_items(self._client, self._table, pages)]

    def set_receive_enabled(self, name: str, enabled: bool) -> Account:
        return self._update(name, {"receive_enabled": {"BOOL": enabled}})

    def set_send_cap(self, name: str, cap: SendCap) -> Account:
        return self._update(name, _send_cap_attributes(cap))

    def set_timezone(self, name: str, timezone: str) -> Account:
        return self._update(name, {"timezone": {"S": timezone}})

    def _update(self, name: str, attributes: Mapping[str, AttributeValueTypeDef]) -> Account:
        """Sets ``attributes`` (and ``updated_at``) on an existing account item."""
        names = {f"#a{i}": attribute for i, attribute in enumerate(attributes)}
        values = {f":v{i}": value for i, value in enumerate(attributes.values())}
        assignments = ", ".join(f"#a{i} = :v{i}" for i in range(len(attributes)))
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=_key(name),
                UpdateExpression=f"SET {assignments}, updated_at = :now",
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#pk": PK, **names},
                ExpressionAttributeValues={**values, ":now": {"S": utc_timestamp(self._clock())}},
                ReturnValues="ALL_NEW",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            raise AccountNotFound(name) from None
        return account_from_item(response["Attributes"])

    def set_send_settings(
        self, name: str, *, send_rates: dict[str, float], send_window: SendWindow | None
    ) -> Account:
        """Empty values remove the attribute (as ``set_opt_out_settings``)."""
        attributes = _send_settings_attributes(send_rates, send_window)
        removes = [name for name in ("send_rates", "send_window") if name not in attributes]
        return self._set_and_remove(name, attributes, removes)

    def _set_and_remove(
        self, name: str, attributes: Mapping[str, AttributeValueTypeDef], removes: Sequence[str]
    ) -> Account:
        names = {f"#a{i}": attribute for i, attribute in enumerate([*attributes, *removes])}
        values: dict[str, AttributeValueTypeDef] = {
            f":v{i}": value for i, value in enumerate(attributes.values())
        }
        sets = [f"#a{i} = :v{i}" for i in range(len(attributes))] + ["updated_at = :now"]
        dropped = [f"#a{i}" for i in range(len(attributes), len(names))]
        update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(dropped) if dropped else "")
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=_key(name),
                UpdateExpression=update,
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#pk": PK, **names},
                ExpressionAttributeValues={**values, ":now": {"S": utc_timestamp(self._clock())}},
                ReturnValues="ALL_NEW",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            raise AccountNotFound(name) from None
        return account_from_item(response["Attributes"])

    def set_opt_out_settings(
        self, name: str, *, help_text: str, opt_out_keywords: frozenset[str]
    ) -> Account:
        """Empty values remove the attribute (DynamoDB keeps no empty set)."""
        sets, removes = ["updated_at = :now"], []
        values: dict[str, AttributeValueTypeDef] = {":now": {"S": utc_timestamp(self._clock())}}
        if help_text:
            sets.append("help_text = :help")
            values[":help"] = {"S": help_text}
        else:
            removes.append("help_text")
        if opt_out_keywords:
            sets.append("opt_out_keywords = :keywords")
            values[":keywords"] = {"SS": sorted(opt_out_keywords)}
        else:
            removes.append("opt_out_keywords")
        update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=_key(name),
                UpdateExpression=update,
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#pk": PK},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            raise AccountNotFound(name) from None
        return account_from_item(response["Attributes"])

    def add_own_numbers(self, name: str, numbers: frozenset[str]) -> None:
        """Adds to the set (``ADD``): concurrent additions all stay."""
        if not numbers:
            return
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key(name),
                UpdateExpression="ADD own_numbers :numbers",
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#pk": PK},
                ExpressionAttributeValues={":numbers": {"SS": sorted(numbers)}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            raise AccountNotFound(name) from None

    def delete(self, name: str) -> Account:
        try:
            response = self._client.delete_item(
                TableName=self._table,
                Key=_key(name),
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#pk": PK},
                ReturnValues="ALL_OLD",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            raise AccountNotFound(name) from None
        return account_from_item(response["Attributes"])


def auth_tokens_to_secret_string(tokens: AuthTokens) -> str:
    return json.dumps(
        {
            "current": tokens.current,
            "previous": tokens.previous,
            "rotated_at": tokens.rotated_at,
            "previous_valid_until": tokens.previous_valid_until,
        }
    )


def auth_tokens_from_secret_string(secret_id: str, secret_string: str) -> AuthTokens:
    """Parses ``{"current", "previous", "rotated_at", "previous_valid_until"}`` (the last two
    optional); errors never quote the secret."""
    try:
        data = json.loads(secret_string)
    except ValueError:
        raise MalformedAuthTokenSecret(secret_id) from None
    if not isinstance(data, dict):
        raise MalformedAuthTokenSecret(secret_id)
    current, previous = data.get("current"), data.get("previous")
    rotated_at, valid_until = data.get("rotated_at"), data.get("previous_valid_until")
    if not isinstance(current, str) or not current:
        raise MalformedAuthTokenSecret(secret_id)
    if previous is not None and not isinstance(previous, str):
        raise MalformedAuthTokenSecret(secret_id)
    for moment in (rotated_at, valid_until):
        if moment is not None and not isinstance(moment, str):
            raise MalformedAuthTokenSecret(secret_id)
    if valid_until is not None and parse_utc_timestamp(valid_until) is None:
        raise MalformedAuthTokenSecret(secret_id)
    return AuthTokens(
        current=current,
        previous=previous or None,
        rotated_at=rotated_at,
        previous_valid_until=valid_until if previous else None,
    )


class SecretsManagerTokenStore:
    """One secret per account holding its auth tokens; implements ``AuthTokenVault``.

    Rotation is read-modify-write on the secret value: run one ``rotate-token`` at a time.
    """

    def __init__(
        self,
        secretsmanager_client: SecretsManagerClient,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = secretsmanager_client
        self._clock = clock

    def create(self, secret_id: str, token: str) -> None:
        tokens = AuthTokens(current=token, rotated_at=utc_timestamp(self._clock()))
        try:
            self._client.create_secret(
                Name=secret_id,
                Description=_SECRET_DESCRIPTION,
                SecretString=auth_tokens_to_secret_string(tokens),
            )
        except self._client.exceptions.ResourceExistsException:
            raise AuthTokenSecretAlreadyExists(secret_id) from None

    def get(self, secret_id: str) -> AuthTokens:
        try:
            response = self._client.get_secret_value(SecretId=secret_id)
        except self._client.exceptions.ResourceNotFoundException:
            raise AuthTokenSecretNotFound(secret_id) from None
        if "SecretString" not in response:
            raise MalformedAuthTokenSecret(secret_id)
        return auth_tokens_from_secret_string(secret_id, response["SecretString"])

    def rotate(self, secret_id: str, new_token: str, previous_valid_for: timedelta) -> AuthTokens:
        """``new_token`` becomes current, the current one previous (an older previous is dropped),
        accepted for ``previous_valid_for`` from now.

        Rotating to the token that is already current changes nothing.
        """
        return self.rotate_from(secret_id, self.get(secret_id), new_token, previous_valid_for)

    def rotate_from(
        self, secret_id: str, tokens: AuthTokens, new_token: str, previous_valid_for: timedelta
    ) -> AuthTokens:
        """``rotate`` from ``tokens``, the secret's value this request read already (not read
        again): one write, none when ``new_token`` is current."""
        if new_token == tokens.current:
            return tokens
        now = self._clock()
        rotated = AuthTokens(
            current=new_token,
            previous=tokens.current,
            rotated_at=utc_timestamp(now),
            previous_valid_until=utc_timestamp(now + previous_valid_for),
        )
        self._put(secret_id, rotated)
        return rotated

    def clear_previous(self, secret_id: str) -> AuthTokens:
        tokens = self.get(secret_id)
        if tokens.previous is None:
            return tokens
        cleared = AuthTokens(current=tokens.current, previous=None, rotated_at=tokens.rotated_at)
        self._put(secret_id, cleared)
        return cleared

    def delete(self, secret_id: str) -> None:
        try:
            self._client.delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)
        except self._client.exceptions.ResourceNotFoundException:
            return

    def _put(self, secret_id: str, tokens: AuthTokens) -> None:
        try:
            self._client.put_secret_value(
                SecretId=secret_id, SecretString=auth_tokens_to_secret_string(tokens)
            )
        except self._client.exceptions.ResourceNotFoundException:
            raise AuthTokenSecretNotFound(secret_id) from None


class AccountReader(Protocol):
    def get(self, name: str) -> Account | None: ...


class AuthTokenReader(Protocol):
    def get(self, secret_id: str) -> AuthTokens: ...


@dataclass(frozen=True, slots=True)
class _Cached[V]:
    value: V
    expires_at: float


class _ExpiringCache[V]:
    """A small TTL cache; the oldest entry goes first when full. Single-threaded (Lambda)."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float], max_entries: int) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[str, _Cached[V]] = {}

    def get_or_load(self, key: str, load: Callable[[], V]) -> V:
        now = self._clock()
        cached = self._entries.get(key)
        if cached is not None and now < cached.expires_at:
            return cached.value
        value = load()  # an error is raised, not cached: the next call tries again
        self._entries.pop(key, None)
        if len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = _Cached(value, now + self._ttl)
        return value


class TokensOnFirstRead:
    """An ``AuthTokenReader`` whose Secrets Manager client is built on the first token read.

    The trigger processor and the conversation functions read account items on every message (time
    zone, own numbers, send cap, opt-out keywords) but tokens only when they send: building the
    client up front cost each of their cold starts ~40 ms (its service model and endpoint rules
    loaded) for nothing on a message that sends nothing."""

    def __init__(self, make_client: Callable[[], SecretsManagerClient]) -> None:
        self._make_client = make_client
        self._store: SecretsManagerTokenStore | None = None

    def get(self, secret_id: str) -> AuthTokens:
        return self._vault().get(secret_id)

    def rotate_from(
        self, secret_id: str, tokens: AuthTokens, new_token: str, previous_valid_for: timedelta
    ) -> AuthTokens:
        """``SecretsManagerTokenStore.rotate_from`` (the console's token replacement)."""
        return self._vault().rotate_from(secret_id, tokens, new_token, previous_valid_for)

    def _vault(self) -> SecretsManagerTokenStore:
        if self._store is None:
            self._store = SecretsManagerTokenStore(self._make_client())
        return self._store


class CachedAccountDirectory:
    """The webhook's ``AccountDirectory``: DynamoDB + Secrets Manager behind in-process caches.

    - Account records (including "no such account") are cached for ``account_ttl`` seconds
      (default 30): enabling, disabling, adding or removing an account reaches a warm Lambda
      within that time.
    - Auth tokens are cached for ``token_ttl`` seconds (default 300, 5 minutes): after
      ``rotate-token`` a warm Lambda may still hold only the old token for up to 5 minutes,
      which is why the previous token must stay valid (in Twilio and in the secret) for longer
      than that.

    Names that cannot be account names are answered ``None`` without a DynamoDB read.
    """

    def __init__(
        self,
        accounts: AccountReader,
        tokens: AuthTokenReader,
        *,
        clock: Callable[[], float] = time.monotonic,
        account_ttl: float = ACCOUNT_CACHE_SECONDS,
        token_ttl: float = AUTH_TOKEN_CACHE_SECONDS,
        max_entries: int = CACHE_MAX_ENTRIES,
    ) -> None:
        self._accounts = accounts
        self._tokens = tokens
        self._account_cache: _ExpiringCache[Account | None] = _ExpiringCache(
            account_ttl, clock, max_entries
        )
        self._token_cache: _ExpiringCache[AuthTokens] = _ExpiringCache(
            token_ttl, clock, max_entries
        )

    @classmethod
    def from_clients(
        cls,
        table_name: str,
        dynamodb_client: DynamoDBClient,
        secretsmanager_client: SecretsManagerClient,
    ) -> CachedAccountDirectory:
        return cls(
            DynamoAccountStore(table_name, dynamodb_client),
            SecretsManagerTokenStore(secretsmanager_client),
        )

    def find(self, name: str) -> Account | None:
        if not ACCOUNT_NAME_PATTERN.fullmatch(name):
            return None
        return self._account_cache.get_or_load(name, lambda: self._accounts.get(name))

    def auth_tokens(self, account: Account) -> AuthTokens:
        return self._token_cache.get_or_load(
            account.secret_id, lambda: self._tokens.get(account.secret_id)
        )
