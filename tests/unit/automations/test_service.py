"""Starting an automation and reading its runs back, on in-memory ports: what is stored once,
what a retry gets, what is rejected before anything is stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from sms_automation.accounts import Account
from sms_automation.automations.service import (
    AutomationRuns,
    AutomationStarter,
    RunStoreUnavailable,
)
from sms_automation.automations.start import RejectionReason, StartRejected, StartRequest
from sms_automation.triggers.publish import publish
from tests.support.fakes import (
    InMemoryAccounts,
    InMemoryEvaluationStates,
    InMemoryRunOrigins,
    InMemoryTriggerFiles,
)

OURS, CONTACT = "+15005550006", "+14155550101"
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
ACME = Account("acme", "AC" + "0" * 32, True, "test/accounts/acme", "t0", "t0")
NOTIFY = yaml.safe_dump(
    {
        "version": 1,
        "automations": [
            {"name": "notify", "from": OURS, "actions": [{"type": "send_sms", "body": "hi"}]}
        ],
    }
)


class World:
    def __init__(self) -> None:
        self.triggers = InMemoryTriggerFiles()
        self.origins = InMemoryRunOrigins()
        self.now = NOW
        self.starter = AutomationStarter(
            accounts=InMemoryAccounts(ACME),
            triggers=self.triggers,
            runs=self.origins,
            clock=lambda: self.now,
        )


@pytest.fixture
def world() -> World:
    given = World()
    publish(given.triggers, "acme", NOTIFY, now=NOW)
    return given


def request(key: str = "k1", **changes: Any) -> StartRequest:
    return StartRequest(
        **{"account": "acme", "automation": "notify", "to": CONTACT, "idempotency_key": key}
        | changes
    )


def test_starter_stores_the_run_pinned_to_the_current_trigger_version(world: World) -> None:
    started = world.starter.start(request())

    assert started.created
    assert (started.account, started.automation, started.trigger_version) == ("acme", "notify", 1)
    assert started.requested_at == "2026-11-26T09:30:00.000Z"
    stored = world.origins.get(started.run_id)
    assert stored is not None
    assert (stored["to"], stored["from"]) == (CONTACT, OURS)


def test_starter_retry_with_the_same_key_gets_the_same_run(world: World) -> None:
    first = world.starter.start(request())
    publish(world.triggers, "acme", NOTIFY, now=NOW)  # version 2 since: the run keeps 1

    again = world.starter.start(request())

    assert (again.run_id, again.created, again.trigger_version) == (first.run_id, False, 1)
    assert len(list(world.origins.list_for_account("acme"))) == 1


def test_starter_same_key_with_another_request_is_a_conflict(world: World) -> None:
    world.starter.start(request())

    with pytest.raises(StartRejected) as rejected:
        world.starter.start(request(to="+14155550102"))

    assert rejected.value.reason is RejectionReason.IDEMPOTENCY_CONFLICT


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"account": "globex"}, RejectionReason.ACCOUNT_NOT_FOUND),
        ({"automation": "missing"}, RejectionReason.AUTOMATION_NOT_FOUND),
    ],
)
def test_starter_rejects_before_storing_anything(
    world: World, changes: dict[str, Any], reason: RejectionReason
) -> None:
    with pytest.raises(StartRejected) as rejected:
        world.starter.start(request(**changes))

    assert rejected.value.reason is reason
    assert list(world.origins.list_for_account(changes.get("account", "acme"))) == []


def test_starter_account_without_trigger_file_has_no_automation() -> None:
    given = World()

    with pytest.raises(StartRejected) as rejected:
        given.starter.start(request())

    assert rejected.value.reason is RejectionReason.AUTOMATION_NOT_FOUND


def test_starter_run_store_unavailable_reaches_the_caller(world: World) -> None:
    world.origins.unavailable = True

    with pytest.raises(RunStoreUnavailable):
        world.starter.start(request())


class FakeLog:
    """``action_log.ActionLog`` as the reader uses it."""

    def __init__(self, run: dict[str, Any] | None) -> None:
        self.run = run

    def of(self, message_sid: str) -> dict[str, Any]:
        return {"evaluation": self.run, "steps": [{"step_id": "a0", "state": "done"}]}

    def conversations(self, message_sid: str) -> list[dict[str, Any]]:
        return []


def runs_reader(world: World, statuses: InMemoryEvaluationStates, log: FakeLog) -> AutomationRuns:
    return AutomationRuns(origins=world.origins, statuses=statuses, log=log)


def test_runs_describe_a_queued_run_until_the_processor_picks_it_up(world: World) -> None:
    run_id = world.starter.start(request()).run_id

    view = runs_reader(world, InMemoryEvaluationStates(), FakeLog(None)).describe(run_id)

    assert view is not None
    assert (view["status"], view["ended"], view["steps"][0]["step_id"]) == ("queued", False, "a0")


def test_runs_describe_a_finished_run(world: World) -> None:
    run_id = world.starter.start(request()).run_id
    log = FakeLog({"status": "completed", "finished_at": "t9", "diagnostics": ()})

    view = runs_reader(world, InMemoryEvaluationStates(), log).describe(run_id, account="acme")

    assert view is not None
    assert (view["status"], view["ended"], view["finished_at"]) == ("completed", True, "t9")


def test_runs_describe_hides_another_account_s_run_and_bad_ids(world: World) -> None:
    run_id = world.starter.start(request()).run_id
    reader = runs_reader(world, InMemoryEvaluationStates(), FakeLog(None))

    assert reader.describe(run_id, account="globex") is None
    assert reader.describe("not a run id") is None


def test_runs_recent_newest_first_with_their_status(world: World) -> None:
    older = world.starter.start(request("k1")).run_id
    world.now = NOW.replace(minute=31)
    newer = world.starter.start(request("k2")).run_id

    recent = runs_reader(
        world, InMemoryEvaluationStates(**{older: "completed"}), FakeLog(None)
    ).recent("acme", automation="NOTIFY")

    assert [(r["run_id"], r["status"]) for r in recent] == [(newer, "queued"), (older, "completed")]
