"""A request's body read as hostile: one JSON object of at most the caller's number of bytes,
the size checked on the raw bytes before anything is decoded or parsed (a base64 body on its
length first: 4/3 of what it carries). Pure.

The one reader of the console's writes (``console.json_body``) and the automations API
(``automations.http``): each keeps its own limit and words its own refusals from the
``BodyProblem`` a ``BodyRefused`` names (their tests pin the wording).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class BodyProblem(StrEnum):
    MISSING = "missing"
    NOT_TEXT = "not_text"
    TOO_LARGE = "too_large"
    NOT_BASE64 = "not_base64"
    NOT_JSON = "not_json"
    """Not UTF-8, not JSON, or nested deeper than the parser goes."""
    NOT_OBJECT = "not_object"


class BodyRefused(ValueError):
    def __init__(self, problem: BodyProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def json_object_body(event: Mapping[str, Any], max_bytes: int) -> dict[str, Any]:
    """The event's body: a JSON object of at most ``max_bytes`` UTF-8 bytes, else
    ``BodyRefused`` (``MISSING`` for no body or an empty one)."""
    raw = event.get("body")
    if raw is None or raw == "":
        raise BodyRefused(BodyProblem.MISSING)
    if not isinstance(raw, str):
        raise BodyRefused(BodyProblem.NOT_TEXT)
    if event.get("isBase64Encoded"):
        if len(raw) > max_bytes * 4 // 3 + 4:
            raise BodyRefused(BodyProblem.TOO_LARGE)
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise BodyRefused(BodyProblem.NOT_BASE64) from None
    else:
        if len(raw) > max_bytes:  # every character is at least a byte
            raise BodyRefused(BodyProblem.TOO_LARGE)
        data = raw.encode("utf-8", errors="surrogatepass")
    if len(data) > max_bytes:
        raise BodyRefused(BodyProblem.TOO_LARGE)
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BodyRefused(BodyProblem.NOT_JSON) from None
    if not isinstance(body, dict):
        raise BodyRefused(BodyProblem.NOT_OBJECT)
    return body
