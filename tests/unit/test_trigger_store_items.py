"""Trigger store item mapping and size limit (pure: no AWS)."""

from __future__ import annotations

import pytest

from sms_automation import keys
from sms_automation.adapters.trigger_store import (
    MAX_SOURCE_BYTES,
    StoredTriggerSet,
    TriggerSourceTooLarge,
    TriggerVersionInfo,
    check_source_size,
    info_from_item,
    pointer_to_item,
    version_from_item,
    version_to_item,
)

SOURCE = "# comment kept\r\nversion: 1\ntriggers: []  # é\n"


def _stored(restored_from: int | None = None) -> StoredTriggerSet:
    return StoredTriggerSet(
        info=TriggerVersionInfo(
            account="acme",
            version=12,
            fingerprint="0123456789abcdef",
            trigger_names=("keyword", "catch-all"),
            pushed_at="2026-11-26T18:00:00.000Z",
            source_bytes=len(SOURCE.encode()),
            restored_from=restored_from,
        ),
        source=SOURCE,
    )


def test_trigger_store_version_item_has_the_key_kind_and_verbatim_source() -> None:
    item = version_to_item(_stored())
    assert item["pk"] == {"S": "ACCOUNT#acme"}
    assert item["sk"] == {"S": "TRIGGERS#V00000012"}
    assert item["kind"] == {"S": keys.KIND_TRIGGER_SET}
    assert item["source"] == {"S": SOURCE}
    assert item["version"] == {"N": "12"}
    assert item["trigger_names"] == {"L": [{"S": "keyword"}, {"S": "catch-all"}]}
    assert "restored_from" not in item


@pytest.mark.parametrize("restored_from", [None, 3])
def test_trigger_store_version_item_round_trips(restored_from: int | None) -> None:
    stored = _stored(restored_from)
    assert version_from_item(version_to_item(stored)) == stored
    assert info_from_item(version_to_item(stored)) == stored.info


def test_trigger_store_pointer_item_names_the_version_without_the_source() -> None:
    item = pointer_to_item(_stored().info)
    assert item["sk"] == {"S": "TRIGGERS#CURRENT"}
    assert item["kind"] == {"S": keys.KIND_TRIGGER_POINTER}
    assert item["version"] == {"N": "12"}
    assert item["fingerprint"] == {"S": "0123456789abcdef"}
    assert "source" not in item


def test_trigger_store_size_limit_counts_utf8_bytes() -> None:
    check_source_size("x" * MAX_SOURCE_BYTES)
    with pytest.raises(TriggerSourceTooLarge, match="at most 307200 bytes"):
        check_source_size("é" * (MAX_SOURCE_BYTES // 2 + 1))


def test_trigger_store_size_limit_stays_well_under_dynamodbs_item_limit() -> None:
    assert MAX_SOURCE_BYTES <= 300 * 1024 < 400 * 1000
