"""Property: whatever arrives, no 5xx answer and no stored message without a valid signature."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from functions.inbound_webhook import handler
from sms_automation import keys
from tests.support.aws import (
    SECRETS_PREFIX,
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    FakeLambdaContext,
    account_registry,
    add_account,
    clear_cached_dependencies,
    use_dummy_aws_credentials,
)
from tests.support.events import twilio_signature, webhook_event
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

CONTENT_TYPES = st.sampled_from(
    [
        None,
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=utf-8",
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/json",
        "text/plain",
        "multipart/form-data",
        "",
    ]
)
METHODS = st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE", ""])
ACCOUNTS = st.sampled_from(["acme", "acme", "nobody", "", "ACME", "../etc", "a" * 70])
FIELD = st.text(min_size=0, max_size=20)
FORM_BODIES = st.lists(st.tuples(FIELD, FIELD), max_size=8).map(
    lambda pairs: "&".join(f"{k}={v}" for k, v in pairs)
)
SIGNED_LOOKING_BODIES = st.fixed_dictionaries(
    {
        "MessageSid": st.sampled_from(["SM" + "1" * 32, "", "x"]),
        "AccountSid": st.sampled_from([TEST_ACCOUNT_SID, "AC" + "2" * 32]),
        "Body": FIELD,
    },
).map(lambda d: "&".join(f"{k}={v}" for k, v in d.items()))
BODIES = st.one_of(st.none(), st.text(max_size=300), FORM_BODIES, SIGNED_LOOKING_BODIES)
SIGNATURES = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.binary(min_size=20, max_size=20).map(lambda b: base64.b64encode(b).decode()),
)


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_dummy_aws_credentials(monkeypatch)
        with mock_aws():
            kwargs = create_table_kwargs()
            dynamodb = boto3.client("dynamodb")
            dynamodb.create_table(**kwargs)
            registry = account_registry(
                kwargs["TableName"], dynamodb, boto3.client("secretsmanager")
            )
            add_account(registry, "acme")
            monkeypatch.setenv("TABLE_NAME", kwargs["TableName"])
            monkeypatch.setenv("SECRETS_PREFIX", SECRETS_PREFIX)
            monkeypatch.setenv("PUBLIC_BASE_URL", "")
            clear_cached_dependencies(handler)
            yield {"dynamodb": dynamodb, "table": kwargs["TableName"]}
            clear_cached_dependencies(handler)


def _stored_count(stack: dict[str, Any]) -> int:
    items = stack["dynamodb"].scan(TableName=stack["table"])["Items"]
    return sum(1 for i in items if i["kind"]["S"] == keys.KIND_INBOUND_MESSAGE)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    account=ACCOUNTS,
    method=METHODS,
    content_type=CONTENT_TYPES,
    body=BODIES,
    signature=SIGNATURES,
    base64_encoded=st.booleans(),
    extra_headers=st.dictionaries(
        st.sampled_from(["X-Junk", "x-twilio-signature", "Content-Length"]), FIELD, max_size=2
    ),
)
def test_webhook_never_fails_with_5xx_nor_stores_without_a_valid_signature(
    stack: dict[str, Any],
    account: str,
    method: str,
    content_type: str | None,
    body: str | None,
    signature: str | None,
    base64_encoded: bool,
    extra_headers: dict[str, str],
) -> None:
    headers = dict(extra_headers)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    event = webhook_event(
        account,
        body,
        method=method,
        content_type=content_type,
        base64_encoded=base64_encoded,
        headers=headers,
    )
    before = _stored_count(stack)

    response = handler.lambda_handler(event, FakeLambdaContext())

    assert response["statusCode"] < 500
    assert _stored_count(stack) == before
    assert response["statusCode"] != 200 or response["headers"]["Content-Type"] == "text/xml"


@settings(max_examples=60, deadline=None)
@given(
    body=st.dictionaries(
        FIELD.filter(lambda k: k not in {"", "MessageSid", "AccountSid"}), FIELD, max_size=6
    ),
    sid=st.from_regex(r"SM[0-9a-f]{32}", fullmatch=True),
)
def test_webhook_stores_any_validly_signed_message_once(
    stack: dict[str, Any], body: dict[str, str], sid: str
) -> None:
    from urllib.parse import urlencode

    raw = urlencode([("MessageSid", sid), ("AccountSid", TEST_ACCOUNT_SID), *body.items()])
    signed = "https://abc123defg.execute-api.us-east-1.amazonaws.com/twilio/acme/sms"
    event = webhook_event(
        "acme", raw, headers={"X-Twilio-Signature": twilio_signature(signed, raw, TEST_AUTH_TOKEN)}
    )
    first = handler.lambda_handler(event, FakeLambdaContext())
    second = handler.lambda_handler(event, FakeLambdaContext())
    assert first["statusCode"] == second["statusCode"] == 200
    item = stack["dynamodb"].get_item(
        TableName=stack["table"], Key={"pk": {"S": f"MSG#{sid}"}, "sk": {"S": "MSG"}}
    )
    assert "Item" in item
