"""``%name%`` templates: substitution, ``%%``, nesting, unknown names."""

from __future__ import annotations

import pytest

from sms_automation.triggers.variables import VarValue, parse_template, render_text, to_text


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Hi %name%!", "Hi Jo!"),
        ("Hi %NAME% / %Name%", "Hi Jo / Jo"),
        ("100%% sure", "100% sure"),
        ("%%name%%", "%name%"),
        ("50% off, 20% more", "50% off, 20% more"),
        ("%answer.Body%", "yes"),
        ("%answer.body%", "yes"),
        ("%items.1%", "b"),
        ("%count% items, flag %flag%", "3 items, flag true"),
        ("%nested%", '{"k":[1,2]}'),
        ("no variables", "no variables"),
        ("", ""),
        ("%", "%"),
    ],
)
def test_render_substitutes_variables(source: str, expected: str) -> None:
    variables: dict[str, VarValue] = {
        "name": "Jo",
        "answer": {"Body": "yes"},
        "items": ["a", "b"],
        "count": 3,
        "flag": True,
        "nested": {"k": [1, 2]},
    }
    text, unknown = render_text(source, variables)
    assert text == expected
    assert unknown == []


def test_render_unknown_variable_is_empty_and_reported() -> None:
    text, unknown = render_text("a%missing%b %answer.nope% %items.9%", {"answer": {}, "items": []})
    assert text == "ab  "
    assert unknown == ["missing", "answer.nope", "items.9"]


def test_render_none_is_empty_without_warning() -> None:
    assert render_text("[%x%]", {"x": None}) == ("[]", [])


def test_template_lists_its_variables() -> None:
    template = parse_template("%From% wrote %Body% (%%)")
    assert template.variables == ("From", "Body")
    assert not template.is_constant
    assert parse_template("just 100%%").literal_text == "just 100%"


def test_to_text_formats_values() -> None:
    assert to_text(False) == "false"
    assert to_text(2.5) == "2.5"
    assert to_text(["é"]) == '["é"]'
