"""Conditions compiled into predicates: ``(EvalContext) -> bool``, built once per trigger file.

Everything that can be prepared ahead is: field names are parsed and folded, constant operands
are folded, patterns compiled, time zones resolved. A value that cannot be compared (a non-number
for ``less_than``, an unreadable date) makes the condition false and records a warning.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable
from typing import Any, Final
from zoneinfo import ZoneInfo

from sms_automation.time_zones import time_zone
from sms_automation.triggers.context import EvalContext
from sms_automation.triggers.model import (
    FLAG_OPERATORS,
    LIST_OPERATORS,
    TIME_OPERATORS,
    AllOf,
    AnyOf,
    Condition,
    Conditions,
    FieldCondition,
    NotGroup,
)
from sms_automation.triggers.patterns import UnsupportedPattern, bounded_subject, compile_pattern
from sms_automation.triggers.variables import VariableRef, parse_template

Predicate = Callable[[EvalContext], bool]

_TEXT_TESTS: Final[dict[str, Callable[[str, str], bool]]] = {
    "equals": operator.eq,
    "not_equals": operator.ne,
    "contains": operator.contains,
    "not_contains": lambda subject, operand: operand not in subject,
    "starts_with": str.startswith,
    "not_starts_with": lambda subject, operand: not subject.startswith(operand),
    "ends_with": str.endswith,
}
_NUMBER_TESTS: Final[dict[str, Callable[[float, float], bool]]] = {
    "less_than": operator.lt,
    "greater_than": operator.gt,
    "less_than_or_equal": operator.le,
    "greater_than_or_equal": operator.ge,
}
_LENGTH_TESTS: Final[dict[str, Callable[[int, int], bool]]] = {
    "length_equals": operator.eq,
    "length_less_than": operator.lt,
    "length_greater_than": operator.gt,
}
_EMAIL: Final = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_CLOCK_FIELDS: Final = frozenset({"now", "date", "time"})


def compile_conditions(conditions: Conditions | None) -> Predicate | None:
    if conditions is None:
        return None
    if isinstance(conditions, list):
        return _all([compile_condition(condition) for condition in conditions])
    return compile_condition(conditions)


def compile_condition(condition: Condition) -> Predicate:
    if isinstance(condition, AllOf):
        return _all([compile_condition(child) for child in condition.all])
    if isinstance(condition, AnyOf):
        return _any([compile_condition(child) for child in condition.any])
    if isinstance(condition, NotGroup):
        inner = compile_condition(condition.not_)
        return lambda context: not inner(context)
    return _compile_field_condition(condition)


# Plain loops, not ``all(generator)``: a trigger set is tested against every message, and most
# triggers fail their first test; a generator costs more than the test (``make bench``).
def _all(predicates: list[Predicate]) -> Predicate:
    if len(predicates) == 1:
        return predicates[0]
    if len(predicates) == 2:  # the common "keyword and sender" shape, without a loop
        first, second = predicates
        return lambda context: first(context) and second(context)
    ordered = tuple(predicates)

    def all_of(context: EvalContext) -> bool:
        for predicate in ordered:  # noqa: SIM110 (all() with a generator is slower)
            if not predicate(context):
                return False
        return True

    return all_of


def _any(predicates: list[Predicate]) -> Predicate:
    ordered = tuple(predicates)

    def any_of(context: EvalContext) -> bool:
        for predicate in ordered:  # noqa: SIM110 (any() with a generator is slower)
            if predicate(context):
                return True
        return False

    return any_of


def _compile_field_condition(condition: FieldCondition) -> Predicate:
    ref = VariableRef.parse(condition.field)
    name, operand = condition.operator, condition.operand
    if name in _TEXT_TESTS:
        return _text_test(ref, _TEXT_TESTS[name], operand, condition.case_sensitive)
    if name in LIST_OPERATORS:
        return _any_of(ref, operand, condition.case_sensitive, negate=name.startswith("not_"))
    if name == "regex":
        return _regex(ref, operand, condition.case_sensitive)
    if name in FLAG_OPERATORS:
        return _flag_test(ref, name)
    if name in _NUMBER_TESTS or name in _LENGTH_TESTS:
        return _measure_test(ref, name, operand)
    return _clock_condition(ref, name, operand, condition.timezone)


def _flag_test(ref: VariableRef, name: str) -> Predicate:
    if name == "is_valid_email":
        return lambda context: _EMAIL.fullmatch(context.text(ref).strip()) is not None
    blank = name == "is_blank"
    return lambda context: (context.text(ref).strip() == "") is blank


def _measure_test(ref: VariableRef, name: str, operand: float) -> Predicate:
    if name in _LENGTH_TESTS:
        test = _LENGTH_TESTS[name]
        length = int(operand)
        return lambda context: test(len(context.text(ref)), length)
    return _number_test(ref, name, _NUMBER_TESTS[name], float(operand))


def _clock_condition(ref: VariableRef, name: str, operand: Any, timezone: str | None) -> Predicate:
    zone = time_zone(timezone) if timezone else None
    if name in TIME_OPERATORS:
        return _clock_test(ref, name, dt.time.fromisoformat(operand), zone, _time_of)
    return _clock_test(ref, name, operand, zone, _date_of)


def _text_test(
    ref: VariableRef, test: Callable[[str, str], bool], operand: str, case_sensitive: bool
) -> Predicate:
    template = parse_template(operand)
    subject = _subject_reader(ref, case_sensitive)
    if template.is_constant:
        constant = _normalise(template.literal_text, case_sensitive)
        if case_sensitive:
            return lambda context: test(context.text(ref), constant)
        if test is operator.contains:  # the most common condition: one call less per test
            return lambda context: constant in context.folded_text(ref)
        return lambda context: test(context.folded_text(ref), constant)

    def evaluate(context: EvalContext) -> bool:
        return test(subject(context), _normalise(context.render(template), case_sensitive))

    return evaluate


def _any_of(
    ref: VariableRef, operands: list[str], case_sensitive: bool, *, negate: bool
) -> Predicate:
    templates = [parse_template(operand) for operand in operands]
    subject = _subject_reader(ref, case_sensitive)
    if all(template.is_constant for template in templates):
        choices = frozenset(
            _normalise(template.literal_text, case_sensitive) for template in templates
        )
        return lambda context: (subject(context) in choices) is not negate

    def evaluate(context: EvalContext) -> bool:
        rendered = {_normalise(context.render(template), case_sensitive) for template in templates}
        return (subject(context) in rendered) is not negate

    return evaluate


def _regex(ref: VariableRef, operand: str, case_sensitive: bool) -> Predicate:
    try:
        pattern = compile_pattern(operand, case_sensitive=case_sensitive)
    except UnsupportedPattern as error:  # a version stored before the RE2 rules
        return _never(f"regex on {ref.name!r} cannot run, so the condition is false: {error}")

    def evaluate(context: EvalContext) -> bool:
        subject, cut = bounded_subject(context.text(ref))
        if cut:
            context.warn(
                f"regex on {ref.name!r}: only the first {len(subject)} characters were searched"
            )
        return pattern.matches(subject)

    return evaluate


def _never(warning: str) -> Predicate:
    def evaluate(context: EvalContext) -> bool:
        context.warn(warning)
        return False

    return evaluate


def _number_test(
    ref: VariableRef, name: str, test: Callable[[float, float], bool], operand: float
) -> Predicate:
    def evaluate(context: EvalContext) -> bool:
        text = context.text(ref).strip()
        try:
            number = float(text)
        except ValueError:
            context.warn(
                f"{name} on {ref.name!r}: {_preview(text)} is not a number; condition false"
            )
            return False
        return test(number, operand)

    return evaluate


def _clock_test(
    ref: VariableRef,
    name: str,
    operand: Any,
    zone: ZoneInfo | None,
    read: Callable[[EvalContext, VariableRef, ZoneInfo], Any],
) -> Predicate:
    before = name.startswith("is_before")

    def evaluate(context: EvalContext) -> bool:
        value = read(context, ref, zone or context.zone)
        if value is None:
            context.warn(
                f"{name} on {ref.name!r}: {_preview(context.text(ref))} is not a "
                f"{'date' if 'date' in name else 'time'}; condition false"
            )
            return False
        return bool(value < operand) if before else bool(value > operand)

    return evaluate


def _moment(context: EvalContext, ref: VariableRef, zone: ZoneInfo) -> dt.datetime | None:
    if ref.head in _CLOCK_FIELDS and not ref.path and ref.head not in context.variables:
        return context.now.astimezone(zone)
    text = context.text(ref).strip()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def _time_of(context: EvalContext, ref: VariableRef, zone: ZoneInfo) -> dt.time | None:
    moment = _moment(context, ref, zone)
    if moment is not None:
        return moment.time()
    try:
        return dt.time.fromisoformat(context.text(ref).strip()).replace(tzinfo=None)
    except ValueError:
        return None


def _date_of(context: EvalContext, ref: VariableRef, zone: ZoneInfo) -> dt.date | None:
    moment = _moment(context, ref, zone)
    return moment.date() if moment is not None else None


def _subject_reader(ref: VariableRef, case_sensitive: bool) -> Callable[[EvalContext], str]:
    if case_sensitive:
        return lambda context: context.text(ref)
    return lambda context: context.folded_text(ref)


def _normalise(text: Any, case_sensitive: bool) -> str:
    return str(text) if case_sensitive else str(text).casefold()


def _preview(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
