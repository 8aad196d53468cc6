"""Trigger-file problems point at a line AND a column (the console's editor moves the caret
there), and hostile YAML (aliases of aliases, deep nesting) is refused at once, never walked."""

from __future__ import annotations

import textwrap

import pytest

from sms_automation.triggers import TriggerFileError, parse_trigger_text
from sms_automation.triggers.loader import MAX_DEPTH, MAX_VALUES, Problem


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(TriggerFileError) as caught:
        parse_trigger_text(textwrap.dedent(text))
    return list(caught.value.problems)


def position(problem: Problem) -> tuple[int, int]:
    return problem.line, problem.column


def test_an_unknown_field_points_at_its_key() -> None:
    (problem,) = problems_of(
        """\
        version: 1
        triggers:
          - name: refund
            actions:
              - type: send_sms
                boddy: "Thanks"
        """
    )
    assert position(problem) == (6, 9)
    assert "unknown field 'boddy'" in problem.message


def test_a_bad_value_points_at_the_value_not_its_key() -> None:
    (problem,) = problems_of(
        """\
        version: 1
        triggers:
          - name: slow
            actions:
              - type: wait_for_reply
                max_attempts:   99
        """
    )
    assert position(problem) == (6, 25)


def test_an_unknown_action_type_points_at_the_type_value() -> None:
    (problem,) = problems_of(
        """\
        version: 1
        triggers:
          - name: t
            actions:
              - {type: send_smss, body: hi}
        """
    )
    assert position(problem) == (5, 16)
    assert "did you mean 'send_sms'" in problem.message


def test_an_item_of_a_nested_branch_is_found_through_the_union_tags() -> None:
    (problem,) = problems_of(
        """\
        version: 1
        triggers:
          - name: t
            actions:
              - type: if
                condition: {field: Body, contains: x}
                then:
                  - type: wait_for_reply
                    max_attempts: 99
        """
    )
    assert position(problem) == (9, 27)


def test_a_missing_field_points_at_the_mapping_that_lacks_it() -> None:
    (problem,) = problems_of(
        """\
        version: 1
        triggers:
          - actions: []
        """
    )
    assert position(problem) == (3, 5)
    assert "missing required field 'name'" in problem.message


def test_yaml_syntax_and_duplicate_keys_carry_a_column() -> None:
    (syntax,) = problems_of("version: 1\ntriggers: [\n  {name: a\n")
    assert syntax.line >= 3
    assert syntax.column >= 1
    (duplicate,) = problems_of("version: 1\ntriggers: []\n  \nversion: 1\n")
    assert position(duplicate) == (4, 1)


def test_aliases_of_aliases_are_refused_before_they_are_expanded() -> None:
    levels = ["version: 1", "triggers: []", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 12)]
    (problem,) = problems_of("\n".join(levels) + "\n")
    assert f"more than {MAX_VALUES:,} values" in problem.message
    assert problem.line > 3  # the level that went over, not the whole file


def test_an_alias_used_a_few_times_is_still_fine() -> None:
    parsed = parse_trigger_text(
        textwrap.dedent(
            """\
            version: 1
            triggers:
              - name: a
                when: &yes {field: Body, equals: "yes"}
                actions: [{type: stop}]
              - name: b
                when: *yes
                actions: [{type: stop}]
            """
        )
    )
    assert [trigger.name for trigger in parsed.triggers] == ["a", "b"]


@pytest.mark.parametrize("opener", ["[", "{a: "])
def test_deep_nesting_is_refused_at_the_limit_not_by_a_recursion_error(opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    text = "version: 1\ntriggers: " + opener * 5_000 + closer * 5_000 + "\n"
    (problem,) = problems_of(text)
    assert f"nested deeper than {MAX_DEPTH} levels" in problem.message
    assert problem.line == 2


def test_nesting_a_real_file_uses_stays_well_within_the_limit() -> None:
    branch = "{type: stop}"
    for _ in range(10):  # ten ifs inside each other: 3 levels each
        branch = f"{{type: if, condition: {{field: Body, contains: x}}, then: [{branch}]}}"
    parsed = parse_trigger_text(f"version: 1\ntriggers:\n  - name: t\n    actions: [{branch}]\n")
    assert parsed.triggers[0].name == "t"
