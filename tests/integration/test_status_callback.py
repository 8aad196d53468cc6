"""The real status-callback handler on API Gateway events, against moto DynamoDB + Secrets
Manager (table from template.yaml, accounts as the CLI creates them, requests signed with
twilio-python's validator), and the outbound store it writes through."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from moto import mock_aws

from functions.status_callback import handler
from sms_automation import keys
from sms_automation.adapters.outbound_store import DynamoOutboundStore
from sms_automation.adapters.pace_store import DynamoPaceStore
from sms_automation.processing.pacing import Bucket, Sender
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
    api_url,
    assert_empty_twiml,
    assert_error,
    signed_webhook_event,
    webhook_event,
)
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

MESSAGE_SID = "SM" + "1" * 32
CALL_SID = "CA" + "2" * 32
CREATED = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)


def status_url(account: str) -> str:
    return api_url(account, route="status")


def message_body(status: str, sid: str = MESSAGE_SID, **extra: str) -> str:
    return urlencode(
        {
            "ApiVersion": "2010-04-01",
            "AccountSid": TEST_ACCOUNT_SID,
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "From": "+15017122661",
            "To": "+15558675310",
            **extra,
        }
    )


def signed(body: str, account: str = "acme", token: str = TEST_AUTH_TOKEN, **kw: Any) -> Any:
    url = kw.pop("url", None) or status_url(account)
    return signed_webhook_event(account, body, token, url=url, route="status", **kw)


class Stack:
    def __init__(self) -> None:
        kwargs = create_table_kwargs()
        self.dynamodb = boto3.client("dynamodb")
        self.dynamodb.create_table(**kwargs)
        self.table_name: str = kwargs["TableName"]
        self.registry = account_registry(
            self.table_name, self.dynamodb, boto3.client("secretsmanager")
        )
        self.outbound = DynamoOutboundStore(self.table_name, self.dynamodb)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = handler.lambda_handler(event, FakeLambdaContext())
        return response

    def created(self, sid: str = MESSAGE_SID, status: str = "queued", kind: Any = "sms") -> None:
        self.outbound.record_created(
            sid,
            account="acme",
            kind=kind,
            to="+15558675310",
            from_="+15017122661",
            origin_message_sid="SM" + "9" * 32,
            origin_step_id="auto-reply/1",
            status=status,
            created_at=CREATED,
        )

    def item_count(self) -> int:
        return len(self.dynamodb.scan(TableName=self.table_name)["Items"])


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    use_dummy_aws_credentials(monkeypatch)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "status-callback")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "SmsAutomationTest")
    with mock_aws():
        deployed = Stack()
        use_webhook_environment(monkeypatch, deployed.table_name)
        add_account(deployed.registry, "acme")
        clear_cached_dependencies(handler)
        yield deployed
        clear_cached_dependencies(handler)


# --- the handler ------------------------------------------------------------------------------


def test_status_callback_records_a_signed_callback(stack: Stack) -> None:
    stack.created()
    assert_empty_twiml(stack.invoke(signed(message_body("sent"))))

    record = stack.outbound.get(MESSAGE_SID)
    assert record is not None
    assert record.known
    assert (record.status, record.kind, record.account) == ("sent", "sms", "acme")
    assert record.origin_step_id == "auto-reply/1"
    assert [event.status for event in record.history] == ["sent"]
    assert record.history[0].params["SmsStatus"] == "sent"


def test_status_callback_a_duplicate_is_a_no_op(stack: Stack) -> None:
    stack.created()
    event = signed(message_body("delivered"))
    assert_empty_twiml(stack.invoke(event))
    before = stack.dynamodb.scan(TableName=stack.table_name)["Items"]

    assert_empty_twiml(stack.invoke(event))

    assert stack.dynamodb.scan(TableName=stack.table_name)["Items"] == before


def test_status_callback_out_of_order_keeps_the_later_status(stack: Stack) -> None:
    stack.created()
    assert_empty_twiml(stack.invoke(signed(message_body("delivered"))))
    assert_empty_twiml(stack.invoke(signed(message_body("sent"))))

    record = stack.outbound.get(MESSAGE_SID)
    assert record is not None
    assert record.status == "delivered"
    assert sorted(event.status for event in record.history) == ["delivered", "sent"]


def test_status_callback_records_the_error_code_of_a_failure(stack: Stack) -> None:
    stack.created()
    assert_empty_twiml(stack.invoke(signed(message_body("sent"))))
    assert_empty_twiml(stack.invoke(signed(message_body("undelivered", ErrorCode="30003"))))

    record = stack.outbound.get(MESSAGE_SID)
    assert record is not None
    assert (record.status, record.error_code) == ("undelivered", "30003")


def bucket_of(stack: Stack, sender: str) -> Bucket:
    return DynamoPaceStore(stack.table_name, stack.dynamodb).read(Sender("acme", sender))


def test_status_callback_a_queue_overflow_slows_the_sender_like_a_429(stack: Stack) -> None:
    """30001: the sender's queue at Twilio overflowed, its rate is set too high for it."""
    stack.created()
    overflowed = signed(message_body("failed", ErrorCode="30001"))
    assert_empty_twiml(stack.invoke(overflowed))

    slowed = bucket_of(stack, "+15017122661")
    assert slowed.factor == 0.5
    assert_empty_twiml(stack.invoke(overflowed))  # Twilio retries a callback: slowed once
    assert bucket_of(stack, "+15017122661") == slowed


def test_status_callback_a_messaging_services_queue_overflow_slows_the_service(
    stack: Stack,
) -> None:
    service = "MG" + "5" * 32
    stack.outbound.record_created(
        MESSAGE_SID, account="acme", kind="sms", to="+15558675310", from_=service,
        origin_message_sid="SM" + "9" * 32, origin_step_id="notify/1", status="accepted",
        created_at=CREATED,
    )  # fmt: skip
    body = message_body("failed", ErrorCode="30001", MessagingServiceSid=service)
    assert_empty_twiml(stack.invoke(signed(body)))

    assert bucket_of(stack, service).factor == 0.5
    assert bucket_of(stack, "+15017122661").version == 0  # the pool's number: not a bucket


def test_status_callback_another_failure_does_not_slow_the_sender(stack: Stack) -> None:
    stack.created()
    assert_empty_twiml(stack.invoke(signed(message_body("undelivered", ErrorCode="30003"))))
    assert bucket_of(stack, "+15017122661").version == 0


def test_status_callback_records_call_statuses(stack: Stack) -> None:
    stack.created(CALL_SID, status="queued", kind="call")
    for status in ("ringing", "completed", "in-progress"):
        body = urlencode(
            {"AccountSid": TEST_ACCOUNT_SID, "CallSid": CALL_SID, "CallStatus": status}
        )
        assert_empty_twiml(stack.invoke(signed(body)))

    record = stack.outbound.get(CALL_SID)
    assert record is not None
    assert (record.kind, record.status) == ("call", "completed")
    assert len(record.history) == 3


def test_status_callback_rejects_a_forged_signature_and_stores_nothing(stack: Stack) -> None:
    assert_error(
        stack.invoke(signed(message_body("sent"), token="f" * 32)), 403, "invalid_signature"
    )
    assert stack.item_count() == 1  # the account


def test_status_callback_rejects_a_callback_signed_for_the_sms_route(stack: Stack) -> None:
    url = status_url("acme").removesuffix("/status") + "/sms"
    assert_error(stack.invoke(signed(message_body("sent"), url=url)), 403, "invalid_signature")
    assert stack.item_count() == 1


def test_status_callback_answers_404_for_an_unknown_account(stack: Stack) -> None:
    response = stack.invoke(signed(message_body("sent"), account="nobody"))
    assert_error(response, 404, "unknown_account")
    assert stack.item_count() == 1


def test_status_callback_rejects_another_accounts_sid(stack: Stack) -> None:
    body = message_body("sent").replace(TEST_ACCOUNT_SID, "AC" + "9" * 32)
    assert_error(stack.invoke(signed(body)), 403, "account_sid_mismatch")


def test_status_callback_answers_400_for_a_signed_request_that_is_no_status_callback(
    stack: Stack,
) -> None:
    body = urlencode({"AccountSid": TEST_ACCOUNT_SID, "MessageSid": MESSAGE_SID, "Body": "hi"})
    assert_error(stack.invoke(signed(body)), 400, "malformed_request")
    assert stack.item_count() == 1


def test_status_callback_answers_405_for_get(stack: Stack) -> None:
    event = webhook_event("acme", None, method="GET", content_type=None, route="status")
    assert_error(stack.invoke(event), 405, "method_not_allowed")


def test_status_callback_for_an_unknown_sid_is_recorded(stack: Stack) -> None:
    assert_empty_twiml(stack.invoke(signed(message_body("delivered"))))

    record = stack.outbound.get(MESSAGE_SID)
    assert record is not None
    assert not record.known
    assert (record.status, record.account) == ("delivered", "acme")
    assert [event.status for event in record.history] == ["delivered"]


OTHER_ACCOUNT_SID, OTHER_TOKEN = "AC" + "b" * 32, "c" * 32


@pytest.mark.parametrize(("hours_ago", "accepted"), [(23, True), (25, False)])
def test_status_callback_accepts_the_previous_token_for_24_hours_after_the_rotation(
    stack: Stack, hours_ago: int, accepted: bool
) -> None:
    rotated_at = datetime.now(UTC) - timedelta(hours=hours_ago)
    registry = account_registry(
        stack.table_name, stack.dynamodb, boto3.client("secretsmanager"), at=rotated_at
    )
    registry.rotate_token("acme", OTHER_TOKEN)
    clear_cached_dependencies(handler)

    answer = stack.invoke(signed(message_body("sent"), token=TEST_AUTH_TOKEN))
    if accepted:
        assert_empty_twiml(answer)
    else:
        assert_error(answer, 403, "invalid_signature")
        assert stack.outbound.get(MESSAGE_SID) is None
    assert_empty_twiml(stack.invoke(signed(message_body("delivered"), token=OTHER_TOKEN)))


def test_status_callback_of_another_account_changes_nothing(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    """Account beta's callback, validly signed with beta's token on beta's route, for a Sid
    acme created: answered like a callback for an unknown Sid, but neither acme's summary nor
    its history changes (nor would a failed prompt end acme's conversation); counted and logged
    without the numbers."""
    add_account(stack.registry, "beta", account_sid=OTHER_ACCOUNT_SID, auth_token=OTHER_TOKEN)
    stack.created(status="sent")
    before = stack.dynamodb.scan(TableName=stack.table_name)["Items"]
    capsys.readouterr()

    body = message_body("failed", ErrorCode="30007").replace(TEST_ACCOUNT_SID, OTHER_ACCOUNT_SID)
    assert_empty_twiml(stack.invoke(signed(body, account="beta", token=OTHER_TOKEN)))

    assert stack.dynamodb.scan(TableName=stack.table_name)["Items"] == before
    record = stack.outbound.get(MESSAGE_SID)
    assert record is not None
    assert (record.status, record.account, record.history) == ("sent", "acme", ())
    output = capsys.readouterr().out
    emitted = emitted_metrics(output)
    assert emitted["StatusCallbacksOtherAccount"]["StatusCallbacksOtherAccount"] == 1
    assert "OutboundFailed" not in emitted
    (line,) = [json.loads(x) for x in output.splitlines() if '"status callback' in x]
    assert line["level"] == "WARNING"
    assert (line["account"], line["outcome"], line["known_sid"]) == ("beta", "other_account", False)
    assert "+1555" not in output
    assert "+1501" not in output


def test_status_callback_validates_against_the_public_base_url_route(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://sms.example.com")
    clear_cached_dependencies(handler)
    url = "https://sms.example.com/twilio/acme/status"
    assert_empty_twiml(stack.invoke(signed(message_body("sent"), url=url)))


def emitted_metrics(output: str) -> dict[str, dict[str, Any]]:
    """The EMF documents on stdout (the request lines): metric name -> the document with it."""
    documents: dict[str, dict[str, Any]] = {}
    for line in output.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                documents[metric["Name"]] = document
    return documents


def test_status_callback_counts_failures_by_error_code(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.created()
    capsys.readouterr()
    assert_empty_twiml(stack.invoke(signed(message_body("failed", ErrorCode="30007"))))

    emitted = emitted_metrics(capsys.readouterr().out)
    assert emitted["OutboundFailed"]["ErrorCode"] == "30007"
    assert dimensions_of(emitted["OutboundFailed"], "OutboundFailed") == [["service", "ErrorCode"]]
    assert emitted["StatusCallbacksReceived"]["StatusCallbacksReceived"] == 1
    assert dimensions_of(emitted["StatusCallbacksReceived"], "StatusCallbacksReceived") == [
        ["service"]
    ]


def dimensions_of(document: dict[str, Any], metric: str) -> list[list[str]]:
    """The dimension sets an EMF document counts ``metric`` by."""
    return [
        names
        for directive in document["_aws"]["CloudWatchMetrics"]
        if any(m["Name"] == metric for m in directive["Metrics"])
        for names in directive["Dimensions"]
    ]


def test_status_callback_counts_duplicates_and_rejections(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    event = signed(message_body("sent"))
    stack.invoke(event)
    capsys.readouterr()
    stack.invoke(event)
    assert "StatusCallbacksDuplicate" in emitted_metrics(capsys.readouterr().out)

    stack.invoke(signed(message_body("sent"), token="f" * 32))
    rejected = emitted_metrics(capsys.readouterr().out)["StatusCallbacksRejected"]
    assert rejected["Reason"] == "invalid_signature"


# --- the store --------------------------------------------------------------------------------


def test_outbound_store_record_created_after_a_faster_callback_keeps_its_status(
    stack: Stack,
) -> None:
    assert_empty_twiml(stack.invoke(signed(message_body("sent"))))
    stack.created(status="queued")

    record = stack.outbound.get(MESSAGE_SID)
    assert record is not None
    assert record.known
    assert (record.status, record.to, record.created_at) == (
        "sent",
        "+15558675310",
        "2026-11-26T18:00:00.000Z",
    )


def test_outbound_store_record_created_is_idempotent(stack: Stack) -> None:
    stack.created()
    stack.created()
    record = stack.outbound.get(MESSAGE_SID)
    assert record is not None
    assert (record.status, record.history) == ("queued", ())
    items = stack.dynamodb.scan(TableName=stack.table_name)["Items"]
    assert [i["kind"]["S"] for i in items if i["pk"]["S"].startswith("OUT#")] == [
        keys.KIND_OUTBOUND
    ]


def test_outbound_store_record_status_reports_what_it_did(stack: Stack) -> None:
    stack.created()
    at = datetime(2026, 11, 26, 18, 1, tzinfo=UTC)

    def record(status: str) -> tuple[bool, bool, bool]:
        result = stack.outbound.record_status(
            MESSAGE_SID,
            status,
            kind="sms",
            account="acme",
            error_code=None,
            received_at=at,
            params={"MessageStatus": status},
        )
        return result.new, result.known_sid, result.current

    assert record("delivered") == (True, True, True)
    assert record("delivered") == (False, True, False)
    assert record("sent") == (True, True, False)
    assert record("read") == (True, True, True)


def test_outbound_store_get_of_an_unknown_sid_is_none(stack: Stack) -> None:
    assert stack.outbound.get("SM" + "0" * 32) is None
