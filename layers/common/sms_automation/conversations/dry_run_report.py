"""A dry run as people read it: the message described, evaluated with nothing performed
(through its conversations with the contact's scripted replies), then reported step by step as
text (``dry_run_report``) or JSON (``dry_run_json``). Shared by ``sms-automation triggers test``
/ ``automations test`` and the console's "Test against a message"; pure: nothing is sent or
stored.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sms_automation.conversations.dry_run import (
    DRY_RUN_MESSAGE_SID,
    ConversationDryRun,
    ScriptedReply,
    dry_run_with_replies,
)
from sms_automation.opt_out import Keyword, keyword_of
from sms_automation.triggers import AccountSettings, Engine, Evaluation
from sms_automation.triggers.plan import (
    MakeCall,
    SendSms,
    Step,
    StepOutcome,
    WaitForReply,
    step_as_dict,
)
from sms_automation.triggers.variables import VarValue, to_text


def described_message(
    sender: str,
    receiver: str,
    body: str,
    *,
    media_urls: Sequence[str] = (),
    fields: Iterable[tuple[str, str]] = (),
) -> dict[str, str]:
    """The Twilio parameters of an inbound message described by hand (``fields``: any other
    parameter, e.g. ``ToCountry``), with the dry run's MessageSid."""
    message: dict[str, str] = {
        "MessageSid": DRY_RUN_MESSAGE_SID,
        "SmsMessageSid": DRY_RUN_MESSAGE_SID,
        "SmsSid": DRY_RUN_MESSAGE_SID,
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
        "From": sender,
        "To": receiver,
        "Body": body,
        "NumSegments": "1",
        "NumMedia": str(len(media_urls)),
    }
    for index, url in enumerate(media_urls):
        message[f"MediaUrl{index}"] = url
    message.update(fields)
    return message


def dry_run(
    engine: Engine,
    message: Mapping[str, VarValue],
    replies: Sequence[str],
    account: AccountSettings,
    now: dt.datetime,
    *,
    automation: str | None = None,
) -> ConversationDryRun:
    """The message (or the automation's run) evaluated with nothing performed, through its
    conversations with ``replies``. An opt-out keyword is evaluated as the processor evaluates
    it: against the triggers with ``on_opt_out`` only."""
    opt_out = automation is None and opt_out_keyword(message) is not None

    def evaluate(outcomes: Mapping[str, StepOutcome]) -> Evaluation:
        return engine.dry_run(
            message,
            now=now,
            account=account,
            outcomes=outcomes,
            automation=automation,
            opt_out=opt_out,
        )

    return dry_run_with_replies(evaluate, replies, account=account.name, now=now)


def opt_out_keyword(message: Mapping[str, VarValue]) -> str | None:
    """The opt-out word a described message is (Twilio's keywords or its ``OptOutType``), as
    the processor decides it before any trigger; ``None`` for any other message."""
    found = keyword_of(str(message.get("Body") or ""), _text_or_none(message.get("OptOutType")))
    return found[1] if found is not None and found[0] is Keyword.OPT_OUT else None


def _text_or_none(value: VarValue | None) -> str | None:
    return None if value is None else str(value)


def dry_run_report(result: ConversationDryRun) -> str:
    evaluation = result.evaluation
    lines = [f"status: {evaluation.status}"]
    if evaluation.matched:
        lines.append(f"matched: {', '.join(evaluation.matched)}")
    else:
        lines.append("matched: no trigger")
    if evaluation.variables:
        lines.append("variables:")
        lines += [f"  {name} = {to_text(value)!r}" for name, value in evaluation.variables.items()]
    lines.append(
        "actions it would run (dry run: nothing is sent):" if evaluation.plan else "actions: none"
    )
    for number, step in enumerate(evaluation.plan, start=1):
        lines.append(f"  {number}. [{step.step_id}] {describe_step(step)}")
    if result.replies:
        lines.append("replies (dry run):")
        lines += [f"  [{reply.conversation}] {describe_reply(reply)}" for reply in result.replies]
    if evaluation.paused_at:
        waiting = isinstance(evaluation.plan[-1], WaitForReply) if evaluation.plan else False
        hint = " (waiting for a reply; --reply TEXT answers it)" if waiting else ""
        lines.append(f"paused at: {evaluation.paused_at}{hint}")
    for diagnostic in evaluation.diagnostics:
        lines.append(str(diagnostic))
    lines += [
        f"warning: reply {body!r} not used: no conversation was left to answer"
        for body in result.unused
    ]
    return "\n".join(lines)


def describe_reply(reply: ScriptedReply) -> str:
    verdict = [] if reply.valid else ["not an expected answer"]
    if reply.outcome is not None:
        verdict.append(reply.outcome)
    if reply.reprompt is not None:
        verdict.append(f"reprompt: {reply.reprompt!r}")
    return f"{reply.body!r}: {'; '.join(verdict)}"


def describe_step(step: Step) -> str:
    if isinstance(step, SendSms):
        sender = step.from_ or f"messaging service {step.messaging_service_sid}"
        media = f" media={list(step.media_urls)}" if step.media_urls else ""
        return f"send_sms to {step.to} from {sender}: {step.body!r}{media}"
    if isinstance(step, MakeCall):
        return f"make_call to {step.to} from {step.from_}: {step.twiml}"
    if isinstance(step, WaitForReply):
        prompt = f"prompt {step.prompt!r}" if step.prompt is not None else "no prompt"
        return f"wait_for_reply for {step.to} on {step.from_}: {prompt}"
    details = {
        k: v for k, v in step_as_dict(step).items() if k not in ("step_id", "trigger", "kind")
    }
    return f"{step.kind} {json.dumps(details, ensure_ascii=False)}"


def dry_run_json(result: ConversationDryRun) -> dict[str, Any]:
    evaluation = result.evaluation
    return {
        "status": str(evaluation.status),
        "matched": list(evaluation.matched),
        "variables": evaluation.variables,
        "steps": [
            {**step_as_dict(record.step), "outcome": str(record.outcome.status)}
            for record in evaluation.steps
        ],
        "paused_at": evaluation.paused_at,
        "diagnostics": [
            {
                "severity": d.severity,
                "message": d.message,
                "trigger": d.trigger,
                "step_id": d.step_id,
            }
            for d in evaluation.diagnostics
        ],
        "trigger_set_fingerprint": evaluation.trigger_set_fingerprint,
        "replies": [
            {
                "conversation": reply.conversation,
                "body": reply.body,
                "valid": reply.valid,
                "reprompt": reply.reprompt,
                "outcome": reply.outcome,
            }
            for reply in result.replies
        ],
        "unused_replies": list(result.unused),
    }
