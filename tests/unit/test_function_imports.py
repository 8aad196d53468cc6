"""The cold start of every function: importing a handler as Lambda does (its directory, then the
layer) loads none of the heavy packages its first event does not need (``make bench``): no
Powertools (``edge.log_lines`` writes every line, ``edge.batch`` settles every batch:
docs/decisions/0001-edge-stack.md), no pydantic or YAML (a trigger file is compiled on first
use), no twilio or requests (loaded when something is sent), no zoneinfo (loaded when a time
zone is read)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.python import run_python

ROOT = Path(__file__).resolve().parents[2]
NOT_AT_IMPORT = (
    "aws_lambda_powertools",
    "pydantic",
    "yaml",
    "twilio",
    "requests",
    "re2",
    "zoneinfo",
)
FUNCTIONS = sorted(path.name for path in (ROOT / "functions").iterdir() if path.is_dir())


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_handler_imports_without_powertools_pydantic_yaml_or_twilio(function: str) -> None:
    assert imported_at_cold_start(function, NOT_AT_IMPORT) == "[]"


def imported_at_cold_start(function: str, packages: tuple[str, ...]) -> str:
    """Which of ``packages`` importing the function's handler loads, as a sorted list."""
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(ROOT / 'functions' / function)!r}, "
        f"{str(ROOT / 'layers' / 'common')!r}]\n"
        "import handler\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({packages!r})))\n"
    )
    return run_python(code).strip()


def test_the_console_api_loads_the_action_log_when_a_route_reads_one() -> None:
    """The console's first request is the inbox, which reads no action log and counts no
    conversation: their adapters (evaluations, steps, outbound records, conversations) are
    imported on first use (``composition.console_api.ActionLogsOnFirstUse``,
    ``adapters.console_reads.DynamoOpenConversations``; bench/cold_start.py, console_api)."""
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(ROOT / 'functions' / 'console_api')!r}, "
        f"{str(ROOT / 'layers' / 'common')!r}]\n"
        "import handler\n"
        "print(sorted(m for m in sys.modules if m.startswith('sms_automation.')\n"
        "    and m.rpartition('.')[2] in\n"
        "    {'action_log', 'step_ledger', 'outbound_store', 'conversation_store'}))\n"
    )
    assert run_python(code).strip() == "[]"


def test_the_console_api_loads_a_page_when_its_route_is_first_asked() -> None:
    """The inbox (the console's first request) needs the reads only: the Triggers, automations
    and accounts pages and a thread's writes (their use cases, adapters and refusals) are
    imported when one of their routes is first asked (``console.http.refusal``,
    ``composition.console_api``; bench/cold_start.py, console_api)."""
    pages = (
        "sms_automation.console.writes",
        "sms_automation.console.trigger_files",
        "sms_automation.console.trigger_requests",
        "sms_automation.console.automations",
        "sms_automation.console.account_settings",
        "sms_automation.automations.http",
        "sms_automation.automations.start",
        "sms_automation.adapters.trigger_store",
        "sms_automation.outbound",
    )
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(ROOT / 'functions' / 'console_api')!r}, "
        f"{str(ROOT / 'layers' / 'common')!r}]\n"
        "import handler\n"
        f"print(sorted(set(sys.modules) & set({pages!r})))\n"
    )
    assert run_python(code).strip() == "[]"


def test_a_broadcasts_state_machine_task_makes_its_bucket_and_engine_clients_on_first_use() -> None:
    """A row and a Finish (nearly every invocation of the broadcast functions) read no file and
    start no execution: ``composition.broadcasts.service()`` makes the DynamoDB client only."""
    code = (
        "import os, sys\n"
        f"sys.path[:0] = [{str(ROOT / 'layers' / 'common')!r}]\n"
        "os.environ.update(TABLE_NAME='t', BROADCASTS_BUCKET='b', AWS_DEFAULT_REGION='us-east-1',\n"
        "    BROADCAST_STATE_MACHINE_ARN='arn:aws:states:us-east-1:123456789012:stateMachine:b')\n"
        "from sms_automation.edge import aws\n"
        "made = []\n"
        "real = aws.client\n"
        "aws.client = lambda service, *a: made.append(service) or real(service, *a)\n"
        "from sms_automation.composition import broadcasts\n"
        "broadcasts.service()\n"
        "print(made)\n"
    )
    assert run_python(code).strip() == "['dynamodb']"


def test_automation_events_loads_the_broadcasts_code_only_for_a_broadcast_schedule() -> None:
    """Nearly every event or schedule starts one run: the broadcast service, its adapters and
    the file checks are imported when a schedule's broadcast first fires
    (``composition.automation_events._start_broadcast``)."""
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(ROOT / 'functions' / 'automation_events')!r}, "
        f"{str(ROOT / 'layers' / 'common')!r}]\n"
        "import handler\n"
        "print(sorted(m for m in sys.modules if m.startswith(('sms_automation.broadcasts',\n"
        "    'sms_automation.composition.broadcasts', 'sms_automation.adapters.broadcast'))))\n"
    )
    assert run_python(code).strip() == "[]"


LOADED_WHEN_FIRST_ASKED = (
    "sms_automation.adapters.contact_store",
    "sms_automation.adapters.conversation_store",
    "sms_automation.adapters.conversation_workflow",
    "sms_automation.adapters.evaluation_store",
    "sms_automation.adapters.message_store",
    "sms_automation.adapters.trigger_store",
    "sms_automation.conversations.service",
    "sms_automation.opt_out",
    "sms_automation.processing.intake",
    "sms_automation.processing.ports",
    "sms_automation.processing.ledger",
    "sms_automation.processing.pacing",
    "sms_automation.processing.quiet_hours",
)


@pytest.mark.parametrize(
    "function",
    ["trigger_processor", "conversation_register", "conversation_resume", "conversation_timer"],
)
def test_the_processing_runtime_loads_its_stores_and_use_cases_when_first_asked(
    function: str,
) -> None:
    """``composition.runtime`` imports the intake, the conversations, their stores, pacing
    and quiet hours where a property is first asked (a conversation's register or
    tick takes no message in); ``adapters.aws_failures`` the processing ports when an action
    adapter first calls (bench/cold_start.py)."""
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(ROOT / 'functions' / function)!r}, "
        f"{str(ROOT / 'layers' / 'common')!r}]\n"
        "import handler\n"
        f"print(sorted(set(sys.modules) & set({LOADED_WHEN_FIRST_ASKED!r})))\n"
    )
    assert run_python(code).strip() == "[]"


STEP_TYPES = ("sms_automation.triggers.plan",)
"""The step dataclasses (about half a millisecond each to create at a cold start): made where a
step or its outcome is (``conversations.service.Conversations.perform`` and ``_send``,
``adapters.conversation_store._pattern``, the engine); the outcomes alone are
``triggers.outcomes``."""


@pytest.mark.parametrize(
    "function",
    ["trigger_processor", "conversation_register", "conversation_resume", "conversation_timer"],
)
def test_the_first_event_of_make_bench_makes_no_step_types(function: str) -> None:
    """The first event ``make bench`` serves each of these functions (bench/cold_start.py: a
    message for an account without triggers, a conversation's register without a prompt, a
    timer's look with nothing due, a timed-out conversation's resume) reads conversations and
    their outcomes and performs no step: ``triggers.plan`` is not imported."""
    from bench.cold_start import SCENARIOS
    from bench.common import ENVIRONMENT

    scenario = SCENARIOS[function]()
    code = (
        "import io, json, os, sys\n"
        f"os.environ.update({ENVIRONMENT!r})\n"
        f"sys.path[:0] = [{str(ROOT / 'functions' / function)!r}, "
        f"{str(ROOT / 'layers' / 'common')!r}, {str(ROOT / 'bench')!r}]\n"
        "import cold_child, handler\n"
        f"cold_child._answer_aws_from({scenario.aws!r}, [])\n"
        "sys.stdout = io.StringIO()  # the handler's log lines\n"
        f"response = handler.lambda_handler({scenario.event!r}, cold_child._Context())\n"
        "sys.stdout = sys.__stdout__\n"
        f"print(json.dumps([response, sorted(set(sys.modules) & set({STEP_TYPES!r}))]))\n"
    )
    response, loaded = json.loads(run_python(code).strip().splitlines()[-1])
    assert scenario.succeeded(response)
    assert loaded == []
