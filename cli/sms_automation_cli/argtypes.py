"""argparse types shared by the command groups: a bad value is a usage error (exit 2) that
shows the validation message."""

from __future__ import annotations

import argparse
import re
from datetime import timedelta
from typing import Final

from sms_automation.accounts import (
    InvalidAccountName,
    InvalidAccountSid,
    InvalidTokenValidity,
    validate_account_name,
    validate_account_sid,
    validate_token_validity,
)
from sms_automation.time_zones import UnknownTimeZone, time_zone
from sms_automation.triggers.durations import parse_duration

_E164: Final = re.compile(r"^\+[1-9][0-9]{6,14}$")


def account_name(value: str) -> str:
    try:
        return validate_account_name(value)
    except InvalidAccountName as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def account_sid(value: str) -> str:
    try:
        return validate_account_sid(value)
    except InvalidAccountSid as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def token_window(text: str) -> timedelta:
    """How long the previous auth token stays accepted: ``90m``, ``48h``, ``7d``."""
    try:
        return validate_token_validity(timedelta(seconds=parse_duration(text)))
    except (ValueError, InvalidTokenValidity) as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def time_zone_name(text: str) -> str:
    """An IANA time zone's name (``--timezone``)."""
    try:
        time_zone(text)
    except UnknownTimeZone as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a positive whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def positive_seconds(text: str) -> float:
    """A timeout: any positive number of seconds (``2.5``)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return seconds


def e164_number(text: str) -> str:
    """A phone number in E.164 form (``+14155550100``)."""
    if not _E164.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"expected an E.164 number like +14155550100, got {text!r}"
        )
    return text
