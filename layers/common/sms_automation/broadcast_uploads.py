"""Which object keys a broadcast may start from: a file under its account's upload prefix
(``uploads/{account}/``) in the broadcasts bucket, ``.csv`` or JSON Lines. One rule for every
way a broadcast starts (the CLI, the API, a trigger file's schedule); pure and import-light,
so the trigger-file model checks a schedule's file with it too (a module of its own, outside
``broadcasts``, which imports the triggers: no package cycle)."""

from __future__ import annotations

import re
from typing import Final

UPLOAD_KEY_PATTERN: Final = re.compile(r"^uploads/[A-Za-z0-9._/-]{1,900}$")
FILE_SUFFIXES: Final = (".csv", ".jsonl", ".ndjson")
"""CSV, JSON Lines (``broadcasts.rows.file_format``)."""


def upload_prefix(account: str) -> str:
    """Where an account's broadcast files are uploaded (``uploads/{account}/``): a broadcast
    starts only from a file under its own account's prefix."""
    return f"uploads/{account}/"


def key_problem(key: str) -> str | None:
    """What is wrong with ``key`` as a broadcast file's key, whatever the account: ``None``."""
    if not UPLOAD_KEY_PATTERN.fullmatch(key) or ".." in key:
        return "an object key under uploads/ (letters, digits, ._/-)"
    if not key.lower().endswith(FILE_SUFFIXES):
        return "a .csv or .jsonl (JSON Lines) file"
    return None


def account_problem(key: str, account: str) -> str | None:
    """``key`` is not under ``account``'s prefix: the steps function reads every account's
    uploads, so this (not IAM) ties a file's contacts to the account whose automation starts."""
    prefix = upload_prefix(account)
    return None if key.startswith(prefix) else f"an object key under {prefix}"
