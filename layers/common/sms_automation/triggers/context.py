"""The state of one evaluation: variable layers, the injected clock, and the diagnostics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from sms_automation.triggers.variables import (
    MISSING,
    Scope,
    Template,
    VariableRef,
    VarValue,
    _Missing,
    fold,
    to_text,
)

Severity = Literal["warning", "error"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """Something the action log should show: an unknown variable, a skipped step, ..."""

    severity: Severity
    message: str
    trigger: str | None = None
    step_id: str | None = None

    def __str__(self) -> str:
        where = self.step_id or self.trigger
        return (
            f"{self.severity}: {where}: {self.message}"
            if where
            else f"{self.severity}: {self.message}"
        )


class EvalContext:
    """Variables are looked up in layers, most specific first:

    1. ``local``: what the current trigger's ``extract:`` found (kept only if the trigger matches)
    2. ``variables``: what matched triggers set (extract, set_variable, http_request ``into``)
    3. ``trigger``: the built-in ``%trigger%``
    4. ``base``: the message fields (and their ThinkAutomation names), headers and built-ins;
       fixed for the whole evaluation, so their text is cached.
    """

    __slots__ = (
        "_base_folded",
        "_base_text",
        "_trigger_layer",
        "base",
        "diagnostics",
        "json_documents",
        "local",
        "now",
        "scope",
        "step_id",
        "trigger",
        "variables",
        "zone",
    )

    def __init__(self, base: Mapping[str, VarValue], *, now: dt.datetime, zone: ZoneInfo) -> None:
        self.base = base
        self.local: dict[str, VarValue] = {}
        self.variables: dict[str, VarValue] = {}
        self._trigger_layer: dict[str, VarValue] = {}
        self.scope = Scope(self.local, self.variables, self._trigger_layer, base)
        self.now = now
        self.zone = zone
        self.diagnostics: list[Diagnostic] = []
        self.trigger: str | None = None
        self.step_id: str | None = None
        self._base_text: dict[str, str] = {}
        self._base_folded: dict[str, str] = {}
        self.json_documents: dict[str, VarValue | _Missing] = {}

    # -- where we are ---------------------------------------------------------------------------
    def enter_trigger(self, name: str) -> None:
        self.trigger = name
        self.step_id = None
        self._trigger_layer["trigger"] = name
        if self.local:  # once per trigger: most have no ``extract:``, and an empty dict is clear
            self.local.clear()

    # -- variables ------------------------------------------------------------------------------
    def set_variable(self, name: str, value: VarValue) -> None:
        self.variables[fold(name)] = value

    def commit_local(self) -> None:
        self.variables.update(self.local)
        self.local.clear()

    def value(self, ref: VariableRef) -> VarValue | _Missing:
        return self.scope.resolve(ref)

    def text(self, ref: VariableRef) -> str:
        if ref.path or self._overridden(ref.head):
            return to_text(self.scope.resolve(ref))
        cached = self._base_text.get(ref.head)
        if cached is None:
            cached = self._base_text[ref.head] = to_text(self.base.get(ref.head, MISSING))
        return cached

    def folded_text(self, ref: VariableRef) -> str:
        head = ref.head  # the overridden test inlined: this runs for most conditions
        if ref.path or head in self.local or head in self.variables or head in self._trigger_layer:
            return self.text(ref).casefold()
        cached = self._base_folded.get(head)
        if cached is None:
            cached = self._base_folded[head] = self.text(ref).casefold()
        return cached

    def _overridden(self, head: str) -> bool:
        return head in self.local or head in self.variables or head in self._trigger_layer

    def render(self, template: Template, escape: Callable[[str], str] | None = None) -> str:
        """``template``'s text; ``escape`` (if given) applied to each variable's value."""
        if template.is_constant:
            return template.literal_text
        return template.render(self.scope, self._unknown_variable, escape)

    def _unknown_variable(self, name: str) -> None:
        self.warn(f"unknown variable %{name}% rendered as empty text")

    # -- diagnostics ----------------------------------------------------------------------------
    def warn(self, message: str) -> None:
        self.diagnostics.append(Diagnostic("warning", message, self.trigger, self.step_id))

    def error(self, message: str) -> None:
        self.diagnostics.append(Diagnostic("error", message, self.trigger, self.step_id))
