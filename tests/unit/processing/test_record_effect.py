"""A record step's DynamoDB write failing: for now (throttled, unreachable) the step is not
performed and the stream retries it; for good (no table, no permission, an invalid item, or any
other code ``aws_failures`` does not call transient) the step failed and is not retried."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from sms_automation.adapters.record_table import DynamoRecordTables
from sms_automation.processing.effects import Effects, EffectSettings
from sms_automation.processing.ledger import StepState
from sms_automation.processing.port import NotPerformed
from sms_automation.triggers import RecordItem
from tests.support.aws import FailingDynamoDB, client_error
from tests.support.fakes import InMemoryRecordTables

STEP = RecordItem(step_id="t/1", trigger="t", table="crm-leads", item={"name": "Ann"})


def effects(error: Exception) -> Effects:
    def no_messaging() -> Any:
        raise AssertionError("a record step sends nothing")

    def no_outbound(*_: Any, **__: Any) -> Any:
        raise AssertionError("a record step sends nothing")

    return Effects(
        message_sid="SM" + "0" * 32,
        messaging=no_messaging,
        records=DynamoRecordTables(FailingDynamoDB(error)),  # type: ignore[arg-type]
        settings=EffectSettings(status_callback_url=None, records_table="records"),
        record_outbound=no_outbound,
        owners=no_outbound,
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    "error",
    [
        client_error("ProvisionedThroughputExceededException"),
        client_error("InternalServerError"),
        EndpointConnectionError(endpoint_url="https://dynamodb.invalid"),
    ],
)
def test_record_failing_for_now_is_not_performed_for_the_stream_to_retry(error: Exception) -> None:
    with pytest.raises(NotPerformed, match="could not record to crm-leads"):
        effects(error).perform(STEP, "key")


@pytest.mark.parametrize(
    "code",
    [
        "AccessDeniedException",
        "ResourceNotFoundException",
        "ValidationException",
        "ItemCollectionSizeLimitExceededException",
    ],
)
def test_record_refused_for_good_fails_the_step(code: str) -> None:
    result = effects(client_error(code)).perform(STEP, "key")
    assert result.state is StepState.FAILED
    assert result.detail == f"could not record to crm-leads: {code}"


def test_record_into_the_app_table_fails_the_step_and_writes_nothing() -> None:
    records = InMemoryRecordTables()
    into_app = RecordItem(step_id="t/1", trigger="t", table="app", item={"pk": "ACCOUNT#a"})
    result = Effects(
        message_sid="SM" + "0" * 32,
        messaging=lambda: None,  # type: ignore[arg-type,return-value]
        records=records,
        settings=EffectSettings(status_callback_url=None, records_table="records", app_table="app"),
        record_outbound=lambda **_: None,
        owners=lambda _: None,
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
    ).perform(into_app, "key")
    assert result.state is StepState.FAILED
    assert result.detail.startswith("refused: 'app' is the application's own table")
    assert records.tables == {}
