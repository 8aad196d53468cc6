"""Extraction into variables: regex, between, split, JSON path."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tests.unit.triggers.builders import evaluate, message


def extracted(extract: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    evaluation = evaluate({"name": "t", "extract": extract}, message(**fields))
    return dict(evaluation.variables)


def test_extract_regex_named_groups_become_variables() -> None:
    found = extracted([{"regex": r"order (?P<order>\d+) for (?P<who>\w+)"}], Body="ORDER 42 for Jo")
    assert found == {"order": "42", "who": "Jo"}


def test_extract_regex_into_takes_the_whole_match_and_defaults() -> None:
    found = extracted([{"regex": r"\d{3}", "into": "code", "default": "none"}], Body="no digits")
    assert found == {"code": "none"}
    assert extracted([{"regex": r"\d{3}", "into": "code"}], Body="x 123 y") == {"code": "123"}


def test_extract_regex_is_case_sensitive_on_request() -> None:
    spec = {"regex": "(?P<word>abc)", "case_sensitive": True}
    assert extracted([spec], Body="ABC") == {"word": ""}


def test_extract_between_markers() -> None:
    assert extracted(
        [{"between": {"start": "Name:", "end": ";"}, "into": "name"}], Body="x NAME:  Jo Bloggs ; y"
    ) == {"name": "Jo Bloggs"}


def test_extract_between_without_end_reads_to_the_end_and_keeps_case() -> None:
    spec = {"between": {"start": "email "}, "into": "email", "trim": False}
    assert extracted([spec], Body="EMAIL Jo@Example.com ") == {"email": "Jo@Example.com "}


def test_extract_between_missing_marker_gives_default() -> None:
    spec = {"between": {"start": "<", "end": ">"}, "into": "tag", "default": "?"}
    assert extracted([spec], Body="<open only") == {"tag": "?"}


@pytest.mark.parametrize(("index", "expected"), [(0, "a"), (2, "c"), (-1, "c"), (5, "")])
def test_extract_split_by_delimiter_and_index(index: int, expected: str) -> None:
    spec = {"split": {"delimiter": ",", "index": index}, "into": "part"}
    assert extracted([spec], Body="a, b ,c") == {"part": expected}


def test_extract_json_path_from_a_json_body() -> None:
    body = '{"order": {"id": 7, "items": [{"sku": "X1"}], "note": " hi "}, "a b": true}'
    found = extracted(
        [
            {"json_path": "$.order.id", "into": "id"},
            {"json_path": "$.order.items[0].sku", "into": "sku"},
            {"json_path": "$['a b']", "into": "flag"},
            {"json_path": "$.order.note", "into": "note"},
            {"json_path": "$.order.items", "into": "items"},
            {"json_path": "$.missing", "into": "missing", "default": "-"},
        ],
        Body=body,
    )
    assert found == {
        "id": 7,
        "sku": "X1",
        "flag": True,
        "note": "hi",
        "items": [{"sku": "X1"}],
        "missing": "-",
    }


def test_extract_json_path_on_a_non_json_body_warns() -> None:
    evaluation = evaluate(
        {"name": "t", "extract": [{"json_path": "$.a", "into": "a"}]}, message(Body="not json")
    )
    assert evaluation.variables == {"a": ""}
    assert "is not JSON" in evaluation.warnings[0].message


def test_extract_reads_other_fields_and_earlier_extractions() -> None:
    found = extracted(
        [
            {"regex": r"^\+(?P<country_code>44)", "field": "From"},
            {"split": {"delimiter": "4", "index": 1}, "into": "rest", "field": "country_code"},
        ]
    )
    assert found == {"country_code": "44", "rest": ""}


def test_extract_runs_before_when_so_conditions_can_use_it() -> None:
    triggers = {
        "name": "big-order",
        "extract": [{"regex": r"qty (?P<qty>\d+)"}],
        "when": {"field": "qty", "greater_than": 10},
    }
    assert evaluate(triggers, message(Body="qty 11")).matched == ("big-order",)
    assert evaluate(triggers, message(Body="qty 9")).matched == ()


def test_extract_of_a_non_matching_trigger_is_discarded() -> None:
    evaluation = evaluate(
        {
            "name": "t",
            "extract": [{"regex": "(?P<x>.+)"}],
            "when": {"field": "Body", "equals": "no"},
        },
        message(Body="yes"),
    )
    assert evaluation.variables == {}


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ({"regex": r"\d+"}, "no named groups"),
        ({"regex": "(?P<ok>a)", "between": {"start": "a"}}, "unknown field|Extra inputs"),
        ({"json_path": "order.id", "into": "x"}, "starts with"),
        ({"json_path": "$.a[*]", "into": "x"}, "cannot read"),
        ({"split": {"delimiter": "", "index": 0}, "into": "x"}, "at least 1"),
        ({"into": "x"}, "one of: regex, between, split, json_path"),
        ({"between": {"start": "a"}, "into": "9lives"}, "pattern"),
    ],
)
def test_extract_invalid_definitions_are_refused(spec: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        evaluate({"name": "t", "extract": [spec]})
