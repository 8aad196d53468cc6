"""Every operator, true and false, with case sensitivity, blanks and unreadable values."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from tests.unit.triggers.builders import evaluate, holds, message


@pytest.mark.parametrize(
    ("condition", "body", "expected"),
    [
        ({"equals": "Yes"}, "yes", True),
        ({"equals": "Yes"}, "yes please", False),
        ({"equals": "Yes", "case_sensitive": True}, "yes", False),
        ({"equals": "Yes", "case_sensitive": True}, "Yes", True),
        ({"not_equals": "yes"}, "YES", False),
        ({"not_equals": "yes"}, "no", True),
        ({"contains": "REFUND"}, "I want a refund now", True),
        ({"contains": "refund"}, "I want a return", False),
        ({"contains": "REFUND", "case_sensitive": True}, "I want a refund", False),
        ({"not_contains": "refund"}, "I want a refund", False),
        ({"not_contains": "refund"}, "hello", True),
        ({"starts_with": "help"}, "HELP me", True),
        ({"starts_with": "help"}, "please help", False),
        ({"not_starts_with": "help"}, "please help", True),
        ({"not_starts_with": "help"}, "Help!", False),
        ({"ends_with": "thanks"}, "ok THANKS", True),
        ({"ends_with": "thanks"}, "thanks ok", False),
        ({"matches_any_of": ["stop", "cancel"]}, "Cancel", True),
        ({"matches_any_of": ["stop", "cancel"]}, "cancel it", False),
        ({"not_matches_any_of": ["stop", "cancel"]}, "hello", True),
        ({"not_matches_any_of": ["stop", "cancel"]}, "STOP", False),
        ({"regex": r"^\d{6}$"}, "123456", True),
        ({"regex": r"^\d{6}$"}, "12345", False),
        ({"regex": "^abc"}, "ABCdef", True),
        ({"regex": "^abc", "case_sensitive": True}, "ABCdef", False),
        ({"is_blank": True}, "   \n", True),
        ({"is_blank": True}, " x ", False),
        ({"is_not_blank": True}, "x", True),
        ({"is_not_blank": True}, "", False),
        ({"length_equals": 3}, "abc", True),
        ({"length_equals": 3}, "abcd", False),
        ({"length_less_than": 3}, "ab", True),
        ({"length_less_than": 3}, "abc", False),
        ({"length_greater_than": 3}, "abcd", True),
        ({"length_greater_than": 3}, "abc", False),
        ({"is_valid_email": True}, " jo.smith+tag@example.co.uk ", True),
        ({"is_valid_email": True}, "jo@localhost", False),
        ({"is_valid_email": True}, "not an email", False),
        ({"is_valid_email": True}, "a@b@example.com", False),
    ],
)
def test_condition_text_operators(condition: dict[str, Any], body: str, expected: bool) -> None:
    assert holds({"field": "Body", **condition}, Body=body) is expected


@pytest.mark.parametrize(
    ("operator", "operand", "value", "expected"),
    [
        ("less_than", 10, "9.5", True),
        ("less_than", 10, "10", False),
        ("greater_than", 10, " 11 ", True),
        ("greater_than", 10, "10", False),
        ("less_than_or_equal", 10, "10", True),
        ("less_than_or_equal", 10, "10.01", False),
        ("greater_than_or_equal", -1, "-1", True),
        ("greater_than_or_equal", -1, "-2", False),
    ],
)
def test_condition_numeric_operators(
    operator: str, operand: float, value: str, expected: bool
) -> None:
    assert holds({"field": "Amount", operator: operand}, Amount=value) is expected


@pytest.mark.parametrize("value", ["ten", "", "1,000", "12abc"])
def test_condition_numeric_non_number_is_false_with_a_warning(value: str) -> None:
    evaluation = evaluate(
        {"name": "t", "when": {"field": "Amount", "less_than": 1e9}}, message(Amount=value)
    )
    assert evaluation.matched == ()
    assert any("is not a number" in warning.message for warning in evaluation.warnings)


def test_condition_missing_field_is_blank() -> None:
    assert holds({"field": "ProfileName", "is_blank": True})
    assert not holds({"field": "ProfileName", "contains": "a"})
    assert holds({"field": "ProfileName", "not_contains": "a"})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("FROM", "+447700900123"),
        ("from", "+447700900123"),
        ("TOCOUNTRY", "GB"),
        ("SMSSTATUS", "received"),
    ],
)
def test_condition_fields_by_thinkautomation_name(field: str, value: str) -> None:
    assert holds({"field": field, "equals": value, "case_sensitive": True})


def test_condition_thinkautomation_message_sid_aliases() -> None:
    sid = "SM" + "1" * 32
    for alias in ("MESSAGESID", "SMSMESSAGESID", "SMSSID", "ACCOUNTSID"):
        expected = "AC" + "2" * 32 if alias == "ACCOUNTSID" else sid
        condition = {"field": alias, "equals": expected}
        assert holds(condition, SmsMessageSid=sid, SmsSid=sid), alias


def test_condition_http_header_aliases() -> None:
    evaluation = evaluate(
        {
            "name": "t",
            "when": [
                {"field": "HTTP_USER_AGENT", "starts_with": "TwilioProxy"},
                {"field": "HTTP_X_TWILIO_SIGNATURE", "equals": "abc="},
            ],
        },
        headers={"User-Agent": "TwilioProxy/1.1", "X-Twilio-Signature": "abc="},
    )
    assert evaluation.matched == ("t",)


def test_condition_operand_renders_variables() -> None:
    assert holds({"field": "Body", "contains": "%To%"}, Body="call +447700900999 now")
    assert not holds({"field": "Body", "contains": "%To%"}, Body="call me")


def test_condition_percent_escape_in_operand() -> None:
    assert holds({"field": "Body", "equals": "100%%"}, Body="100%")


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"all": [{"field": "Body", "contains": "a"}, {"field": "Body", "contains": "b"}]}, True),
        ({"all": [{"field": "Body", "contains": "a"}, {"field": "Body", "contains": "z"}]}, False),
        ({"any": [{"field": "Body", "contains": "z"}, {"field": "Body", "contains": "b"}]}, True),
        ({"any": [{"field": "Body", "contains": "y"}, {"field": "Body", "contains": "z"}]}, False),
        ({"not": {"field": "Body", "contains": "z"}}, True),
        ({"not": {"field": "Body", "contains": "a"}}, False),
        (
            {
                "not": {
                    "any": [
                        {"field": "Body", "equals": "x"},
                        {"all": [{"field": "To", "is_not_blank": True}]},
                    ]
                }
            },
            False,
        ),
        ([{"field": "Body", "contains": "a"}, {"field": "Body", "contains": "b"}], True),
        ([{"field": "Body", "contains": "a"}, {"field": "Body", "contains": "q"}], False),
    ],
)
def test_condition_groups(condition: Any, expected: bool) -> None:
    assert holds(condition, Body="a b c") is expected


LONDON_SUMMER = dt.datetime(2025, 7, 1, 16, 30, tzinfo=dt.UTC)  # 17:30 in London (BST)


@pytest.mark.parametrize(
    ("condition", "tz", "expected"),
    [
        ({"field": "now", "is_after_time": "17:00"}, "Europe/London", True),
        ({"field": "now", "is_after_time": "17:00"}, None, False),  # 16:30 UTC
        ({"field": "time", "is_before_time": "17:00", "timezone": "UTC"}, "Europe/London", True),
        ({"field": "now", "is_before_time": "17:30"}, "Europe/London", False),
        ({"field": "date", "is_after_date": "2025-06-30"}, None, True),
        ({"field": "date", "is_before_date": "2025-07-01"}, None, False),
        (
            {"field": "now", "is_before_date": "2025-07-02", "timezone": "Pacific/Kiritimati"},
            None,
            False,
        ),
    ],
)
def test_condition_clock_operators_use_the_injected_now(
    condition: dict[str, Any], tz: str | None, expected: bool
) -> None:
    assert holds(condition, now=LONDON_SUMMER, tz=tz) is expected


def test_condition_clock_operators_read_a_field() -> None:
    assert holds({"field": "Due", "is_before_date": "2025-01-01"}, Due="2024-12-31")
    assert holds({"field": "Due", "is_after_time": "12:00"}, Due="2024-12-31T13:00:00+00:00")
    assert holds({"field": "Due", "is_before_time": "12:00"}, Due="11:59")
    evaluation = evaluate(
        {"name": "t", "when": {"field": "Due", "is_before_date": "2025-01-01"}}, message(Due="soon")
    )
    assert evaluation.matched == ()
    assert "is not a date" in evaluation.warnings[0].message


@pytest.mark.parametrize(
    ("condition", "complaint"),
    [
        ({"field": "Body"}, "no operator"),
        ({"field": "Body", "equals": "a", "contains": "b"}, "2 operators"),
        ({"field": "Body", "contains": "a", "timezone": "UTC"}, "only applies"),
        ({"field": "now", "is_after_time": 1020}, "as text such as '17:30'"),
        ({"field": "now", "is_after_time": "25:00"}, "time of day"),
        (
            {"field": "now", "is_after_time": "09:00", "timezone": "Mars/Olympus"},
            "unknown time zone",
        ),
        ({"field": "Body", "regex": "("}, "invalid regular expression"),
        ({"field": "Body", "regex": "(?<=a)b"}, "lookbehind .* not supported: patterns run on RE2"),
        ({"field": "Body", "matches_any_of": []}, "at least 1"),
    ],
)
def test_condition_invalid_definitions_are_refused(
    condition: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        evaluate({"name": "t", "when": condition})


def test_condition_numbers_in_yaml_compare_as_text() -> None:
    assert holds({"field": "Body", "equals": 42}, Body="42")
