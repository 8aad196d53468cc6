"""Typed automation inputs: a caller's value (JSON or command-line text) → the variable's text.

Pure; used when an automation is started (every problem named, nothing started on one) and
when a trigger file is validated (a schedule's variables and an input's default).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Final

MAX_INPUT_CHARS: Final = 4_096
ADDRESS_PATTERN: Final = r"^(whatsapp:)?\+[1-9][0-9]{6,14}$"
"""A contact or one of our numbers: E.164, or ``whatsapp:`` + E.164."""
_PHONE = re.compile(ADDRESS_PATTERN)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TRUE, _FALSE = frozenset({"true", "yes", "1"}), frozenset({"false", "no", "0"})


class InvalidInput(ValueError):
    """The value does not fit the input's type; the message says what was expected."""


def coerce_input(type_: str, value: object) -> str:
    """The text a template sees for ``value`` given as an input of ``type_``."""
    if value is None or isinstance(value, dict | list):
        raise InvalidInput(f"expected a {type_} value, got {_shape(value)}")
    if type_ == "boolean":
        return _boolean(value)
    if isinstance(value, bool):
        raise InvalidInput(f"expected a {type_} value, got the boolean {str(value).lower()}")
    text = value if isinstance(value, str) else _number_text(value)
    if len(text) > MAX_INPUT_CHARS:
        raise InvalidInput(f"the value is {len(text)} characters; at most {MAX_INPUT_CHARS}")
    checker = _CHECKS.get(type_)
    if checker is None:
        raise InvalidInput(f"unknown input type {type_!r}")
    return checker(text.strip() if type_ != "text" else text)


def _shape(value: object) -> str:
    return {type(None): "null", dict: "an object", list: "a list"}.get(type(value), "a value")


def _number_text(value: object) -> str:
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput("expected a finite number")
        return str(value)
    raise InvalidInput(f"expected text or a number, got {type(value).__name__}")


def _boolean(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    folded = str(value).strip().casefold() if isinstance(value, str | int) else ""
    if folded in _TRUE:
        return "true"
    if folded in _FALSE:
        return "false"
    raise InvalidInput(f"expected true or false, got {_preview(value)}")


def _text(text: str) -> str:
    return text


def _number(text: str) -> str:
    try:
        number = float(text)
    except ValueError:
        raise InvalidInput(f"expected a number, got {_preview(text)}") from None
    if not math.isfinite(number):
        raise InvalidInput("expected a finite number")
    return text


def _integer(text: str) -> str:
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", text):
        raise InvalidInput(f"expected a whole number, got {_preview(text)}")
    return str(int(text))


def _phone(text: str) -> str:
    if not _PHONE.fullmatch(text):
        raise InvalidInput(
            f"expected a phone number in E.164 form (+15551234567), got {_mask(text)}"
        )
    return text


def _email(text: str) -> str:
    if not _EMAIL.fullmatch(text) or len(text) > 254:
        raise InvalidInput("expected an email address such as name@example.com")
    return text


def _date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat() if len(text) == 10 else _bad_date(text)
    except ValueError:
        return _bad_date(text)


def _bad_date(text: str) -> str:
    raise InvalidInput(f"expected a date YYYY-MM-DD, got {_preview(text)}")


def _datetime(text: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            "expected a date and time in ISO 8601 (2026-12-01T10:00:00+00:00), "
            f"got {_preview(text)}"
        ) from None
    if moment.tzinfo is None:
        raise InvalidInput("the date and time needs an offset or Z, e.g. 2026-12-01T10:00:00Z")
    return text


def _preview(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _mask(text: str) -> str:
    """Never echo a whole phone number back (errors end up in logs)."""
    return repr(text[:4] + "…" if len(text) > 4 else text)


_CHECKS = {
    "text": _text,
    "number": _number,
    "integer": _integer,
    "boolean": _boolean,
    "phone": _phone,
    "email": _email,
    "date": _date,
    "datetime": _datetime,
}
