"""DynamoDB and Secrets Manager adapters against botocore's Stubber: requests, mapping, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from sms_automation.accounts import (
    Account,
    AccountAlreadyExists,
    AccountNotFound,
    AuthTokens,
    AuthTokenSecretAlreadyExists,
    AuthTokenSecretNotFound,
    MalformedAuthTokenSecret,
)
from sms_automation.adapters.account_store import (
    DynamoAccountStore,
    SecretsManagerTokenStore,
    TokensOnFirstRead,
    account_from_item,
    account_to_item,
    auth_tokens_from_secret_string,
)

TABLE = "sms-automation-test"
SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "0123456789abcdef0123456789abcdef"
NEW_TOKEN = "fedcba9876543210fedcba9876543210"
SECRET_ID = "sms-automation/test/accounts/acme"
NOW = datetime(2025, 6, 7, 8, 9, 10, tzinfo=UTC)
NOW_TEXT = "2025-06-07T08:09:10.000Z"

ACME = Account(
    name="acme",
    account_sid=SID,
    receive_enabled=True,
    secret_id=SECRET_ID,
    created_at="2025-01-01T00:00:00.000Z",
    updated_at="2025-01-01T00:00:00.000Z",
)
ACME_ITEM: dict[str, Any] = {
    "pk": {"S": "ACCOUNT#acme"},
    "sk": {"S": "ACCOUNT"},
    "kind": {"S": "account"},
    "gsi1pk": {"S": "ACCOUNTS"},
    "gsi1sk": {"S": "acme"},
    "name": {"S": "acme"},
    "account_sid": {"S": SID},
    "receive_enabled": {"BOOL": True},
    "secret_id": {"S": SECRET_ID},
    "created_at": {"S": "2025-01-01T00:00:00.000Z"},
    "updated_at": {"S": "2025-01-01T00:00:00.000Z"},
}
ACME_KEY = {"pk": {"S": "ACCOUNT#acme"}, "sk": {"S": "ACCOUNT"}}


def client(service: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def dynamodb() -> Iterator[tuple[Any, Stubber]]:
    dynamodb = client("dynamodb")
    with Stubber(dynamodb) as stubber:
        yield dynamodb, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def secretsmanager() -> Iterator[tuple[Any, Stubber]]:
    secretsmanager = client("secretsmanager")
    with Stubber(secretsmanager) as stubber:
        yield secretsmanager, stubber
        stubber.assert_no_pending_responses()


def secret_string(
    current: str,
    previous: str | None = None,
    rotated_at: str = "t0",
    previous_valid_until: str | None = None,
) -> str:
    return json.dumps(
        {
            "current": current,
            "previous": previous,
            "rotated_at": rotated_at,
            "previous_valid_until": previous_valid_until,
        }
    )


# --- item mapping --------------------------------------------------------------------------


def test_account_to_item_follows_the_key_layout() -> None:
    assert account_to_item(ACME) == ACME_ITEM


def test_account_from_item_round_trips() -> None:
    assert account_from_item(account_to_item(ACME)) == ACME


# --- DynamoAccountStore ----------------------------------------------------------------------


def test_dynamo_store_get_reads_the_account_key(dynamodb: tuple[Any, Stubber]) -> None:
    client, stubber = dynamodb
    stubber.add_response(
        "get_item",
        {"Item": ACME_ITEM},
        {"TableName": TABLE, "Key": ACME_KEY, "ConsistentRead": True},
    )
    assert DynamoAccountStore(TABLE, client, consistent_reads=True).get("acme") == ACME


def test_dynamo_store_get_returns_none_for_an_unknown_name(dynamodb: tuple[Any, Stubber]) -> None:
    client, stubber = dynamodb
    stubber.add_response("get_item", {}, {"TableName": TABLE, "Key": ANY, "ConsistentRead": False})
    assert DynamoAccountStore(TABLE, client).get("ghost") is None


def test_dynamo_store_create_is_conditional_on_a_new_key(dynamodb: tuple[Any, Stubber]) -> None:
    client, stubber = dynamodb
    stubber.add_response(
        "put_item",
        {},
        {
            "TableName": TABLE,
            "Item": ACME_ITEM,
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": "pk"},
        },
    )
    DynamoAccountStore(TABLE, client).create(ACME)


def test_dynamo_store_create_maps_a_failed_condition_to_account_already_exists(
    dynamodb: tuple[Any, Stubber],
) -> None:
    client, stubber = dynamodb
    stubber.add_client_error(
        "put_item", service_error_code="ConditionalCheckFailedException", http_status_code=400
    )
    with pytest.raises(AccountAlreadyExists) as raised:
        DynamoAccountStore(TABLE, client).create(ACME)
    assert raised.value.name == "acme"


def test_dynamo_store_list_queries_gsi1_across_pages(dynamodb: tuple[Any, Stubber]) -> None:
    client, stubber = dynamodb
    zeta_item = account_to_item(Account("zeta", SID, False, "s/accounts/zeta", "t", "t"))
    query = {
        "TableName": TABLE,
        "IndexName": "gsi1",
        "KeyConditionExpression": "#gsi1pk = :accounts",
        "ExpressionAttributeNames": {"#gsi1pk": "gsi1pk"},
        "ExpressionAttributeValues": {":accounts": {"S": "ACCOUNTS"}},
    }
    last_key = {**ACME_KEY, "gsi1pk": {"S": "ACCOUNTS"}, "gsi1sk": {"S": "acme"}}
    zeta_key = {"pk": zeta_item["pk"], "sk": zeta_item["sk"]}
    # The index holds keys only: each page's accounts are then read by key.
    stubber.add_response("query", {"Items": [last_key], "LastEvaluatedKey": last_key}, query)
    stubber.add_response(
        "batch_get_item",
        {"Responses": {TABLE: [ACME_ITEM]}},
        {"RequestItems": {TABLE: {"Keys": [ACME_KEY]}}},
    )
    stubber.add_response(
        "query",
        {"Items": [{**zeta_key, "gsi1pk": {"S": "ACCOUNTS"}, "gsi1sk": {"S": "zeta"}}]},
        {**query, "ExclusiveStartKey": last_key},
    )
    stubber.add_response(
        "batch_get_item",
        {"Responses": {TABLE: [zeta_item]}},
        {"RequestItems": {TABLE: {"Keys": [zeta_key]}}},
    )

    accounts = DynamoAccountStore(TABLE, client).list()

    assert [(a.name, a.receive_enabled) for a in accounts] == [("acme", True), ("zeta", False)]


def test_dynamo_store_set_receive_enabled_updates_flag_and_timestamp(
    dynamodb: tuple[Any, Stubber],
) -> None:
    client, stubber = dynamodb
    updated = {**ACME_ITEM, "receive_enabled": {"BOOL": False}, "updated_at": {"S": NOW_TEXT}}
    stubber.add_response(
        "update_item",
        {"Attributes": updated},
        {
            "TableName": TABLE,
            "Key": ACME_KEY,
            "UpdateExpression": "SET #a0 = :v0, updated_at = :now",
            "ConditionExpression": "attribute_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": "pk", "#a0": "receive_enabled"},
            "ExpressionAttributeValues": {":v0": {"BOOL": False}, ":now": {"S": NOW_TEXT}},
            "ReturnValues": "ALL_NEW",
        },
    )

    account = DynamoAccountStore(TABLE, client, clock=lambda: NOW).set_receive_enabled(
        "acme", False
    )

    assert (account.receive_enabled, account.updated_at) == (False, NOW_TEXT)


def test_dynamo_store_set_receive_enabled_of_a_missing_item_is_account_not_found(
    dynamodb: tuple[Any, Stubber],
) -> None:
    client, stubber = dynamodb
    stubber.add_client_error(
        "update_item", service_error_code="ConditionalCheckFailedException", http_status_code=400
    )
    with pytest.raises(AccountNotFound):
        DynamoAccountStore(TABLE, client).set_receive_enabled("ghost", True)


def test_dynamo_store_delete_of_a_missing_item_is_account_not_found(
    dynamodb: tuple[Any, Stubber],
) -> None:
    client, stubber = dynamodb
    stubber.add_client_error(
        "delete_item", service_error_code="ConditionalCheckFailedException", http_status_code=400
    )
    with pytest.raises(AccountNotFound):
        DynamoAccountStore(TABLE, client).delete("ghost")


def test_dynamo_store_delete_returns_the_deleted_account(dynamodb: tuple[Any, Stubber]) -> None:
    client, stubber = dynamodb
    stubber.add_response(
        "delete_item",
        {"Attributes": ACME_ITEM},
        {
            "TableName": TABLE,
            "Key": ACME_KEY,
            "ConditionExpression": "attribute_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": "pk"},
            "ReturnValues": "ALL_OLD",
        },
    )
    assert DynamoAccountStore(TABLE, client).delete("acme") == ACME


# --- SecretsManagerTokenStore ----------------------------------------------------------------


def test_token_store_create_writes_current_previous_and_rotated_at(
    secretsmanager: tuple[Any, Stubber],
) -> None:
    client, stubber = secretsmanager
    stubber.add_response(
        "create_secret",
        {"Name": SECRET_ID},
        {
            "Name": SECRET_ID,
            "Description": ANY,
            "SecretString": secret_string(TOKEN, None, NOW_TEXT),
        },
    )
    SecretsManagerTokenStore(client, clock=lambda: NOW).create(SECRET_ID, TOKEN)


def test_token_store_create_maps_an_existing_secret(secretsmanager: tuple[Any, Stubber]) -> None:
    client, stubber = secretsmanager
    stubber.add_client_error("create_secret", service_error_code="ResourceExistsException")
    with pytest.raises(AuthTokenSecretAlreadyExists):
        SecretsManagerTokenStore(client).create(SECRET_ID, TOKEN)


def test_token_store_get_parses_the_secret(secretsmanager: tuple[Any, Stubber]) -> None:
    client, stubber = secretsmanager
    stubber.add_response(
        "get_secret_value",
        {"SecretString": secret_string(NEW_TOKEN, TOKEN, "t1")},
        {"SecretId": SECRET_ID},
    )
    assert SecretsManagerTokenStore(client).get(SECRET_ID) == AuthTokens(NEW_TOKEN, TOKEN, "t1")


def test_tokens_on_first_read_build_their_client_only_when_a_token_is_read(
    secretsmanager: tuple[Any, Stubber],
) -> None:
    client, stubber = secretsmanager
    built: list[Any] = []

    def make_client() -> Any:
        built.append(client)
        return client

    tokens = TokensOnFirstRead(make_client)
    assert built == []  # a function that never reads a token never builds the client
    for _ in range(2):
        stubber.add_response(
            "get_secret_value",
            {"SecretString": secret_string(NEW_TOKEN, TOKEN, "t1")},
            {"SecretId": SECRET_ID},
        )
        assert tokens.get(SECRET_ID) == AuthTokens(NEW_TOKEN, TOKEN, "t1")
    assert built == [client]  # once


def test_token_store_get_maps_a_missing_secret(secretsmanager: tuple[Any, Stubber]) -> None:
    client, stubber = secretsmanager
    stubber.add_client_error("get_secret_value", service_error_code="ResourceNotFoundException")
    with pytest.raises(AuthTokenSecretNotFound):
        SecretsManagerTokenStore(client).get(SECRET_ID)


@pytest.mark.parametrize(
    "text",
    [
        TOKEN,  # a bare token, not JSON
        json.dumps([TOKEN]),
        json.dumps({"previous": TOKEN}),
        json.dumps({"current": ""}),
        json.dumps({"current": TOKEN, "previous": 7}),
        json.dumps({"current": TOKEN, "rotated_at": 7}),
        json.dumps({"current": TOKEN, "previous": NEW_TOKEN, "previous_valid_until": 7}),
        json.dumps({"current": TOKEN, "previous": NEW_TOKEN, "previous_valid_until": "soon"}),
        json.dumps({"current": TOKEN, "previous": NEW_TOKEN, "previous_valid_until": "2026-01-01"}),
    ],
)
def test_auth_tokens_from_secret_string_rejects_other_shapes_without_quoting(text: str) -> None:
    with pytest.raises(MalformedAuthTokenSecret) as raised:
        auth_tokens_from_secret_string(SECRET_ID, text)
    assert TOKEN not in str(raised.value)
    assert raised.value.__cause__ is None


def test_token_store_rotate_moves_current_to_previous(secretsmanager: tuple[Any, Stubber]) -> None:
    client, stubber = secretsmanager
    stubber.add_response(
        "get_secret_value", {"SecretString": secret_string(TOKEN)}, {"SecretId": SECRET_ID}
    )
    stubber.add_response(
        "put_secret_value",
        {},
        {
            "SecretId": SECRET_ID,
            "SecretString": secret_string(NEW_TOKEN, TOKEN, NOW_TEXT, "2025-06-09T08:09:10.000Z"),
        },
    )

    store = SecretsManagerTokenStore(client, clock=lambda: NOW)
    rotated = store.rotate(SECRET_ID, NEW_TOKEN, timedelta(hours=48))

    assert rotated == AuthTokens(NEW_TOKEN, TOKEN, NOW_TEXT, "2025-06-09T08:09:10.000Z")
    assert rotated.accepted_at(NOW + timedelta(hours=47)) == (NEW_TOKEN, TOKEN)
    assert rotated.accepted_at(NOW + timedelta(hours=48)) == (NEW_TOKEN,)


def test_token_store_rotate_to_the_current_token_writes_nothing(
    secretsmanager: tuple[Any, Stubber],
) -> None:
    client, stubber = secretsmanager
    stubber.add_response(
        "get_secret_value", {"SecretString": secret_string(TOKEN)}, {"SecretId": SECRET_ID}
    )
    unchanged = SecretsManagerTokenStore(client).rotate(SECRET_ID, TOKEN, timedelta(hours=1))
    assert unchanged == AuthTokens(TOKEN, None, "t0")


def test_token_store_clear_previous_keeps_current_and_its_rotation_time(
    secretsmanager: tuple[Any, Stubber],
) -> None:
    client, stubber = secretsmanager
    stubber.add_response(
        "get_secret_value",
        {"SecretString": secret_string(NEW_TOKEN, TOKEN, "t1")},
        {"SecretId": SECRET_ID},
    )
    stubber.add_response(
        "put_secret_value",
        {},
        {
            "SecretId": SECRET_ID,
            "SecretString": secret_string(NEW_TOKEN, None, "t1"),
        },
    )
    assert SecretsManagerTokenStore(client).clear_previous(SECRET_ID) == AuthTokens(
        NEW_TOKEN, None, "t1"
    )


def test_token_store_delete_forces_immediate_deletion(secretsmanager: tuple[Any, Stubber]) -> None:
    client, stubber = secretsmanager
    stubber.add_response(
        "delete_secret", {}, {"SecretId": SECRET_ID, "ForceDeleteWithoutRecovery": True}
    )
    SecretsManagerTokenStore(client).delete(SECRET_ID)


def test_token_store_delete_of_a_missing_secret_is_fine(
    secretsmanager: tuple[Any, Stubber],
) -> None:
    client, stubber = secretsmanager
    stubber.add_client_error("delete_secret", service_error_code="ResourceNotFoundException")
    SecretsManagerTokenStore(client).delete(SECRET_ID)
