"""``send_email`` rendering: headers refuse line breaks and anything but one plain address,
the HTML body escapes every variable, the bodies are bounded; the one-line forward works."""

from __future__ import annotations

import html
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sms_automation.triggers.email_rendering import (
    MAX_BODY_CHARS,
    address_allowed,
    default_sender,
)
from sms_automation.triggers.loader import parse_trigger_text
from sms_automation.triggers.plan import SendEmail
from tests.unit.triggers.builders import SENDER, evaluate, message, trigger_set

FORWARD = {"type": "send_email", "to": "desk@example.com", "subject": "SMS from %From%"}


def mail(**fields: Any) -> dict[str, Any]:
    return {"name": "t", "actions": [{**FORWARD, "text": "%Body%", **fields}]}


def email_for(action: dict[str, Any], **message_fields: str) -> SendEmail:
    evaluation = evaluate(action, message(**message_fields))
    assert evaluation.errors == ()
    [step] = evaluation.plan
    assert isinstance(step, SendEmail)
    return step


def refusal(action: dict[str, Any], **message_fields: str) -> str:
    evaluation = evaluate(action, message(**message_fields))
    assert evaluation.plan == ()
    [error] = evaluation.errors
    return str(error)


def test_the_one_line_forward_sends_the_message_by_email() -> None:
    trigger_file = parse_trigger_text(
        "version: 1\ntriggers:\n  - name: forward\n    actions:\n"
        '      - {type: send_email, to: desk@example.com, subject: "SMS from %From%", '
        'text: "%Body%"}\n',
        filename="t.yaml",
    )
    [trigger] = trigger_file.triggers
    step = email_for(trigger.model_dump(by_alias=True, exclude_none=True), Body="Call me")
    assert (step.to, step.subject, step.text, step.from_) == (
        ("desk@example.com",),
        f"SMS from {SENDER}",
        "Call me",
        None,
    )


@pytest.mark.parametrize("field", ["to", "from", "reply_to"])
@pytest.mark.parametrize(
    "value",
    [
        "a@example.com\r\nBcc: all@example.com",
        "a@example.com\nBcc: all@example.com",
        "a@example.com, b@example.com",
        "Ann <a@example.com>",
        "not an address",
    ],
)
def test_an_address_from_a_variable_is_one_plain_address_or_the_step_is_skipped(
    field: str, value: str
) -> None:
    error = refusal(mail(**{field: "%Body%"}), Body=value)
    assert f"'{field}'" in error
    assert value not in error
    assert "a@" not in error


@pytest.mark.parametrize("body", ["Hi\r\nBcc: x@example.com", "Hi\nthere", "Hi\x00"])
def test_a_subject_with_a_line_break_is_refused(body: str) -> None:
    assert "control character" in refusal(mail(subject="SMS: %Body%"), Body=body)


def test_a_long_subject_and_a_huge_body_are_refused() -> None:
    assert "longer than 400" in refusal(mail(subject="%Body%"), Body="x" * 401)
    huge = {"text": "%Body%" * 100}
    assert "body is longer" in refusal(mail(**huge), Body="y" * (MAX_BODY_CHARS // 99))


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_any_message_text_shows_as_text_in_the_html_body(body: str) -> None:
    step = email_for(mail(html="<p>From %From%:</p><blockquote>%Body%</blockquote>"), Body=body)
    assert step.html == (
        f"<p>From {html.escape(SENDER)}:</p><blockquote>{html.escape(body)}</blockquote>"
    )
    assert step.text == body  # the text part as it is


def test_the_authors_markup_is_kept_and_a_variables_escaped() -> None:
    step = email_for(mail(html="<b>%Body%</b>"), Body="<script>alert(1)</script>")
    assert step.html == "<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>"


def test_a_list_of_recipients_and_a_reply_to() -> None:
    step = email_for(mail(to=["a@example.com", "b@example.com"], reply_to="%Body%"), Body="c@x.io")
    assert (step.to, step.reply_to) == (("a@example.com", "b@example.com"), "c@x.io")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"text": None}, "needs 'text', 'html' or both"),
        ({"to": []}, "1 to 10 addresses"),
        ({"to": [f"a{n}@example.com" for n in range(11)]}, "1 to 10 addresses"),
        ({"subject": ""}, "subject"),
    ],
)
def test_the_file_is_refused_at_load(fields: dict[str, Any], problem: str) -> None:
    action = {k: v for k, v in {**FORWARD, "text": "x", **fields}.items() if v is not None}
    with pytest.raises(ValidationError, match=problem):
        trigger_set({"name": "t", "actions": [action]})


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("bot@example.com", True),
        ("BOT@Example.com", True),
        ("desk@example.net", True),
        ("desk@example.com", False),
        ("bot@example.com.evil.io", False),
        ("x@sub.example.net", False),
    ],
)
def test_senders_the_deployment_allows(address: str, allowed: bool) -> None:
    assert address_allowed(address, ("bot@example.com", "*@example.net")) is allowed


def test_the_default_sender_is_the_first_full_address() -> None:
    assert default_sender(("*@example.net", "bot@example.com")) == "bot@example.com"
    assert default_sender(("*@example.net",)) is None
