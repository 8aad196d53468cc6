"""Status callbacks, the pure part: parsing, lifecycle ranking, failures, and the wait a failed
prompt ends."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sms_automation.webhooks.receive_status import (
    UNKNOWN_STATUS_RANK,
    OutboundKind,
    Outcome,
    RecordedStatus,
    StatusReceived,
    end_conversation_of_failed_prompt,
    is_failure,
    parse_status_callback,
    status_rank,
    supersedes,
)
from sms_automation.webhooks.rejections import MalformedRequest

MESSAGE_SID = "SM" + "a" * 32
CALL_SID = "CA" + "b" * 32
ACCOUNT_SID = "AC" + "0" * 32


def message_fields(status: str, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": MESSAGE_SID,
        "SmsSid": MESSAGE_SID,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": "+15558675310",
        "From": "+15017122661",
        "ApiVersion": "2010-04-01",
        **extra,
    }


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ("accepted", "queued"),
        ("queued", "sending"),
        ("sending", "sent"),
        ("sent", "delivered"),
        ("sent", "undelivered"),
        ("queued", "failed"),
        ("delivered", "read"),
        ("scheduled", "canceled"),
    ],
)
def test_status_rank_orders_the_message_lifecycle(earlier: str, later: str) -> None:
    assert status_rank("sms", earlier) < status_rank("sms", later)
    assert supersedes("sms", later, earlier)
    assert not supersedes("sms", earlier, later)


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ("queued", "initiated"),
        ("initiated", "ringing"),
        ("ringing", "in-progress"),
        ("ringing", "answered"),
        ("in-progress", "completed"),
        ("ringing", "busy"),
        ("ringing", "no-answer"),
        ("initiated", "failed"),
        ("queued", "canceled"),
    ],
)
def test_status_rank_orders_the_call_lifecycle(earlier: str, later: str) -> None:
    assert supersedes("call", later, earlier)
    assert not supersedes("call", earlier, later)


@pytest.mark.parametrize("kind", ["sms", "call"])
def test_status_rank_keeps_the_first_of_alternative_final_statuses(kind: OutboundKind) -> None:
    final = ("delivered", "undelivered") if kind == "sms" else ("completed", "busy")
    assert not supersedes(kind, final[1], final[0])
    assert not supersedes(kind, final[0], final[1])


def test_status_rank_a_late_sent_never_replaces_delivered() -> None:
    assert not supersedes("sms", "sent", "delivered")
    assert supersedes("sms", "delivered", "sent")


def test_status_rank_an_unknown_status_never_replaces_a_known_one() -> None:
    assert status_rank("sms", "teleported") == UNKNOWN_STATUS_RANK
    assert not supersedes("sms", "teleported", "accepted")
    assert supersedes("sms", "teleported", None)
    assert supersedes("sms", "accepted", "teleported")


def test_status_rank_the_first_status_always_becomes_current() -> None:
    assert supersedes("sms", "sent", None)
    assert supersedes("call", "ringing", None)


@pytest.mark.parametrize(
    ("kind", "status", "failed"),
    [
        ("sms", "failed", True),
        ("sms", "undelivered", True),
        ("sms", "delivered", False),
        ("sms", "sent", False),
        ("call", "busy", True),
        ("call", "no-answer", True),
        ("call", "failed", True),
        ("call", "completed", False),
        ("call", "canceled", False),
    ],
)
def test_is_failure_classifies_final_statuses(
    kind: OutboundKind, status: str, failed: bool
) -> None:
    assert is_failure(kind, status) is failed


def test_parse_status_callback_reads_a_message_callback_with_its_error_code() -> None:
    callback = parse_status_callback(message_fields("undelivered", ErrorCode="30003"))
    assert (callback.kind, callback.sid, callback.status) == ("sms", MESSAGE_SID, "undelivered")
    assert callback.error_code == "30003"
    assert callback.failed
    assert callback.params["SmsStatus"] == "undelivered"


def test_parse_status_callback_reads_a_call_callback() -> None:
    fields = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": CALL_SID,
        "CallStatus": "no-answer",
        "CallbackSource": "call-progress-events",
        "SequenceNumber": "3",
    }
    callback = parse_status_callback(fields)
    assert (callback.kind, callback.sid, callback.status) == ("call", CALL_SID, "no-answer")
    assert callback.error_code is None
    assert callback.failed


def test_parse_status_callback_an_empty_error_code_is_none() -> None:
    assert parse_status_callback(message_fields("sent", ErrorCode="")).error_code is None


@pytest.mark.parametrize(
    "fields",
    [
        {"AccountSid": ACCOUNT_SID, "MessageSid": MESSAGE_SID, "Body": "an inbound message"},
        message_fields("sent", MessageSid="SM123"),
        message_fields("sent", MessageSid=""),
        message_fields(""),
        message_fields("sent#STATUS#x"),
        message_fields("s" * 33),
        message_fields("failed", ErrorCode="30003; DROP"),
        {"AccountSid": ACCOUNT_SID, "CallSid": "CA1", "CallStatus": "ringing"},
    ],
)
def test_parse_status_callback_rejects_what_is_not_a_status_callback(
    fields: dict[str, str],
) -> None:
    with pytest.raises(MalformedRequest):
        parse_status_callback(fields)


# --- a failed prompt ends its wait (end_conversation_of_failed_prompt), with in-memory fakes ---


@dataclass(frozen=True)
class Sent:
    origin_message_sid: str | None
    origin_step_id: str | None


class SentMemory:
    def __init__(self, records: dict[str, Sent]) -> None:
        self.records = records

    def get(self, sid: str) -> Sent | None:
        return self.records.get(sid)


class ConversationsMemory:
    def __init__(self) -> None:
        self.failed: list[tuple[str, str, str]] = []

    def prompt_failed(self, message_sid: str, prompt_step_id: str, detail: str) -> bool:
        self.failed.append((message_sid, prompt_step_id, detail))
        return True


PROMPT = Sent("SM" + "c" * 32, "t/2/prompt")


def received(status: str, outcome: Outcome = "recorded", **extra: str) -> StatusReceived:
    callback = parse_status_callback(message_fields(status, **extra))
    return StatusReceived(outcome, "acme", callback, RecordedStatus(True, True, True))


def test_a_failed_prompt_ends_its_conversation_naming_the_status_and_error() -> None:
    conversations = ConversationsMemory()
    ended = end_conversation_of_failed_prompt(
        received("undelivered", ErrorCode="30003"),
        SentMemory({MESSAGE_SID: PROMPT}),
        lambda: conversations,
    )
    assert ended
    assert conversations.failed == [
        (PROMPT.origin_message_sid, "t/2/prompt", "the prompt was undelivered (error 30003)")
    ]


def test_a_repeated_failed_callback_still_ends_the_conversation() -> None:
    conversations = ConversationsMemory()
    repeated = received("failed", outcome="duplicate")
    assert end_conversation_of_failed_prompt(
        repeated, SentMemory({MESSAGE_SID: PROMPT}), lambda: conversations
    )
    assert conversations.failed == [
        (PROMPT.origin_message_sid, "t/2/prompt", "the prompt was failed")
    ]


@pytest.mark.parametrize(
    ("callback", "sent"),
    [
        (received("delivered"), {MESSAGE_SID: PROMPT}),  # not a failure
        (received("failed", outcome="other_account"), {MESSAGE_SID: PROMPT}),  # not ours
        (received("failed"), {}),  # a Sid we have no record of
        (received("failed"), {MESSAGE_SID: Sent(None, None)}),  # not sent by a step
    ],
)
def test_anything_else_ends_no_conversation(
    callback: StatusReceived, sent: dict[str, Sent]
) -> None:
    conversations = ConversationsMemory()
    assert not end_conversation_of_failed_prompt(callback, SentMemory(sent), lambda: conversations)
    assert conversations.failed == []


def test_without_a_conversation_state_machine_nothing_is_read() -> None:
    class Unreadable:
        def get(self, sid: str) -> Sent | None:
            raise AssertionError("read although no conversation can wait")

    assert not end_conversation_of_failed_prompt(received("failed"), Unreadable(), lambda: None)
