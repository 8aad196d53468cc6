"""In-memory implementations of the domain's ports, for unit tests. Each one keeps the contract
its DynamoDB, SQS or Lambda adapter keeps; ``tests/integration/test_port_contracts.py`` runs the
same checks against both, so a fake cannot drift from what it stands in for."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sms_automation.accounts import Account
from sms_automation.automations.service import RunStoreUnavailable
from sms_automation.dlq.invoker import InvocationResult
from sms_automation.dlq.ports import StoredMessage
from sms_automation.dlq.queue import DlqEntry, dlq_entry


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
    ) -> int:
        versions = self.versions.setdefault(account, [])
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
        self, account: str, *, automation: str | None = None, limit: int = 50
    ) -> Iterator[dict[str, Any]]:
        self._check()
        mine = [
            o
            for o in self._origins.values()
            if o["account"] == account
            and (automation is None or str(o["automation"]).casefold() == automation.casefold())
        ]
        mine.sort(key=lambda o: (o["requested_at"], o["run_id"]), reverse=True)
        yield from (dict(o) for o in itertools.islice(mine, limit))

    def _check(self) -> None:
        if self.unavailable:
            raise RunStoreUnavailable("the run store is unavailable; try again")


@dataclass(frozen=True, slots=True)
class RunRecord:
    """What the processor's run record tells (``processing.runs.Run``'s status)."""

    status: str
    finished_statuses: frozenset[str] = frozenset({"completed", "stopped", "no_triggers"})

    @property
    def finished(self) -> bool:
        return self.status in self.finished_statuses


class InMemoryRunStates:
    """``dlq.ports.RunStates`` and ``automations.service.RunStatuses``."""

    def __init__(self, **statuses: str) -> None:
        self.runs = {sid: RunRecord(status) for sid, status in statuses.items()}

    def get(self, message_sid: str) -> RunRecord | None:
        return self.runs.get(message_sid)

    def get_many(self, message_sids: Sequence[str]) -> dict[str, RunRecord]:
        return {sid: self.runs[sid] for sid in message_sids if sid in self.runs}


class InMemoryStoredMessages:
    """``dlq.ports.StoredMessages``: items in DynamoDB JSON, as the table holds them."""

    def __init__(self, *images: Mapping[str, Any]) -> None:
        self.images = {str(image["message_sid"]["S"]): dict(image) for image in images}

    def get(self, message_sid: str) -> StoredMessage | None:
        image = self.images.get(message_sid)
        if image is None:
            return None
        return StoredMessage(str(image.get("account", {}).get("S", "")), image)


class InMemoryReceivedMessages:
    """``dlq.ports.ReceivedMessages``: (account, received at, SID), inclusive window, oldest
    first."""

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


class InMemoryDlqQueue:
    """``dlq.ports.DlqQueue``: entries hidden when received (they stay hidden: no clock runs
    here), visible again when released, gone when deleted. ``failing_releases``: receipt
    handles whose release fails, as SQS can."""

    def __init__(self, *bodies: str) -> None:
        self._held = [_Held(f"m{n}", body) for n, body in enumerate(bodies, 1)]
        self.failing_releases: set[str] = set()

    def send(self, body: str) -> None:
        self._held.append(_Held(f"m{len(self._held) + 1}", body))

    def receive_all(self, *, visibility_timeout: int, limit: int) -> Iterator[DlqEntry]:
        received = 0
        for held in self._held:
            if received >= limit:
                return
            if held.hidden or held.deleted:
                continue
            held.hidden, held.receipts = True, held.receipts + 1
            received += 1
            yield dlq_entry(held.message_id, f"{held.message_id}/{held.receipts}", held.body)

    def release(self, entry: DlqEntry) -> None:
        if entry.receipt_handle in self.failing_releases:
            raise ConnectionError("the queue did not answer")
        self._find(entry).hidden = False

    def delete(self, entry: DlqEntry) -> None:
        self._find(entry).deleted = True

    def release_all(self, entries: Iterable[DlqEntry]) -> None:
        for entry in entries:
            if entry.receipt_handle not in self.failing_releases:
                self.release(entry)

    def visible(self) -> list[str]:
        return [h.message_id for h in self._held if not h.hidden and not h.deleted]

    def _find(self, entry: DlqEntry) -> _Held:
        return next(h for h in self._held if h.message_id == entry.message_id)


@dataclass
class RecordingInvoker:
    """``dlq.invoker.ProcessorInvoker``: records each event, answers what it is told."""

    answers: dict[str, InvocationResult] = field(default_factory=dict)
    events: list[Mapping[str, Any]] = field(default_factory=list)

    def invoke(self, event: Mapping[str, Any]) -> InvocationResult:
        self.events.append(event)
        sid = event["Records"][0]["dynamodb"]["NewImage"]["message_sid"]["S"]
        return self.answers.get(sid, InvocationResult())
