"""A console write's body, read as hostile: one JSON object of at most a route's own number
of bytes, the size checked on the raw bytes before anything is decoded or parsed (a base64
body on its length first: 4/3 of what it carries).

Each route keeps its limit: a conversation's cancel and a dead letter's redrive 4 KB
(``http.MAX_BODY_BYTES``: an id), a thread's reply 16 KB (``writes.MAX_REQUEST_BYTES``: 1,600
characters even when every one is JSON-escaped), a trigger file's routes twice the largest
file (``trigger_requests.MAX_BODY_BYTES``). Too large is the route's refusal (``too_large``:
``BadRequest``, a 400, unless the route answers 413); anything else wrong is a ``BadRequest``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from typing import Any

from sms_automation.console.queries import BadRequest


def json_object_body(
    event: Mapping[str, Any],
    max_bytes: int,
    *,
    too_large: Callable[[str], Exception] = BadRequest,
    empty: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The event's body: a JSON object of at most ``max_bytes`` UTF-8 bytes. No body: a copy of
    ``empty`` (``None``: refused)."""
    raw = event.get("body")
    if raw is None or raw == "":
        if empty is None:
            raise BadRequest("the request needs a JSON object body")
        return dict(empty)
    if not isinstance(raw, str):
        raise BadRequest("the request body must be JSON text")
    refused = too_large(f"the request body is larger than {max_bytes} bytes")
    if event.get("isBase64Encoded"):
        if len(raw) > max_bytes * 4 // 3 + 4:
            raise refused
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("the request body is not valid base64") from None
    else:
        if len(raw) > max_bytes:  # every character is at least a byte
            raise refused
        data = raw.encode("utf-8", errors="surrogatepass")
    if len(data) > max_bytes:
        raise refused
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BadRequest("the request body is not valid JSON (UTF-8 text)") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body
