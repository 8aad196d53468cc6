"""Broadcasts: one automation started for every row of a file, on Step Functions' Distributed Map.

A broadcast's life (docs/decisions/0003-broadcast-engine.md):

1. ``create``: the file is in the broadcasts bucket; the broadcast is stored once (its id from
   the caller's idempotency key, else new) and its first execution started (named
   ``{id}-{attempt}``, so a retried create starts none twice).
2. ``validate`` (the execution's first task): one streaming pass over the file
   (``broadcasts.rows``) writes the rows to start to ``rows/{id}.json`` and stores the counts
   and the bad rows (line numbers and problems); opted-out contacts and repeated contacts are
   counted and left out.
3. ``start_row`` (one Distributed Map child per row): the row's automation run, through the
   one start path (``AutomationStarter``), with the idempotency key ``broadcast:{id}:{line}``:
   a retried row, a redriven or resumed execution, or two workers on the row at once, start
   one run. A paused or cancelled broadcast starts no more rows.
4. ``finish``: running → completed once every row was offered. ``fail`` (the execution's Catch):
   a step that kept failing past its retries → failed, never stuck validating or running.

``pause`` stops the execution and ``resume`` starts the next attempt over the same rows file
(rows already started are no-ops); ``cancel`` stops it for good. A broadcast's state is read
by ``start_row`` at most ``STATUS_CACHE_SECONDS`` old: pause and cancel take effect within that
(a row is answered paused or cancelled only from a fresh read, so a quick resume loses none).

Pure: the store, the files, the engine, the opt-outs and the clock are ports.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, Protocol

from sms_automation import broadcast_uploads as uploads
from sms_automation import keys
from sms_automation.automations.start import (
    IDEMPOTENCY_KEY_PATTERN,
    RejectionReason,
    StartRejected,
    invalid_field,
)
from sms_automation.broadcasts.rows import (
    FileRejected,
    Row,
    RowChecker,
    file_format,
    read_rows,
    row_request,
)
from sms_automation.edge.timestamps import utc_timestamp

if TYPE_CHECKING:
    from sms_automation.automations.service import AutomationStarter

BROADCAST_ID_PATTERN: Final = re.compile(r"^BC[0-9a-f]{32}$")
STATUS_CACHE_SECONDS: Final = 2.0
_STATUS_WRITE_TRIES: Final = 3


class Status(StrEnum):
    VALIDATING = "validating"
    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    FAILED = "failed"


ACTIVE: Final = frozenset({Status.VALIDATING, Status.RUNNING})
ENDED: Final = frozenset({Status.CANCELLED, Status.COMPLETED, Status.FAILED})


class BroadcastStore(Protocol):
    def put_new(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        """Store unless the id exists: ``None`` when stored, else the existing record."""
        ...

    def get(self, broadcast_id: str) -> dict[str, Any] | None: ...

    def transition(
        self, broadcast_id: str, *, to: Status, allowed: Iterable[Status], **fields: Any
    ) -> dict[str, Any] | None:
        """Set ``status`` (and ``fields``) if the status is one of ``allowed``: the record after,
        else ``None`` (nothing written)."""
        ...


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """Which object a broadcast was started with: its ETag (its content) and its S3 version id
    ("" when the bucket keeps no versions: then the ETag alone pins it)."""

    etag: str
    version: str = ""


class BroadcastFiles(Protocol):
    def identify(self, key: str) -> FileIdentity:
        """The object now at ``key``; ``FileRejected`` when there is none."""
        ...

    def chunks(self, key: str, identity: FileIdentity) -> Iterable[bytes]:
        """That exact object's bytes, streamed (its version, or its ETag checked);
        ``FileRejected`` when it is gone or was replaced."""
        ...

    def write_rows(self, key: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """The rows as the engine's items: a JSON array, one object a line."""
        ...

    def read_rows(self, key: str) -> Iterator[dict[str, Any]]: ...


class BroadcastEngine(Protocol):
    def start(self, execution_name: str, broadcast_id: str) -> None:
        """Start the execution unless one of that name exists (then nothing)."""
        ...

    def stop(self, execution_name: str) -> None:
        """Stop the execution if it runs."""
        ...

    def progress(self, execution_name: str) -> dict[str, Any]:
        """``{"execution": status, "rows_done": n, "rows_total": n}`` as far as known."""
        ...


OptedOut = Callable[[str, str, str], bool]
"""(account, sender, contact) → whether the contact opted out of that sender."""


@dataclass(frozen=True, slots=True)
class RowOutcome:
    row: int
    outcome: str
    """started, already_started, rejected, paused, cancelled"""
    run_id: str = ""
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "outcome": self.outcome,
            "run_id": self.run_id,
            "reason": self.reason,
        }


def broadcast_id_for(account: str, idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return "BC" + uuid.uuid4().hex
    digest = hashlib.sha256(f"broadcast\n{account}\n{idempotency_key}".encode()).hexdigest()
    return "BC" + digest[:32]


def execution_name(broadcast_id: str, attempt: int) -> str:
    return f"{broadcast_id}-{attempt}"


def rows_key(broadcast_id: str) -> str:
    return f"rows/{broadcast_id}.json"


class Broadcasts:
    def __init__(
        self,
        *,
        store: BroadcastStore,
        files: BroadcastFiles,
        engine: BroadcastEngine,
        starter: AutomationStarter,
        opted_out: OptedOut,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float],
    ) -> None:
        self._store = store
        self._files = files
        self._engine = engine
        self._starter = starter
        self._opted_out = opted_out
        self._clock = clock
        self._monotonic = monotonic
        self._cached: dict[str, tuple[float, dict[str, Any]]] = {}

    # --- starting -----------------------------------------------------------------------------

    def create(
        self,
        account: str,
        automation: str,
        file_key: str,
        *,
        requested_by: str,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """The broadcast (new, or the one this key created) with its execution started, and
        ``created``: whether this call stored it. ``StartRejected``: nothing stored (unknown
        account or automation, a bad key or name)."""
        if idempotency_key is not None and not IDEMPOTENCY_KEY_PATTERN.fullmatch(idempotency_key):
            raise invalid_field("idempotency_key", "1-255 printable ASCII characters, no spaces")
        problem = uploads.key_problem(file_key) or uploads.account_problem(file_key, account)
        if problem is not None:
            raise invalid_field("key", problem)
        try:
            fmt = file_format(file_key)
        except FileRejected as error:
            raise invalid_field("key", str(error)) from None
        found, _ = self._starter.find(account, automation)
        try:
            identity = self._files.identify(file_key)
        except FileRejected as error:
            raise invalid_field("key", str(error)) from None
        broadcast_id = broadcast_id_for(account, idempotency_key)
        created_at = utc_timestamp(self._clock())
        record: dict[str, Any] = {
            **keys.broadcast_key(broadcast_id),
            "kind": keys.KIND_BROADCAST,
            "broadcast_id": broadcast_id,
            "account": account,
            "automation": found.name,
            "file_key": file_key,
            "file_etag": identity.etag,
            "file_version": identity.version,
            "format": fmt.value,
            "status": Status.VALIDATING.value,
            "attempt": 1,
            "requested_by": requested_by[:512],
            "idempotency_key": idempotency_key or "",
            "created_at": created_at,
            "counts": {},
            "bad_rows": [],
            keys.GSI1_PK: keys.account_broadcasts_index_pk(account),
            keys.GSI1_SK: f"{created_at}#{broadcast_id}",
        }
        existing = self._store.put_new(record)
        if existing is not None:
            if (existing["automation"], existing["file_key"]) != (found.name, file_key):
                raise StartRejected(
                    RejectionReason.IDEMPOTENCY_CONFLICT,
                    "this idempotency key already started a broadcast of another automation or "
                    f"file (broadcast {existing['broadcast_id']}); use a new key",
                )
            started_with = existing.get("file_etag")
            if started_with is not None and started_with != identity.etag:
                raise StartRejected(
                    RejectionReason.IDEMPOTENCY_CONFLICT,
                    f"this idempotency key started broadcast {existing['broadcast_id']} with "
                    f"another file at {file_key[-120:]!r}: it has changed since (ETag "
                    f"{started_with} then, {identity.etag} now); the broadcast sends the file "
                    "it was started with — use a new key (and a new name) for the edited file",
                )
            record = existing
        if Status(record["status"]) in ACTIVE:
            self._engine.start(execution_name(broadcast_id, int(record["attempt"])), broadcast_id)
        return {**record, "created": existing is None}

    # --- the execution's tasks ----------------------------------------------------------------

    def validate(self, broadcast_id: str) -> dict[str, Any]:
        """The rows file for the Map, written once (a retry or a resume reuses it)."""
        record = self._required(broadcast_id)
        if record.get("rows_key"):
            return _rows_output(record)
        account = str(record["account"])
        try:
            automation, _ = self._starter.find(account, str(record["automation"]))
            checker = RowChecker(
                account, automation, lambda sender, to: self._opted_out(account, sender, to)
            )
            key = rows_key(broadcast_id)
            rows = read_rows(
                self._files.chunks(str(record["file_key"]), _started_with(record)),
                file_format(str(record["file_key"])),
                checker,
            )
            self._files.write_rows(key, (row.as_item() for row in rows))
        except (FileRejected, StartRejected) as error:
            failed = self._store.transition(
                broadcast_id,
                to=Status.FAILED,
                allowed=ACTIVE | {Status.PAUSED},
                failure=str(error)[:500],
            )
            return _rows_output(failed or record)
        checked = checker.checked
        found = {
            "rows_key": key,
            "counts": checked.counts(),
            "bad_rows": [bad.as_dict() for bad in checked.bad_rows],
        }
        updated = None
        for _ in range(_STATUS_WRITE_TRIES):
            updated = self._store.transition(
                broadcast_id, to=Status.RUNNING, allowed={Status.VALIDATING}, **found
            )
            if updated is not None:
                break
            # Paused or cancelled meanwhile: keep that status, keep the counts. Written only if
            # the status is still the one read (a cancel or resume landing between is kept).
            current = Status(self._required(broadcast_id)["status"])
            updated = self._store.transition(broadcast_id, to=current, allowed={current}, **found)
            if updated is not None:
                break
        return _rows_output(updated or record)

    def start_row(self, broadcast_id: str, item: Mapping[str, Any]) -> RowOutcome:
        """One row's run. ``RunStoreUnavailable`` propagates: the engine retries the row."""
        record = self._fresh(broadcast_id)
        if Status(record["status"]) is not Status.RUNNING:
            # Only a running broadcast is answered from the cache: a paused one may have been
            # resumed within the cache's seconds, and its rows would be counted done unstarted.
            record = self._fresh(broadcast_id, cached=False)
        line = int(item["row"])
        status = Status(record["status"])
        if status is Status.CANCELLED or status is Status.FAILED:
            return RowOutcome(line, "cancelled")
        if status is Status.PAUSED:
            return RowOutcome(line, "paused")
        row = Row(line, str(item["to"]), item.get("from"), dict(item.get("variables") or {}))
        request = row_request(str(record["account"]), str(record["automation"]), row, broadcast_id)
        try:
            started = self._starter.start(request)
        except StartRejected as rejected:
            return RowOutcome(line, "rejected", reason=rejected.reason.value)
        return RowOutcome(line, "started" if started.created else "already_started", started.run_id)

    def finish(self, broadcast_id: str) -> dict[str, Any]:
        done = self._store.transition(
            broadcast_id,
            to=Status.COMPLETED,
            allowed={Status.RUNNING},
            finished_at=utc_timestamp(self._clock()),
        )
        return {
            "broadcast_id": broadcast_id,
            "status": (done or self._required(broadcast_id))["status"],
        }

    def fail(self, broadcast_id: str, error: str) -> dict[str, Any]:
        """A step kept failing past its retries (the execution's Catch): validating or running →
        failed, ``error`` (the error's name, not its cause) as the reason."""
        failed = self._store.transition(
            broadcast_id,
            to=Status.FAILED,
            allowed=ACTIVE,
            failure=f"the broadcast's execution gave up: {error[:200]}",
            finished_at=utc_timestamp(self._clock()),
        )
        return {
            "broadcast_id": broadcast_id,
            "status": (failed or self._required(broadcast_id))["status"],
        }

    # --- operating ----------------------------------------------------------------------------

    def describe(self, broadcast_id: str, account: str | None = None) -> dict[str, Any] | None:
        record = self.get(broadcast_id, account)
        if record is None:
            return None
        name = execution_name(broadcast_id, int(record["attempt"]))
        return {**public_view(record), **self._engine.progress(name)}

    def get(self, broadcast_id: str, account: str | None = None) -> dict[str, Any] | None:
        if not BROADCAST_ID_PATTERN.fullmatch(broadcast_id):
            return None
        record = self._store.get(broadcast_id)
        if record is None or (account is not None and record["account"] != account):
            return None
        return record

    # Each change is idempotent: pausing a paused broadcast, cancelling a cancelled one or
    # resuming a running one changes nothing and answers the broadcast as it is (a retried
    # request, or two callers at the same moment); the engine call is repeated, so a retry
    # finishes a change whose stop or start was interrupted.

    def pause(self, broadcast_id: str) -> dict[str, Any]:
        record = self._change(broadcast_id, Status.PAUSED, ACTIVE, done={Status.PAUSED})
        self._engine.stop(execution_name(broadcast_id, int(record["attempt"])))
        return public_view(record)

    def resume(self, broadcast_id: str) -> dict[str, Any]:
        current = self._required(broadcast_id)
        record = current
        if Status(current["status"]) not in ACTIVE:
            to = Status.RUNNING if current.get("rows_key") else Status.VALIDATING
            attempt = int(current["attempt"]) + 1
            record = self._change(broadcast_id, to, {Status.PAUSED}, done=ACTIVE, attempt=attempt)
        self._engine.start(execution_name(broadcast_id, int(record["attempt"])), broadcast_id)
        return public_view(record)

    def cancel(self, broadcast_id: str) -> dict[str, Any]:
        allowed = ACTIVE | {Status.PAUSED}
        record = self._change(broadcast_id, Status.CANCELLED, allowed, done={Status.CANCELLED})
        self._engine.stop(execution_name(broadcast_id, int(record["attempt"])))
        return public_view(record)

    def started_rows(self, record: Mapping[str, Any]) -> Iterator[int]:
        """The line of every row the broadcast offers to start (its rows file)."""
        if not record.get("rows_key"):
            return iter(())
        return (int(item["row"]) for item in self._files.read_rows(str(record["rows_key"])))

    # --- plumbing -----------------------------------------------------------------------------

    def _change(
        self,
        broadcast_id: str,
        to: Status,
        allowed: Iterable[Status],
        *,
        done: Iterable[Status],
        **fields: Any,
    ) -> dict[str, Any]:
        """The record after the change, or as it is when its status is one of ``done`` (the
        change was made already); ``BroadcastStateConflict`` from any other status."""
        allowed = frozenset(allowed)
        record = self._store.transition(broadcast_id, to=to, allowed=allowed, **fields)
        if record is None:
            current = self._required(broadcast_id)
            now = current["status"]
            if Status(now) in frozenset(done):
                return current
            raise BroadcastStateConflict(
                f"broadcast {broadcast_id} is {now}: it cannot become {to.value} "
                f"(only from {', '.join(sorted(s.value for s in allowed))})"
            )
        self._cached.pop(broadcast_id, None)
        return record

    def _required(self, broadcast_id: str) -> dict[str, Any]:
        record = self._store.get(broadcast_id)
        if record is None:
            raise BroadcastNotFound(f"there is no broadcast {broadcast_id}")
        return record

    def _fresh(self, broadcast_id: str, *, cached: bool = True) -> dict[str, Any]:
        now = self._monotonic()
        kept = self._cached.get(broadcast_id) if cached else None
        if kept is not None and now - kept[0] < STATUS_CACHE_SECONDS:
            return kept[1]
        record = self._required(broadcast_id)
        self._cached[broadcast_id] = (now, record)
        return record


class BroadcastNotFound(LookupError):
    pass


class BroadcastStateConflict(Exception):
    """The broadcast's status does not allow the change (e.g. resuming a completed one)."""


def _rows_output(record: Mapping[str, Any]) -> dict[str, Any]:
    counts = record.get("counts") or {}
    startable = bool(record.get("rows_key")) and Status(record["status"]) is Status.RUNNING
    return {
        "broadcast_id": record["broadcast_id"],
        "rows_key": record.get("rows_key", ""),
        "start_rows": startable and int(counts.get("valid", 0)) > 0,
    }


PUBLIC_FIELDS: Final = (
    "broadcast_id",
    "created",
    "account",
    "automation",
    "status",
    "attempt",
    "file_key",
    "format",
    "created_at",
    "finished_at",
    "requested_by",
    "counts",
    "bad_rows",
    "failure",
)


def public_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """The broadcast as the CLI and API show it (no keys, numbers as ints)."""
    view: dict[str, Any] = json.loads(
        json.dumps({name: record[name] for name in PUBLIC_FIELDS if name in record}, default=int)
    )
    return view


def _started_with(record: Mapping[str, Any]) -> FileIdentity:
    return FileIdentity(str(record.get("file_etag", "")), str(record.get("file_version", "")))
