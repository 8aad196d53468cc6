"""``publish_event`` and ``invoke_lambda`` effects: only on the buses and functions the
deployment names (by name or ARN), none named: refused with why; answers turned into done,
failed, not performed (retried) or maybe performed (never resent)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sms_automation.processing.effects import Effects, EffectSettings
from sms_automation.processing.ledger import StepState
from sms_automation.processing.port import CannotTell, MaybePerformed, NotPerformed
from sms_automation.processing.ports import CallRefused, CallUnanswered, Invocation
from sms_automation.triggers.plan import InvokeLambda, PublishEvent
from tests.support.fakes import InMemoryRecordTables

BUS = "arn:aws:events:us-east-1:123456789012:event-bus/orders"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:lookup"
EVENT = PublishEvent(step_id="t/1", trigger="t", bus="orders", detail_type="SMS", detail="{}")
SYNC = InvokeLambda(
    step_id="t/2",
    trigger="t",
    function="lookup",
    asynchronous=False,
    payload='{"from": "+1555"}',
    timeout_seconds=5,
)


class FakeAws:
    def __init__(self, failure: Exception | None = None, answer: Invocation | None = None):
        self.calls: list[dict[str, Any]] = []
        self.failure = failure
        self.answer = answer or Invocation(200, b'{"name": "Ann"}')

    def publish(self, **call: Any) -> str:
        self.calls.append(call)
        if self.failure:
            raise self.failure
        return "event-1"

    def invoke(self, **call: Any) -> Invocation:
        self.calls.append(call)
        if self.failure:
            raise self.failure
        return self.answer


def effects(aws: FakeAws, *, buses: tuple[str, ...] = (BUS,), functions=(FUNCTION,)) -> Effects:
    def nothing(*_: Any, **__: Any) -> Any:
        raise AssertionError("no SMS here")

    return Effects(
        message_sid="SM" + "0" * 32,
        messaging=nothing,
        records=InMemoryRecordTables(),
        settings=EffectSettings(
            status_callback_url=None,
            records_table="records",
            event_bus_arns=buses,
            function_arns=functions,
        ),
        record_outbound=nothing,
        owners=nothing,
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        events=lambda: aws,  # type: ignore[arg-type,return-value]
        functions=lambda: aws,  # type: ignore[arg-type,return-value]
    )


def test_an_event_goes_to_the_named_bus_by_its_arn_with_the_fixed_source() -> None:
    aws = FakeAws()
    result = effects(aws).perform(EVENT, "k")
    assert (result.state, result.variables) == (StepState.DONE, {"event_id": "event-1"})
    assert aws.calls == [
        {"bus": BUS, "source": "sms-automation", "detail_type": "SMS", "detail": "{}"}
    ]


@pytest.mark.parametrize("bus", ["payments", "arn:aws:events:us-east-1:1:event-bus/orders-x"])
def test_a_bus_not_named_is_refused(bus: str) -> None:
    aws = FakeAws()
    result = effects(aws).perform(PublishEvent(**{**_fields(EVENT), "bus": bus}), "k")
    assert result.state is StepState.FAILED
    assert "not among the deployment's EventBusArns" in result.detail
    assert aws.calls == []


def test_no_bus_named_refuses_every_event() -> None:
    assert effects(FakeAws(), buses=()).perform(EVENT, "k").state is StepState.FAILED


def test_a_sync_invocation_puts_the_result_into_variables() -> None:
    aws = FakeAws()
    result = effects(aws).perform(SYNC, "k")
    assert (result.state, result.variables) == (
        StepState.DONE,
        {"status": 200, "result": {"name": "Ann"}, "error": ""},
    )
    assert aws.calls == [
        {"function": FUNCTION, "payload": SYNC.payload, "asynchronous": False, "timeout_seconds": 5}
    ]


def test_an_async_invocation_is_queued() -> None:
    step = InvokeLambda(**{**_fields(SYNC), "asynchronous": True})
    result = effects(FakeAws(answer=Invocation(202))).perform(step, "k")
    assert (result.state, result.variables) == (StepState.DONE, {"status": 202})


def test_a_function_error_fails_the_step_with_its_type_only() -> None:
    aws = FakeAws(answer=Invocation(200, b'{"errorMessage": "secret"}', "Unhandled"))
    result = effects(aws).perform(SYNC, "k")
    assert (result.state, result.detail) == (StepState.FAILED, "the function failed: Unhandled")


def test_a_result_too_large_fails_the_step_as_run_not_as_refused() -> None:
    aws = FakeAws(answer=Invocation(200, result_too_large=True))
    result = effects(aws).perform(SYNC, "k")
    assert result.state is StepState.FAILED
    assert result.detail == (
        "the function ran (answered 200) but its result is over 64 KB: not kept; not repeated"
    )


def test_a_function_not_named_is_refused() -> None:
    aws = FakeAws()
    result = effects(aws, functions=()).perform(SYNC, "k")
    assert "InvokeFunctionArns" in result.detail
    assert aws.calls == []


@pytest.mark.parametrize("step", [EVENT, SYNC], ids=["event", "invoke"])
def test_throttled_is_retried_refused_fails_unanswered_is_never_resent(step: Any) -> None:
    with pytest.raises(NotPerformed):
        effects(FakeAws(CallRefused("ThrottlingException", transient=True))).perform(step, "k")
    refused = effects(FakeAws(CallRefused("AccessDeniedException", transient=False)))
    assert refused.perform(step, "k").state is StepState.FAILED
    unanswered = effects(FakeAws(CallUnanswered("ReadTimeoutError")))
    with pytest.raises(MaybePerformed):
        unanswered.perform(step, "k")
    with pytest.raises(CannotTell):
        unanswered.find_performed(step, since="2026-01-01T00:00:00Z")


def _fields(step: Any) -> dict[str, Any]:
    return {name: getattr(step, name) for name in step.__dataclass_fields__}
