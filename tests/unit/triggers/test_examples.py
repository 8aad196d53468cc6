"""Every file in examples/triggers validates (models and JSON Schema) and does what it says."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from sms_automation.triggers import (
    AccountSettings,
    Engine,
    Evaluation,
    MakeCall,
    RecordItem,
    SendSms,
    StepOutcome,
    json_schema,
    load_trigger_file,
)
from sms_automation.triggers.loader import parse_trigger_text, read_yaml
from sms_automation.triggers.model import WaitForReplyAction
from tests.unit.triggers.builders import NOW, OUR_NUMBER, SENDER, message

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "triggers"


@dataclass(frozen=True)
class Scenario:
    file: str
    body: str
    matched: tuple[str, ...]
    check: Callable[[Evaluation], None]
    fields: dict[str, Any] = field(default_factory=dict)
    now: dt.datetime = NOW
    timezone: str | None = None
    outcomes: dict[str, StepOutcome] = field(default_factory=dict)


def sms(evaluation: Evaluation) -> list[SendSms]:
    return [step for step in evaluation.plan if isinstance(step, SendSms)]


def only_sms_body(expected: str) -> Callable[[Evaluation], None]:
    def check(evaluation: Evaluation) -> None:
        assert [step.body for step in sms(evaluation)] == [expected]
        assert evaluation.diagnostics == ()

    return check


def check_ticket(evaluation: Evaluation) -> None:
    reply, record = evaluation.plan
    assert isinstance(reply, SendSms)
    assert reply.body == "Support here. We opened a ticket about 'billing'."
    assert record == RecordItem(
        step_id="support-ticket/2",
        trigger="support-ticket",
        table=None,
        item={"ticket_from": SENDER, "topic": "billing", "text": "help billing please"},
    )


def check_forward(evaluation: Evaluation) -> None:
    forward, ack = sms(evaluation)
    assert (forward.to, forward.body) == ("+15005550010", f"[acme] urgent from {SENDER}: P1 outage")
    assert (ack.to, ack.from_) == (SENDER, OUR_NUMBER)


def check_order(evaluation: Evaluation) -> None:
    record, confirmation, email_problem = evaluation.plan
    assert isinstance(record, RecordItem)
    assert record.table == "orders"
    assert record.item["order_id"] == "123456"
    assert record.item["quantity"] == "3"
    assert record.item["email"] == "jo-at-example"
    assert isinstance(confirmation, SendSms)
    assert confirmation.body == "Order 123456 x3 recorded."
    assert isinstance(email_problem, SendSms)
    assert "'jo-at-example'" in email_problem.body


def check_read(evaluation: Evaluation) -> None:
    (call,) = evaluation.plan
    assert isinstance(call, MakeCall)
    assert call.to == "+15005550011"
    assert (
        f'<Say voice="Polly.Joanna" language="en-US" loop="2">New text message from {SENDER}. '
        "It says: Fire alarm &amp; sprinklers on</Say>"
    ) in call.twiml


def check_connect(evaluation: Evaluation) -> None:
    call, text = evaluation.plan
    assert isinstance(call, MakeCall)
    assert f'<Dial callerId="{OUR_NUMBER}" timeout="20" record="record-from-answer">' in call.twiml
    assert f"<Number>{SENDER}</Number>" in call.twiml
    assert isinstance(text, SendSms)


def check_crm(evaluation: Evaluation) -> None:
    request, greeting = evaluation.plan
    assert request.kind == "http_request"
    assert request.step_id == "greet-known-customer/crm-lookup"
    assert isinstance(greeting, SendSms)
    assert greeting.body == "Hello Jo, thanks for your message."


SCENARIOS = [
    Scenario(
        "auto-reply.yaml",
        "Hi",
        ("auto-reply",),
        only_sms_body("Thanks for your message, we will reply shortly."),
    ),
    Scenario(
        "auto-reply.yaml",
        "Hi",
        ("auto-reply",),
        only_sms_body("Thanks! We are closed now (it is 19:05:00 here); we will reply after 9:00."),
        now=dt.datetime(2025, 7, 1, 18, 5, tzinfo=dt.UTC),
        timezone="Europe/London",
    ),
    Scenario(
        "keyword-routing.yaml",
        "PRICES",
        ("sales-info",),
        only_sms_body("Our prices: https://example.com/prices"),
        fields={"To": "+15005550006"},
    ),
    Scenario(
        "keyword-routing.yaml",
        "help billing please",
        ("support-ticket",),
        check_ticket,
        fields={"To": "+15005550007"},
    ),
    Scenario(
        "keyword-routing.yaml",
        "prices",
        ("fallback",),
        only_sms_body("Sorry, we did not understand. Text INFO or HELP <topic>."),
        fields={"To": "+15005550007"},
    ),
    Scenario(
        "forward-to-on-call.yaml", "P1 outage", ("forward-urgent", "acknowledge"), check_forward
    ),
    Scenario(
        "forward-to-on-call.yaml",
        "hello",
        ("acknowledge",),
        only_sms_body("Received. Ref SM" + "1" * 32 + "."),
    ),
    Scenario(
        "record-to-table.yaml",
        "ORDER 123456 qty 3 email jo-at-example",
        ("record-order",),
        check_order,
    ),
    Scenario(
        "record-to-table.yaml",
        "order please",
        ("record-order",),
        only_sms_body("Please write: ORDER <6 digits> qty <number> email <address>"),
    ),
    Scenario("call-and-read.yaml", "Fire alarm & sprinklers on", ("read-to-manager",), check_read),
    Scenario("call-and-connect.yaml", "Call me", ("call-me-back",), check_connect),
    Scenario(
        "http-lookup.yaml",
        "hi",
        ("greet-known-customer",),
        check_crm,
        outcomes={
            "greet-known-customer/crm-lookup": StepOutcome.done(
                {"status": 200, "json": {"name": "Jo"}}
            )
        },
    ),
]


def example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*.yaml"))


def test_examples_exist_and_each_has_a_scenario() -> None:
    names = {path.name for path in example_files()}
    assert len(names) >= 6
    assert names == {scenario.file for scenario in SCENARIOS}


@pytest.mark.parametrize("path", example_files(), ids=lambda path: path.name)
def test_examples_validate_against_the_models_and_the_json_schema(path: Path) -> None:
    load_trigger_file(path)
    jsonschema.validate(read_yaml(path.read_text()), json_schema())


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.file}:{s.body}")
def test_examples_dry_run_outcome(scenario: Scenario) -> None:
    engine = Engine(load_trigger_file(EXAMPLES / scenario.file))
    evaluation = engine.dry_run(
        message(Body=scenario.body, **scenario.fields),
        now=scenario.now,
        account=AccountSettings("acme", scenario.timezone),
        outcomes=scenario.outcomes,
    )
    assert evaluation.matched == scenario.matched
    scenario.check(evaluation)


# --- docs/triggers.md shows each file as it is -------------------------------------------------

DOCS = EXAMPLES.parents[1] / "docs" / "triggers.md"
_DOC_EXAMPLE = re.compile(
    r"^### [^\n]*\(\[(?P<file>[\w-]+\.yaml)\]\(\.\./examples/triggers/(?P=file)\)\)\n"
    r"(?:(?!^#)[^\n]*\n)*?```yaml\n(?P<body>.*?)^```$",
    re.M | re.S,
)


def _without_header_comments(text: str) -> str:
    """The file as the docs show it: the leading ``#`` comment lines (how to try it) dropped."""
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "".join(lines)


def test_docs_show_every_example_file_exactly() -> None:
    shown = {match["file"]: match["body"] for match in _DOC_EXAMPLE.finditer(DOCS.read_text())}
    assert sorted(shown) == sorted(path.name for path in EXAMPLES.glob("*.yaml"))
    for name, body in shown.items():
        assert body == _without_header_comments((EXAMPLES / name).read_text()), name


def test_the_wait_for_reply_action_in_the_docs_validates() -> None:
    section = DOCS.read_text().split("### `wait_for_reply`\n", 1)[1]
    snippet = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    indented = "".join(f"      {line}\n" for line in snippet.splitlines())
    source = f"version: 1\ntriggers:\n  - name: ask\n    actions:\n{indented}"
    trigger_set = parse_trigger_text(source, filename="docs/triggers.md")
    [wait] = trigger_set.triggers[0].actions
    assert isinstance(wait, WaitForReplyAction)
    assert wait.expected_words == ("YES", "NO")
