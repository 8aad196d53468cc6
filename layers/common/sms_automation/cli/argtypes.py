"""argparse types shared by the command groups: a bad value is a usage error (exit 2) that
shows the validation message."""

from __future__ import annotations

import argparse

from sms_automation.accounts import (
    InvalidAccountName,
    InvalidAccountSid,
    validate_account_name,
    validate_account_sid,
)


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


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a positive whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value
