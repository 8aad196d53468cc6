"""The engine: ordering, first match vs continue, control flow, step ids, the port, pausing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sms_automation.triggers import (
    AccountSettings,
    DryRunPort,
    Engine,
    EvaluationStatus,
    HttpRequest,
    MakeCall,
    RecordItem,
    SendSms,
    Step,
    StepOutcome,
)
from tests.unit.triggers.builders import (
    NOW,
    OUR_NUMBER,
    SENDER,
    evaluate,
    message,
    reply,
    trigger_set,
)


def bodies(steps: tuple[Step, ...]) -> list[str]:
    return [step.body for step in steps if isinstance(step, SendSms)]


def keyword(name: str, word: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "when": {"field": "Body", "contains": word},
        "actions": [reply(name)],
        **extra,
    }


def test_engine_first_match_stops_evaluation() -> None:
    triggers = trigger_set(
        keyword("a", "x"), keyword("b", "x"), {"name": "all", "actions": [reply("all")]}
    )
    evaluation = evaluate(triggers, message(Body="x"))
    assert evaluation.matched == ("a",)
    assert bodies(evaluation.plan) == ["a"]
    assert evaluation.status is EvaluationStatus.COMPLETED


def test_engine_continue_lets_later_triggers_run_in_order() -> None:
    triggers = trigger_set(
        keyword("a", "x", **{"continue": True}),
        keyword("skipped", "nope", **{"continue": True}),
        keyword("b", "x", **{"continue": True}),
        {"name": "catch-all", "actions": [reply("all")]},
        keyword("never", "x"),
    )
    evaluation = evaluate(triggers, message(Body="x"))
    assert evaluation.matched == ("a", "b", "catch-all")
    assert bodies(evaluation.plan) == ["a", "b", "all"]


def test_engine_catch_all_matches_when_nothing_else_does() -> None:
    triggers = trigger_set(keyword("a", "x"), {"name": "fallback", "actions": [reply("sorry")]})
    assert evaluate(triggers, message(Body="zzz")).matched == ("fallback",)


def test_engine_no_match_plans_nothing() -> None:
    evaluation = evaluate(trigger_set(keyword("a", "x")), message(Body="y"))
    assert (evaluation.matched, evaluation.plan, evaluation.status) == ((), (), "completed")


def test_engine_disabled_triggers_are_skipped() -> None:
    triggers = trigger_set(keyword("a", "x", enabled=False), keyword("b", "x"))
    assert evaluate(triggers, message(Body="x")).matched == ("b",)


def test_engine_send_sms_defaults_reply_to_sender_from_our_number() -> None:
    (step,) = evaluate({"name": "t", "actions": [reply("hi %From%")]}).plan
    assert step == SendSms(
        step_id="t/1",
        trigger="t",
        to=SENDER,
        from_=OUR_NUMBER,
        messaging_service_sid=None,
        body=f"hi {SENDER}",
        media_urls=(),
    )


def test_engine_send_sms_with_messaging_service_and_media() -> None:
    sid = "MG" + "a" * 32
    action = reply(
        "",
        to="+15005550006",
        messaging_service_sid=sid,
        media_urls=["https://example.com/%MessageSid%.png", "%nothing%"],
    )
    evaluation = evaluate({"name": "t", "actions": [action]})
    (step,) = evaluation.plan
    assert isinstance(step, SendSms)
    assert (step.to, step.from_, step.messaging_service_sid) == ("+15005550006", None, sid)
    assert step.media_urls == ("https://example.com/SM11111111111111111111111111111111.png",)


def test_engine_if_else_and_nested_step_ids() -> None:
    triggers = {
        "name": "t",
        "actions": [
            reply("first"),
            {
                "type": "if",
                "condition": {"field": "Body", "equals": "yes"},
                "then": [reply("then-1"), reply("then-2")],
                "else": [
                    {
                        "type": "if",
                        "condition": {"field": "Body", "equals": "no"},
                        "then": [reply("else-then")],
                        "else": [reply("else-else", id="fallback-reply")],
                    }
                ],
            },
            reply("last"),
        ],
    }
    yes = evaluate(triggers, message(Body="yes")).plan
    no = evaluate(triggers, message(Body="no")).plan
    other = evaluate(triggers, message(Body="?")).plan
    assert [(s.step_id, bodies((s,))[0]) for s in yes] == [
        ("t/1", "first"),
        ("t/2/then/1", "then-1"),
        ("t/2/then/2", "then-2"),
        ("t/3", "last"),
    ]
    assert [s.step_id for s in no] == ["t/1", "t/2/else/1/then/1", "t/3"]
    assert [s.step_id for s in other] == ["t/1", "t/fallback-reply", "t/3"]


def test_engine_stop_ends_the_trigger_and_all_later_ones() -> None:
    triggers = trigger_set(
        {
            "name": "a",
            "actions": [
                reply("before"),
                {
                    "type": "if",
                    "condition": {"field": "Body", "equals": "x"},
                    "then": [{"type": "stop"}],
                },
                reply("after"),
            ],
            "continue": True,
        },
        {"name": "b", "actions": [reply("b")]},
    )
    stopped = evaluate(triggers, message(Body="x"))
    assert bodies(stopped.plan) == ["before"]
    assert stopped.status is EvaluationStatus.STOPPED
    assert bodies(evaluate(triggers, message(Body="y")).plan) == ["before", "after", "b"]


def test_engine_action_level_when() -> None:
    triggers = {
        "name": "t",
        "actions": [
            reply("urgent", when={"field": "Body", "contains": "urgent"}),
            reply("always"),
        ],
    }
    assert bodies(evaluate(triggers, message(Body="urgent!")).plan) == ["urgent", "always"]
    assert bodies(evaluate(triggers, message(Body="fine")).plan) == ["always"]


def test_engine_set_variable_and_extract_actions_feed_later_steps() -> None:
    triggers = {
        "name": "t",
        "actions": [
            {"type": "set_variable", "name": "greeting", "value": "Hello %From%"},
            {"type": "extract", "extract": [{"regex": r"(?P<code>\d{4})"}]},
            reply("%greeting%, code %code%", when={"field": "code", "is_not_blank": True}),
            {"type": "set_variable", "name": "Body", "value": "overridden"},
            reply("%BODY%"),
        ],
    }
    evaluation = evaluate(triggers, message(Body="pin 1234"))
    assert bodies(evaluation.plan) == [f"Hello {SENDER}, code 1234", "overridden"]
    assert evaluation.variables == {
        "greeting": f"Hello {SENDER}",
        "code": "1234",
        "body": "overridden",
    }


def test_engine_builtin_variables() -> None:
    body = "%account%|%trigger%|%now%|%date%|%time%|%MESSAGESID%"
    account = AccountSettings("acme", "America/New_York")
    evaluation = evaluate({"name": "t", "actions": [reply(body)]}, account=account)
    assert bodies(evaluation.plan) == [
        "acme|t|2025-03-14T06:30:00-04:00|2025-03-14|06:30:00|SM" + "1" * 32
    ]


def test_engine_unknown_variable_renders_empty_with_a_warning() -> None:
    evaluation = evaluate({"name": "t", "actions": [reply("[%nope%]")]})
    assert bodies(evaluation.plan) == ["[]"]
    (warning,) = evaluation.warnings
    assert (warning.trigger, warning.step_id) == ("t", "t/1")
    assert "%nope%" in warning.message


def test_engine_step_rendered_empty_is_skipped_with_an_error() -> None:
    evaluation = evaluate({"name": "t", "actions": [reply("x", to="%nobody%"), reply("ok")]})
    assert bodies(evaluation.plan) == ["ok"]
    assert "'to' is empty" in evaluation.errors[0].message


def test_engine_make_call_renders_escaped_twiml() -> None:
    action = {
        "type": "make_call",
        "to": "+15005550011",
        "say": {"text": "From %From%: %Body%", "voice": "Polly.Amy", "language": "en-GB"},
        "connect_to": {"number": "%From%", "caller_id": "%To%", "timeout": 15},
    }
    evaluation = evaluate({"name": "t", "actions": [action]}, message(Body='a < b & "c"'))
    (step,) = evaluation.plan
    assert isinstance(step, MakeCall)
    assert step.from_ == OUR_NUMBER
    assert step.twiml == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        f'<Say voice="Polly.Amy" language="en-GB">From {SENDER}: a &lt; b &amp; "c"</Say>'
        f'<Dial callerId="{OUR_NUMBER}" timeout="15"><Number>{SENDER}</Number></Dial>'
        "</Response>"
    )


def test_engine_make_call_too_long_after_rendering_is_an_error() -> None:
    action = {"type": "make_call", "to": "+15005550011", "say": {"text": "%Body%"}}
    evaluation = evaluate(
        {"name": "t", "actions": [action, reply("next")]}, message(Body="x" * 4000)
    )
    assert bodies(evaluation.plan) == ["next"]
    assert "at most 4000" in evaluation.errors[0].message


def test_engine_record_item_default_and_named_table() -> None:
    actions = [
        {"type": "record", "item": {"from": "%From%", "text": "%Body%"}},
        {"type": "record", "table": "orders", "item": {"id": "%MessageSid%"}},
    ]
    first, second = evaluate({"name": "t", "actions": actions}, message(Body="hi")).plan
    assert first == RecordItem(
        step_id="t/1", trigger="t", table=None, item={"from": SENDER, "text": "hi"}
    )
    assert isinstance(second, RecordItem)
    assert second.table == "orders"


def test_engine_http_response_feeds_later_steps() -> None:
    triggers = {
        "name": "t",
        "actions": [
            {
                "type": "http_request",
                "method": "POST",
                "url": "https://crm.example.com/lookup",
                "headers": {"X-From": "%From%"},
                "body": '{"phone": "%From%"}',
                "into": "crm",
            },
            {
                "type": "if",
                "condition": {"field": "crm.status", "equals": "200"},
                "then": [reply("Hello %crm.json.name%")],
                "else": [reply("Hello")],
            },
        ],
    }
    outcomes = {"t/1": StepOutcome.done({"status": 200, "json": {"name": "Jo"}})}
    evaluation = evaluate(triggers, outcomes=outcomes)
    request, sms = evaluation.plan
    assert request == HttpRequest(
        step_id="t/1",
        trigger="t",
        method="POST",
        url="https://crm.example.com/lookup",
        headers={"X-From": SENDER},
        body=f'{{"phone": "{SENDER}"}}',
        timeout_seconds=5.0,
    )
    assert bodies((sms,)) == ["Hello Jo"]
    assert evaluation.variables["crm"] == {"status": 200, "json": {"name": "Jo"}}


def test_engine_http_header_with_line_break_is_refused() -> None:
    action = {"type": "http_request", "url": "https://x.example", "headers": {"X": "%Body%"}}
    evaluation = evaluate({"name": "t", "actions": [action]}, message(Body="a\r\nInjected: 1"))
    assert evaluation.plan == ()
    assert "line break" in evaluation.errors[0].message


def test_engine_failed_outcome_is_recorded_and_evaluation_goes_on() -> None:
    outcomes = {"t/1": StepOutcome.failed("21610: unsubscribed recipient")}
    evaluation = evaluate({"name": "t", "actions": [reply("a"), reply("b")]}, outcomes=outcomes)
    assert [record.outcome.status for record in evaluation.steps] == ["failed", "done"]
    assert "21610" in evaluation.warnings[0].message


def test_engine_pending_outcome_pauses_and_replay_resumes_after_it() -> None:
    triggers = trigger_set(
        {"name": "t", "actions": [reply("one"), reply("two"), reply("three")], "continue": True},
        {"name": "u", "actions": [reply("four")]},
    )
    engine = Engine(triggers)
    first = DryRunPort({"t/2": StepOutcome.pending("waiting")})
    paused = engine.evaluate(message(), now=NOW, account=AccountSettings("acme"), port=first)
    assert (paused.status, paused.paused_at) == (EvaluationStatus.PAUSED, "t/2")
    assert [step.step_id for step in first.performed] == ["t/1", "t/2"]

    class ReplayPort:
        """Answers completed steps from its records, performs only the new ones."""

        def __init__(self, records: dict[str, StepOutcome]) -> None:
            self.records = records
            self.performed: list[str] = []

        def perform(self, step: Step) -> StepOutcome:
            if step.step_id in self.records:
                return self.records[step.step_id]
            self.performed.append(step.step_id)
            return StepOutcome.done()

    replay = ReplayPort({"t/1": StepOutcome.done(), "t/2": StepOutcome.done()})
    resumed = engine.evaluate(message(), now=NOW, account=AccountSettings("acme"), port=replay)
    assert resumed.status is EvaluationStatus.COMPLETED
    assert replay.performed == ["t/3", "u/1"]
    assert resumed.trigger_set_fingerprint == paused.trigger_set_fingerprint


def test_engine_port_exception_propagates() -> None:
    class Broken:
        def perform(self, step: Step) -> StepOutcome:
            raise TimeoutError("twilio timed out")

    engine = Engine(trigger_set({"name": "t", "actions": [reply("a")]}))
    with pytest.raises(TimeoutError):
        engine.evaluate(message(), now=NOW, account=AccountSettings("acme"), port=Broken())


def test_engine_rejects_naive_now() -> None:
    engine = Engine(trigger_set({"name": "t"}))
    with pytest.raises(ValueError, match="timezone-aware"):
        engine.dry_run(message(), now=dt.datetime(2025, 1, 1), account=AccountSettings("acme"))


def test_engine_fingerprint_changes_with_the_triggers() -> None:
    one = Engine(trigger_set({"name": "t", "actions": [reply("a")]})).program.fingerprint
    same = Engine(trigger_set({"name": "t", "actions": [reply("a")]})).program.fingerprint
    other = Engine(trigger_set({"name": "t", "actions": [reply("b")]})).program.fingerprint
    assert one == same != other


def test_engine_is_deterministic_for_the_same_inputs() -> None:
    triggers = trigger_set({"name": "t", "actions": [reply("%now% %Body%")]})
    assert evaluate(triggers) == evaluate(triggers)


def test_engine_make_call_connect_number_rendered_empty_is_skipped() -> None:
    action = {
        "type": "make_call",
        "to": "+15005550011",
        "connect_to": {"number": "%on_call%", "caller_id": "%unset%"},
    }
    evaluation = evaluate({"name": "t", "actions": [action]})
    assert evaluation.plan == ()
    assert "'connect_to.number' is empty" in evaluation.errors[0].message


def test_engine_make_call_caller_id_rendered_empty_is_left_out() -> None:
    action = {
        "type": "make_call",
        "to": "+15005550011",
        "connect_to": {"number": "%From%", "caller_id": "%unset%"},
    }
    (call,) = evaluate({"name": "t", "actions": [action]}).plan
    assert isinstance(call, MakeCall)
    assert "callerId" not in call.twiml
