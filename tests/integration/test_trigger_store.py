"""Stored trigger sets on moto: ``DynamoTriggerStore`` and ``sms-automation triggers push|list|
show|rollback``, with the table from template.yaml and accounts created the way the CLI does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sms_automation.adapters.trigger_store import (
    MAX_SOURCE_BYTES,
    ConcurrentTriggerChange,
    DynamoTriggerStore,
    KeptTriggerVersions,
    TriggerSourceTooLarge,
    TriggerVersionNotFound,
)
from sms_automation.triggers import compile_triggers, parse_trigger_text
from sms_automation_cli.main import main
from tests.support.aws import (
    SECRETS_PREFIX,
    account_registry,
    add_account,
    use_dummy_aws_credentials,
)
from tests.support.template import ROOT, create_table_kwargs

pytestmark = pytest.mark.integration

EXAMPLES = ROOT / "examples" / "triggers"
NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
FIRST = "version: 1\ntriggers:\n  - name: first\n    actions: [{type: stop}]\n"
SECOND = "version: 1\ntriggers:\n  - name: second\n    actions: [{type: stop}]\n"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        kwargs = create_table_kwargs()
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(**kwargs)
        add_account(account_registry(kwargs["TableName"], dynamodb, boto3.client("secretsmanager")))
        monkeypatch.setenv("SMS_AUTOMATION_TABLE", kwargs["TableName"])
        monkeypatch.setenv("SMS_AUTOMATION_SECRETS_PREFIX", SECRETS_PREFIX)
        monkeypatch.setenv("SMS_AUTOMATION_WEBHOOK_BASE_URL", "https://sms.example.com")
        yield str(kwargs["TableName"])


def store_for(table: str) -> DynamoTriggerStore:
    return DynamoTriggerStore(table, boto3.client("dynamodb"))


def push_text(store: DynamoTriggerStore, text: str, account: str = "acme") -> int:
    trigger_set = parse_trigger_text(text)
    return store.push(
        account,
        text,
        compile_triggers(trigger_set).fingerprint,
        NOW,
        trigger_names=[t.name for t in trigger_set.triggers],
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- the store --------------------------------------------------------------------------------


def test_trigger_store_current_is_none_before_any_push(table: str) -> None:
    store = store_for(table)
    assert store.current("acme") is None
    assert store.current_version("acme") is None
    assert store.list_versions("acme") == []


def test_trigger_store_push_keeps_every_version_and_points_at_the_newest(table: str) -> None:
    store = store_for(table)
    assert push_text(store, FIRST) == 1
    assert push_text(store, SECOND) == 2

    current = store.current("acme")
    assert current is not None
    assert (current.version, current.source) == (2, SECOND)
    assert current.info.trigger_names == ("second",)
    assert current.pushed_at == "2026-11-26T18:00:00.000Z"
    first = store.version("acme", 1)
    assert first is not None
    assert first.source == FIRST
    assert first.fingerprint == compile_triggers(parse_trigger_text(FIRST)).fingerprint
    assert [info.version for info in store.list_versions("acme")] == [2, 1]


def test_kept_versions_read_the_pointer_every_time_and_each_version_once(table: str) -> None:
    """The processor's source: a push applies to the very next message, and the immutable
    version item is read once per warm instance, not twice per message."""
    store = store_for(table)
    reads: list[str] = []
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register(
        "before-call.dynamodb.GetItem",
        lambda params, **_: reads.append(json.loads(params["body"])["Key"]["sk"]["S"]),
    )
    kept = KeptTriggerVersions(DynamoTriggerStore(table, boto3.client("dynamodb")))
    assert kept.current("acme") is None
    assert kept.version("acme", 1) is None
    assert push_text(store, FIRST) == 1
    for _ in range(3):
        current = kept.current("acme")
        assert current is not None
        assert (current.version, current.source) == (1, FIRST)
    assert push_text(store, SECOND) == 2
    current = kept.current("acme")
    assert current is not None
    assert (current.version, current.source) == (2, SECOND)
    pinned = kept.version("acme", 1)
    assert pinned is not None
    assert pinned.source == FIRST
    assert reads == [
        "TRIGGERS#CURRENT",  # nothing pushed yet
        "TRIGGERS#V00000001",  # not there: asked again later
        "TRIGGERS#CURRENT",
        "TRIGGERS#V00000001",
        "TRIGGERS#CURRENT",
        "TRIGGERS#CURRENT",
        "TRIGGERS#CURRENT",
        "TRIGGERS#V00000002",
    ]


def test_trigger_store_versions_are_per_account(table: str) -> None:
    store = store_for(table)
    push_text(store, FIRST)
    assert push_text(store, SECOND, account="globex") == 1
    assert store.list_versions("acme")[0].trigger_names == ("first",)


def test_trigger_store_refuses_a_source_over_the_limit_and_stores_nothing(table: str) -> None:
    store = store_for(table)
    huge = FIRST + "#" * MAX_SOURCE_BYTES
    with pytest.raises(TriggerSourceTooLarge):
        store.push("acme", huge, "f" * 16, NOW)
    assert store.current("acme") is None


def test_trigger_store_a_push_that_lost_the_race_stores_nothing(table: str) -> None:
    """B pushes between A's read of the pointer and A's write: A must fail, B's version stays.

    The interleaving is forced rather than raced with threads: moto's TransactWriteItems is not
    atomic across threads (a cancelled transaction restores a table snapshot taken before it,
    wiping what a concurrent one committed), so a threaded test would exercise moto, not us.
    """
    client = boto3.client("dynamodb")
    other = store_for(table)

    class PushesFirst:
        """The DynamoDB client A uses: lets B push just before A's transaction."""

        def __getattr__(self, name: str) -> Any:
            return getattr(client, name)

        def transact_write_items(self, **kwargs: Any) -> Any:
            push_text(other, SECOND)
            return client.transact_write_items(**kwargs)

    push_text(other, FIRST)
    loser = DynamoTriggerStore(table, PushesFirst())  # type: ignore[arg-type]
    with pytest.raises(ConcurrentTriggerChange, match="push again"):
        push_text(loser, "version: 1\ntriggers: []\n")

    current = other.current("acme")
    assert current is not None
    assert (current.version, current.source) == (2, SECOND)
    assert [info.version for info in other.list_versions("acme")] == [2, 1]


def test_trigger_store_first_push_race_is_detected_too(table: str) -> None:
    client = boto3.client("dynamodb")
    other = store_for(table)

    class PushesFirst:
        def __getattr__(self, name: str) -> Any:
            return getattr(client, name)

        def transact_write_items(self, **kwargs: Any) -> Any:
            push_text(other, SECOND)
            return client.transact_write_items(**kwargs)

    loser = DynamoTriggerStore(table, PushesFirst())  # type: ignore[arg-type]
    with pytest.raises(ConcurrentTriggerChange):
        push_text(loser, FIRST)
    assert [info.version for info in other.list_versions("acme")] == [1]


def test_trigger_store_rollback_makes_an_old_text_current_as_a_new_version(table: str) -> None:
    store = store_for(table)
    push_text(store, FIRST)
    push_text(store, SECOND)

    assert store.rollback("acme", 1, NOW) == 3
    current = store.current("acme")
    assert current is not None
    assert (current.version, current.source, current.info.restored_from) == (3, FIRST, 1)
    assert current.fingerprint == store.list_versions("acme")[-1].fingerprint
    with pytest.raises(TriggerVersionNotFound):
        store.rollback("acme", 9, NOW)


def test_trigger_store_refuses_a_push_or_rollback_edited_from_an_older_version(table: str) -> None:
    store = store_for(table)
    fingerprint = compile_triggers(parse_trigger_text(FIRST)).fingerprint
    assert (
        store.push("acme", FIRST, fingerprint, NOW, expected_version=0, pushed_by="ann@x.org") == 1
    )
    push_text(store, SECOND)

    with pytest.raises(ConcurrentTriggerChange):
        store.push("acme", FIRST, fingerprint, NOW, expected_version=1)
    with pytest.raises(ConcurrentTriggerChange):
        store.rollback("acme", 1, NOW, expected_version=1)
    assert store.current_version("acme") == 2

    assert store.rollback("acme", 1, NOW, expected_version=2, pushed_by="bo@x.org") == 3
    who = {info.version: info.pushed_by for info in store.list_versions("acme")}
    assert who == {3: "bo@x.org", 2: None, 1: "ann@x.org"}


# --- the CLI ----------------------------------------------------------------------------------


def test_triggers_push_list_show_round_trip(
    table: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    example = EXAMPLES / "keyword-routing.yaml"
    code, out, err = run(capsys, "triggers", "push", "acme", str(example))
    assert (code, err) == (0, "")
    fingerprint = compile_triggers(parse_trigger_text(example.read_text("utf-8"))).fingerprint
    assert f"version 1 (fingerprint {fingerprint})" in out

    edited = tmp_path / "auto.yaml"
    edited.write_bytes((EXAMPLES / "auto-reply.yaml").read_bytes().replace(b"\n", b"\r\n"))
    assert run(capsys, "triggers", "push", "acme", str(edited))[0] == 0

    code, out, _ = run(capsys, "triggers", "list", "acme")
    assert code == 0
    rows = out.splitlines()
    assert rows[1].startswith("*       2 ")
    assert rows[2].startswith("        1 ")
    assert fingerprint in rows[2]

    code, out, _ = run(capsys, "triggers", "list", "acme", "--json")
    listed = [json.loads(line) for line in out.splitlines()]
    assert [(v["version"], v["current"]) for v in listed] == [(2, True), (1, False)]
    assert listed[1]["fingerprint"] == fingerprint

    capsys.readouterr()
    assert main(["triggers", "show", "acme"]) == 0
    assert capsys.readouterr().out.encode("utf-8") == edited.read_bytes()  # verbatim, CRLF kept
    code, out, _ = run(capsys, "triggers", "show", "acme", "--version", "1")
    assert (code, out) == (0, example.read_text("utf-8"))


def test_triggers_push_of_an_invalid_file_stores_nothing(
    table: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ntriggers:\n  - name: x\n    actions:\n      - type: sned_sms\n")
    code, out, err = run(capsys, "triggers", "push", "acme", str(bad))
    assert code == 1
    assert out == ""
    assert err.startswith(f"{bad}:5: ")
    assert "sned_sms" in err
    assert store_for(table).list_versions("acme") == []


def test_triggers_push_refuses_a_record_into_the_app_table(
    table: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The CLI knows the deployment's table (here SMS_AUTOMATION_TABLE; else the stack's
    TableName output): a record naming it is a problem of the file, on its line."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\ntriggers:\n  - name: x\n    actions:\n      - type: record\n"
        f"        table: {table}\n        item: {{pk: ACCOUNT#acme, sk: ACCOUNT}}\n"
    )
    code, out, err = run(capsys, "triggers", "push", "acme", str(bad))
    assert (code, out) == (1, "")
    assert err.startswith(f"{bad}:6: trigger 'x': action 1 (record): table: {table!r} is the ")
    assert "application's own table" in err
    assert store_for(table).list_versions("acme") == []


def test_triggers_push_to_an_unknown_account_fails(
    table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "triggers", "push", "nobody", str(EXAMPLES / "auto-reply.yaml"))
    assert code == 1
    assert err.startswith("error: no account named 'nobody'")
    assert store_for(table).list_versions("nobody") == []


def test_triggers_push_refuses_a_file_over_the_stored_limit(
    table: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    big = tmp_path / "big.yaml"
    big.write_text(FIRST + "#" * (MAX_SOURCE_BYTES + 1) + "\n")
    code, _, err = run(capsys, "triggers", "push", "acme", str(big))
    assert code == 1
    assert "at most 307200 bytes" in err
    assert store_for(table).current("acme") is None


def test_triggers_rollback_and_show_errors(
    table: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "triggers", "show", "acme")
    assert code == 1
    assert "has no trigger set yet" in err
    assert run(capsys, "triggers", "rollback", "acme", "1")[0] == 1

    store = store_for(table)
    push_text(store, FIRST)
    push_text(store, SECOND)
    code, out, _ = run(capsys, "triggers", "rollback", "acme", "1")
    assert code == 0
    assert "version 3 is current, with the triggers of version 1" in out
    code, out, _ = run(capsys, "triggers", "show", "acme")
    assert out == FIRST
    code, out, _ = run(capsys, "triggers", "list", "acme")
    assert "(rollback to 1)" in out.splitlines()[1]

    code, out, _ = run(capsys, "triggers", "rollback", "acme", "3")
    assert code == 0
    assert "version 3 is already current" in out
    code, _, err = run(capsys, "triggers", "rollback", "acme", "7")
    assert code == 1
    assert "no trigger set version 7" in err
    code, _, err = run(capsys, "triggers", "show", "acme", "--version", "7")
    assert code == 1
    assert len(store.list_versions("acme")) == 3
