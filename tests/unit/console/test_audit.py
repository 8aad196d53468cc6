"""The audit record's use case (``console.audit``) over an in-memory store: what an entry keeps
(bounded, numbers masked, no body, no secret), its retention, and its listing page by page
with cursors that cannot cross accounts."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from sms_automation.console.access import AccessDenied, Principal, Role
from sms_automation.console.audit import (
    ACTIONS,
    RETENTION_DAYS,
    AuditLog,
    listing,
    mask_numbers,
)
from sms_automation.console.queries import BadRequest, Cursor, PageQuery
from tests.support.fakes import InMemoryAuditStore

NOW = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)


def log_at(store: InMemoryAuditStore, *moments: datetime) -> AuditLog:
    clock = iter(moments)
    ids = (f"id{n:04d}" for n in itertools.count())
    return AuditLog(store, clock=lambda: next(clock), new_id=lambda: next(ids))


VIEWER = Principal("ann@example.com", Role.VIEWER, frozenset({"acme"}))


def test_an_entry_says_who_did_what_when_and_expires_after_the_retention() -> None:
    store = InMemoryAuditStore()
    entry = log_at(store, NOW).record(
        actor="bo@example.com",
        action="conversation.cancel",
        account="acme",
        target="SM0123456789abcdef0123456789abcdef:ask/1",
        detail={"contact": "+14155550123", "status": "waiting", "replies": 2, "late": False},
    )
    assert entry.as_dict() == {
        "id": "id0000",
        "at": "2026-12-07T04:00:00.000Z",
        "actor": "bo@example.com",
        "action": "conversation.cancel",
        "account": "acme",
        "target": "SM0123456789abcdef0123456789abcdef:ask/1",  # a SID's digits are not a number
        "detail": {"contact": "+1********23", "status": "waiting", "replies": 2, "late": False},
    }
    assert store.expiries[entry.position] == int((NOW + timedelta(days=400)).timestamp())
    assert RETENTION_DAYS == 400


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("+14155550123", "+1********23"),
        ("whatsapp:+447700900123", "whatsapp:+4*********23"),
        ("to 14155550123 and +15551234567", "to 1********23 and +1********67"),
        ("2026-12-07T04:00:00Z", "2026-12-07T04:00:00Z"),
        ("version 12", "version 12"),
        ("MM0123456789", "MM0123456789"),
        ("+1********23", "+1********23"),
    ],
)
def test_phone_numbers_are_masked_like_the_logs_mask_them(text: str, masked: str) -> None:
    assert mask_numbers(text) == masked


@pytest.mark.parametrize(
    "entry_id",
    [
        "74505369-5ec3-45ac-a2a1-827f2f75b3be",  # its first group all digits: 1 in 40 of them
        "7450536a-5ec3-45ac-a2a1-827012345678",  # its last group all digits
        "74505369-5EC3-45AC-A2A1-827012345678",
    ],
)
def test_a_uuid_is_kept_whole_though_a_group_of_it_is_all_digits(entry_id: str) -> None:
    """A dead letter's entry id (an SQS message id) names the entry a redrive changed."""
    entry = log_at(InMemoryAuditStore(), NOW).record(
        actor="bo@example.com",
        action="dead_letter.redrive",
        account="acme",
        target=entry_id,
        detail={"entry": entry_id, "contact": "+14155550123"},
    )
    assert entry is not None
    assert entry.target == entry_id
    assert entry.detail == {"entry": entry_id, "contact": "+1********23"}
    assert mask_numbers(f"{entry_id} +14155550123 14155550123-x") == (
        f"{entry_id} +1********23 1********23-x"
    )


def test_a_target_or_detail_is_bounded_and_a_float_is_kept_as_text() -> None:
    store = InMemoryAuditStore()
    entry = log_at(store, NOW).record(
        actor="x" * 300,
        action="trigger.push",
        account="acme",
        target="t" * 500,
        detail={"note": "n" * 500, "sids": [f"SM{n}" for n in range(50)], "ratio": 0.5},
    )
    assert len(entry.actor) == 254
    assert len(entry.target) == 200
    assert entry.target.endswith("…")
    assert len(entry.detail["note"]) == 200
    assert len(entry.detail["sids"]) == 20
    assert entry.detail["ratio"] == "0.5"


@pytest.mark.parametrize("key", ["body", "Body", "text", "prompt", "token", "auth_token"])
def test_a_detail_never_carries_a_body_or_a_secret(key: str) -> None:
    store = InMemoryAuditStore()
    with pytest.raises(ValueError, match="not allowed"):
        log_at(store, NOW).record(
            actor="a@example.com", action="contact.reply", account="acme", target="t",
            detail={key: "Hello Ann, your appointment is at 9"},
        )  # fmt: skip
    assert store.entries == {}


def test_only_the_known_actions_are_recorded() -> None:
    store = InMemoryAuditStore()
    with pytest.raises(ValueError, match="unknown audit action"):
        log_at(store, NOW).record(actor="a", action="message.delete", account="acme", target="")
    with pytest.raises(ValueError, match="at most 20 keys"):
        log_at(store, NOW).record(
            actor="a", action="trigger.push", account="acme", target="",
            detail={f"k{n}": n for n in range(21)},
        )  # fmt: skip
    assert {"trigger.push", "conversation.cancel", "dead_letter.redrive"} <= ACTIONS
    assert store.entries == {}


def test_the_listing_pages_newest_first_and_its_cursor_stays_in_its_account() -> None:
    store = InMemoryAuditStore()
    moments = [NOW + timedelta(seconds=n) for n in range(5)]
    log = log_at(store, *moments, NOW)
    for n in range(5):
        log.record(actor="a@example.com", action="trigger.push", account="acme", target=f"v{n}")
    log.record(actor="a@example.com", action="trigger.push", account="globex", target="other")

    seen: list[str] = []
    query = PageQuery(limit=2)
    while True:
        page = listing(log, VIEWER, "acme", query)
        seen += [item["target"] for item in page["items"]]
        assert all(set(item) == {"id", "at", "actor", "action", "target", "detail"}
                   for item in page["items"])  # fmt: skip
        if page["next_cursor"] is None:
            break
        query = PageQuery(cursor=decode(page["next_cursor"]), limit=2)
    assert seen == ["v4", "v3", "v2", "v1", "v0"]

    foreign = PageQuery(cursor=Cursor("globex", "2026-12-07T04:00:09.000Z#id0009"))
    with pytest.raises(AccessDenied):
        listing(log, VIEWER, "acme", foreign)  # globex is not theirs: 403
    admin = Principal("bo@example.com", Role.ADMIN, None)
    with pytest.raises(BadRequest, match="another account"):
        listing(log, admin, "acme", foreign)  # theirs, but not this listing's: 400


def decode(cursor: str) -> Cursor:
    from sms_automation.console.queries import decode_cursor

    return decode_cursor(cursor)
