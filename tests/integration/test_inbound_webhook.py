"""The real inbound webhook handler on API Gateway events, against moto DynamoDB + Secrets Manager.

The table is created from template.yaml's definition, accounts the way the CLI creates them,
and requests are signed with twilio-python's own validator.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from functions.inbound_webhook import handler
from sms_automation import keys
from sms_automation.adapters.dynamo_json import from_attributes
from sms_automation.adapters.message_store import DynamoMessageStore
from sms_automation.webhooks.inbound_message import message_view
from sms_automation.webhooks.signature import url_with_body_hash
from tests.support.aws import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    FakeLambdaContext,
    account_registry,
    add_account,
    clear_cached_dependencies,
    use_dummy_aws_credentials,
    use_webhook_environment,
)
from tests.support.events import (
    API_DOMAIN,
    api_url,
    assert_empty_twiml,
    assert_error,
    inbound_example,
    inbound_examples,
    signed_webhook_event,
    twilio_signature,
    webhook_event,
)
from tests.support.item_size import item_size
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

SMS = inbound_example("sms_plain")


class Stack:
    """The deployed pieces the webhook touches, in moto."""

    def __init__(self) -> None:
        kwargs = create_table_kwargs()
        self.dynamodb = boto3.client("dynamodb")
        self.secretsmanager = boto3.client("secretsmanager")
        self.dynamodb.create_table(**kwargs)
        self.table_name: str = kwargs["TableName"]
        self.registry = account_registry(self.table_name, self.dynamodb, self.secretsmanager)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = handler.lambda_handler(event, FakeLambdaContext())
        return response

    def stored_messages(self) -> list[dict[str, Any]]:
        items = self.dynamodb.scan(TableName=self.table_name)["Items"]
        return [
            message_view(from_attributes(item))
            for item in items
            if item.get("kind", {}).get("S") == keys.KIND_INBOUND_MESSAGE
        ]


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    use_dummy_aws_credentials(monkeypatch)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "inbound-webhook")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "SmsAutomationTest")
    with mock_aws():
        deployed = Stack()
        use_webhook_environment(monkeypatch, deployed.table_name)
        add_account(deployed.registry, "acme")
        clear_cached_dependencies(handler)
        yield deployed
        clear_cached_dependencies(handler)


@pytest.mark.parametrize("example", inbound_examples()["examples"], ids=lambda e: e["id"])
def test_webhook_stores_each_message_shape_verbatim(stack: Stack, example: dict[str, Any]) -> None:
    response = stack.invoke(signed_webhook_event("acme", example["raw_body"], TEST_AUTH_TOKEN))

    assert_empty_twiml(response)
    [item] = stack.stored_messages()
    assert item["params"] == dict(example["params"])
    assert item["channel"] == example["channel"]
    assert item["account"] == "acme"
    assert item["headers"]["User-Agent"] == "TwilioProxy/1.1"
    assert item["headers"]["X-Twilio-Signature"]
    assert item["headers"]["I-Twilio-Idempotency-Token"]
    assert item["thinkautomation_text"].startswith("FROM: ")


def test_webhook_stores_a_typical_form_in_one_write_unit(stack: Stack) -> None:
    """The stored item holds each value once (docs/cost.md: 1 WRU, not 2)."""
    assert_empty_twiml(stack.invoke(signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN)))
    [raw] = [
        from_attributes(item)
        for item in stack.dynamodb.scan(TableName=stack.table_name)["Items"]
        if item.get("kind", {}).get("S") == keys.KIND_INBOUND_MESSAGE
    ]
    assert item_size(raw) <= 1024
    assert "thinkautomation_text" not in raw
    assert "from_number" not in raw


def test_webhook_accepts_a_base64_encoded_body(stack: Stack) -> None:
    event = signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN, base64_encoded=True)
    assert_empty_twiml(stack.invoke(event))
    assert len(stack.stored_messages()) == 1


def test_webhook_validates_against_a_named_stages_path(stack: Stack) -> None:
    event = signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN, stage="prod")
    assert_empty_twiml(stack.invoke(event))


def test_webhook_validates_against_the_public_base_url_when_configured(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://sms.example.com")
    clear_cached_dependencies(handler)
    custom = "https://sms.example.com/twilio/acme/sms"

    signed_for_api_url = signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN)
    assert_error(stack.invoke(signed_for_api_url), 403, "invalid_signature")

    signed_for_custom_domain = signed_webhook_event(
        "acme", SMS["raw_body"], TEST_AUTH_TOKEN, url=custom
    )
    assert_empty_twiml(stack.invoke(signed_for_custom_domain))


def test_webhook_accepts_a_url_signed_with_the_default_port(stack: Stack) -> None:
    url = f"https://{API_DOMAIN}:443/twilio/acme/sms"
    assert_empty_twiml(
        stack.invoke(signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN, url=url))
    )


def test_webhook_rejects_a_wrong_signature_and_stores_nothing(stack: Stack) -> None:
    event = signed_webhook_event("acme", SMS["raw_body"], "f" * 32)
    assert_error(stack.invoke(event), 403, "invalid_signature")
    assert stack.stored_messages() == []


def test_webhook_rejects_a_missing_signature(stack: Stack) -> None:
    assert_error(stack.invoke(webhook_event("acme", SMS["raw_body"])), 403, "invalid_signature")
    assert stack.stored_messages() == []


def test_webhook_rejects_a_tampered_body(stack: Stack) -> None:
    event = signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN)
    event["body"] = event["body"].replace("Hello+there", "Hello+thera")
    assert_error(stack.invoke(event), 403, "invalid_signature")


def test_webhook_rejects_a_trimmed_blank_value(stack: Stack) -> None:
    event = signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN)
    event["body"] = event["body"].replace("ToCity=&", "")
    assert_error(stack.invoke(event), 403, "invalid_signature")


def test_webhook_accepts_current_and_previous_token_during_rotation(stack: Stack) -> None:
    new_token = "abcdef0123456789abcdef0123456789"
    stack.registry.rotate_token("acme", new_token)
    clear_cached_dependencies(handler)

    old = signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN)
    assert_empty_twiml(stack.invoke(old))
    other = inbound_example("sms_stop")["raw_body"]
    assert_empty_twiml(stack.invoke(signed_webhook_event("acme", other, new_token)))
    assert len(stack.stored_messages()) == 2


@pytest.mark.parametrize(("hours_ago", "accepted"), [(23, True), (25, False)])
def test_webhook_accepts_the_previous_token_for_24_hours_after_the_rotation(
    stack: Stack, hours_ago: int, accepted: bool
) -> None:
    """``rotate-token`` (default window, 24 h) run ``hours_ago``: after the window a signature
    made with the old token is refused even though nobody ran ``--clear-previous``."""
    new_token = "abcdef0123456789abcdef0123456789"
    rotated_at = datetime.now(UTC) - timedelta(hours=hours_ago)
    registry = account_registry(
        stack.table_name, stack.dynamodb, stack.secretsmanager, at=rotated_at
    )
    registry.rotate_token("acme", new_token)
    clear_cached_dependencies(handler)

    old = stack.invoke(signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN))
    if accepted:
        assert_empty_twiml(old)
    else:
        assert_error(old, 403, "invalid_signature")
    other = inbound_example("sms_stop")["raw_body"]
    assert_empty_twiml(stack.invoke(signed_webhook_event("acme", other, new_token)))
    assert len(stack.stored_messages()) == (2 if accepted else 1)


def test_webhook_rejects_the_old_token_once_the_rotation_is_finished(stack: Stack) -> None:
    stack.registry.rotate_token("acme", "abcdef0123456789abcdef0123456789")
    stack.registry.clear_previous_token("acme")
    clear_cached_dependencies(handler)
    event = signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN)
    assert_error(stack.invoke(event), 403, "invalid_signature")


def test_webhook_rejects_an_account_sid_of_another_account(stack: Stack) -> None:
    body = SMS["raw_body"].replace(TEST_ACCOUNT_SID, "AC" + "9" * 32)
    assert_error(
        stack.invoke(signed_webhook_event("acme", body, TEST_AUTH_TOKEN)),
        403,
        "account_sid_mismatch",
    )
    assert stack.stored_messages() == []


def test_webhook_answers_404_for_an_unknown_account(stack: Stack) -> None:
    event = signed_webhook_event("nobody", SMS["raw_body"], TEST_AUTH_TOKEN)
    assert_error(stack.invoke(event), 404, "unknown_account")


def test_webhook_answers_405_with_allow_for_other_methods(stack: Stack) -> None:
    response = stack.invoke(webhook_event("acme", None, method="GET", content_type=None))
    assert_error(response, 405, "method_not_allowed")
    assert response["headers"]["Allow"] == "POST"


def test_webhook_answers_415_for_other_content_types(stack: Stack) -> None:
    event = signed_webhook_event(
        "acme", SMS["raw_body"], TEST_AUTH_TOKEN, content_type="text/plain"
    )
    assert_error(stack.invoke(event), 415, "unsupported_media_type")


def test_webhook_answers_413_for_a_body_over_the_limit(stack: Stack) -> None:
    body = SMS["raw_body"] + "&Padding=" + "x" * 70_000
    assert_error(
        stack.invoke(signed_webhook_event("acme", body, TEST_AUTH_TOKEN)), 413, "payload_too_large"
    )
    assert stack.stored_messages() == []


def test_webhook_answers_400_for_a_malformed_encoding(stack: Stack) -> None:
    assert_error(stack.invoke(webhook_event("acme", "Body=%FF")), 400, "malformed_request")


def test_webhook_answers_400_for_a_signed_request_without_message_sid(stack: Stack) -> None:
    body = f"AccountSid={TEST_ACCOUNT_SID}&Body=hi&From=%2B14155550100"
    assert_error(
        stack.invoke(signed_webhook_event("acme", body, TEST_AUTH_TOKEN)), 400, "malformed_request"
    )


def test_webhook_answers_400_for_a_signed_parameter_with_an_empty_name(stack: Stack) -> None:
    body = SMS["raw_body"] + "&=orphan"
    response = stack.invoke(signed_webhook_event("acme", body, TEST_AUTH_TOKEN))
    assert_error(response, 400, "malformed_request")
    assert stack.stored_messages() == []


def test_webhook_acknowledges_but_does_not_store_when_receive_is_disabled(stack: Stack) -> None:
    stack.registry.set_receive_enabled("acme", False)
    clear_cached_dependencies(handler)
    assert_empty_twiml(stack.invoke(signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN)))
    assert stack.stored_messages() == []


def test_webhook_redelivery_answers_200_and_writes_nothing(stack: Stack) -> None:
    event = signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN)
    assert_empty_twiml(stack.invoke(event))
    [first] = stack.stored_messages()

    assert_empty_twiml(stack.invoke(event))
    [after] = stack.stored_messages()
    assert after == first  # same receive time: the second delivery wrote nothing


def test_webhook_answers_503_and_stores_nothing_when_dynamodb_throttles(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    throttled = boto3.client("dynamodb")
    stubber = Stubber(throttled)
    stubber.add_client_error(
        "put_item", "ProvisionedThroughputExceededException", http_status_code=400
    )
    stubber.activate()
    monkeypatch.setattr(
        handler.composition, "_store", lambda: DynamoMessageStore(stack.table_name, throttled)
    )

    response = stack.invoke(signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN))

    assert_error(response, 503, "storage_unavailable")
    assert stack.stored_messages() == []
    stubber.assert_no_pending_responses()


def test_webhook_answers_500_naming_the_error_when_dynamodb_refuses_for_good(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Access denied (a role without PutItem) is no outage: not a 503 "try again", but a 500
    whose ERROR line names the refusal, so the alarm points at the cause."""
    denied = boto3.client("dynamodb")
    stubber = Stubber(denied)
    stubber.add_client_error("put_item", "AccessDeniedException", http_status_code=400)
    stubber.activate()
    monkeypatch.setattr(
        handler.composition, "_store", lambda: DynamoMessageStore(stack.table_name, denied)
    )

    response = stack.invoke(signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN))

    assert_error(response, 500, "internal_error")
    [line] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (line["level"], line["reason"]) == ("ERROR", "internal_error")
    assert "AccessDeniedException" in line["exception"]
    assert stack.stored_messages() == []
    stubber.assert_no_pending_responses()


def test_webhook_answers_500_when_the_account_lookup_fails(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_directory() -> Any:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "GetItem")

    monkeypatch.setattr(handler.composition, "_directory", broken_directory)
    response = stack.invoke(signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN))
    assert_error(response, 500, "internal_error")


def test_webhook_accepts_a_json_body_signed_with_body_sha256(stack: Stack) -> None:
    body = json.dumps(
        {
            "MessageSid": "SM" + "a" * 32,
            "AccountSid": TEST_ACCOUNT_SID,
            "From": "+14155550100",
            "To": "+15005550006",
            "Body": "json hello",
        }
    )
    url = url_with_body_hash(api_url("acme"), body.encode())
    query = {"bodySHA256": url.rsplit("bodySHA256=", 1)[1]}
    from twilio.request_validator import RequestValidator

    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, {})
    event = webhook_event(
        "acme",
        body,
        content_type="application/json",
        query=query,
        headers={"X-Twilio-Signature": signature},
    )
    assert_empty_twiml(stack.invoke(event))
    [item] = stack.stored_messages()
    assert item["body"] == "json hello"


def test_webhook_rejects_a_json_body_whose_hash_does_not_match(stack: Stack) -> None:
    body = json.dumps({"MessageSid": "SM" + "b" * 32, "AccountSid": TEST_ACCOUNT_SID})
    url = url_with_body_hash(api_url("acme"), b"{}")
    query = {"bodySHA256": url.rsplit("bodySHA256=", 1)[1]}
    signature = twilio_signature(url, "", TEST_AUTH_TOKEN)
    event = webhook_event(
        "acme",
        body,
        content_type="application/json",
        query=query,
        headers={"X-Twilio-Signature": signature},
    )
    assert_error(stack.invoke(event), 403, "invalid_signature")
    assert stack.stored_messages() == []


def test_webhook_logs_hold_no_body_token_signature_or_full_number(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    """The handler's log is its standard output (Lambda's): one JSON line per request."""
    example = inbound_example("sms_emoji_multisegment")
    event = signed_webhook_event("acme", example["raw_body"], TEST_AUTH_TOKEN)
    stack.invoke(event)
    stack.invoke(signed_webhook_event("acme", example["raw_body"], "f" * 32))

    output = capsys.readouterr().out
    records = [json.loads(line) for line in output.splitlines()]
    assert [r["message"] for r in records] == ["inbound message stored", "inbound webhook rejected"]
    assert records[0]["correlation_id"] == "SM44444444444444444444444444444444"
    assert records[0]["from"] == "+1********04"
    params = dict(example["params"])
    for secret in (
        TEST_AUTH_TOKEN,
        "f" * 32,
        event["headers"]["x-twilio-signature"],
        params["Body"],
        "Reminder",
        params["From"],
        params["From"][1:],
        params["To"],
    ):
        assert secret not in output


def test_webhook_emits_metrics_by_outcome_and_rejection_reason(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.invoke(signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN))
    stack.invoke(signed_webhook_event("acme", SMS["raw_body"], TEST_AUTH_TOKEN))
    stack.invoke(signed_webhook_event("acme", SMS["raw_body"], "f" * 32))

    emf = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and '"_aws"' in line
    ]
    names = [
        metric["Name"]
        for record in emf
        for directive in record["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    ]
    assert names == ["MessagesReceived", "MessagesDuplicate", "MessagesRejected"]
    assert emf[2]["Reason"] == "invalid_signature"


def test_the_webhooks_client_validates_its_parameters(stack: Stack) -> None:
    """botocore's client as configured, parameter validation on: every test above stores
    through it on moto."""
    assert handler.composition._dynamodb().meta.config.parameter_validation is True
