"""The published JSON Schema: valid, complete, and as strict as the models."""

from __future__ import annotations

import jsonschema  # type: ignore[import-untyped]
import pytest

from sms_automation.triggers import json_schema
from sms_automation.triggers.model import ACTION_TYPES, OPERATORS


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json_schema())


def test_schema_names_every_action_type_and_operator() -> None:
    schema = json_schema()
    defs = schema["$defs"]
    action_types = {
        definition["properties"]["type"]["const"]
        for definition in defs.values()
        if "type" in definition.get("properties", {})
        and "const" in definition["properties"]["type"]
    }
    assert action_types == set(ACTION_TYPES)
    assert set(OPERATORS) <= set(defs["FieldCondition"]["properties"])


@pytest.mark.parametrize(
    "document",
    [
        {
            "version": 1,
            "triggers": [{"name": "t", "actions": [{"type": "send_sms", "boddy": "x"}]}],
        },
        {"version": 1, "triggers": [{"name": "t", "actions": [{"type": "fax"}]}]},
        {"version": 2, "triggers": []},
        {"version": 1, "triggers": [{"name": "t", "continue": "maybe"}]},
    ],
)
def test_schema_rejects_what_the_models_reject(document: object) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, json_schema())


def test_schema_accepts_aliases() -> None:
    document = {
        "version": 1,
        "triggers": [
            {
                "name": "t",
                "continue": True,
                "when": {"not": {"field": "Body", "is_blank": True}},
                "actions": [
                    {"type": "send_sms", "from": "+1555", "body": "x"},
                    {"type": "if", "condition": [{"field": "Body", "equals": "a"}], "else": []},
                ],
            }
        ],
    }
    jsonschema.validate(document, json_schema())


def test_schema_takes_a_schedule_for_one_contact_or_a_broadcast_not_both() -> None:
    def document(schedule: dict[str, object]) -> dict[str, object]:
        automation = {"name": "a", "from": "+15005550006", "actions": [{"type": "stop"}]}
        return {"version": 1, "automations": [automation | {"schedules": [schedule]}]}

    every_day = {"expression": "rate(1 day)"}
    jsonschema.validate(document(every_day | {"to": "+14155550101"}), json_schema())
    jsonschema.validate(document(every_day | {"broadcast": "uploads/acme/d.csv"}), json_schema())
    for wrong in (
        every_day,
        every_day | {"to": "+14155550101", "broadcast": "uploads/acme/d.csv"},
        every_day | {"broadcast": "uploads/acme/d.csv", "variables": {"x": "1"}},
        every_day | {"broadcast": "uploads/acme/d.csv", "from": "+15005550006"},
        every_day | {"broadcast": "elsewhere/d.csv"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(document(wrong), json_schema())
