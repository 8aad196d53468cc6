"""A console write's body (``edge.json_body``: one JSON object, its size checked on the raw
bytes before anything is decoded or parsed), in the console's words.

Each route keeps its limit: a conversation's cancel and a dead letter's redrive 4 KB
(``http.MAX_BODY_BYTES``: an id), a thread's reply 16 KB (``writes.MAX_REQUEST_BYTES``: 1,600
characters even when every one is JSON-escaped), a trigger file's routes twice the largest
file (``trigger_requests.MAX_BODY_BYTES``). Too large is the route's refusal (``too_large``:
``BadRequest``, a 400, unless the route answers 413); anything else wrong is a ``BadRequest``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from sms_automation.console.queries import BadRequest
from sms_automation.edge import json_body
from sms_automation.edge.json_body import BodyProblem, BodyRefused

_SAYS: Final = {
    BodyProblem.MISSING: "the request needs a JSON object body",
    BodyProblem.NOT_TEXT: "the request body must be JSON text",
    BodyProblem.NOT_BASE64: "the request body is not valid base64",
    BodyProblem.NOT_JSON: "the request body is not valid JSON (UTF-8 text)",
    BodyProblem.NOT_OBJECT: "the request body must be a JSON object",
}


def json_object_body(
    event: Mapping[str, Any],
    max_bytes: int,
    *,
    too_large: Callable[[str], Exception] = BadRequest,
    empty: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The event's body: a JSON object of at most ``max_bytes`` UTF-8 bytes. No body: a copy of
    ``empty`` (``None``: refused)."""
    try:
        return json_body.json_object_body(event, max_bytes)
    except BodyRefused as refused:
        if refused.problem is BodyProblem.MISSING and empty is not None:
            return dict(empty)
        if refused.problem is BodyProblem.TOO_LARGE:
            raise too_large(f"the request body is larger than {max_bytes} bytes") from None
        raise BadRequest(_SAYS[refused.problem]) from None
