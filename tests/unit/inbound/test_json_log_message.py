"""The routes' log-message decoder logs exactly what Powertools' default (``json.loads``, the
text kept when it does not parse) would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms_automation.inbound.route import json_log_message


def powertools_default(message: str) -> Any:
    try:
        return json.loads(message)
    except (json.JSONDecodeError, TypeError, ValueError):
        return message


def logged(message: str) -> Any:
    try:
        return json_log_message(message)
    except (json.JSONDecodeError, TypeError, ValueError):
        return message


@pytest.mark.parametrize(
    "message",
    [
        "inbound message stored",
        "status callback rejected",
        "failed",
        '{"a": 1}',
        " [1, 2]",
        '"quoted"',
        "-1.5",
        "42",
        "true",
        "null",
        "NaN",
        "Infinity",
        "\u00a0{}",
        "",
        "   ",
    ],
)
def test_json_log_message_logs_what_powertools_would(message: str) -> None:
    assert repr(logged(message)) == repr(powertools_default(message))  # repr: NaN is NaN


@given(st.text() | st.builds(json.dumps, st.recursive(st.none() | st.integers(), st.lists)))
def test_json_log_message_matches_powertools_on_any_text(message: str) -> None:
    assert repr(logged(message)) == repr(powertools_default(message))
