"""``wait_for_reply``: parsing, rendering, step ids, the branch chosen by the recorded outcome."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pydantic
import pytest

from sms_automation.triggers import (
    EvaluationStatus,
    ReminderSpec,
    SendSms,
    StepOutcome,
    WaitForReply,
)
from sms_automation.triggers.durations import MAX_WAIT_SECONDS, parse_duration
from sms_automation.triggers.plan import AnswerPattern
from tests.unit.triggers.builders import NOW, OUR_NUMBER, SENDER, evaluate, reply, trigger_set


def wait(**fields: Any) -> dict[str, Any]:
    return {"type": "wait_for_reply", **fields}


APPOINTMENT = {
    "name": "confirm",
    "actions": [
        reply("Hello"),
        wait(
            prompt="Reply YES to confirm %Body%",
            timeout="2h",
            remind=[{"after": "30m", "text": "Still there? %From%"}],
            expect=["YES", "NO"],
            reprompt="Please answer YES or NO",
            on_reply=[
                {
                    "type": "if",
                    "condition": {"field": "answer.body", "equals": "yes"},
                    "then": [reply("Confirmed")],
                    "else": [reply("Cancelled")],
                }
            ],
            on_timeout=[reply("No answer")],
            on_delivery_failure=[reply("Undelivered")],
            on_no_valid_answer=[reply("Giving up")],
        ),
        reply("Bye"),
    ],
}


def done(outcome: str, **variables: Any) -> StepOutcome:
    return StepOutcome.done({"outcome": outcome, **variables})


def bodies(evaluation: Any) -> list[str]:
    return [step.body for step in evaluation.plan if isinstance(step, SendSms)]


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("30m", 1800), ("2h", 7200), (" 7d ", 604800)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "2", "1.5h", "2 hours", "0m", "-1d", "1w"])
def test_durations_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_conversation_pauses_with_the_rendered_step() -> None:
    evaluation = evaluate(APPOINTMENT, outcomes={"confirm/2": StepOutcome.pending()})
    assert evaluation.status is EvaluationStatus.PAUSED
    assert evaluation.paused_at == "confirm/2"
    assert bodies(evaluation) == ["Hello"]
    step = evaluation.plan[-1]
    assert step == WaitForReply(
        step_id="confirm/2",
        trigger="confirm",
        to=SENDER,
        from_=OUR_NUMBER,
        prompt="Reply YES to confirm hello",
        timeout_seconds=7200,
        until=None,
        reminders=(ReminderSpec(1800, f"Still there? {SENDER}"),),
        expect_words=("YES", "NO"),
        reprompt="Please answer YES or NO",
        max_attempts=3,
    )


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (done("replied", body="yes"), ["Hello", "Confirmed", "Bye"]),
        (done("replied", body="NO"), ["Hello", "Cancelled", "Bye"]),
        (done("timeout"), ["Hello", "No answer", "Bye"]),
        (done("delivery_failed"), ["Hello", "Undelivered", "Bye"]),
        (done("no_valid_answer"), ["Hello", "Giving up", "Bye"]),
        (done("superseded"), ["Hello"]),
        (done("cancelled"), ["Hello"]),
        (StepOutcome.failed("could not start"), ["Hello", "Bye"]),
    ],
)
def test_conversation_runs_the_branch_of_the_recorded_outcome(
    outcome: StepOutcome, expected: list[str]
) -> None:
    evaluation = evaluate(APPOINTMENT, outcomes={"confirm/2": outcome})
    assert bodies(evaluation) == expected


def test_conversation_branch_step_ids_are_stable() -> None:
    evaluation = evaluate(APPOINTMENT, outcomes={"confirm/2": done("replied", body="yes")})
    assert [step.step_id for step in evaluation.plan] == [
        "confirm/1",
        "confirm/2",
        "confirm/2/on_reply/1/then/1",
        "confirm/3",
    ]
    assert evaluation.variables["answer"] == {"outcome": "replied", "body": "yes"}


def test_superseded_or_cancelled_stops_the_evaluation() -> None:
    evaluation = evaluate(APPOINTMENT, outcomes={"confirm/2": done("cancelled")})
    assert evaluation.status is EvaluationStatus.STOPPED


def test_nested_conversation_in_a_branch_pauses_there() -> None:
    triggers = {
        "name": "t",
        "actions": [
            wait(
                prompt="Name?",
                into="name",
                on_reply=[wait(prompt="Thanks %name.body%, age?", into="age")],
            ),
            reply("Done %name.body% %age.body%"),
        ],
    }
    first = evaluate(triggers, outcomes={"t/1": StepOutcome.pending()})
    assert first.paused_at == "t/1"
    second = evaluate(
        triggers,
        outcomes={
            "t/1": done("replied", body="Jo"),
            "t/1/on_reply/1": StepOutcome.pending(),
        },
    )
    assert second.paused_at == "t/1/on_reply/1"
    nested = second.plan[-1]
    assert isinstance(nested, WaitForReply)
    assert nested.prompt == "Thanks Jo, age?"
    third = evaluate(
        triggers,
        outcomes={"t/1": done("replied", body="Jo"), "t/1/on_reply/1": done("replied", body="7")},
    )
    assert third.status is EvaluationStatus.COMPLETED
    assert bodies(third) == ["Done Jo 7"]


def test_until_is_rendered_in_the_accounts_zone_and_kept_in_utc() -> None:
    triggers = {"name": "t", "actions": [wait(until="%at%")]}
    evaluation = evaluate(
        triggers | {"extract": [{"regex": r"(?P<at>\S+)"}]},
        {"Body": "2025-03-14T12:00:00+01:00", "From": SENDER, "To": OUR_NUMBER},
        outcomes={"t/1": StepOutcome.pending()},
    )
    step = evaluation.plan[-1]
    assert isinstance(step, WaitForReply)
    assert (step.until, step.timeout_seconds) == ("2025-03-14T11:00:00Z", None)


def test_until_that_is_not_a_time_skips_the_conversation_with_an_error() -> None:
    evaluation = evaluate({"name": "t", "actions": [wait(until="soon"), reply("after")]})
    assert bodies(evaluation) == ["after"]
    assert "not an ISO 8601 time" in evaluation.errors[0].message


def test_until_rendered_beyond_the_longest_conversation_skips_the_conversation_with_an_error() -> (
    None
):
    """``until`` is capped like ``timeout`` (30 days from now, when the wait starts): a
    rendered deadline past it opens no wait the state machine could not hold."""
    triggers = {"name": "t", "actions": [wait(until="%at%"), reply("after")]}
    triggers |= {"extract": [{"regex": r"(?P<at>\S+)"}]}
    within = (NOW + dt.timedelta(seconds=MAX_WAIT_SECONDS)).isoformat()
    beyond = (NOW + dt.timedelta(seconds=MAX_WAIT_SECONDS + 1)).isoformat()
    message = {"From": SENDER, "To": OUR_NUMBER}

    ok = evaluate(triggers, message | {"Body": within}, outcomes={"t/1": StepOutcome.pending()})
    assert isinstance(ok.plan[-1], WaitForReply)

    refused = evaluate(triggers, message | {"Body": beyond})
    assert bodies(refused) == ["after"]
    assert not any(isinstance(step, WaitForReply) for step in refused.plan)
    assert "more than 30 days ahead" in refused.errors[0].message


@pytest.mark.parametrize(
    "until",
    ["2999-01-01T00:00:00Z", "2999-01-01T09:00", "2999-01-01"],
)
def test_literal_until_beyond_the_longest_conversation_is_refused_when_validated(
    until: str,
) -> None:
    with pytest.raises(pydantic.ValidationError, match="more than 30 days ahead"):
        trigger_set({"name": "t", "actions": [wait(until=until)]})


def test_literal_until_within_the_longest_conversation_or_a_template_is_accepted() -> None:
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=29)).isoformat(timespec="seconds")
    for until in (soon, "%at%", "2999-%month%-01T00:00:00Z"):
        trigger_set({"name": "t", "actions": [wait(until=until)]})


def test_default_timeout_and_regex_expectation() -> None:
    triggers = {"name": "t", "actions": [wait(expect={"regex": r"^\d+$"})]}
    step = evaluate(triggers, outcomes={"t/1": StepOutcome.pending()}).plan[-1]
    assert isinstance(step, WaitForReply)
    assert step.timeout_seconds == 86400
    assert (step.expect_patterns, step.expect_words) == ((AnswerPattern(r"^\d+$"),), ())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"timeout": "2h", "until": "%x%"}, "not both"),
        ({"timeout": "31d"}, "30 days"),
        ({"timeout": "2 hours"}, "not a duration"),
        ({"reprompt": "again"}, "needs 'expect'"),
        ({"timeout": "1h", "remind": [{"after": "1h", "text": "x"}]}, "at or after the timeout"),
        ({"expect": []}, "at least one entry"),
        ({"expect": {"regex": r"(\w)\1"}}, r"expect.regex.regex\n.*backreference \(\\1\)"),
        ({"max_attempts": 0}, "greater than or equal"),
    ],
)
def test_wait_for_reply_is_validated(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        trigger_set({"name": "t", "actions": [wait(**fields)]})


def test_step_ids_must_be_unique_across_branches() -> None:
    with pytest.raises(pydantic.ValidationError, match="unique"):
        trigger_set(
            {
                "name": "t",
                "actions": [
                    wait(id="ask", on_timeout=[reply("x", id="ask")]),
                ],
            }
        )


def test_longest_conversation_is_thirty_days() -> None:
    assert parse_duration("30d") == MAX_WAIT_SECONDS
    trigger_set({"name": "t", "actions": [wait(timeout="30d")]})
