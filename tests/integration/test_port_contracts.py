"""One contract, two implementations: each in-memory fake of ``tests/support/fakes.py`` and the
adapter it stands in for (on moto) answer the same calls the same way. The unit tests that use
the fakes are only as true as this suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sms_automation import keys
from sms_automation.adapters.audit_log import DynamoAuditStore
from sms_automation.adapters.automation_run_store import DynamoAutomationRunStore
from sms_automation.adapters.conversation_store import DynamoConversationStore
from sms_automation.adapters.dead_letter_queue import SqsDeadLetterQueue
from sms_automation.adapters.dynamo_json import from_attributes, to_attributes
from sms_automation.adapters.evaluation_store import DynamoEvaluationStore
from sms_automation.adapters.pace_store import DynamoPaceStore
from sms_automation.adapters.record_table import DynamoRecordTables
from sms_automation.adapters.replay_sources import DynamoReceivedMessages, DynamoStoredMessages
from sms_automation.adapters.takeover_store import DynamoTakeoverStore
from sms_automation.adapters.trigger_store import DynamoTriggerStore
from sms_automation.console.audit import AuditEntry
from sms_automation.conversations.model import OpenConversation, decide_reply, open_conversation
from sms_automation.conversations.ports import ConversationStore
from sms_automation.dead_letters.ports import DeadLetterQueue, ReceivedMessages, StoredMessages
from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.processing.pacing import Bucket, PaceStore, Sender
from sms_automation.processing.ports import EvaluationStore, RecordRefused, RecordTables
from sms_automation.takeover import Takeover, Takeovers
from sms_automation.triggers import WaitForReply
from sms_automation.triggers.plan import AnswerPattern, ReminderSpec
from tests.support.aws import use_dummy_aws_credentials
from tests.support.fakes import (
    InMemoryAuditStore,
    InMemoryConversationStore,
    InMemoryDeadLetterQueue,
    InMemoryEvaluationStore,
    InMemoryReceivedMessages,
    InMemoryRecordTables,
    InMemoryRunOrigins,
    InMemoryStoredMessages,
    InMemoryTakeovers,
    InMemoryTriggerFiles,
    MemoryPaceStore,
)
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

TABLE = create_table_kwargs()["TableName"]
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
RECORD = (
    Path(__file__).resolve().parents[1] / "fixtures" / "dead_letter_invocation_record.json"
).read_text(encoding="utf-8")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    use_dummy_aws_credentials(monkeypatch)
    with mock_aws():
        boto3.client("dynamodb").create_table(**create_table_kwargs())
        yield


# --- automations.service.RunOrigins ----------------------------------------------------------


def origin(run: int, automation: str = "Notify", account: str = "acme") -> dict[str, Any]:
    run_id = f"RU{account}{run:08d}"
    requested_at = f"2026-11-26T09:{run:02d}:00.000Z"
    return {
        **keys.automation_run_key(run_id),
        keys.GSI1_PK: keys.account_runs_index_pk(account),
        keys.GSI1_SK: f"{requested_at}#{run_id}",
        keys.GSI2_PK: keys.automation_runs_index_pk(account, automation),
        keys.GSI2_SK: f"{requested_at}#{run_id}",
        "kind": keys.KIND_AUTOMATION_RUN,
        "run_id": run_id,
        "message_sid": run_id,
        "account": account,
        "automation": automation,
        "requested_at": requested_at,
        "request_fingerprint": f"f{run}",
    }


@pytest.fixture(params=["in_memory", "dynamodb"])
def run_origins(request: pytest.FixtureRequest, aws: None) -> Any:
    if request.param == "in_memory":
        return InMemoryRunOrigins()
    return DynamoAutomationRunStore(TABLE, boto3.client("dynamodb"))


def test_run_origins_store_a_run_once(run_origins: Any) -> None:
    assert run_origins.put_new(origin(1)) is None

    existing = run_origins.put_new({**origin(1), "request_fingerprint": "other"})

    assert existing["request_fingerprint"] == "f1"
    assert run_origins.get(origin(1)["run_id"]) == existing
    assert run_origins.get("RUnone") is None


def test_run_origins_list_newest_first_by_automation_whatever_its_case(run_origins: Any) -> None:
    for stored in (origin(1), origin(2, "Other"), origin(3), origin(4, account="globex")):
        run_origins.put_new(stored)

    def listed(**options: Any) -> list[str]:
        return [o["run_id"] for o in run_origins.list_for_account("acme", **options)]

    assert listed() == ["RUacme00000003", "RUacme00000002", "RUacme00000001"]
    assert listed(automation="NOTIFY") == ["RUacme00000003", "RUacme00000001"]
    assert listed(limit=1) == ["RUacme00000003"]


# --- triggers.publish.TriggerFiles + automations.service.CurrentTriggers --------------------


@pytest.fixture(params=["in_memory", "dynamodb"])
def trigger_files(request: pytest.FixtureRequest, aws: None) -> Any:
    if request.param == "in_memory":
        return InMemoryTriggerFiles()
    return DynamoTriggerStore(TABLE, boto3.client("dynamodb"))


def test_trigger_files_push_the_next_version_and_make_it_current(trigger_files: Any) -> None:
    assert trigger_files.current("acme") is None

    first = trigger_files.push("acme", "version: 1\n", "fp1", NOW, trigger_names=["a"])
    second = trigger_files.push("acme", "version: 1 # 2\n", "fp2", NOW, trigger_names=["a"])

    current = trigger_files.current("acme")
    assert (first, second) == (1, 2)
    assert (current.version, current.fingerprint, current.source) == (2, "fp2", "version: 1 # 2\n")
    assert trigger_files.current("globex") is None


# --- dead_letters.ports.DeadLetterQueue -----------------------------------------------------------


@pytest.fixture(params=["in_memory", "sqs"])
def dead_letter_queue(
    request: pytest.FixtureRequest, aws: None
) -> tuple[DeadLetterQueue, Callable[[str], None]]:
    if request.param == "in_memory":
        queue = InMemoryDeadLetterQueue()
        return queue, queue.send
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="dlq")["QueueUrl"]

    def send(body: str) -> None:
        sqs.send_message(QueueUrl=url, MessageBody=body)

    return SqsDeadLetterQueue(url, sqs), send


def test_dead_letter_queue_received_entries_stay_hidden_until_released(
    dead_letter_queue: tuple[DeadLetterQueue, Callable[[str], None]],
) -> None:
    queue, send = dead_letter_queue
    send(RECORD)
    send("not json")

    entries = list(queue.receive_all(visibility_timeout=300, limit=10))

    assert [e.batch is not None for e in entries] == [True, False]
    assert entries[1].problem.startswith("not JSON")
    assert list(queue.receive_all(visibility_timeout=300, limit=10)) == []
    queue.release(entries[0])
    assert [e.message_id for e in queue.receive_all(visibility_timeout=300, limit=10)] == [
        entries[0].message_id
    ]


def test_dead_letter_queue_deleted_entries_are_gone_and_release_all_brings_back_the_rest(
    dead_letter_queue: tuple[DeadLetterQueue, Callable[[str], None]],
) -> None:
    queue, send = dead_letter_queue
    for _ in range(3):
        send(RECORD)
    first, *rest = queue.receive_all(visibility_timeout=300, limit=10)

    queue.delete(first)
    queue.release_all(rest)

    again = list(queue.receive_all(visibility_timeout=300, limit=10))
    assert sorted(e.message_id for e in again) == sorted(e.message_id for e in rest)
    assert len(list(queue.receive_all(visibility_timeout=300, limit=1))) == 0


def test_dead_letter_queue_receive_all_stops_at_the_limit(
    dead_letter_queue: tuple[DeadLetterQueue, Callable[[str], None]],
) -> None:
    queue, send = dead_letter_queue
    for _ in range(3):
        send(RECORD)

    assert len(list(queue.receive_all(visibility_timeout=300, limit=2))) == 2


# --- dead_letters.ports.StoredMessages + ReceivedMessages -----------------------------------------

AT = datetime(2026, 11, 26, 9, tzinfo=UTC)
RECEIVED = [
    ("acme", AT, "SM1"),
    ("acme", AT.replace(minute=5), "SM2"),
    ("acme", AT.replace(hour=11), "SM3"),
    ("globex", AT.replace(minute=1), "SM4"),
]


def message_item(account: str, at: datetime, sid: str) -> dict[str, Any]:
    return {
        **keys.message_key(sid),
        keys.GSI1_PK: keys.account_messages_index_pk(account),
        keys.GSI1_SK: f"{utc_timestamp(at)}#{sid}",
        "kind": "inbound_message",
        "message_sid": sid,
        "account": account,
        "received_at": utc_timestamp(at),
    }


@pytest.fixture(params=["in_memory", "dynamodb"])
def replay_sources(
    request: pytest.FixtureRequest, aws: None
) -> tuple[StoredMessages, ReceivedMessages]:
    items = [to_attributes(message_item(*received)) for received in RECEIVED]
    if request.param == "in_memory":
        return InMemoryStoredMessages(*items), InMemoryReceivedMessages(*RECEIVED)
    client = boto3.client("dynamodb")
    for item in items:
        client.put_item(TableName=TABLE, Item=item)
    return DynamoStoredMessages(TABLE, client), DynamoReceivedMessages(TABLE, client)


def test_stored_messages_answer_the_item_as_stored(
    replay_sources: tuple[StoredMessages, ReceivedMessages],
) -> None:
    messages, _ = replay_sources

    stored = messages.get("SM4")

    assert stored is not None
    assert (stored.account, stored.image) == ("globex", to_attributes(message_item(*RECEIVED[3])))
    assert messages.get("SMnone") is None


def test_received_messages_of_one_account_in_an_inclusive_window_oldest_first(
    replay_sources: tuple[StoredMessages, ReceivedMessages],
) -> None:
    _, received = replay_sources

    assert list(received.received_between("acme", AT, AT.replace(hour=11))) == ["SM1", "SM2", "SM3"]
    assert list(received.received_between("acme", AT.replace(minute=1), AT.replace(hour=10))) == [
        "SM2"
    ]


# --- processing.ports: the run store, the record tables; conversations.ports: the store ---

SID, OTHER = "SM" + "1" * 32, "SM" + "2" * 32
T0, T1 = "2026-12-06T12:00:00.000Z", "2026-12-06T12:01:00.000Z"


def _either(request: pytest.FixtureRequest, fake: Any, adapter: Any) -> Any:
    """The fake, or the adapter on the moto table (``aws``)."""
    if request.param == "in_memory":
        return fake()
    request.getfixturevalue("aws")
    return adapter(TABLE, boto3.client("dynamodb"))


# --- the evaluation store ------------------------------------------------------------------------


@pytest.fixture(params=["dynamodb", "in_memory"])
def evaluations(request: pytest.FixtureRequest) -> EvaluationStore:
    return _either(request, InMemoryEvaluationStore, DynamoEvaluationStore)  # type: ignore[no-any-return]


def test_evaluation_store_first_start_pins_and_a_later_one_counts_itself(
    evaluations: EvaluationStore,
) -> None:
    assert evaluations.get(SID) is None
    first = evaluations.start(
        SID, "acme", trigger_version=3, fingerprint="fp3", now=T0, timezone="Europe/Paris"
    )
    later = evaluations.start(SID, "acme", trigger_version=4, fingerprint="fp4", now=T1)

    assert (first.status, first.trigger_version, first.attempts, first.timezone) == (
        "running",
        3,
        1,
        "Europe/Paris",
    )
    assert (later.trigger_version, later.fingerprint, later.started_at, later.attempts) == (
        3,
        "fp3",
        T0,
        2,
    )
    assert later.timezone == "Europe/Paris"
    assert evaluations.get(SID) == later


def test_evaluation_store_finish_records_the_result(evaluations: EvaluationStore) -> None:
    evaluations.start(SID, "acme", trigger_version=1, fingerprint="fp1", now=T0)
    diagnostic = {"severity": "warning", "message": "m", "trigger": "t", "step_id": "t/1"}
    evaluations.finish(
        SID, status="paused", now=T1, matched=["t"], diagnostics=[diagnostic], paused_at="t/2"
    )
    run = evaluations.get(SID)
    assert run is not None
    assert (run.status, run.finished_at, run.matched, run.paused_at, run.finished) == (
        "paused",
        T1,
        ("t",),
        "t/2",
        False,
    )
    assert [dict(d) for d in run.diagnostics] == [diagnostic]

    evaluations.finish(
        SID, status="completed", now=T1, matched=["t"], diagnostics=[], paused_at=None
    )
    done = evaluations.get(SID)
    assert done is not None
    assert done.finished
    assert done.paused_at == ""


def test_evaluation_store_starts_a_finished_status_as_given(evaluations: EvaluationStore) -> None:
    run = evaluations.start(
        SID, "acme", trigger_version=0, fingerprint="", now=T0, status="own_number"
    )
    assert run.finished
    assert run.timezone == ""
    assert run.finished_at == ""


def test_evaluation_store_finish_once_writes_a_finished_evaluation_as_the_first_write(
    evaluations: EvaluationStore,
) -> None:
    diagnostic = {"severity": "warning", "message": "m", "trigger": "t", "step_id": ""}
    written = evaluations.finish_once(
        SID,
        "acme",
        trigger_version=2,
        fingerprint="fp2",
        timezone="Europe/Paris",
        now=T0,
        status="completed",
        matched=["t"],
        diagnostics=[diagnostic],
    )
    assert written == evaluations.get(SID)
    assert (written.status, written.finished, written.attempts) == ("completed", True, 1)
    assert (written.trigger_version, written.fingerprint, written.timezone) == (
        2,
        "fp2",
        "Europe/Paris",
    )
    assert (written.started_at, written.finished_at, written.matched) == (T0, T0, ("t",))
    assert [dict(d) for d in written.diagnostics] == [diagnostic]
    later = evaluations.start(SID, "acme", trigger_version=3, fingerprint="fp3", now=T1)
    assert (later.status, later.trigger_version, later.attempts) == ("completed", 2, 2)


def test_evaluation_store_finish_once_after_another_attempt_started_writes_nothing_of_its_own(
    evaluations: EvaluationStore,
) -> None:
    evaluations.start(SID, "acme", trigger_version=3, fingerprint="fp3", now=T0)
    met = evaluations.finish_once(
        SID,
        "acme",
        trigger_version=2,
        fingerprint="fp2",
        timezone="",
        now=T1,
        status="completed",
        matched=[],
        diagnostics=[],
    )
    assert (met.status, met.trigger_version, met.started_at, met.attempts) == ("running", 3, T0, 2)
    assert met == evaluations.get(SID)


# --- the record tables ---------------------------------------------------------------------------


@pytest.fixture(params=["dynamodb", "in_memory"])
def records(request: pytest.FixtureRequest) -> RecordTables:
    if request.param == "in_memory":
        return InMemoryRecordTables()
    request.getfixturevalue("aws")
    client = boto3.client("dynamodb")
    client.create_table(
        TableName="crm-leads",
        KeySchema=[{"AttributeName": "record_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "record_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return DynamoRecordTables(client)


def stored_items(records: RecordTables, table: str) -> list[dict[str, Any]]:
    """Every item the table holds, read past the port (a scan; the fake's rows)."""
    if isinstance(records, InMemoryRecordTables):
        return [dict(row) for row in records.tables.get(table, [])]
    scanned = boto3.client("dynamodb").scan(TableName=table)["Items"]
    return [from_attributes(item) for item in scanned]


def test_record_tables_put_the_same_item_twice_as_once(records: RecordTables) -> None:
    records.put("crm-leads", {"record_id": "r1", "name": "Ann"})
    records.put("crm-leads", {"record_id": "r1", "name": "Ann"})
    assert stored_items(records, "crm-leads") == [{"record_id": "r1", "name": "Ann"}]


def test_record_tables_refuse_a_missing_table_for_good(records: RecordTables) -> None:
    if isinstance(records, InMemoryRecordTables):
        records.refuse("ResourceNotFoundException", transient=False)
    with pytest.raises(RecordRefused) as refused:
        records.put("no-such-table", {"record_id": "r1"})
    assert (refused.value.code, refused.value.transient) == ("ResourceNotFoundException", False)


# --- the conversation store ----------------------------------------------------------------------

WAIT = WaitForReply(
    step_id="ask/1",
    trigger="ask",
    to="+14155550101",
    from_="+15005550006",
    prompt="Yes or no?",
    timeout_seconds=3600,
    until=None,
    reminders=(ReminderSpec(600, "Still there?"),),
    expect_words=("yes", "no"),
    expect_patterns=(AnswerPattern("^y", case_sensitive=True),),
    reprompt="Please answer yes or no",
    max_attempts=2,
)
STARTED = datetime(2026, 12, 6, 12, tzinfo=UTC)


@pytest.fixture(params=["dynamodb", "in_memory"])
def store(request: pytest.FixtureRequest) -> ConversationStore:
    return _either(request, InMemoryConversationStore, DynamoConversationStore)  # type: ignore[no-any-return]


def _conversation(sid: str = SID) -> Any:
    return open_conversation(WAIT, message_sid=sid, account="acme", now=STARTED)


def test_conversation_store_creates_once_and_reads_back_whole(store: ConversationStore) -> None:
    first = _conversation()
    assert store.create(first) == first
    assert store.create(replace(first, deadline="2030-01-01T00:00:00Z")) == first
    assert store.get(SID, "ask/1") == first
    assert store.get(SID, "ask/2") is None
    bulk = open_conversation(WAIT, message_sid=OTHER, account="acme", now=STARTED, bulk=True)
    assert store.create(bulk) == bulk
    assert store.get(OTHER, "ask/1") == bulk  # a broadcast's: its timed sends are bulk


def test_conversation_store_keeps_execution_and_tokens(store: ConversationStore) -> None:
    store.create(_conversation())
    store.set_execution(SID, "ask/1", "arn:execution")
    store.set_task_token(SID, "ask/1", "token-1")
    store.set_timer_token(SID, "ask/1", "timer-1")
    kept = store.get(SID, "ask/1")
    assert kept is not None
    assert (kept.execution_arn, kept.task_token, kept.timer_token) == (
        "arn:execution",
        "token-1",
        "timer-1",
    )


def test_conversation_store_resolves_only_while_waiting(store: ConversationStore) -> None:
    conversation = store.create(_conversation())
    assert store.resolve(conversation, "timeout", {"outcome": "timeout"}, T1)
    assert not store.resolve(conversation, "cancelled", {"outcome": "cancelled"}, T1)
    resolved = store.get(SID, "ask/1")
    assert resolved is not None
    assert (resolved.status, resolved.outcome, resolved.resolved_at) == (
        "timeout",
        {"outcome": "timeout"},
        T1,
    )


def test_conversation_store_counts_a_reply_once(store: ConversationStore) -> None:
    conversation = store.create(_conversation())
    decision = decide_reply(conversation, sid=OTHER, body="maybe", received_at=T1)
    assert store.record_reply(decision, seen_attempts=0)
    assert not store.record_reply(decision, seen_attempts=1)  # the same reply again
    after = store.get(SID, "ask/1")
    assert after is not None
    assert (after.attempts, after.status, [r.body for r in after.replies]) == (
        1,
        "waiting",
        ["maybe"],
    )
    recorded = store.recorded_reply(OTHER)
    assert recorded is not None
    assert (recorded.message_sid, recorded.step_id, recorded.resolves, recorded.consumed) == (
        SID,
        "ask/1",
        False,
        True,
    )
    assert recorded.reprompt_step_id == decision.reprompt_step_id
    assert store.recorded_reply(SID) is None


def test_conversation_store_refuses_a_reply_decided_on_stale_attempts(
    store: ConversationStore,
) -> None:
    conversation = store.create(_conversation())
    first = decide_reply(conversation, sid=OTHER, body="maybe", received_at=T1)
    second = decide_reply(conversation, sid="SM" + "3" * 32, body="yes", received_at=T1)
    assert store.record_reply(first, seen_attempts=0)
    assert not store.record_reply(second, seen_attempts=0)  # decided on what it saw: stale
    assert store.recorded_reply("SM" + "3" * 32) is None


def test_conversation_items_keep_the_stored_format_of_the_wait_names(aws: None) -> None:
    """The code says conversation; what it stores keeps its format (docs/conversations.md#names),
    so a table written before the rename reads as before."""
    client = boto3.client("dynamodb")
    table = create_table_kwargs()["TableName"]
    store = DynamoConversationStore(table, client)
    store.claim_contact(store.create(_conversation()))

    items = {
        (item["pk"]["S"], item["sk"]["S"]): item for item in client.scan(TableName=table)["Items"]
    }
    conversation = items[(f"MSG#{SID}", "WAIT#ask/1")]
    contact = items[(f"WAIT#acme#{WAIT.from_}#{WAIT.to}", "WAIT")]
    assert conversation["gsi1pk"]["S"] == "ACCOUNT#acme#WAITS"
    assert conversation["status"]["S"] == "waiting"
    assert contact["kind"]["S"] == "pending_wait"
    assert [c.id for c in store.for_account("acme")] == [f"{SID}:ask/1"]


def test_conversation_store_keeps_one_open_conversation_per_contact(
    store: ConversationStore,
) -> None:
    older, newer = _conversation(SID), _conversation(OTHER)
    assert store.claim_contact(older) is None
    assert store.claim_contact(older) is None  # the same one again replaces nothing
    assert store.claim_contact(newer) == OpenConversation("acme", WAIT.from_, WAIT.to, SID, "ask/1")
    assert store.find_open_conversation("acme", WAIT.from_, WAIT.to) == OpenConversation(
        "acme", WAIT.from_, WAIT.to, OTHER, "ask/1"
    )
    store.release_contact(older)  # no longer its open conversation: kept
    assert store.find_open_conversation("acme", WAIT.from_, WAIT.to) is not None
    store.release_contact(newer)
    assert store.find_open_conversation("acme", WAIT.from_, WAIT.to) is None


@pytest.fixture(params=["in_memory", "dynamodb"])
def audit_store(request: pytest.FixtureRequest, aws: None) -> Any:
    if request.param == "in_memory":
        return InMemoryAuditStore()
    audit = create_table_kwargs("audit-contract", logical_id="AuditTable")
    boto3.client("dynamodb").create_table(**audit)
    return DynamoAuditStore(audit["TableName"], boto3.client("dynamodb"))


def test_audit_store_pages_an_account_newest_first_and_never_rewrites(audit_store: Any) -> None:
    def entry(n: int, account: str = "acme") -> AuditEntry:
        return AuditEntry(f"id{n}", f"2026-11-26T09:30:0{n}.000Z", "bo@example.com",
                          "trigger.push", account, f"v{n}", {"n": n})  # fmt: skip

    for n in range(5):
        audit_store.put(entry(n), expires_at=1)
    audit_store.put(entry(9, "globex"), expires_at=1)
    seen: list[str] = []
    after = None
    while True:
        page = audit_store.page("acme", after=after, size=2)
        seen += [e.target for e in page.entries]
        if page.end is None:
            break
        after = page.end
    assert seen == ["v4", "v3", "v2", "v1", "v0"]
    assert audit_store.page("acme", after=None, size=1).entries == [entry(4)]
    with pytest.raises(Exception, match=r"rewritten|ConditionalCheckFailed"):
        audit_store.put(entry(4), expires_at=2)


def test_audit_store_writes_an_actions_entry_once_and_its_claim_is_never_listed(
    audit_store: Any,
) -> None:
    def entry(at: str) -> AuditEntry:  # a retry: the same action (id), a later moment
        return AuditEntry("run-1-once", at, "bo@example.com", "automation.start", "acme",
                          "reminder", {"run_id": "RU1"})  # fmt: skip

    assert audit_store.put(entry("2026-11-26T09:30:01.000Z"), expires_at=1, once="RU1") is True
    assert audit_store.put(entry("2026-11-26T09:30:05.000Z"), expires_at=1, once="RU1") is False
    other = AuditEntry("run-2-once", "2026-11-26T09:30:06.000Z", "bo@example.com",
                       "automation.start", "globex", "reminder", {})  # fmt: skip
    assert audit_store.put(other, expires_at=1, once="RU1") is True  # another account's
    page = audit_store.page("acme", after=None, size=10)
    assert [e.at for e in page.entries] == ["2026-11-26T09:30:01.000Z"]
    assert page.end is None


# --- takeover.Takeovers ---------------------------------------------------------------------------


ALICE_NUMBER = "+15005550001"


@pytest.fixture(params=["dynamodb", "in_memory"])
def takeovers(request: pytest.FixtureRequest) -> Takeovers:
    return _either(request, InMemoryTakeovers, DynamoTakeoverStore)  # type: ignore[no-any-return]


def takeover(by: str = "ann@example.com", until: str = T1) -> Takeover:
    return Takeover(account="acme", contact=ALICE_NUMBER, by=by, since=T0, until=until)


def test_takeovers_keep_one_per_contact_a_new_one_replacing_it(takeovers: Takeovers) -> None:
    assert takeovers.get("acme", ALICE_NUMBER) is None
    takeovers.put(takeover())
    assert takeovers.get("acme", ALICE_NUMBER) == takeover()
    takeovers.put(takeover(by="bob@example.com", until="2026-12-06T13:00:00.000Z"))
    assert takeovers.get("acme", ALICE_NUMBER) == takeover(
        by="bob@example.com", until="2026-12-06T13:00:00.000Z"
    )
    assert takeovers.get("globex", ALICE_NUMBER) is None
    assert takeovers.get("acme", "+15005550999") is None


def test_takeovers_delete_answers_the_takeover_it_removed(takeovers: Takeovers) -> None:
    assert takeovers.delete("acme", ALICE_NUMBER) is None
    takeovers.put(takeover())
    assert takeovers.delete("acme", ALICE_NUMBER) == takeover()
    assert takeovers.get("acme", ALICE_NUMBER) is None
    assert takeovers.delete("acme", ALICE_NUMBER) is None  # a second hand-back finds none


def test_a_stored_takeover_expires_from_the_table_a_day_after_it_ends(aws: None) -> None:
    DynamoTakeoverStore(TABLE, boto3.client("dynamodb")).put(takeover())
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key=to_attributes(keys.takeover_key("acme", ALICE_NUMBER))
    )["Item"]
    ends = int(datetime(2026, 12, 6, 12, 1, tzinfo=UTC).timestamp())  # T1
    assert int(from_attributes(item)[keys.EXPIRES_AT]) == ends + 24 * 3600


# --- processing.pacing.PaceStore ---------------------------------------------------------------

SENDER = Sender("acme", "+15005550006")


@pytest.fixture(params=["dynamodb", "in_memory"])
def paces(request: pytest.FixtureRequest) -> PaceStore:
    return _either(request, MemoryPaceStore, DynamoPaceStore)  # type: ignore[no-any-return]


def test_pace_store_an_unknown_sender_reads_an_empty_bucket(paces: PaceStore) -> None:
    assert paces.read(SENDER) == Bucket()


def test_pace_store_writes_only_at_the_version_read_each_write_moving_it_on(
    paces: PaceStore,
) -> None:
    first = Bucket(tat=1_000, queue=500, factor=0.5, slowed=900)
    assert paces.write(SENDER, first, seen=0, expires_at=9_999_999_999)
    assert paces.read(SENDER) == replace(first, version=1)
    assert not paces.write(SENDER, Bucket(tat=2_000), seen=0, expires_at=9_999_999_999)
    assert paces.read(SENDER) == replace(first, version=1)  # the stale write changed nothing
    assert paces.write(SENDER, Bucket(tat=3_000), seen=1, expires_at=9_999_999_999)
    assert paces.read(SENDER) == Bucket(tat=3_000, version=2)
    assert paces.read(Sender("acme", "+15005550007")) == Bucket()  # each sender its own


def test_pace_store_remembers_a_held_place_and_its_time_per_sender(paces: PaceStore) -> None:
    assert paces.held_place(SENDER, "p1") is None
    paces.hold(SENDER, "p1", at_ms=1_500, expires_at=9_999_999_999)
    assert paces.held_place(SENDER, "p1") == 1_500
    assert paces.held_place(SENDER, "p2") is None
    assert paces.held_place(Sender("acme", "+15005550007"), "p1") is None
