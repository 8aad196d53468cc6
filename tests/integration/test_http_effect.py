"""An http_request step performed for real: whatever goes wrong without a response is the
step's failure (recorded, not retried) with a diagnostic that quotes no message text, except a
refused connection, which is retried later (nothing was sent)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import Any

import pytest

from sms_automation.processing.effects import Effects, EffectSettings
from sms_automation.processing.ledger import StepState
from sms_automation.processing.port import NotPerformed
from sms_automation.triggers import HttpRequest
from tests.support.fakes import InMemoryRecordTables

pytestmark = pytest.mark.integration  # real sockets: a local server, a closed port

TEXT = "café au lait"


def effects(*, allow_private: bool = True) -> Effects:
    def nothing(*_: Any, **__: Any) -> Any:
        raise AssertionError("an http_request step touches neither Twilio nor DynamoDB")

    return Effects(
        message_sid="SM" + "0" * 32,
        messaging=nothing,
        records=InMemoryRecordTables(),
        settings=EffectSettings(
            status_callback_url=None, records_table="records", allow_private_networks=allow_private
        ),
        record_outbound=nothing,
        owners=nothing,
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        resolver=lambda host, port: ["127.0.0.1"],
    )


def step(url: str, **headers: str) -> HttpRequest:
    return HttpRequest(
        step_id="t/1",
        trigger="t",
        method="POST",
        url=url,
        headers=headers,
        body=TEXT,
        timeout_seconds=2,
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("request_", "detail"),
    [
        (step(f"http://hooks.example/{TEXT}"), "not sent: the URL is invalid after substitution"),
        (step(f"http://hooks.example/?t={TEXT}\r\n"), "not sent: the URL is invalid"),
        (step("http://hooks.example/", X=f"{TEXT}\r\nInjected: 1"), "not sent: header 'X'"),
        (step(f"http://{TEXT}.example/"), "refused: the URL's host is not a plain host name"),
        (step("ftp://hooks.example/"), "refused: only http:// and https://"),
    ],
)
def test_a_request_that_cannot_be_sent_fails_its_step_without_quoting_the_text(
    request_: HttpRequest, detail: str
) -> None:
    result = effects().perform(request_, "key")
    assert result.state is StepState.FAILED
    assert result.detail.startswith(detail)
    assert "café" not in result.detail


def test_a_refused_connection_is_not_performed_so_a_later_attempt_can_send_it() -> None:
    with pytest.raises(NotPerformed, match=r"no connection to hooks\.example: Connection refused"):
        effects().perform(step(f"http://hooks.example:{closed_port()}/"), "key")


def test_a_private_destination_fails_the_step() -> None:
    result = effects(allow_private=False).perform(step("http://hooks.example/"), "key")
    assert result.state is StepState.FAILED
    assert "non-public address (127.0.0.1)" in result.detail
