"""In-memory implementations of the domain's ports, for unit tests. Each one keeps the contract
its DynamoDB, SQS, Step Functions or Lambda adapter keeps (the same conditions decide the same
races; the stores of the processing core and the conversations lock each change, as DynamoDB
serialises the writes of one item, so two attempts on two threads meet what they would on the
table); ``tests/integration/test_port_contracts.py`` and ``test_step_ledger_lease.py`` run the
same checks against both, so a fake cannot drift from what it stands in for."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sms_automation.accounts import Account
from sms_automation.automations.service import RunStoreUnavailable
from sms_automation.console.audit import AuditEntry, AuditPage
from sms_automation.conversations.model import (
    WAITING,
    Conversation,
    OpenConversation,
    RecordedReply,
    ReplyDecision,
)
from sms_automation.dead_letters.invoker import InvocationResult
from sms_automation.dead_letters.ports import StoredMessage
from sms_automation.dead_letters.queue import DeadLetter, dead_letter
from sms_automation.opt_out import ContactState
from sms_automation.processing.evaluations import EvaluationRecord
from sms_automation.processing.ledger import StepEntry, StepState
from sms_automation.processing.pacing import Bucket, Sender
from sms_automation.processing.port import EffectResult
from sms_automation.processing.ports import ClaimLost, RecordRefused
from sms_automation.takeover import Takeover
from sms_automation.triggers import Step


class InMemoryAccounts:
    """``automations.service.AccountLookup``."""

    def __init__(self, *accounts: Account) -> None:
        self._accounts = {account.name: account for account in accounts}

    def get(self, name: str) -> Account | None:
        return self._accounts.get(name)


@dataclass(frozen=True, slots=True)
class StoredFile:
    """``triggers.versions.StoredTriggers``."""

    version: int
    fingerprint: str
    source: str
    trigger_names: tuple[str, ...] = ()
    pushed_at: datetime | None = None


class InMemoryTriggerFiles:
    """``triggers.publish.TriggerFiles`` and ``automations.service.CurrentTriggers``."""

    def __init__(self) -> None:
        self.versions: dict[str, list[StoredFile]] = {}

    def push(
        self,
        account: str,
        source_text: str,
        fingerprint: str,
        pushed_at: datetime,
        *,
        trigger_names: Sequence[str] = (),
        expected_version: int | None = None,
        pushed_by: str | None = None,
    ) -> int:
        versions = self.versions.setdefault(account, [])
        if expected_version is not None and expected_version != len(versions):
            raise ValueError(f"version {len(versions)} is current, not {expected_version}")
        stored = StoredFile(
            len(versions) + 1, fingerprint, source_text, tuple(trigger_names), pushed_at
        )
        versions.append(stored)
        return stored.version

    def current(self, account: str) -> StoredFile | None:
        versions = self.versions.get(account)
        return versions[-1] if versions else None


class InMemoryRunOrigins:
    """``automations.service.RunOrigins``: stored once by run id, listed newest first (by
    ``requested_at``), one automation's whatever the case of its name. ``unavailable``: every
    call fails as DynamoDB throttling does."""

    def __init__(self) -> None:
        self._origins: dict[str, dict[str, Any]] = {}
        self.unavailable = False

    def put_new(self, origin: Mapping[str, Any]) -> dict[str, Any] | None:
        self._check()
        run_id = str(origin["run_id"])
        if run_id in self._origins:
            return dict(self._origins[run_id])
        self._origins[run_id] = dict(origin)
        return None

    def get(self, run_id: str) -> dict[str, Any] | None:
        self._check()
        origin = self._origins.get(run_id)
        return dict(origin) if origin is not None else None

    def list_for_account(
        self,
        account: str,
        *,
        automation: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        self._check()
        mine = [
            o
            for o in self._origins.values()
            if o["account"] == account
            and (automation is None or str(o["automation"]).casefold() == automation.casefold())
            and (before is None or f"{o['requested_at']}#{o['run_id']}" < before)
        ]
        mine.sort(key=lambda o: (o["requested_at"], o["run_id"]), reverse=True)
        yield from (dict(o) for o in itertools.islice(mine, limit))

    def _check(self) -> None:
        if self.unavailable:
            raise RunStoreUnavailable("the run store is unavailable; try again")


@dataclass(frozen=True, slots=True)
class RecordedStatus:
    """What a message's evaluation tells (``processing.evaluations.EvaluationRecord.status``)."""

    status: str
    finished_statuses: frozenset[str] = frozenset({"completed", "stopped", "no_triggers"})

    @property
    def finished(self) -> bool:
        return self.status in self.finished_statuses


class InMemoryEvaluationStates:
    """``dead_letters.ports.EvaluationStates`` and ``automations.service.RunStatuses``."""

    def __init__(self, **statuses: str) -> None:
        self.runs = {sid: RecordedStatus(status) for sid, status in statuses.items()}

    def get(self, message_sid: str) -> RecordedStatus | None:
        return self.runs.get(message_sid)

    def get_many(self, message_sids: Sequence[str]) -> dict[str, RecordedStatus]:
        return {sid: self.runs[sid] for sid in message_sids if sid in self.runs}


class InMemoryStoredMessages:
    """``dead_letters.ports.StoredMessages``: items in DynamoDB JSON, as the table holds them."""

    def __init__(self, *images: Mapping[str, Any]) -> None:
        self.images = {str(image["message_sid"]["S"]): dict(image) for image in images}

    def get(self, message_sid: str) -> StoredMessage | None:
        image = self.images.get(message_sid)
        if image is None:
            return None
        return StoredMessage(str(image.get("account", {}).get("S", "")), image)


class InMemoryReceivedMessages:
    """``dead_letters.ports.ReceivedMessages``: (account, received at, SID), inclusive window,
    oldest first."""

    def __init__(self, *received: tuple[str, datetime, str]) -> None:
        self.received = sorted(received, key=lambda r: (r[1], r[2]))

    def received_between(self, account: str, since: datetime, until: datetime) -> Iterator[str]:
        for owner, at, sid in self.received:
            if owner == account and since <= at <= until:
                yield sid


@dataclass
class _Held:
    message_id: str
    body: str
    hidden: bool = False
    deleted: bool = False
    receipts: int = 0


class InMemoryDeadLetterQueue:
    """``dead_letters.ports.DeadLetterQueue``: entries hidden when received (they stay hidden: no
    clock runs here), visible again when released, gone when deleted. ``failing_releases``: receipt
    handles whose release fails, as SQS can."""

    def __init__(self, *bodies: str) -> None:
        self._held = [_Held(f"m{n}", body) for n, body in enumerate(bodies, 1)]
        self.failing_releases: set[str] = set()

    def send(self, body: str) -> None:
        self._held.append(_Held(f"m{len(self._held) + 1}", body))

    def receive_all(self, *, visibility_timeout: int, limit: int) -> Iterator[DeadLetter]:
        received = 0
        for held in self._held:
            if received >= limit:
                return
            if held.hidden or held.deleted:
                continue
            held.hidden, held.receipts = True, held.receipts + 1
            received += 1
            yield dead_letter(held.message_id, f"{held.message_id}/{held.receipts}", held.body)

    def release(self, entry: DeadLetter) -> None:
        if entry.receipt_handle in self.failing_releases:
            raise ConnectionError("the queue did not answer")
        self._find(entry).hidden = False

    def delete(self, entry: DeadLetter) -> None:
        self._find(entry).deleted = True

    def release_all(self, entries: Iterable[DeadLetter]) -> None:
        for entry in entries:
            if entry.receipt_handle not in self.failing_releases:
                self.release(entry)

    def visible(self) -> list[str]:
        return [h.message_id for h in self._held if not h.hidden and not h.deleted]

    def _find(self, entry: DeadLetter) -> _Held:
        return next(h for h in self._held if h.message_id == entry.message_id)


@dataclass
class RecordingInvoker:
    """``dead_letters.invoker.ProcessorInvoker``: records each event, answers what it is told."""

    answers: dict[str, InvocationResult] = field(default_factory=dict)
    events: list[Mapping[str, Any]] = field(default_factory=list)

    def invoke(self, event: Mapping[str, Any]) -> InvocationResult:
        self.events.append(event)
        sid = event["Records"][0]["dynamodb"]["NewImage"]["message_sid"]["S"]
        return self.answers.get(sid, InvocationResult())


def _json_round_trip(value: Mapping[str, Any]) -> dict[str, Any]:
    """What the adapters store as JSON comes back as JSON gives it (strings for odd values)."""
    loaded: dict[str, Any] = json.loads(json.dumps(dict(value), default=str))
    return loaded


class InMemoryEvaluationStore:
    """``processing.ports.EvaluationStore``: the first write pins, a later one counts itself."""

    def __init__(self) -> None:
        self.evaluations: dict[str, EvaluationRecord] = {}
        self._lock = threading.Lock()

    def get(self, message_sid: str) -> EvaluationRecord | None:
        return self.evaluations.get(message_sid)

    def start(
        self,
        message_sid: str,
        account: str,
        *,
        trigger_version: int,
        fingerprint: str,
        now: str,
        status: str = "running",
        timezone: str = "",
    ) -> EvaluationRecord:
        first = EvaluationRecord(
            message_sid=message_sid,
            account=account,
            status=status,
            trigger_version=trigger_version,
            fingerprint=fingerprint,
            started_at=now,
            timezone=timezone,
        )
        return self._pin(first)

    def finish(
        self,
        message_sid: str,
        *,
        status: str,
        now: str,
        matched: Sequence[str],
        diagnostics: Sequence[Mapping[str, Any]],
        paused_at: str | None,
    ) -> EvaluationRecord:
        with self._lock:
            finished = replace(
                self.evaluations[message_sid],
                status=status,
                finished_at=now,
                matched=tuple(matched),
                diagnostics=tuple(dict(d) for d in diagnostics),
                paused_at=paused_at or "",
            )
            self.evaluations[message_sid] = finished
            return finished

    def finish_once(
        self,
        message_sid: str,
        account: str,
        *,
        trigger_version: int,
        fingerprint: str,
        timezone: str,
        now: str,
        status: str,
        matched: Sequence[str],
        diagnostics: Sequence[Mapping[str, Any]],
    ) -> EvaluationRecord:
        first = EvaluationRecord(
            message_sid=message_sid,
            account=account,
            status=status,
            trigger_version=trigger_version,
            fingerprint=fingerprint,
            started_at=now,
            finished_at=now,
            matched=tuple(matched),
            diagnostics=tuple(dict(d) for d in diagnostics),
            timezone=timezone,
        )
        return self._pin(first)

    def _pin(self, first: EvaluationRecord) -> EvaluationRecord:
        """``first`` as the first write of its evaluation, or the stored one counting this
        attempt (the first write pins the version; a later one only counts itself)."""
        with self._lock:
            existing = self.evaluations.get(first.message_sid)
            run = first if existing is None else replace(existing, attempts=existing.attempts + 1)
            self.evaluations[first.message_sid] = run
            return run


class InMemoryEvaluationAndReply:
    """``processing.intake.EvaluationAndReply`` over the in-memory evaluations and, when given, the
    in-memory conversation store's reply records."""

    def __init__(
        self, evaluations: InMemoryEvaluationStore, conversations: Any | None = None
    ) -> None:
        self._evaluations = evaluations
        self._conversations = conversations

    def evaluation_and_reply(self, message_sid: str) -> tuple[EvaluationRecord | None, Any]:
        reply = self._conversations.recorded_reply(message_sid) if self._conversations else None
        return self._evaluations.get(message_sid), reply


class InMemoryStepLedger:
    """``processing.ports.StepLedger``: conditional on the claim seen, like the table's writes."""

    def __init__(self) -> None:
        self.steps: dict[tuple[str, str], StepEntry] = {}
        self._lock = threading.Lock()

    def claim(
        self, message_sid: str, step_id: str, kind: str, now: str, lease_until: str
    ) -> StepEntry | None:
        with self._lock:
            existing = self.steps.get((message_sid, step_id))
            if existing is not None:
                return existing
            self.steps[(message_sid, step_id)] = StepEntry(
                step_id=step_id,
                kind=kind,
                state=StepState.STARTED,
                started_at=now,
                claimed_at=now,
                lease_until=lease_until,
            )
            return None

    def take_over(self, message_sid: str, entry: StepEntry, now: str, lease_until: str) -> bool:
        with self._lock:
            current = self._held(message_sid, entry.step_id, entry.started_at)
            if current is None:
                return False
            self.steps[(message_sid, entry.step_id)] = replace(
                current, started_at=now, lease_until=lease_until, attempts=current.attempts + 1
            )
            return True

    def record_unknown(
        self, message_sid: str, step_id: str, *, held: str, since: str, now: str, detail: str
    ) -> None:
        with self._lock:
            current = self._held(message_sid, step_id, held)
            if current is None:
                raise ClaimLost(f"step {step_id} is no longer held since {held}")
            self.steps[(message_sid, step_id)] = replace(
                current,
                unknown_since=since,
                looks=current.looks + 1,
                lease_until=now,
                detail=detail,
            )

    def abandon(self, message_sid: str, step_id: str, *, held: str, now: str) -> None:
        with self._lock:
            current = self._held(message_sid, step_id, held)
            if current is not None:
                self.steps[(message_sid, step_id)] = replace(current, lease_until=now)

    def finish(
        self,
        message_sid: str,
        step_id: str,
        state: StepState,
        *,
        now: str,
        detail: str = "",
        variables: Mapping[str, Any] | None = None,
        resource_sid: str = "",
    ) -> None:
        with self._lock:
            self.steps[(message_sid, step_id)] = replace(
                self.steps[(message_sid, step_id)],
                state=state,
                finished_at=now,
                detail=detail,
                variables=_json_round_trip(variables or {}),
                resource_sid=resource_sid,
            )

    def release(self, message_sid: str, step_id: str, *, held: str) -> None:
        with self._lock:
            if self._held(message_sid, step_id, held) is not None:
                del self.steps[(message_sid, step_id)]

    def get(self, message_sid: str, step_id: str) -> StepEntry | None:
        return self.steps.get((message_sid, step_id))

    def entries(self, message_sid: str) -> list[StepEntry]:
        return [entry for (sid, _), entry in sorted(self.steps.items()) if sid == message_sid]

    def _held(self, message_sid: str, step_id: str, held: str) -> StepEntry | None:
        current = self.steps.get((message_sid, step_id))
        if current is None or current.state is not StepState.STARTED:
            return None
        return current if current.started_at == held else None


class InMemoryRecordTables:
    """``processing.ports.RecordTables``: tables of items keyed by their ``record_id`` (or the
    whole item); ``refuse`` makes the next put fail as the adapter says a failure."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.refusal: RecordRefused | None = None

    def refuse(self, code: str, *, transient: bool) -> None:
        self.refusal = RecordRefused(code, transient=transient)

    def put(self, table: str, item: Mapping[str, Any]) -> None:
        if self.refusal is not None:
            raise self.refusal
        rows = self.tables.setdefault(table, [])
        key = item.get("record_id")
        rows[:] = [row for row in rows if key is None or row.get("record_id") != key]
        rows.append(dict(item))


class InMemoryConversationStore:
    """``conversations.ports.ConversationStore``: resolved once, a reply counted once."""

    def __init__(self) -> None:
        self.conversations: dict[tuple[str, str], Conversation] = {}
        self.replies: dict[str, RecordedReply] = {}
        self.open_conversations: dict[tuple[str, str, str], OpenConversation] = {}
        self._lock = threading.Lock()

    def create(self, conversation: Conversation) -> Conversation:
        with self._lock:
            key = (conversation.message_sid, conversation.step_id)
            return self.conversations.setdefault(key, conversation)

    def get(self, message_sid: str, step_id: str) -> Conversation | None:
        return self.conversations.get((message_sid, step_id))

    def set_execution(self, message_sid: str, step_id: str, execution_arn: str) -> None:
        self._set(message_sid, step_id, execution_arn=execution_arn)

    def set_task_token(self, message_sid: str, step_id: str, token: str) -> None:
        self._set(message_sid, step_id, task_token=token)

    def set_timer_token(self, message_sid: str, step_id: str, token: str) -> None:
        self._set(message_sid, step_id, timer_token=token)

    def resolve(
        self,
        conversation: Conversation,
        outcome: str,
        variables: Mapping[str, Any],
        now: str,
        *,
        by: str = "",
    ) -> bool:
        with self._lock:
            key = (conversation.message_sid, conversation.step_id)
            current = self.conversations.get(key)
            if current is None or current.status != WAITING:
                return False
            self.conversations[key] = replace(
                current,
                status=outcome,
                outcome=_json_round_trip(variables),
                resolved_at=now,
                cancelled_by=by,
            )
            return True

    def record_reply(self, decision: ReplyDecision, *, seen_attempts: int) -> bool:
        after = decision.conversation
        key = (after.message_sid, after.step_id)
        with self._lock:
            current = self.conversations.get(key)
            if current is None or current.status != WAITING or current.attempts != seen_attempts:
                return False
            if decision.reply.sid in self.replies:
                return False
            self.conversations[key] = replace(
                current,
                status=after.status,
                attempts=after.attempts,
                replies=after.replies,
                outcome=_json_round_trip(after.outcome),
                resolved_at=after.resolved_at,
            )
            self.replies[decision.reply.sid] = RecordedReply(
                message_sid=after.message_sid,
                step_id=after.step_id,
                resolves=decision.resolves,
                reprompt_step_id=decision.reprompt_step_id or None,
                consumed=not after.also_run_triggers,
            )
            return True

    def recorded_reply(self, reply_sid: str) -> RecordedReply | None:
        return self.replies.get(reply_sid)

    def claim_contact(self, conversation: Conversation) -> OpenConversation | None:
        pointer = OpenConversation(
            conversation.account,
            conversation.our_number,
            conversation.contact,
            conversation.message_sid,
            conversation.step_id,
        )
        with self._lock:
            replaced = self.open_conversations.get(_contact_key(pointer))
            self.open_conversations[_contact_key(pointer)] = pointer
        if replaced is None or (replaced.message_sid, replaced.step_id) == (
            conversation.message_sid,
            conversation.step_id,
        ):
            return None
        return replaced

    def find_open_conversation(
        self, account: str, our_number: str, contact: str, *, consistent: bool = True
    ) -> OpenConversation | None:
        return self.open_conversations.get((account, our_number, contact))

    def release_contact(self, conversation: Conversation) -> None:
        key = (conversation.account, conversation.our_number, conversation.contact)
        with self._lock:
            current = self.open_conversations.get(key)
            mine = (conversation.message_sid, conversation.step_id)
            if current is not None and (current.message_sid, current.step_id) == mine:
                del self.open_conversations[key]

    def _set(self, message_sid: str, step_id: str, **changes: str) -> None:
        with self._lock:
            key = (message_sid, step_id)
            self.conversations[key] = replace(self.conversations[key], **changes)  # type: ignore[arg-type]


def _contact_key(wait: OpenConversation) -> tuple[str, str, str]:
    return (wait.account, wait.our_number, wait.contact)


@dataclass
class FakeConversationWorkflow:
    """``conversations.ports.ConversationWorkflow``: an execution per name (a second start of a
    name is the first's), a task token answers once (as Step Functions refuses a used token)."""

    started: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    woken: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    stopped: set[str] = field(default_factory=set)
    _used: set[str] = field(default_factory=set)

    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        self.started.setdefault(name, payload)
        return f"arn:aws:states:us-east-1:123456789012:execution:conversation:{name}"

    def wake(self, token: str, output: Mapping[str, Any]) -> bool:
        if not self._use(token):
            return False
        self.woken.append((token, output))
        return True

    def fail(self, token: str, error_name: str, cause: str) -> bool:
        if not self._use(token):
            return False
        self.failed.append((token, error_name))
        return True

    def running(self, execution_arn: str) -> bool:
        name = execution_arn.rpartition(":")[2]
        return name in self.started and name not in self.stopped

    def expire(self, token: str) -> None:
        """The task of ``token`` is over (timed out, or its branch ended): it answers no more."""
        self._used.add(token)

    def stop(self, execution_arn: str, *tokens: str) -> None:
        """An operator stopped the execution: it runs no more, nor do its tasks' tokens."""
        self.stopped.add(execution_arn.rpartition(":")[2])
        self._used.update(tokens)

    def _use(self, token: str) -> bool:
        if token in self._used:
            return False
        self._used.add(token)
        return True


class RecordingEffects:
    """``processing.port.StepEffects``: performs every step it is given (a Sid per step), in
    order; ``refuse_next`` makes the next perform raise instead; ``found`` is what a lookup
    after an interruption finds; ``during`` runs inside a perform (to hold it there)."""

    def __init__(self) -> None:
        self.performed: list[Step] = []
        self.keys: list[str] = []
        self.looked_up: list[tuple[str, str]] = []
        self.found: Callable[[Step], EffectResult | None] = lambda step: None
        self.during: Callable[[Step], None] = lambda step: None
        self._refusals: list[BaseException] = []

    def refuse_next(self, error: BaseException) -> None:
        self._refusals.append(error)

    def perform(self, step: Step, idempotency_key: str) -> EffectResult:
        if self._refusals:
            raise self._refusals.pop(0)
        self.during(step)
        self.performed.append(step)
        self.keys.append(idempotency_key)
        sid = f"SM{len(self.performed):032d}"
        return EffectResult(StepState.DONE, f"message {sid} queued", {"sid": sid}, sid)

    def find_performed(self, step: Step, since: str) -> EffectResult | None:
        self.looked_up.append((step.step_id, since))
        return self.found(step)


class InMemoryContactRecords:
    """``opt_out.ContactRecords``: a state is kept unless the one held is as new or newer."""

    def __init__(self) -> None:
        self.states: dict[tuple[str, str, str], ContactState] = {}

    def get(self, account: str, sender: str, contact: str) -> ContactState | None:
        return self.states.get((account, sender, contact))

    def record(self, state: ContactState) -> bool:
        key = (state.account, state.sender, state.contact)
        held = self.states.get(key)
        if held is not None and held.changed_at >= state.changed_at:
            return False
        self.states[key] = state
        return True


class InMemoryTakeovers:
    """``takeover.Takeovers``: one takeover per account and contact."""

    def __init__(self) -> None:
        self.held: dict[tuple[str, str], Takeover] = {}
        self.reads = 0

    def get(self, account: str, contact: str) -> Takeover | None:
        self.reads += 1
        return self.held.get((account, contact))

    def put(self, takeover: Takeover) -> None:
        self.held[(takeover.account, takeover.contact)] = takeover

    def delete(self, account: str, contact: str) -> Takeover | None:
        return self.held.pop((account, contact), None)


class MemoryPaceStore:
    """Buckets in a dict with the adapter's contract: a write succeeds only at the version
    read. ``before_write`` slips a concurrent sender in between a read and a write."""

    def __init__(self) -> None:
        self.buckets: dict[Sender, Bucket] = {}
        self.holds: dict[tuple[Sender, str], int] = {}
        self.before_write: Callable[[], None] = lambda: None
        self.writes = 0

    def read(self, sender: Sender) -> Bucket:
        return self.buckets.get(sender, Bucket())

    def write(self, sender: Sender, bucket: Bucket, *, seen: int, expires_at: int) -> bool:
        hook, self.before_write = self.before_write, lambda: None
        hook()
        if self.read(sender).version != seen:
            return False
        self.writes += 1
        self.buckets[sender] = Bucket(
            bucket.tat, bucket.queue, bucket.factor, bucket.slowed, seen + 1
        )
        return True

    def held_place(self, sender: Sender, place: str) -> int | None:
        return self.holds.get((sender, place))

    def hold(self, sender: Sender, place: str, *, at_ms: int, expires_at: int) -> None:
        self.holds[(sender, place)] = at_ms


class AuditWriteFailsOnce:
    """An ``AuditStore`` whose first write fails (the audit table throttled, say), then works."""

    def __init__(self, store: InMemoryAuditStore) -> None:
        self.store = store
        self.failed = False

    def put(self, entry: AuditEntry, *, expires_at: int, once: str | None = None) -> bool:
        if not self.failed:
            self.failed = True
            raise RuntimeError("the audit write failed")
        return self.store.put(entry, expires_at=expires_at, once=once)

    def page(self, account: str, *, after: str | None, size: int) -> AuditPage:
        return self.store.page(account, after=after, size=size)


class InMemoryAuditStore:
    """The ``AuditStore`` port as a sorted list per account."""

    def __init__(self) -> None:
        self.entries: dict[str, list[AuditEntry]] = {}
        self.expiries: dict[str, int] = {}
        self.claims: set[tuple[str, str]] = set()

    def put(self, entry: AuditEntry, *, expires_at: int, once: str | None = None) -> bool:
        if once is not None:
            if (entry.account, entry.id) in self.claims:
                return False
            self.claims.add((entry.account, entry.id))
        if entry.position in self.expiries:
            raise ValueError("an audit entry is never rewritten")
        self.entries.setdefault(entry.account, []).append(entry)
        self.expiries[entry.position] = expires_at
        return True

    def page(self, account: str, *, after: str | None, size: int) -> AuditPage:
        newest_first = sorted(self.entries.get(account, []), key=lambda e: e.position)[::-1]
        if after is not None:
            newest_first = [e for e in newest_first if e.position < after]
        entries = newest_first[:size]
        more = len(newest_first) > size
        return AuditPage(entries, entries[-1].position if more else None)
