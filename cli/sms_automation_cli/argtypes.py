"""argparse types shared by the command groups: a bad value is a usage error (exit 2) that
shows the validation message."""

from __future__ import annotations

import argparse
from datetime import timedelta

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
