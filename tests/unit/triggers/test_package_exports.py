"""The triggers package exports its names lazily: each one resolves, and importing the package
(or the step types) does not load the engine, the models or YAML."""

from __future__ import annotations

import importlib
from pathlib import Path

from sms_automation import triggers
from tests.support.python import run_python

ROOT = Path(__file__).resolve().parents[3]


def test_every_exported_name_resolves_to_its_module_object() -> None:
    assert sorted(triggers.__all__) == sorted(triggers._MODULE_OF)
    for name in triggers.__all__:
        module = importlib.import_module(f"sms_automation.triggers.{triggers._MODULE_OF[name]}")
        assert getattr(triggers, name) is getattr(module, name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    assert not hasattr(triggers, "NoSuchThing")


def test_the_step_types_come_without_pydantic_or_yaml() -> None:
    code = (
        "import sys\n"
        "from sms_automation.triggers import WaitForReply, ConversationOutcome\n"
        "loaded = {m for m in ('pydantic', 'yaml', 'sms_automation.triggers.engine') "
        "if m in sys.modules}\n"
        "print(sorted(loaded))\n"
    )
    assert run_python(code, pythonpath=ROOT / "layers" / "common").strip() == "[]"
