"""What a trigger does, in plain words: the model of the console's flow diagram.

Built from the parsed file (``TriggerSet``), the same the engine runs, so the diagram cannot
disagree with what happens: defaults filled in (``to`` is the sender unless set), each
trigger's conditions, its extractions, its actions in order, ``if`` branches, and each
``wait_for_reply`` with its four outcomes (reply, timeout, delivery failure, no valid answer).
Plain data (JSON-ready); the page draws it as nested lists of text.

Every text taken from the file is shortened to ``MAX_TEXT`` characters: a 2,000-character SMS
body is the diagram's business only as its beginning. The walk follows the file's nesting,
which the loader bounds (``loader.MAX_DEPTH``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from sms_automation.triggers import model
from sms_automation.triggers.model import (
    DEFAULT_WAIT_TIMEOUT,
    Action,
    AllOf,
    AnyOf,
    Automation,
    BetweenExtraction,
    Condition,
    ExpectRegex,
    FieldCondition,
    JsonPathExtraction,
    NotGroup,
    RegexExtraction,
    SplitExtraction,
    Trigger,
    TriggerSet,
)

MAX_TEXT: Final = 120
"""Characters of any text from the file shown in a diagram (a longer one ends with '…')."""

Node = dict[str, Any]

_OPERATOR_WORDS: Final = {
    "equals": "is",
    "not_equals": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "not_starts_with": "does not start with",
    "ends_with": "ends with",
    "matches_any_of": "is one of",
    "not_matches_any_of": "is none of",
    "regex": "matches the pattern",
    "is_blank": "is blank",
    "is_not_blank": "is not blank",
    "is_valid_email": "is an e-mail address",
    "less_than": "is less than",
    "greater_than": "is greater than",
    "less_than_or_equal": "is at most",
    "greater_than_or_equal": "is at least",
    "length_equals": "is this many characters long:",
    "length_less_than": "is shorter than (characters)",
    "length_greater_than": "is longer than (characters)",
    "is_before_time": "is before",
    "is_after_time": "is after",
    "is_before_date": "is before",
    "is_after_date": "is after",
}


def flow_of(trigger_set: TriggerSet) -> dict[str, Any]:
    """The diagram of every trigger and automation of a file, in file order."""
    return {
        "triggers": [trigger_flow(trigger) for trigger in trigger_set.triggers],
        "automations": [automation_flow(automation) for automation in trigger_set.automations],
    }


def trigger_flow(trigger: Trigger) -> Node:
    if trigger.continue_:
        after = "then goes on to the next triggers"
    else:
        after = "then stops: later triggers are not tried"
    return {
        "name": trigger.name,
        "description": short(trigger.description),
        "enabled": trigger.enabled,
        "when": conditions_flow(trigger.when),
        "extract": [extraction_text(extraction) for extraction in trigger.extract],
        "actions": actions_flow(trigger.actions),
        "after": after,
        "on_opt_out": trigger.on_opt_out,
    }


def automation_flow(automation: Automation) -> Node:
    return {
        "name": automation.name,
        "description": short(automation.description),
        "enabled": automation.enabled,
        "inputs": [
            f"{item.name} ({item.type}{', required' if item.required else ''})"
            for item in automation.inputs
        ],
        "schedules": [
            f"{schedule.expression} to {schedule.audience}" + ("" if schedule.enabled else " (off)")
            for schedule in automation.schedules
        ],
        "actions": actions_flow(automation.actions),
    }


def conditions_flow(conditions: Condition | Sequence[Condition] | None) -> Node:
    """``None``: every message (a trigger without ``when``)."""
    if conditions is None:
        return {"kind": "always", "text": "every message", "children": []}
    if isinstance(conditions, list | tuple):
        if len(conditions) == 1:
            return condition_flow(conditions[0])
        return _group("all", "all of these hold", conditions)
    return condition_flow(conditions)  # type: ignore[arg-type]  # one condition, not a list


def condition_flow(condition: Condition) -> Node:
    if isinstance(condition, AllOf):
        return _group("all", "all of these hold", condition.all)
    if isinstance(condition, AnyOf):
        return _group("any", "any of these holds", condition.any)
    if isinstance(condition, NotGroup):
        return {
            "kind": "not",
            "text": "this does not hold",
            "children": [condition_flow(condition.not_)],
        }
    return {"kind": "field", "text": field_condition_text(condition), "children": []}


def _group(kind: str, text: str, conditions: Sequence[Condition]) -> Node:
    return {"kind": kind, "text": text, "children": [condition_flow(c) for c in conditions]}


def field_condition_text(condition: FieldCondition) -> str:
    words = _OPERATOR_WORDS.get(condition.operator, condition.operator)
    operand = condition.operand
    if operand is True:  # is_blank, is_not_blank, is_valid_email
        text = f"{condition.field} {words}"
    elif isinstance(operand, list):
        text = f"{condition.field} {words} {', '.join(_quoted(item) for item in operand)}"
    elif isinstance(operand, str):
        text = f"{condition.field} {words} {_quoted(operand)}"
    else:
        text = f"{condition.field} {words} {operand}"
    if condition.case_sensitive:
        text += " (case matters)"
    return short(text, limit=2 * MAX_TEXT)


def extraction_text(extraction: model.Extraction) -> str:
    source = extraction.field
    if isinstance(extraction, RegexExtraction):
        into = extraction.into or "its named groups"
        return f"{into} from {source}, by the pattern {_quoted(extraction.regex)}"
    if isinstance(extraction, BetweenExtraction):
        markers = extraction.between
        return (
            f"{extraction.into} from {source}, between {_quoted(markers.start)} "
            f"and {_quoted(markers.end)}"
        )
    if isinstance(extraction, SplitExtraction):
        return (
            f"{extraction.into} from {source}, part {extraction.split.index} when split "
            f"at {_quoted(extraction.split.delimiter)}"
        )
    if isinstance(extraction, JsonPathExtraction):
        return f"{extraction.into} from {source}, at {_quoted(extraction.json_path)}"
    return f"a value from {source}"


def actions_flow(actions: Sequence[Action]) -> list[Node]:
    return [action_flow(action) for action in actions]


def action_flow(action: Action) -> Node:
    node: Node = {
        "type": action.type,
        "id": action.id,
        "text": action_text(action),
        "when": None if action.when is None else conditions_flow(action.when),
        "branches": [],
    }
    if isinstance(action, model.IfAction):
        node["condition"] = conditions_flow(action.condition)
        node["branches"] = [
            _branch("then", "if it holds", action.then),
            _branch("else", "otherwise", action.else_),
        ]
    elif isinstance(action, model.WaitForReplyAction):
        node["branches"] = wait_branches(action)
    return node


def wait_branches(wait: model.WaitForReplyAction) -> list[Node]:
    deadline = (
        f"by {short(wait.until)}"
        if wait.until
        else f"within {wait.timeout or DEFAULT_WAIT_TIMEOUT}"
    )
    if wait.expect is None:
        no_valid = "never: without 'expect' every reply is a valid answer"
    else:
        no_valid = f"after {wait.max_attempts} answers that are not expected"
    return [
        _branch("on_reply", "when the contact answers", wait.on_reply),
        _branch("on_timeout", f"when no answer comes {deadline}", wait.on_timeout),
        _branch(
            "on_delivery_failure", "when the prompt cannot be delivered", wait.on_delivery_failure
        ),
        _branch("on_no_valid_answer", no_valid, wait.on_no_valid_answer),
    ]


def _branch(key: str, label: str, actions: Sequence[Action]) -> Node:
    return {"key": key, "label": label, "actions": actions_flow(actions)}


def action_text(action: Action) -> str:  # noqa: PLR0911 (one sentence per action type)
    if isinstance(action, model.SendSmsAction):
        sender = action.from_ or (
            f"messaging service {action.messaging_service_sid}"
            if action.messaging_service_sid
            else "the number written to (%To%)"
        )
        media = f" with {len(action.media_urls)} picture(s)" if action.media_urls else ""
        return f"Send an SMS to {action.to} from {sender}: {_quoted(action.body)}{media}"
    if isinstance(action, model.MakeCallAction):
        says = f", saying {_quoted(action.say.text)}" if action.say else ""
        connects = f", connecting to {action.connect_to.number}" if action.connect_to else ""
        return f"Call {action.to} from {action.from_}{says}{connects}"
    if isinstance(action, model.RecordAction):
        table = action.table or "the records table"
        return f"Record {', '.join(sorted(action.item)) or 'a row'} in {table}"
    if isinstance(action, model.HttpRequestAction):
        into = f", the answer into {action.into}" if action.into else ""
        return f"{action.method} {short(action.url)}{into}"
    if isinstance(action, model.SendEmailAction):
        subject = _quoted(action.subject)
        return f"E-mail {', '.join(short(a) for a in action.recipients)}: {subject}"
    if isinstance(action, model.PublishEventAction):
        return f"Publish {_quoted(action.detail_type)} on the event bus {short(action.bus)}"
    if isinstance(action, model.InvokeLambdaAction):
        into = f", the result into {action.into}" if action.into else ""
        return f"Invoke {short(action.function)} ({action.invocation}){into}"
    if isinstance(action, model.SetVariableAction):
        return f"Set {action.name} to {_quoted(action.value)}"
    if isinstance(action, model.ExtractAction):
        return "Extract " + "; ".join(extraction_text(item) for item in action.extract)
    if isinstance(action, model.IfAction):
        return "If the condition below holds"
    if isinstance(action, model.StopAction):
        return "Stop: no more actions, no more triggers"
    return wait_text(action)


def wait_text(wait: model.WaitForReplyAction) -> str:
    parts = [f"Ask {wait.to}"]
    parts.append(f"{_quoted(wait.prompt)}" if wait.prompt is not None else "(no message sent)")
    text = " ".join(parts) + " and wait for the answer"
    if wait.expect is not None:
        text += f"; expected: {expect_text(wait)}"
    if wait.reprompt is not None:
        text += f"; otherwise asks again {_quoted(wait.reprompt)}"
    if wait.remind:
        text += "; reminders after " + ", ".join(reminder.after for reminder in wait.remind)
    return text + f"; the answer goes into {wait.into}; afterwards the next action runs"


def expect_text(wait: model.WaitForReplyAction) -> str:
    entries: list[str] = [_quoted(word) for word in wait.expected_words]
    entries += [f"a text matching {_quoted(p.regex)}" for p in wait.expected_patterns]
    if isinstance(wait.expect, ExpectRegex) and not entries:
        entries.append(f"a text matching {_quoted(wait.expect.regex)}")
    return short(" or ".join(entries), limit=2 * MAX_TEXT)


def _quoted(value: object) -> str:
    return f"“{short(str(value))}”"


def short(text: str | None, *, limit: int = MAX_TEXT) -> str:
    if not text:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"
