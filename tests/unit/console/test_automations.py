"""The console's automations page on in-memory ports, with the real starter and run readers:
the form's inputs, a start by role and scope (the origin and the audit record), every problem
of a bad form named by field, one run per submitted form, and the runs' pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from sms_automation.accounts import Account
from sms_automation.automations.service import AutomationRuns, AutomationStarter
from sms_automation.automations.start import StartRejected
from sms_automation.console.access import AccessDenied, Principal, Role
from sms_automation.console.automations import ConsoleAutomations
from sms_automation.console.queries import BadRequest, Cursor
from sms_automation.console.reads import NotFound
from sms_automation.triggers.loader import parse_trigger_text
from sms_automation.triggers.publish import publish
from tests.support.fakes import (
    InMemoryAccounts,
    InMemoryEvaluationStates,
    InMemoryRunOrigins,
    InMemoryTriggerFiles,
    StoredFile,
)

OURS, CONTACT = "+15005550006", "+14155550101"
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
KEY = "form-0123456789abcdef"
REMINDER = yaml.safe_dump(
    {
        "version": 1,
        "automations": [
            {
                "name": "reminder",
                "description": "Remind a patient",
                "from": OURS,
                "inputs": [
                    {"name": "patient", "required": True, "description": "First name"},
                    {"name": "visits", "type": "integer", "default": "1"},
                    {"name": "day", "type": "date"},
                    {"name": "urgent", "type": "boolean", "default": "false"},
                ],
                "actions": [{"type": "send_sms", "body": "Hi %patient%"}],
            },
            {"name": "off", "enabled": False, "actions": [{"type": "send_sms", "body": "x"}]},
        ],
    },
    sort_keys=False,
)


def account(name: str) -> Account:
    return Account(name, "AC" + "0" * 32, True, f"test/accounts/{name}", "t0", "t0")


class Files:
    def __init__(self, triggers: InMemoryTriggerFiles) -> None:
        self._triggers = triggers

    def current(self, name: str) -> StoredFile | None:
        return self._triggers.current(name)

    def automations(self, name: str, stored: Any) -> list[Any]:
        return list(parse_trigger_text(stored.source, filename="t", stored=True).automations)


class Names:
    def exists(self, name: str) -> bool:
        return name in {"acme", "globex"}


class Log:
    def of(self, run_id: str) -> dict[str, Any]:
        return {"evaluation": None, "steps": [{"step_id": "reminder/1", "state": "done"}]}

    def conversations(self, run_id: str) -> list[dict[str, Any]]:
        return []


class Audit:
    """``AuditLog.record``'s contract: an action's identity (``once``) is recorded once; the
    next write fails when ``fail_next`` is set (the audit table throttled, say)."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.claimed: set[tuple[str, str]] = set()
        self.fail_next = False

    def record(self, *, once: str | None = None, **entry: Any) -> None:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the audit write failed")
        if once is not None:
            if (entry["action"], once) in self.claimed:
                return
            self.claimed.add((entry["action"], once))
        self.entries.append(entry)


class World:
    def __init__(self) -> None:
        self.triggers = InMemoryTriggerFiles()
        self.origins = InMemoryRunOrigins()
        self.audit = Audit()
        self.now = NOW
        starter = AutomationStarter(
            accounts=InMemoryAccounts(account("acme"), account("globex")),
            triggers=self.triggers,
            runs=self.origins,
            clock=lambda: self.now,
        )
        runs = AutomationRuns(origins=self.origins, statuses=InMemoryEvaluationStates(), log=Log())
        self.page = ConsoleAutomations(Names(), Files(self.triggers), starter, runs, self.audit)


@pytest.fixture
def world() -> World:
    given = World()
    publish(given.triggers, "acme", REMINDER, now=NOW)
    publish(given.triggers, "globex", REMINDER, now=NOW)
    return given


def user(role: Role = Role.OPERATOR, *accounts: str) -> Principal:
    return Principal("ann@example.com", role, frozenset(accounts) or None)


def form(key: str = KEY, **changes: Any) -> dict[str, Any]:
    return {"to": CONTACT, "variables": {"patient": "Ann"}, "idempotency_key": key} | changes


def test_the_list_gives_each_automation_s_inputs_as_the_form_needs_them(world: World) -> None:
    listed = world.page.list(user(Role.VIEWER), "acme")

    assert listed["trigger_version"] == 1
    reminder, off = listed["items"]
    assert (reminder["name"], reminder["from"], reminder["enabled"]) == ("reminder", OURS, True)
    assert off["enabled"] is False
    assert reminder["inputs"] == [
        {"name": "patient", "type": "text", "required": True, "default": None,
         "description": "First name"},
        {"name": "visits", "type": "integer", "required": False, "default": "1",
         "description": ""},
        {"name": "day", "type": "date", "required": False, "default": None, "description": ""},
        {"name": "urgent", "type": "boolean", "required": False, "default": "false",
         "description": ""},
    ]  # fmt: skip


def test_an_account_without_a_trigger_file_lists_no_automation(world: World) -> None:
    world.triggers.versions.pop("globex")
    assert world.page.list(user(), "globex") == {"trigger_version": None, "items": []}


def test_an_operator_starts_a_run_recorded_as_the_console_s_and_audited_once(
    world: World,
) -> None:
    created, run = world.page.start(user(Role.OPERATOR), "acme", "Reminder", form())

    assert created is True
    origin = world.origins.get(run["run_id"])
    assert origin is not None
    assert (origin["source"], origin["requested_by"]) == ("console", "ann@example.com")
    assert origin["variables"] == {"patient": "Ann", "visits": "1", "day": "", "urgent": "false"}
    assert origin["idempotency_key"] == f"console:{KEY}"
    assert world.audit.entries == [
        {"actor": "ann@example.com", "action": "automation.start", "account": "acme",
         "target": "reminder", "detail": {"run_id": run["run_id"], "trigger_version": 1}},
    ]  # fmt: skip


def test_the_same_form_submitted_twice_starts_one_run(world: World) -> None:
    first = world.page.start(user(), "acme", "reminder", form())
    again = world.page.start(user(Role.ADMIN), "acme", "reminder", form())

    assert (first[0], again[0]) == (True, False)
    assert first[1]["run_id"] == again[1]["run_id"]
    assert len(list(world.origins.list_for_account("acme"))) == 1
    assert len(world.audit.entries) == 1
    # Another form (another key) is another run.
    assert world.page.start(user(), "acme", "reminder", form("form-" + "f" * 16))[0] is True


def test_a_user_of_another_account_starts_nothing(world: World) -> None:
    # A viewer: refused by the route's role (tests/unit/console/test_route_roles.py).
    with pytest.raises(AccessDenied):
        world.page.start(user(Role.ADMIN, "globex"), "acme", "reminder", form())
    assert list(world.origins.list_for_account("acme")) == []
    assert world.audit.entries == []


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"variables": {}}, ["variables.patient"]),
        ({"variables": {"patient": "Ann", "visits": "two"}}, ["variables.visits"]),
        ({"variables": {"patient": "Ann", "day": "tomorrow", "colour": "red"}},
         ["variables.colour", "variables.day"]),
        ({"to": "555"}, ["to"]),
        ({"to": None, "variables": {"urgent": "maybe"}}, ["to", "variables.urgent",
                                                          "variables.patient"]),
        ({"idempotency_key": None}, ["idempotency_key"]),
        ({"idempotency_key": "short"}, ["idempotency_key"]),
        ({"idempotency_key": "x" * 16 + " "}, ["idempotency_key"]),
        ({"colour": "red"}, ["colour"]),
    ],
)  # fmt: skip
def test_a_bad_form_names_every_problem_by_field_and_starts_nothing(
    world: World, changes: dict[str, Any], fields: list[str]
) -> None:
    with pytest.raises(StartRejected) as rejected:
        world.page.start(user(), "acme", "reminder", form(**changes))

    assert rejected.value.status == 400
    assert sorted(p.field for p in rejected.value.problems) == sorted(fields)
    assert list(world.origins.list_for_account("acme")) == []
    assert world.audit.entries == []


def test_an_unknown_or_disabled_automation_is_refused(world: World) -> None:
    with pytest.raises(StartRejected) as unknown:
        world.page.start(user(), "acme", "nosuch", form())
    with pytest.raises(StartRejected) as disabled:
        world.page.start(user(), "acme", "off", form(to=CONTACT, variables={}, **{"from": OURS}))
    assert (unknown.value.status, disabled.value.status) == (404, 409)


def test_runs_page_newest_first_and_one_automation_s_only(world: World) -> None:
    started = []
    for n in range(5):
        world.now = NOW + timedelta(minutes=n)
        started.append(world.page.start(user(), "acme", "reminder", form(f"{KEY}{n}"))[1])
    world.page.start(user(), "globex", "reminder", form())

    seen, query = [], {"limit": "2"}
    while True:
        page = world.page.run_page(user(Role.VIEWER), "acme", query)
        seen += [r["run_id"] for r in page["items"]]
        assert all(r["status"] == "queued" for r in page["items"])
        if page["next_cursor"] is None:
            break
        query = {"limit": "2", "cursor": page["next_cursor"]}
    assert seen == [r["run_id"] for r in reversed(started)]
    only = world.page.run_page(user(), "acme", {"automation": "REMINDER"})["items"]
    assert len(only) == 5
    assert world.page.run_page(user(), "acme", {"automation": "off"})["items"] == []


def test_runs_refuse_a_foreign_cursor_bad_parameters_and_another_account_s_run(
    world: World,
) -> None:
    _, theirs = world.page.start(user(), "globex", "reminder", form())
    foreign = Cursor("globex", f"2099-01-01T00:00:00.000Z#{theirs['run_id']}").encode()

    with pytest.raises(AccessDenied):
        world.page.run_page(user(Role.ADMIN, "acme"), "acme", {"cursor": foreign})
    with pytest.raises(BadRequest):
        world.page.run_page(user(Role.ADMIN), "acme", {"cursor": foreign})
    for query in ({"limit": "0"}, {"limit": "101"}, {"limit": "²"}, {"sort": "asc"},
                  {"cursor": "nope"}, {"automation": "x\n"}):  # fmt: skip
        with pytest.raises(BadRequest):
            world.page.run_page(user(), "acme", query)
    with pytest.raises(NotFound):
        world.page.run(user(Role.ADMIN), "acme", theirs["run_id"])
    with pytest.raises(AccessDenied):
        world.page.run(user(Role.ADMIN, "acme"), "globex", theirs["run_id"])
    detail = world.page.run(user(Role.VIEWER), "globex", theirs["run_id"])
    assert (detail["status"], detail["source"]) == ("queued", "console")
    assert detail["steps"] == [{"step_id": "reminder/1", "state": "done"}]


def test_every_read_checks_scope_before_existence(world: World) -> None:
    scoped = user(Role.ADMIN, "acme")
    for call in (
        lambda: world.page.list(scoped, "nosuch"),
        lambda: world.page.run_page(scoped, "nosuch", {}),
        lambda: world.page.run(scoped, "nosuch", "RU" + "0" * 32),
    ):
        with pytest.raises(AccessDenied):
            call()
    with pytest.raises(NotFound):
        world.page.list(user(), "nosuch")


def test_a_retry_after_a_failed_audit_write_audits_the_start_exactly_once(world: World) -> None:
    world.audit.fail_next = True
    with pytest.raises(RuntimeError, match="audit write failed"):
        world.page.start(user(), "acme", "reminder", form())  # started; the user sees a 500
    created, run = world.page.start(user(), "acme", "reminder", form())  # their retry
    world.page.start(user(), "acme", "reminder", form())

    assert created is False
    assert [e["detail"]["run_id"] for e in world.audit.entries] == [run["run_id"]]
