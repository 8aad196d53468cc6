"""An automation run's story as events: what changed between two reads of ``describe_run``.

``RunProgress.changes(view)`` returns the events not seen before, oldest first: a run not
picked up yet, each step (and each delivery status of what it sent), each conversation's
prompt, replies and outcome, and the run's end. ``sms-automation run --follow`` prints them as they
come; ``automations show`` prints them all from one read. Bodies of prompts and replies are
shown, as ``messages show`` shows them: this is the account owner's own terminal, not a log.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)
# Within one instant: a step before the wait it prompted for, a reply before its outcome.
_RANK = {"queued": 0, "step": 1, "delivery": 2, "waiting": 3, "reply": 4, "outcome": 5}


@dataclass
class RunProgress:
    """What has been reported so far about one run."""

    status: str = ""
    steps: dict[str, tuple[str, str]] = field(default_factory=dict)
    """step id → (state, delivery status)"""
    conversations: dict[str, tuple[str, int]] = field(default_factory=dict)
    """conversation id → (status, replies reported)"""
    ended: bool = False

    def changes(self, view: Mapping[str, Any]) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        if not self.status and view["status"] == "queued":
            events.append({"event": "queued", "at": view["requested_at"]})
        self.status = view["status"]
        prompts = {step["step_id"]: step for step in view["steps"]}
        for step in view["steps"]:
            events += self._step_events(step)
        for conversation in view["conversations"]:
            events += self._conversation_events(conversation, prompts)
        events.sort(key=lambda event: (_moment(event["at"]), _RANK[event["event"]]))
        if view["ended"] and not self.ended:
            self.ended = True
            events.append(_end_event(view))
        return events

    def _step_events(self, step: Mapping[str, Any]) -> list[dict[str, Any]]:
        delivery = (step.get("delivery") or {}).get("status") or ""
        state = step["state"]
        before_state, before_delivery = self.steps.get(step["step_id"], ("", ""))
        self.steps[step["step_id"]] = (state, delivery)
        events = []
        if state != before_state:
            events.append(
                {
                    "event": "step",
                    "at": step.get("finished_at") or step["started_at"],
                    "step_id": step["step_id"],
                    "kind": step["kind"],
                    "state": state,
                    "detail": step.get("detail", ""),
                }
            )
        if delivery and delivery != before_delivery and before_state:
            history = step["delivery"]["history"]
            events.append(
                {
                    "event": "delivery",
                    "at": history[-1]["received_at"] if history else step["started_at"],
                    "step_id": step["step_id"],
                    "sid": step.get("resource_sid", ""),
                    "status": delivery,
                    "error_code": step["delivery"].get("error_code"),
                }
            )
        return events

    def _conversation_events(
        self, conversation: Mapping[str, Any], steps: Mapping[str, Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        conversation_id = conversation["id"]
        step_id = conversation_id.split(":", 1)[-1]
        known = conversation_id in self.conversations
        before_status, replies_reported = self.conversations.get(conversation_id, ("", 0))
        events: list[dict[str, Any]] = []
        if not known:
            prompt = steps.get(f"{step_id}/prompt", {})
            events.append(
                {
                    "event": "waiting",
                    "at": prompt.get("finished_at") or conversation["started_at"],
                    "step_id": step_id,
                    "contact": conversation["contact"],
                    "deadline": conversation["deadline"],
                    "prompt": conversation["prompt"],
                }
            )
        for reply in conversation["replies"][replies_reported:]:
            events.append(
                {
                    "event": "reply",
                    "at": reply["received_at"],
                    "step_id": step_id,
                    "body": reply["body"],
                    "valid": reply["valid"],
                }
            )
        status = conversation["status"]
        if status not in ("waiting", before_status):
            outcome = conversation["outcome"].get("outcome") or status
            events.append(
                {
                    "event": "outcome",
                    "at": conversation["resolved_at"] or conversation["started_at"],
                    "step_id": step_id,
                    "outcome": outcome,
                }
            )
        self.conversations[conversation_id] = (status, len(conversation["replies"]))
        return events


def _end_event(view: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "event": "ended",
        "at": view["finished_at"],
        "status": view["status"],
        "diagnostics": list(view["diagnostics"]),
    }


def _moment(text: str) -> dt.datetime:
    """Times are stored with and without milliseconds; an unknown time sorts first."""
    if not text:
        return _EPOCH
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return _EPOCH
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def event_line(event: Mapping[str, Any]) -> str:
    """One event for people: ``HH:MM:SS  what  details``."""
    clock = event["at"][11:19] if len(event["at"]) >= 19 else " " * 8
    kind = event["event"]
    if kind == "queued":
        text = "not picked up by the trigger processor yet"
    elif kind == "step":
        detail = f": {event['detail']}" if event["detail"] else ""
        text = f"{event['step_id']} ({event['kind']}) {event['state']}{detail}"
    elif kind == "delivery":
        error = f" (error {event['error_code']})" if event.get("error_code") else ""
        text = f"{event['step_id']}: {event['sid']} {event['status']}{error}"
    elif kind == "waiting":
        text = (
            f"{event['step_id']}: waiting for a reply from {event['contact']} until "
            f"{event['deadline']}, prompt: {event['prompt']!r}"
        )
    elif kind == "reply":
        valid = "" if event["valid"] else " (not an expected answer)"
        text = f"{event['step_id']}: {event['body']!r}{valid}"
    elif kind == "outcome":
        text = f"{event['step_id']}: {event['outcome']}"
    else:
        text = event["status"]
    lines = [f"{clock}  {kind:<9} {text}"]
    for diagnostic in event.get("diagnostics", []):
        where = diagnostic.get("step_id") or diagnostic.get("trigger") or ""
        lines.append(f"{' ' * 10}{diagnostic['severity']}: {where}: {diagnostic['message']}")
    return "\n".join(lines)


def event_json(event: Mapping[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, sort_keys=True)
