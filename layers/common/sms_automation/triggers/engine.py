"""The engine: a message, the account's triggers and the time in; an ``Evaluation`` out.

Pure and deterministic. ``compile_triggers`` turns a validated ``TriggerSet`` into plain Python
(predicates, parsed templates, compiled patterns) once; ``Engine.evaluate`` then walks it:

1. Triggers in file order (disabled ones skipped). For each: run its ``extract:`` into a
   scratch layer, test ``when:`` (absent = catch-all); on a match keep the extracted variables
   and run its actions. The first match stops evaluation unless it has ``continue: true``.
2. Actions are steps with stable ids: ``<trigger>/<n>`` (1-based), ``<trigger>/<n>/then/<m>``,
   ``<trigger>/<n>/else/<m>``, or ``<trigger>/<id>`` for an action with an ``id``.
   Control flow (``if``/``else``, ``set_variable``, ``extract``, ``stop``, an action's ``when``)
   is resolved here. Each side-effecting step is rendered into a ``Step`` and handed to the
   injected ``ActionPort``; its outcome's variables (``http_request`` ``into``) are visible to the
   steps after it.
3. A ``pending`` outcome pauses the evaluation at that step (``status == "paused"``).

Replay is how the stream processor gets exactly-once and resumption: it evaluates again with
the same message, trigger set (see ``fingerprint``) and ``now``, and its port answers steps it
has already recorded from its records instead of repeating them. The walk is deterministic, so
the same steps come up with the same ids and the same rendered content.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from sms_automation.time_zones import time_zone
from sms_automation.triggers.conditions import Predicate, compile_conditions
from sms_automation.triggers.context import Diagnostic, EvalContext
from sms_automation.triggers.durations import (
    beyond_longest_wait,
    longest_wait_refusal,
    parse_duration,
)
from sms_automation.triggers.email_rendering import (
    MAX_BODY_CHARS,
    address_problem,
    render_html,
    subject_problem,
)
from sms_automation.triggers.extraction import Extractor, compile_extractions
from sms_automation.triggers.http_rendering import (
    JsonTemplate,
    RenderError,
    UrlTemplateError,
    header_problem,
    parse_url_template,
)
from sms_automation.triggers.model import (
    Action,
    Automation,
    ExtractAction,
    HttpRequestAction,
    IfAction,
    InvokeLambdaAction,
    MakeCallAction,
    PublishEventAction,
    RecordAction,
    SendEmailAction,
    SendSmsAction,
    SetVariableAction,
    StopAction,
    Trigger,
    TriggerSet,
    WaitForReplyAction,
)
from sms_automation.triggers.outcomes import ConversationOutcome, OutcomeStatus
from sms_automation.triggers.patterns import (
    HeldPatterns,
    UnsupportedPattern,
    collecting_patterns,
    compile_pattern,
)
from sms_automation.triggers.plan import (
    WAIT_BRANCHES,
    ActionPort,
    AnswerPattern,
    DryRunPort,
    HttpRequest,
    InvokeLambda,
    MakeCall,
    PublishEvent,
    RecordItem,
    ReminderSpec,
    SendEmail,
    SendSms,
    Step,
    StepOutcome,
    WaitForReply,
)
from sms_automation.triggers.twiml import TwimlTooLong, build_call_twiml
from sms_automation.triggers.variables import Template, VarValue, fold, parse_template

MAX_SMS_BODY_CHARS = 1_600
MAX_EVENT_DETAIL_BYTES = 64 * 1024
"""A ``publish_event`` detail, rendered (EventBridge takes 256 KB per entry)."""
MAX_LAMBDA_PAYLOAD_BYTES = 64 * 1024
"""An ``invoke_lambda`` payload, rendered (Lambda takes 256 KB async, 6 MB sync)."""
MAX_DETAIL_TYPE_CHARS = 128
UTC = ZoneInfo("UTC")


class UnknownAutomation(KeyError):
    """``Engine.evaluate`` was asked for an automation the trigger set does not have."""


StepBuilder = Callable[[EvalContext, str, str], Step | None]
"""(context, trigger name, step id) -> the rendered step, or None (an error was recorded)."""


# ---------------------------------------------------------------------------------------------
# Compiled program
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SideEffectNode:
    step_id: str
    when: Predicate | None
    build: StepBuilder
    into: str | None = None


@dataclass(frozen=True, slots=True)
class SetVariableNode:
    step_id: str
    when: Predicate | None
    name: str
    value: Template


@dataclass(frozen=True, slots=True)
class ExtractNode:
    step_id: str
    when: Predicate | None
    extractors: tuple[Extractor, ...]


@dataclass(frozen=True, slots=True)
class IfNode:
    step_id: str
    when: Predicate | None
    condition: Predicate
    then: tuple[Node, ...]
    else_: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class StopNode:
    step_id: str
    when: Predicate | None


@dataclass(frozen=True, slots=True)
class WaitNode:
    """``wait_for_reply``: a step that pauses, then the branch of its outcome."""

    step_id: str
    when: Predicate | None
    build: StepBuilder
    into: str
    branches: Mapping[str, tuple[Node, ...]]


Node = SideEffectNode | SetVariableNode | ExtractNode | IfNode | StopNode | WaitNode


@dataclass(frozen=True, slots=True)
class CompiledTrigger:
    name: str
    when: Predicate | None
    extractors: tuple[Extractor, ...]
    actions: tuple[Node, ...]
    continue_after: bool
    on_opt_out: bool = False


@dataclass(frozen=True, slots=True)
class Program:
    triggers: tuple[CompiledTrigger, ...]
    fingerprint: str
    """Identifies the trigger set's content: step ids are only stable within one version."""


def compile_triggers(trigger_set: TriggerSet) -> Program:
    canonical = trigger_set.model_dump_json(by_alias=True, exclude_defaults=False)
    return Program(
        triggers=tuple(
            _compile_trigger(trigger) for trigger in trigger_set.triggers if trigger.enabled
        ),
        fingerprint=hashlib.sha256(canonical.encode()).hexdigest()[:16],
    )


def compile_automation(automation: Automation) -> CompiledTrigger:
    """An automation runs like a catch-all trigger of its own: step ids ``<name>/<n>``."""
    return CompiledTrigger(
        name=automation.name,
        when=None,
        extractors=(),
        actions=_compile_actions(automation.actions, automation.name, automation.name),
        continue_after=False,
    )


def _compile_trigger(trigger: Trigger) -> CompiledTrigger:
    return CompiledTrigger(
        name=trigger.name,
        when=compile_conditions(trigger.when),
        extractors=compile_extractions(trigger.extract),
        actions=_compile_actions(trigger.actions, trigger.name, trigger.name),
        continue_after=trigger.continue_,
        on_opt_out=trigger.on_opt_out,
    )


def _compile_actions(actions: list[Action], trigger: str, parent: str) -> tuple[Node, ...]:
    return tuple(
        _compile_action(action, trigger, f"{trigger}/{action.id}" if action.id else f"{parent}/{n}")
        for n, action in enumerate(actions, start=1)
    )


def _compile_action(action: Action, trigger: str, step_id: str) -> Node:
    when = compile_conditions(action.when)
    if isinstance(action, IfAction):
        condition = compile_conditions(action.condition)
        assert condition is not None
        return IfNode(
            step_id,
            when,
            condition,
            _compile_actions(action.then, trigger, f"{step_id}/then"),
            _compile_actions(action.else_, trigger, f"{step_id}/else"),
        )
    if isinstance(action, SetVariableAction):
        return SetVariableNode(step_id, when, action.name, parse_template(action.value))
    if isinstance(action, ExtractAction):
        return ExtractNode(step_id, when, compile_extractions(action.extract))
    if isinstance(action, StopAction):
        return StopNode(step_id, when)
    if isinstance(action, WaitForReplyAction):
        return WaitNode(
            step_id,
            when,
            _wait_for_reply_builder(action),
            action.into,
            {
                name: _compile_actions(branch, trigger, f"{step_id}/{name}")
                for name, branch in action.branches.items()
            },
        )
    into = action.into if isinstance(action, HttpRequestAction | InvokeLambdaAction) else None
    return SideEffectNode(step_id, when, _step_builder(action), into)


def _step_builder(  # noqa: PLR0911 (one builder per side-effecting action)
    action: SendSmsAction
    | MakeCallAction
    | RecordAction
    | HttpRequestAction
    | SendEmailAction
    | PublishEventAction
    | InvokeLambdaAction,
) -> StepBuilder:
    if isinstance(action, PublishEventAction):
        return _publish_event_builder(action)
    if isinstance(action, InvokeLambdaAction):
        return _invoke_lambda_builder(action)
    if isinstance(action, SendEmailAction):
        return _send_email_builder(action)
    if isinstance(action, SendSmsAction):
        return _send_sms_builder(action)
    if isinstance(action, MakeCallAction):
        return _make_call_builder(action)
    if isinstance(action, RecordAction):
        return _record_builder(action)
    return _http_request_builder(action)


# ---------------------------------------------------------------------------------------------
# Step builders: render the templates, check what can only be checked once rendered
# ---------------------------------------------------------------------------------------------


def _send_sms_builder(action: SendSmsAction) -> StepBuilder:
    to = parse_template(action.to)
    sender = None if action.messaging_service_sid else parse_template(action.from_ or "%To%")
    body = parse_template(action.body)
    media = tuple(parse_template(url) for url in action.media_urls)

    def build(context: EvalContext, trigger: str, step_id: str) -> Step | None:
        rendered_to = context.render(to).strip()
        rendered_from = context.render(sender).strip() if sender else None
        rendered_body = context.render(body)
        urls = tuple(url for url in (context.render(t).strip() for t in media) if url)
        if not rendered_to:
            return _skip(context, "send_sms: 'to' is empty after rendering")
        if sender is not None and not rendered_from:
            return _skip(context, "send_sms: 'from' is empty after rendering")
        if not rendered_body and not urls:
            return _skip(context, "send_sms: the body and media URLs are empty after rendering")
        if len(rendered_body) > MAX_SMS_BODY_CHARS:
            context.warn(
                f"send_sms: the body is {len(rendered_body)} characters; Twilio accepts "
                f"at most {MAX_SMS_BODY_CHARS}"
            )
        return SendSms(
            step_id=step_id,
            trigger=trigger,
            to=rendered_to,
            from_=rendered_from,
            messaging_service_sid=action.messaging_service_sid,
            body=rendered_body,
            media_urls=urls,
        )

    return build


def _make_call_builder(action: MakeCallAction) -> StepBuilder:
    to, sender = parse_template(action.to), parse_template(action.from_)
    say = parse_template(action.say.text) if action.say else None
    number = parse_template(action.connect_to.number) if action.connect_to else None
    caller_id = (
        parse_template(action.connect_to.caller_id)
        if action.connect_to and action.connect_to.caller_id
        else None
    )

    def build(context: EvalContext, trigger: str, step_id: str) -> Step | None:
        rendered_to, rendered_from = context.render(to).strip(), context.render(sender).strip()
        if not rendered_to or not rendered_from:
            return _skip(context, "make_call: 'to' or 'from' is empty after rendering")
        rendered_number = context.render(number).strip() if number else None
        if number is not None and not rendered_number:
            return _skip(context, "make_call: 'connect_to.number' is empty after rendering")
        say_spec, connect_spec = action.twiml_specs(
            context.render(say) if say else None,
            rendered_number,
            (context.render(caller_id).strip() or None) if caller_id else None,
        )
        try:
            twiml = build_call_twiml(say_spec, connect_spec)
        except TwimlTooLong as error:
            return _skip(context, f"make_call: {error}")
        return MakeCall(
            step_id=step_id, trigger=trigger, to=rendered_to, from_=rendered_from, twiml=twiml
        )

    return build


def _record_builder(action: RecordAction) -> StepBuilder:
    item = {name: parse_template(value) for name, value in action.item.items()}

    def build(context: EvalContext, trigger: str, step_id: str) -> Step | None:
        rendered = {name: context.render(template) for name, template in item.items()}
        return RecordItem(step_id=step_id, trigger=trigger, table=action.table, item=rendered)

    return build


def _http_request_builder(action: HttpRequestAction) -> StepBuilder:
    """Each rendered value encoded for where it goes (``http_rendering``)."""
    try:
        url = parse_url_template(action.url)
    except UrlTemplateError as error:  # a version stored before the url rules: never sent
        refusal = f"http_request: url: {error}"
        return lambda context, trigger, step_id: _skip(context, refusal)
    query = {name: parse_template(value) for name, value in action.query.items()}
    headers = {name: parse_template(value) for name, value in action.headers.items()}
    body = parse_template(action.body) if action.body is not None else None
    json_body = JsonTemplate.parse(action.json_body) if action.json_body is not None else None
    sets_content_type = any(name.lower() == "content-type" for name in action.headers)

    def build(context: EvalContext, trigger: str, step_id: str) -> Step | None:
        try:
            rendered_url = url.render(context.render, query)
        except RenderError as error:
            return _skip(context, f"http_request: {error}")
        rendered_headers = {name: context.render(value) for name, value in headers.items()}
        for name, value in rendered_headers.items():
            if problem := header_problem(name, value):
                return _skip(context, f"http_request: {problem}")
        rendered_body = context.render(body) if body is not None else None
        if json_body is not None:
            rendered_body = json_body.render(context.render)
            if not sets_content_type:
                rendered_headers["Content-Type"] = "application/json"
        return HttpRequest(
            step_id=step_id,
            trigger=trigger,
            method=action.method,
            url=rendered_url,
            headers=rendered_headers,
            body=rendered_body,
            timeout_seconds=action.timeout_seconds,
        )

    return build


def _send_email_builder(action: SendEmailAction) -> StepBuilder:
    """Headers refuse line breaks and anything but one address each; the HTML body escapes
    every variable (``email_rendering``)."""
    to = tuple(parse_template(address) for address in action.recipients)
    sender = parse_template(action.from_) if action.from_ is not None else None
    reply_to = parse_template(action.reply_to) if action.reply_to is not None else None
    subject = parse_template(action.subject)
    text = parse_template(action.text) if action.text is not None else None
    html = parse_template(action.html) if action.html is not None else None

    def build(context: EvalContext, trigger: str, step_id: str) -> Step | None:
        addresses = {
            "to": [context.render(t).strip() for t in to],
            "from": [context.render(sender).strip()] if sender is not None else [],
            "reply_to": [context.render(reply_to).strip()] if reply_to is not None else [],
        }
        for field_name, values in addresses.items():
            for value in values:
                if problem := address_problem(field_name, value):
                    return _skip(context, f"send_email: {problem}")
        rendered_subject = context.render(subject).strip()
        if problem := subject_problem(rendered_subject):
            return _skip(context, f"send_email: {problem}")
        rendered_text = context.render(text) if text is not None else None
        rendered_html = render_html(html, context.render) if html is not None else None
        if len(rendered_text or "") + len(rendered_html or "") > MAX_BODY_CHARS:
            return _skip(
                context, f"send_email: the body is longer than {MAX_BODY_CHARS} characters"
            )
        return SendEmail(
            step_id=step_id,
            trigger=trigger,
            from_=addresses["from"][0] if addresses["from"] else None,
            to=tuple(addresses["to"]),
            reply_to=addresses["reply_to"][0] if addresses["reply_to"] else None,
            subject=rendered_subject,
            text=rendered_text,
            html=rendered_html,
        )

    return build


def _publish_event_builder(action: PublishEventAction) -> StepBuilder:
    """The detail as ``http_request``'s ``json:``: each string a template, JSON-encoded."""
    detail_type = parse_template(action.detail_type)
    detail = JsonTemplate.parse(action.detail)

    def build(context: EvalContext, trigger: str, step_id: str) -> Step | None:
        rendered_type = context.render(detail_type).strip()
        if not rendered_type or len(rendered_type) > MAX_DETAIL_TYPE_CHARS:
            return _skip(
                context,
                f"publish_event: 'detail_type' must be 1 to {MAX_DETAIL_TYPE_CHARS} characters "
                "after substitution",
            )
        if problem := header_problem("detail_type", rendered_type):
            return _skip(context, f"publish_event: {problem}")
        rendered = detail.render(context.render)
        if len(rendered.encode()) > MAX_EVENT_DETAIL_BYTES:
            return _skip(
                context, f"publish_event: the detail is over {MAX_EVENT_DETAIL_BYTES} bytes"
            )
        return PublishEvent(
            step_id=step_id,
            trigger=trigger,
            bus=action.bus,
            detail_type=rendered_type,
            detail=rendered,
        )

    return build


def _invoke_lambda_builder(action: InvokeLambdaAction) -> StepBuilder:
    payload = JsonTemplate.parse(action.payload)

    def build(context: EvalContext, trigger: str, step_id: str) -> Step | None:
        rendered = payload.render(context.render)
        if len(rendered.encode()) > MAX_LAMBDA_PAYLOAD_BYTES:
            return _skip(
                context, f"invoke_lambda: the payload is over {MAX_LAMBDA_PAYLOAD_BYTES} bytes"
            )
        return InvokeLambda(
            step_id=step_id,
            trigger=trigger,
            function=action.function,
            asynchronous=action.invocation == "async",
            payload=rendered,
            timeout_seconds=action.timeout_seconds,
        )

    return build


def _wait_for_reply_builder(action: WaitForReplyAction) -> StepBuilder:
    to, sender = parse_template(action.to), parse_template(action.from_ or "%To%")
    prompt = parse_template(action.prompt) if action.prompt is not None else None
    until = parse_template(action.until) if action.until is not None else None
    reprompt = parse_template(action.reprompt) if action.reprompt is not None else None
    reminders = tuple((parse_duration(r.after), parse_template(r.text)) for r in action.remind)
    timeout = None if until is not None else parse_duration(action.timeout or "24h")
    words = action.expected_words
    patterns = tuple(AnswerPattern(p.regex, p.case_sensitive) for p in action.expected_patterns)
    _compile_answers(patterns)

    def build(context: EvalContext, trigger: str, step_id: str) -> Step | None:
        rendered_to, rendered_from = context.render(to).strip(), context.render(sender).strip()
        if not rendered_to or not rendered_from:
            return _skip(context, "wait_for_reply: 'to' or 'from' is empty after rendering")
        deadline = None
        if until is not None:
            deadline = _deadline(context, context.render(until).strip())
            if deadline is None:
                return None
        return WaitForReply(
            step_id=step_id,
            trigger=trigger,
            to=rendered_to,
            from_=rendered_from,
            prompt=(context.render(prompt) or None) if prompt is not None else None,
            timeout_seconds=timeout,
            until=deadline,
            reminders=tuple(ReminderSpec(after, context.render(text)) for after, text in reminders),
            expect_words=words,
            expect_patterns=patterns,
            reprompt=context.render(reprompt) if reprompt is not None else None,
            max_attempts=action.max_attempts,
            also_run_triggers=action.also_run_triggers,
        )

    return build


def _compile_answers(patterns: tuple[AnswerPattern, ...]) -> None:
    """Compile the answer patterns with the engine, which keeps them (``Engine.memory_held``):
    a conversation checking a reply shares them instead of compiling them per reply. One that
    cannot run is left to the conversation (it then accepts any reply)."""
    for pattern in patterns:
        with contextlib.suppress(UnsupportedPattern):
            compile_pattern(pattern.regex, case_sensitive=pattern.case_sensitive)


def _deadline(context: EvalContext, text: str) -> str | None:
    """``until`` rendered: an ISO 8601 time (a time without offset is in the account's zone)."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        _skip(context, f"wait_for_reply: 'until' {text[:40]!r} is not an ISO 8601 time")
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=context.zone)
    if beyond_longest_wait(moment, context.now):
        _skip(context, f"wait_for_reply: {longest_wait_refusal(text)}")
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _skip(context: EvalContext, reason: str) -> Step | None:
    context.error(f"{reason}; step skipped")
    return None


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountSettings:
    name: str
    timezone: str | None = None
    """IANA zone for ``%now%``/``%date%``/``%time%`` and the time conditions (default UTC)."""

    @property
    def zone(self) -> ZoneInfo:
        return time_zone(self.timezone) if self.timezone else UTC


class EvaluationStatus(StrEnum):
    COMPLETED = "completed"
    """Every matching trigger ran to its end (or none matched)."""
    STOPPED = "stopped"
    """A ``stop`` action ended the evaluation."""
    PAUSED = "paused"
    """A step's outcome is pending; evaluate again (replay) once it is known."""


@dataclass(frozen=True, slots=True)
class StepRecord:
    step: Step
    outcome: StepOutcome


@dataclass(frozen=True, slots=True)
class Evaluation:
    status: EvaluationStatus
    matched: tuple[str, ...]
    variables: Mapping[str, VarValue]
    """What the matched triggers set: extracted, ``set_variable``, ``http_request`` ``into``."""
    steps: tuple[StepRecord, ...]
    diagnostics: tuple[Diagnostic, ...]
    trigger_set_fingerprint: str
    paused_at: str | None = None

    @property
    def plan(self) -> tuple[Step, ...]:
        return tuple(record.step for record in self.steps)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "warning")

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")


class _Flow(StrEnum):
    NEXT = "next"
    STOP = "stop"
    PAUSE = "pause"


@dataclass(slots=True)
class _Run:
    context: EvalContext
    port: ActionPort
    steps: list[StepRecord] = field(default_factory=list)
    paused_at: str | None = None


class Engine:
    """Compiled once per trigger set; ``evaluate`` is cheap and may be called per message."""

    def __init__(self, trigger_set: TriggerSet) -> None:
        self._patterns = HeldPatterns()
        """Every pattern the engine's predicates and extractors use, kept as long as it lives."""
        with collecting_patterns(into=self._patterns):
            self.program = compile_triggers(trigger_set)
        self.runs_on_opt_out = any(trigger.on_opt_out for trigger in self.program.triggers)
        """A trigger asks for opt-out keywords: an opt-out is evaluated, not just recorded."""
        self._trigger_set = trigger_set
        self._compiled_automations: dict[str, CompiledTrigger] = {}

    @property
    def memory_held(self) -> int:
        """The most RE2 memory the engine's compiled patterns can hold (their automata grow
        as messages are matched); an automation compiled on first use adds its own."""
        return self._patterns.memory_held

    def evaluate(
        self,
        message: Mapping[str, VarValue],
        *,
        now: dt.datetime,
        account: AccountSettings,
        port: ActionPort,
        headers: Mapping[str, str] | None = None,
        automation: str | None = None,
        opt_out: bool = False,
    ) -> Evaluation:
        """``message``: the stored Twilio parameters by their Twilio names; ``headers``: the
        request headers kept with it (``User-Agent`` becomes ``%HTTP_USER_AGENT%``);
        ``now``: timezone-aware, fixed by the caller (the same on every replay).
        ``automation``: run that automation of the set (its run's variables as ``message``)
        instead of the triggers; ``UnknownAutomation`` when the set has none of that name.
        ``opt_out``: the message is an opt-out keyword; only triggers with ``on_opt_out`` are
        considered."""
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be timezone-aware (e.g. datetime.now(UTC))")
        triggers = self.program.triggers if automation is None else (self._automation(automation),)
        if opt_out and automation is None:
            triggers = tuple(trigger for trigger in triggers if trigger.on_opt_out)
        zone = account.zone
        context = EvalContext(
            _base_layer(message, headers or {}, account, now, zone), now=now, zone=zone
        )
        run = _Run(context, port)
        matched: list[str] = []
        flow = _Flow.NEXT
        for trigger in triggers:
            context.enter_trigger(trigger.name)
            for extract in trigger.extractors:
                extract(context, context.local)
            if trigger.when is not None and not trigger.when(context):
                continue
            context.commit_local()
            matched.append(trigger.name)
            flow = _run_nodes(trigger.name, trigger.actions, run)
            if flow is not _Flow.NEXT or not trigger.continue_after:
                break
        status = {
            _Flow.NEXT: EvaluationStatus.COMPLETED,
            _Flow.STOP: EvaluationStatus.STOPPED,
            _Flow.PAUSE: EvaluationStatus.PAUSED,
        }[flow]
        return Evaluation(
            status=status,
            matched=tuple(matched),
            variables=dict(context.variables),
            steps=tuple(run.steps),
            diagnostics=tuple(context.diagnostics),
            trigger_set_fingerprint=self.program.fingerprint,
            paused_at=run.paused_at,
        )

    def dry_run(
        self,
        message: Mapping[str, VarValue],
        *,
        now: dt.datetime,
        account: AccountSettings,
        headers: Mapping[str, str] | None = None,
        outcomes: Mapping[str, StepOutcome] | None = None,
        automation: str | None = None,
        opt_out: bool = False,
    ) -> Evaluation:
        """Evaluate with a ``DryRunPort``: every step is recorded, none is performed."""
        return self.evaluate(
            message,
            now=now,
            account=account,
            port=DryRunPort(outcomes),
            headers=headers,
            automation=automation,
            opt_out=opt_out,
        )

    def _automation(self, name: str) -> CompiledTrigger:
        folded = name.casefold()
        compiled = self._compiled_automations.get(folded)
        if compiled is None:
            definition = self._trigger_set.automation(name)
            if definition is None:
                raise UnknownAutomation(f"the trigger set has no automation named {name!r}")
            with collecting_patterns(into=self._patterns):
                compiled = compile_automation(definition)
            self._compiled_automations[folded] = compiled
        return compiled


def _run_nodes(trigger: str, nodes: tuple[Node, ...], run: _Run) -> _Flow:
    context = run.context
    for node in nodes:
        context.step_id = node.step_id
        if node.when is not None and not node.when(context):
            continue
        match node:
            case StopNode():
                return _Flow.STOP
            case SetVariableNode():
                context.set_variable(node.name, context.render(node.value))
            case ExtractNode():
                for extract in node.extractors:
                    extract(context, context.variables)
            case IfNode():
                branch = node.then if node.condition(context) else node.else_
                flow = _run_nodes(trigger, branch, run)
                if flow is not _Flow.NEXT:
                    return flow
            case SideEffectNode():
                if _perform(trigger, node, run) is OutcomeStatus.PENDING:
                    run.paused_at = node.step_id
                    return _Flow.PAUSE
            case WaitNode():
                flow = _wait(trigger, node, run)
                if flow is not _Flow.NEXT:
                    return flow
    return _Flow.NEXT


def _wait(trigger: str, node: WaitNode, run: _Run) -> _Flow:
    """Pause until the port knows the outcome; then its branch, and on after the wait."""
    context = run.context
    step = node.build(context, trigger, node.step_id)
    if step is None:
        return _Flow.NEXT
    outcome = run.port.perform(step)
    run.steps.append(StepRecord(step, outcome))
    if outcome.status is OutcomeStatus.PENDING:
        run.paused_at = node.step_id
        return _Flow.PAUSE
    if outcome.status is OutcomeStatus.FAILED:
        context.warn(f"wait_for_reply failed: {outcome.detail}")
        return _Flow.NEXT
    context.set_variable(node.into, dict(outcome.variables))
    try:
        result = ConversationOutcome(str(outcome.variables.get("outcome", "")))
    except ValueError:
        context.warn(f"wait_for_reply: unknown outcome {outcome.variables.get('outcome')!r}")
        return _Flow.NEXT
    branch = WAIT_BRANCHES.get(result)
    if branch is None:  # superseded or cancelled: the conversation is over
        return _Flow.STOP
    return _run_nodes(trigger, node.branches[branch], run)


def _perform(trigger: str, node: SideEffectNode, run: _Run) -> OutcomeStatus | None:
    context = run.context
    step = node.build(context, trigger, node.step_id)
    if step is None:
        return None
    outcome = run.port.perform(step)
    run.steps.append(StepRecord(step, outcome))
    if outcome.status is OutcomeStatus.FAILED:
        context.warn(f"{step.kind} failed: {outcome.detail}")
    elif node.into is not None and outcome.status is OutcomeStatus.DONE:
        context.set_variable(node.into, dict(outcome.variables))
    return outcome.status


BUILT_IN_VARIABLES = ("now", "date", "time", "account", "trigger")


def _base_layer(
    message: Mapping[str, VarValue],
    headers: Mapping[str, str],
    account: AccountSettings,
    now: dt.datetime,
    zone: ZoneInfo,
) -> dict[str, VarValue]:
    """Message fields by folded name (so ``BODY`` finds ``Body``), headers as CGI-style
    ``HTTP_*`` names, then the built-ins, which win over a field of the same name."""
    local_now = now.astimezone(zone)
    base: dict[str, VarValue] = {fold(name): value for name, value in message.items()}
    base.update({fold("HTTP_" + name.replace("-", "_")): value for name, value in headers.items()})
    base.update(
        {
            "now": local_now.isoformat(timespec="seconds"),
            "date": local_now.date().isoformat(),
            "time": local_now.time().isoformat(timespec="seconds"),
            "account": account.name,
        }
    )
    return base
