"""The flow diagram's model: what each trigger does in plain words, drawn from the parsed file
(defaults filled in), with every wait's four outcomes, and bounded whatever the file holds."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from sms_automation.triggers import load_trigger_file, parse_trigger_text
from sms_automation.triggers.flow import MAX_TEXT, flow_of

EXAMPLES = Path(__file__).parents[3] / "examples"

FILE = textwrap.dedent(
    """\
    version: 1
    triggers:
      - name: booking
        when:
          - {field: Body, starts_with: book}
          - any:
              - {field: From, equals: "+15551230000"}
              - not: {field: Body, contains: test}
        extract:
          - {regex: 'book (?P<day>\\w+)'}
        actions:
          - type: wait_for_reply
            id: confirm
            prompt: "Reply YES to confirm %day%"
            timeout: 2h
            expect: ["yes", "no"]
            reprompt: "Please answer YES or NO"
            on_reply:
              - type: if
                condition: {field: Reply, equals: "yes"}
                then: [{type: send_sms, body: "Booked"}]
                else: [{type: stop}]
            on_timeout: [{type: send_sms, body: "No answer, cancelled"}]
          - {type: send_sms, body: "Thanks"}
      - name: catch-all
        continue: true
        actions: []
    """
)


def test_a_trigger_reads_as_conditions_then_actions_in_order() -> None:
    booking, catch_all = flow_of(parse_trigger_text(FILE))["triggers"]
    assert booking["name"] == "booking"
    assert booking["when"]["kind"] == "all"
    first, second = booking["when"]["children"]
    assert first["text"] == "Body starts with “book”"
    assert second["kind"] == "any"
    assert second["children"][1]["kind"] == "not"
    assert second["children"][1]["children"][0]["text"] == "Body contains “test”"
    assert booking["extract"] == ["its named groups from Body, by the pattern “book (?P<day>\\w+)”"]
    assert [action["type"] for action in booking["actions"]] == ["wait_for_reply", "send_sms"]
    assert booking["actions"][1]["text"] == (
        "Send an SMS to %From% from the number written to (%To%): “Thanks”"
    )
    assert booking["after"] == "then stops: later triggers are not tried"
    assert catch_all["when"] == {"kind": "always", "text": "every message", "children": []}
    assert catch_all["after"] == "then goes on to the next triggers"


def test_a_wait_has_its_four_outcomes_each_with_its_actions() -> None:
    wait = flow_of(parse_trigger_text(FILE))["triggers"][0]["actions"][0]
    assert wait["id"] == "confirm"
    assert "Reply YES to confirm %day%" in wait["text"]
    assert "expected: “yes” or “no”" in wait["text"]
    outcomes = {branch["key"]: branch for branch in wait["branches"]}
    assert list(outcomes) == ["on_reply", "on_timeout", "on_delivery_failure", "on_no_valid_answer"]
    assert outcomes["on_timeout"]["label"] == "when no answer comes within 2h"
    assert outcomes["on_no_valid_answer"]["label"] == "after 3 answers that are not expected"
    assert outcomes["on_delivery_failure"]["actions"] == []
    (decision,) = outcomes["on_reply"]["actions"]
    assert decision["condition"]["text"] == "Reply is “yes”"
    then, otherwise = decision["branches"]
    assert then["actions"][0]["text"].endswith("“Booked”")
    assert otherwise["actions"][0]["type"] == "stop"


def test_a_wait_without_expect_says_no_answer_is_ever_invalid() -> None:
    parsed = parse_trigger_text(
        "version: 1\ntriggers:\n  - name: t\n    actions: [{type: wait_for_reply}]\n"
    )
    wait = flow_of(parsed)["triggers"][0]["actions"][0]
    labels = {branch["key"]: branch["label"] for branch in wait["branches"]}
    assert labels["on_timeout"] == "when no answer comes within 24h"
    assert labels["on_no_valid_answer"].startswith("never")
    assert "(no message sent)" in wait["text"]


def test_long_texts_are_shortened_and_markup_stays_data() -> None:
    body = "<script>alert(1)</script>" + "x" * 5_000
    parsed = parse_trigger_text(
        "version: 1\ntriggers:\n  - name: t\n    actions:\n"
        f"      - {{type: send_sms, body: {json.dumps(body)}}}\n"
    )
    text = flow_of(parsed)["triggers"][0]["actions"][0]["text"]
    assert "<script>alert(1)</script>" in text  # the page renders it as a text node
    assert len(text) < 2 * MAX_TEXT
    assert text.endswith("…”")


def test_deeply_nested_branches_within_the_loaders_limit_are_drawn_whole() -> None:
    branch = "{type: stop}"
    for _ in range(15):
        branch = f"{{type: if, condition: {{field: Body, contains: x}}, then: [{branch}]}}"
    parsed = parse_trigger_text(f"version: 1\ntriggers:\n  - name: t\n    actions: [{branch}]\n")
    node = flow_of(parsed)["triggers"][0]["actions"][0]
    depth = 0
    while node["type"] == "if":
        node = node["branches"][0]["actions"][0]
        depth += 1
    assert depth == 15
    assert node["type"] == "stop"


@pytest.mark.parametrize("path", sorted(EXAMPLES.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_example_file_draws_as_json(path: Path) -> None:
    try:
        parsed = load_trigger_file(path)
    except ValueError:
        pytest.skip("not a trigger file")
    drawn = flow_of(parsed)
    assert len(drawn["triggers"]) == len(parsed.triggers)
    json.dumps(drawn)
