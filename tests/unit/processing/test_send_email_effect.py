"""A ``send_email`` step's effect: only from a sender the deployment names (none named: refused,
with why); SES's answers turned into done, failed, not performed (retried) or maybe performed
(never resent: ``find_performed`` cannot tell)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from sms_automation.processing.effects import NO_EMAIL_SENDERS, Effects, EffectSettings
from sms_automation.processing.ledger import StepState
from sms_automation.processing.port import CannotTell, MaybePerformed, NotPerformed
from sms_automation.processing.ports import CallRefused, CallUnanswered
from sms_automation.triggers.plan import SendEmail
from tests.support.fakes import InMemoryRecordTables

STEP = SendEmail(
    step_id="t/1",
    trigger="t",
    from_=None,
    to=("desk@example.org",),
    reply_to=None,
    subject="SMS from +1555",
    text="hello",
    html=None,
)


class FakeMailer:
    def __init__(self, failure: Exception | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.failure = failure

    def send_email(
        self,
        *,
        from_: str,
        to: Sequence[str],
        reply_to: str | None,
        subject: str,
        text: str | None,
        html: str | None,
    ) -> str:
        if self.failure is not None:
            raise self.failure
        self.sent.append({"from": from_, "to": list(to), "subject": subject})
        return f"mail-{len(self.sent)}"


def effects(mailer: FakeMailer, senders: tuple[str, ...]) -> Effects:
    def nothing(*_: Any, **__: Any) -> Any:
        raise AssertionError("an e-mail step sends no SMS")

    return Effects(
        message_sid="SM" + "0" * 32,
        messaging=nothing,
        records=InMemoryRecordTables(),
        settings=EffectSettings(
            status_callback_url=None, records_table="records", email_senders=senders
        ),
        record_outbound=nothing,
        owners=nothing,
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        mailer=lambda: mailer,
    )


def test_sent_from_the_default_sender() -> None:
    mailer = FakeMailer()
    result = effects(mailer, ("*@example.net", "bot@example.com")).perform(STEP, "k")
    assert (result.state, result.variables) == (StepState.DONE, {"message_id": "mail-1"})
    assert mailer.sent == [
        {"from": "bot@example.com", "to": ["desk@example.org"], "subject": "SMS from +1555"}
    ]


def test_no_sender_named_refuses_and_sends_nothing() -> None:
    mailer = FakeMailer()
    result = effects(mailer, ()).perform(STEP, "k")
    assert (result.state, result.detail) == (StepState.FAILED, NO_EMAIL_SENDERS)
    assert mailer.sent == []


@pytest.mark.parametrize("sender", ["boss@example.com", "bot@example.com.evil.io"])
def test_a_sender_the_deployment_does_not_name_is_refused(sender: str) -> None:
    mailer = FakeMailer()
    step = replace(STEP, from_=sender)
    result = effects(mailer, ("bot@example.com", "*@example.net")).perform(step, "k")
    assert result.state is StepState.FAILED
    assert "not among the deployment's EmailSenders" in result.detail
    assert mailer.sent == []


def test_a_domain_allows_its_addresses() -> None:
    mailer = FakeMailer()
    step = replace(STEP, from_="desk@example.net")
    assert effects(mailer, ("*@example.net",)).perform(step, "k").state is StepState.DONE


def test_throttled_is_not_performed_and_refused_for_good_fails() -> None:
    with pytest.raises(NotPerformed, match="Throttling"):
        effects(FakeMailer(CallRefused("Throttling", transient=True)), ("b@x.io",)).perform(
            STEP, "k"
        )
    result = effects(
        FakeMailer(CallRefused("MessageRejected", transient=False)), ("b@x.io",)
    ).perform(STEP, "k")
    assert (result.state, result.detail) == (
        StepState.FAILED,
        "SES did not send the e-mail: MessageRejected",
    )


def test_an_unanswered_send_may_have_happened_and_is_never_looked_up_as_not_sent() -> None:
    unanswered = effects(FakeMailer(CallUnanswered("ReadTimeoutError")), ("b@x.io",))
    with pytest.raises(MaybePerformed):
        unanswered.perform(STEP, "k")
    with pytest.raises(CannotTell):
        unanswered.find_performed(STEP, since="2026-01-01T00:00:00Z")
