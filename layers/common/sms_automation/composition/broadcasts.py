"""``broadcasts.service`` on AWS: the app table (records, contacts, the automation starter), the
broadcasts bucket and the broadcast state machine; ``service()`` once per warm Lambda. The
state machine's two functions: ``composition.broadcast_steps``, ``composition.broadcast_row``;
there the bucket's and the state machine's clients are made on first use (``FilesOnFirstUse``,
``EngineOnFirstUse``): a row and a Finish, nearly all of a broadcast's invocations, use neither.

``broadcast_report``: a broadcast's report (``broadcasts.report``) with its rows' runs read in
parallel, the one assembly the CLI's ``broadcast report`` and the automations API's report
route share."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cache, cached_property
from typing import Any

from sms_automation.adapters.broadcast_engine import StepFunctionsBroadcastEngine
from sms_automation.adapters.broadcast_files import S3BroadcastFiles
from sms_automation.adapters.broadcast_store import DynamoBroadcastStore
from sms_automation.adapters.contact_store import DynamoContactStore
from sms_automation.broadcasts.report import build_report, row_run_id
from sms_automation.broadcasts.service import (
    BroadcastEngine,
    BroadcastFiles,
    Broadcasts,
    FileIdentity,
)
from sms_automation.composition.automations import describe_run, dynamo_starter
from sms_automation.edge import aws
from sms_automation.edge.settings import BroadcastSettings
from sms_automation.opt_out import opted_out


def broadcasts(settings: BroadcastSettings, *, dynamodb: Any, s3: Any, states: Any) -> Broadcasts:
    return _broadcasts(
        settings,
        dynamodb,
        files=S3BroadcastFiles(settings.bucket, s3),
        engine=StepFunctionsBroadcastEngine(settings.state_machine_arn, states),
    )


def _broadcasts(
    settings: BroadcastSettings, dynamodb: Any, *, files: BroadcastFiles, engine: BroadcastEngine
) -> Broadcasts:
    contacts = DynamoContactStore(settings.table_name, dynamodb)
    return Broadcasts(
        store=DynamoBroadcastStore(settings.table_name, dynamodb),
        files=files,
        engine=engine,
        starter=dynamo_starter(settings.table_name, dynamodb),
        opted_out=lambda account, sender, contact: (
            opted_out(contacts, account, [sender], contact) is not None
        ),
        clock=lambda: datetime.now(UTC),
        monotonic=time.monotonic,
    )


def broadcast_report(
    service: Broadcasts,
    record: Mapping[str, Any],
    *,
    table_name: str,
    dynamodb: Any,
    threads: int,
    check_rows: Callable[[int], None] = lambda rows: None,
) -> dict[str, Any]:
    """``record``'s report: each started row's run read in parallel (``threads`` at once).
    ``check_rows(n)`` is called with the rows to read before any is read (it raises to refuse
    a report too large for its caller)."""
    lines = list(service.started_rows(record))
    check_rows(len(lines))
    account, broadcast_id = str(record["account"]), str(record["broadcast_id"])
    run_ids = [row_run_id(account, broadcast_id, line) for line in lines]
    with ThreadPoolExecutor(threads) as pool:
        views = pool.map(lambda run_id: describe_run(table_name, dynamodb, run_id), run_ids)
        by_run = dict(zip(run_ids, views, strict=True))
    return build_report(record, lines, by_run.get)


class FilesOnFirstUse:
    """``S3BroadcastFiles`` with its S3 client made on first use (only Validate reads a file)."""

    def __init__(self, bucket: str) -> None:
        self._bucket = bucket

    @cached_property
    def _files(self) -> S3BroadcastFiles:
        return S3BroadcastFiles(self._bucket, aws.client("s3"))

    def identify(self, key: str) -> FileIdentity:
        return self._files.identify(key)

    def chunks(self, key: str, identity: FileIdentity) -> Iterable[bytes]:
        return self._files.chunks(key, identity)

    def write_rows(self, key: str, rows: Iterable[Mapping[str, Any]]) -> None:
        self._files.write_rows(key, rows)

    def read_rows(self, key: str) -> Iterator[dict[str, Any]]:
        return self._files.read_rows(key)


class EngineOnFirstUse:
    """``StepFunctionsBroadcastEngine`` with its client made on first use (the state machine's
    own tasks never start, stop or describe an execution)."""

    def __init__(self, state_machine_arn: str) -> None:
        self._arn = state_machine_arn

    @cached_property
    def _engine(self) -> StepFunctionsBroadcastEngine:
        return StepFunctionsBroadcastEngine(self._arn, aws.client("stepfunctions"))

    def start(self, execution_name: str, broadcast_id: str) -> None:
        self._engine.start(execution_name, broadcast_id)

    def stop(self, execution_name: str) -> None:
        self._engine.stop(execution_name)

    def progress(self, execution_name: str) -> dict[str, Any]:
        return self._engine.progress(execution_name)


@cache
def service() -> Broadcasts:
    settings = BroadcastSettings.from_environ(os.environ)
    return _broadcasts(
        settings,
        aws.client("dynamodb"),
        files=FilesOnFirstUse(settings.bucket),
        engine=EngineOnFirstUse(settings.state_machine_arn),
    )
