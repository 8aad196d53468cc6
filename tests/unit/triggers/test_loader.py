"""Trigger files: YAML safety and errors that carry the file, the line and an explanation."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sms_automation.triggers import TriggerFileError, load_trigger_file, parse_trigger_text


def problems(text: str) -> list[str]:
    with pytest.raises(TriggerFileError) as caught:
        parse_trigger_text(textwrap.dedent(text), filename="triggers.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_loader_reads_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "triggers.yaml"
    path.write_text("version: 1\ntriggers:\n  - name: hi\n    actions: [{type: stop}]\n")
    trigger_set = load_trigger_file(path)
    assert [trigger.name for trigger in trigger_set.triggers] == ["hi"]


def test_loader_unknown_field_with_line_and_suggestion() -> None:
    assert problems(
        """\
        version: 1
        triggers:
          - name: refund
            when: {field: Body, contains: refund}
            actions:
              - type: send_sms
                body: ok
              - type: send_sms
                boddy: "Thanks %From%"
        """
    ) == [
        "triggers.yaml:9: trigger 'refund': action 2 (send_sms): unknown field 'boddy' "
        "— did you mean 'body'?"
    ]


def test_loader_unknown_operator_inside_a_group() -> None:
    assert problems(
        """\
        version: 1
        triggers:
          - name: t
            when:
              any:
                - {field: Body, equals: a}
                - field: Body
                  startswith: b
        """
    ) == [
        "triggers.yaml:8: trigger 't': when.any[2]: unknown field 'startswith' "
        "— did you mean 'starts_with'?"
    ]


def test_loader_unknown_action_type() -> None:
    (problem,) = problems(
        """\
        version: 1
        triggers:
          - name: t
            actions:
              - body: hi
                type: sendsms
        """
    )
    assert problem.startswith(
        "triggers.yaml:6: trigger 't': action 1 (sendsms): unknown action type 'sendsms' "
        "— did you mean 'send_sms'?"
    )


def test_loader_missing_required_field_points_at_its_mapping() -> None:
    assert problems(
        """\
        version: 1
        triggers:
          - name: t
            actions:
              - type: stop
              - type: if
                then: []
        """
    ) == ["triggers.yaml:6: trigger 't': action 2 (if): missing required field 'condition'"]


def test_loader_nested_then_action_error() -> None:
    assert problems(
        """\
        version: 1
        triggers:
          - name: t
            actions:
              - type: if
                condition: {field: Body, equals: "yes"}
                then:
                  - type: make_call
                    to: "+1555"
                    say: {text: hi, loop: -1}
        """
    ) == [
        "triggers.yaml:10: trigger 't': action 1 (if): then action 1 (make_call): say.loop: "
        "Input should be greater than or equal to 0"
    ]


def test_loader_model_rule_violation_points_at_the_action() -> None:
    assert problems(
        """\
        version: 1
        triggers:
          - name: t
            actions:
              - type: send_sms
                from: "+1555"
                messaging_service_sid: MG00000000000000000000000000000000
                body: hi
        """
    ) == [
        "triggers.yaml:5: trigger 't': action 1 (send_sms): set 'from' or "
        "'messaging_service_sid', not both"
    ]


def test_loader_reads_yaml_1_1_surprises_as_text() -> None:
    trigger_set = parse_trigger_text(
        textwrap.dedent(
            """\
            version: 1
            triggers:
              - name: t
                when:
                  - {field: Body, matches_any_of: [yes, no, on, off, 007]}
                  - {field: To, equals: +15005550006}
                  - {field: now, is_after_time: 17:30}
                  - {field: now, is_before_date: 2030-01-01}
                continue: true
            """
        )
    )
    conditions = trigger_set.triggers[0].when
    assert isinstance(conditions, list)
    operands = [condition.operand for condition in conditions]  # type: ignore[union-attr]
    assert operands[:3] == [["yes", "no", "on", "off", "007"], "+15005550006", "17:30"]
    assert str(operands[3]) == "2030-01-01"
    assert trigger_set.triggers[0].continue_ is True


def test_loader_non_text_where_text_is_expected_gets_a_hint() -> None:
    (problem,) = problems(
        """\
        version: 1
        triggers:
          - name: t
            when: {field: Body, equals: true}
        """
    )
    assert problem.startswith("triggers.yaml:4: trigger 't': when.equals: ")
    assert "quote the value in YAML" in problem


def test_loader_reports_every_problem() -> None:
    found = problems(
        """\
        version: 2
        triggers:
          - name: a
            actions: [{type: stop, bogus: 1}]
          - name: b/c
        """
    )
    assert [problem.split(":")[1] for problem in found] == ["1", "4", "5"]


def test_loader_duplicate_trigger_names() -> None:
    (problem,) = problems(
        """\
        version: 1
        triggers:
          - name: same
          - name: Same
        """
    )
    assert problem.startswith("triggers.yaml:1:")
    assert "triggers 1 and 2 are both named 'Same'" in problem


def test_loader_duplicate_yaml_keys_are_errors() -> None:
    assert problems(
        """\
        version: 1
        triggers:
          - name: t
            actions:
              - type: send_sms
                body: one
                body: two
        """
    ) == ["triggers.yaml:7: duplicate key 'body' (first on line 6)"]


def test_loader_yaml_syntax_error_has_a_line() -> None:
    (problem,) = problems("version: 1\ntriggers:\n  - name: [unclosed\n")
    assert problem.startswith("triggers.yaml:4: not valid YAML")


def test_loader_refuses_object_tags() -> None:
    (problem,) = problems("version: 1\ntriggers: !!python/object/apply:os.system ['true']\n")
    assert "not valid YAML" in problem
    assert "python/object" in problem


@pytest.mark.parametrize(
    ("text", "complaint"),
    [("", "the file is empty"), ("- a\n- b\n", "must be a mapping"), ("just text", "mapping")],
)
def test_loader_file_shape(text: str, complaint: str) -> None:
    (problem,) = problems(text)
    assert complaint in problem


def test_loader_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(TriggerFileError, match="cannot read the file"):
        load_trigger_file(tmp_path / "absent.yaml")
