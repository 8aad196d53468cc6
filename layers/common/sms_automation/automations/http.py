"""The automations HTTP API: API Gateway HTTP API events (payload format 2.0) in, responses out.

Three routes, every one IAM-authorised (SigV4) by API Gateway before this code runs:

- ``POST /automations/{account}/{name}/runs``: start a run. 201 with the run and a ``Location``
  (the run's status URL); 200 with the same run for a retry with the same idempotency key.
- ``GET /automations/{account}/{name}/runs/{run_id}``: the run's status and action log.
- ``GET /automations/{account}/{name}/runs``: the automation's recent runs (``?limit=``).
- ``POST /automations/{account}/{name}/broadcasts``: start a broadcast of a file already in the
  broadcasts bucket under the account's prefix (``{"key": "uploads/{account}/...csv",
  "idempotency_key": "..."}``; docs/broadcasts.md).
  201 with the broadcast; 200 for a retry with the same key.
- ``GET .../broadcasts/{broadcast_id}``: its status, counts, bad rows and progress;
  ``GET .../broadcasts/{broadcast_id}/report``: what became of every row (at most
  ``MAX_API_REPORT_ROWS`` rows: a larger one is a 413, ``sms-automation broadcast report``
  reads any size).
- ``POST .../broadcasts/{broadcast_id}/pause`` (``/resume``, ``/cancel``): as the CLI's
  ``broadcast pause|resume|cancel``: 200 with the broadcast (also when it already was: a retry
  changes nothing), 409 when its status does not allow the change (resuming a completed one).
  404 for an unknown broadcast, or one of another account or automation (nothing changed).

The idempotency key may come in the body (``idempotency_key``) or the ``Idempotency-Key``
header; both may be given only if they are equal (else 400, nothing started).

Pure: the backend (the starter and the run readers) is passed in, as a ``Protocol``; no AWS,
no clock. Every answer says whether a run was started or a start rejected, for the handler's
metrics and log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol
from urllib.parse import quote, unquote

from sms_automation.automations.start import (
    Problem,
    RejectionReason,
    StartRejected,
    StartRequest,
    StartSource,
    invalid_field,
)
from sms_automation.edge.json_body import BodyProblem, BodyRefused, json_object_body

MAX_BODY_BYTES: Final = 64 * 1024
DEFAULT_LIST_LIMIT: Final = 20
MAX_LIST_LIMIT: Final = 100
RETRY_AFTER_SECONDS: Final = 2
IDEMPOTENCY_HEADER: Final = "idempotency-key"
JSON_MEDIA_TYPE: Final = "application/json"
_ACCEPTED_CHARSETS: Final = frozenset({"utf-8", "utf8"})
_BODY_FIELDS: Final = frozenset({"to", "from", "variables", "idempotency_key"})
_LIMIT: Final = re.compile(r"^[0-9]{1,4}$")

RUNS_RESOURCE: Final = "/automations/{account}/{name}/runs"
RUN_RESOURCE: Final = "/automations/{account}/{name}/runs/{run_id}"
BROADCASTS_RESOURCE: Final = "/automations/{account}/{name}/broadcasts"
BROADCAST_RESOURCE: Final = BROADCASTS_RESOURCE + "/{broadcast_id}"
BROADCAST_REPORT_RESOURCE: Final = BROADCAST_RESOURCE + "/report"
BROADCAST_CHANGES: Final = {
    BROADCAST_RESOURCE + "/pause": "pause",
    BROADCAST_RESOURCE + "/resume": "resume",
    BROADCAST_RESOURCE + "/cancel": "cancel",
}
"""Each change's route and its name (``AutomationsBackend.change_broadcast``)."""
MAX_API_REPORT_ROWS: Final = 500
_BROADCAST_FIELDS: Final = frozenset({"key", "idempotency_key"})


class StartedRunView(Protocol):
    @property
    def run_id(self) -> str: ...

    @property
    def created(self) -> bool: ...

    def as_dict(self) -> dict[str, Any]: ...


class AutomationsBackend(Protocol):
    def start(self, request: StartRequest) -> StartedRunView:
        """Raises ``StartRejected`` (nothing stored), ``Unavailable`` (retry) or
        ``StorageFailed`` (do not retry)."""
        ...

    def describe(self, account: str, run_id: str) -> dict[str, Any] | None: ...

    def recent(self, account: str, automation: str, limit: int) -> list[dict[str, Any]]: ...

    def account_exists(self, account: str) -> bool: ...

    def start_broadcast(
        self,
        account: str,
        automation: str,
        key: str,
        *,
        idempotency_key: str | None,
        requested_by: str,
    ) -> tuple[dict[str, Any], bool]:
        """The broadcast and whether this request created it (``StartRejected`` as a start)."""
        ...

    def describe_broadcast(self, account: str, broadcast_id: str) -> dict[str, Any] | None: ...

    def broadcast_report(
        self, account: str, broadcast_id: str, max_rows: int
    ) -> dict[str, Any] | None:
        """``None`` when there is no such broadcast; ``ApiError`` 413 past ``max_rows``."""
        ...

    def change_broadcast(
        self, account: str, automation: str, broadcast_id: str, change: str
    ) -> dict[str, Any] | None:
        """The broadcast after ``change`` (pause, resume, cancel); ``None`` (nothing changed)
        when there is no such broadcast of that account and automation; ``ApiError`` 409 when
        its status does not allow the change."""
        ...


class Unavailable(Exception):
    """The backend could not answer now (DynamoDB throttled or down): nothing was done."""


class StorageFailed(Exception):
    """The backend's storage refused in a way no retry fixes (a role without a permission, a
    missing table, a bug): nothing was done. ``code``: the AWS error code, for the log."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class ApiError(Exception):
    """A request refused before it reached the starter (size, media type, route, query)."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


@dataclass(frozen=True, slots=True)
class Answer:
    response: dict[str, Any]
    started: StartedRunView | None = None
    """Set when a start request was answered with a run (new or an idempotent retry)."""
    rejected: str | None = None
    """The reason when a start request was refused (the ``Reason`` metric dimension)."""
    storage_failure: str | None = None
    """The AWS error code when the storage refused for good (500): the handler logs an error."""


def handle(event: Mapping[str, Any], backend: AutomationsBackend) -> Answer:
    """Route one proxy event; never raises for a bad request or an unavailable backend."""
    method = http_method(event)
    resource = route_template(event)
    is_start = method == "POST" and resource == RUNS_RESOURCE
    try:
        account, automation = _path(event, "account"), _path(event, "name")
        if is_start:
            started = backend.start(start_request(event, account, automation))
            return Answer(_started_response(event, started), started=started)
        return Answer(_other_route(event, backend, account, automation))
    except StartRejected as rejected:
        return Answer(
            json_response(rejected.status, rejected.as_dict()),
            rejected=rejected.reason.value if is_start else None,
        )
    except ApiError as error:
        body = {"error": error.error, "message": error.message}
        return Answer(json_response(error.status, body), rejected=error.error if is_start else None)
    except (Unavailable, StorageFailed) as failure:
        return _storage_answer(failure, is_start=is_start)


def _other_route(
    event: Mapping[str, Any], backend: AutomationsBackend, account: str, automation: str
) -> dict[str, Any]:
    """Every route but a run's start: reading runs, and the broadcasts'."""
    method, resource = http_method(event), route_template(event)
    if method == "GET" and resource == RUN_RESOURCE:
        return _run(backend, account, automation, _path(event, "run_id"))
    if method == "GET" and resource == RUNS_RESOURCE:
        return _runs(backend, account, automation, event)
    if resource.startswith(BROADCASTS_RESOURCE):
        return _broadcast_route(event, backend, account, automation)
    raise ApiError(405, "method_not_allowed", f"{method} {resource} is not a route of this API")


def _storage_answer(failure: Unavailable | StorageFailed, *, is_start: bool) -> Answer:
    """503 and ``Retry-After`` while the store is unavailable; 500, not to be retried, when it
    refuses for good (misconfigured). Nothing was started either way."""
    if isinstance(failure, Unavailable):
        body = {
            "error": "storage_unavailable",
            "message": "the run store is unavailable; nothing was started: try again",
        }
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return Answer(
            json_response(503, body, headers),
            rejected="storage_unavailable" if is_start else None,
        )
    body = {
        "error": "storage_failed",
        "message": f"the service cannot use its run store ({failure.code}): it is misconfigured "
        "or failed; nothing was started: do not retry, tell its operator",
    }
    return Answer(
        json_response(500, body),
        rejected="storage_failed" if is_start else None,
        storage_failure=failure.code,
    )


# --- starting a run ----------------------------------------------------------------------------


def start_request(event: Mapping[str, Any], account: str, automation: str) -> StartRequest:
    """The request to start ``automation``, or ``ApiError`` (413, 415) / ``StartRejected`` (400)."""
    headers = _lower_case_headers(event)
    document = json_body(event)
    problems = [
        Problem(name, "not a field of a start request (to, from, variables, idempotency_key)")
        for name in sorted(set(document) - _BODY_FIELDS)
    ]
    key = _idempotency_key(document.get("idempotency_key"), headers.get(IDEMPOTENCY_HEADER))
    variables = document.get("variables", {})
    if variables is None:
        variables = {}
    if problems:
        raise StartRejected(
            RejectionReason.INVALID_REQUEST,
            "the request body has fields a start request does not have: "
            + ", ".join(p.field for p in problems),
            tuple(problems),
        )
    return StartRequest(
        account=account,
        automation=automation,
        to=document.get("to"),
        variables=variables,
        from_=document.get("from"),
        idempotency_key=key,
        source=StartSource.API,
        requested_by=caller(event),
    )


def json_body(event: Mapping[str, Any]) -> dict[str, Any]:
    """The request's JSON object body: ``ApiError`` (413 too large, 415 not JSON) or
    ``StartRejected`` (400 ``body``: not UTF-8 JSON, not an object)."""
    _require_json(_lower_case_headers(event))
    return _json_object(event)


def http_method(event: Mapping[str, Any]) -> str:
    """The request's method, upper-case (``requestContext.http.method``), or "" when absent."""
    http = (event.get("requestContext") or {}).get("http") or {}
    return str(http.get("method") or "").upper()


def route_template(event: Mapping[str, Any]) -> str:
    """The matched route's path template: ``routeKey`` (``POST /automations/...``) less its
    method, so ``RUNS_RESOURCE`` or ``RUN_RESOURCE``; "" for a ``$default`` route."""
    return str(event.get("routeKey") or "").partition(" ")[2]


def caller(event: Mapping[str, Any]) -> str:
    """The IAM principal API Gateway authenticated (its ARN), for the run's log: payload 2.0's
    ``requestContext.authorizer.iam``."""
    identity = ((event.get("requestContext") or {}).get("authorizer") or {}).get("iam") or {}
    for name in ("userArn", "callerId", "accessKey"):
        value = identity.get(name)
        if isinstance(value, str) and value:
            return value
    return "unknown"


def _idempotency_key(in_body: Any, in_header: str | None) -> Any:
    if in_header is not None and in_body is not None and in_header != in_body:
        raise StartRejected(
            RejectionReason.INVALID_REQUEST,
            "the Idempotency-Key header and the body's idempotency_key differ: give one, "
            "or the same in both",
            (Problem("idempotency_key", "differs from the Idempotency-Key header"),),
        )
    return in_header if in_header is not None else in_body


def _require_json(headers: Mapping[str, str]) -> None:
    media_type, _, parameters = headers.get("content-type", "").partition(";")
    media_type = media_type.strip().lower()
    charset = ""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if media_type != JSON_MEDIA_TYPE or (charset and charset not in _ACCEPTED_CHARSETS):
        shown = headers.get("content-type") or "(none)"
        raise ApiError(
            415,
            "unsupported_media_type",
            f"content type {shown[:100]} is not supported: send {JSON_MEDIA_TYPE} (UTF-8)",
        )


_BODY_SAYS: Final = {
    BodyProblem.NOT_BASE64: "not valid base64",
    BodyProblem.NOT_OBJECT: 'must be a JSON object: {"to": ..., "variables": {...}}',
}


def _json_object(event: Mapping[str, Any]) -> dict[str, Any]:
    """The body (``edge.json_body``) at most ``MAX_BODY_BYTES``: a 413 past it, else a 400
    naming the field ``body``."""
    try:
        return json_object_body(event, MAX_BODY_BYTES)
    except BodyRefused as refused:
        if refused.problem is BodyProblem.TOO_LARGE:
            raise ApiError(
                413, "payload_too_large", f"the body is larger than {MAX_BODY_BYTES // 1024} KiB"
            ) from None
        raise invalid_field("body", _BODY_SAYS.get(refused.problem, "not JSON in UTF-8")) from None


def _started_response(event: Mapping[str, Any], started: StartedRunView) -> dict[str, Any]:
    location = run_location(event, started.run_id)
    body = {**started.as_dict(), "status_url": location}
    return json_response(201 if started.created else 200, body, {"Location": location})


def run_location(event: Mapping[str, Any], run_id: str) -> str:
    """The run's status URL as an absolute path: the request's own ``rawPath`` (a named stage's
    segment included, as AWS sends it; none on the stack's ``$default`` stage) plus the run id."""
    path = str(event.get("rawPath") or "").rstrip("/")
    return f"{path}/{quote(run_id, safe='')}"


# --- reading runs ------------------------------------------------------------------------------


def _run(backend: AutomationsBackend, account: str, automation: str, run_id: str) -> dict[str, Any]:
    run = backend.describe(account, run_id)
    if run is None or str(run.get("automation", "")).casefold() != automation.casefold():
        raise ApiError(
            404, "run_not_found", f"automation {automation[:80]!r} of {account!r} has no such run"
        )
    return json_response(200, run)


def _runs(
    backend: AutomationsBackend, account: str, automation: str, event: Mapping[str, Any]
) -> dict[str, Any]:
    limit = list_limit(event.get("queryStringParameters") or {})
    if not backend.account_exists(account):
        raise ApiError(404, RejectionReason.ACCOUNT_NOT_FOUND.value, f"no account {account!r}")
    runs = backend.recent(account, automation, limit)
    return json_response(200, {"account": account, "automation": automation, "runs": runs})


def list_limit(query: Mapping[str, Any]) -> int:
    value = query.get("limit")
    if value is None:
        return DEFAULT_LIST_LIMIT
    if (
        not isinstance(value, str)
        or not _LIMIT.fullmatch(value)
        or not 1 <= int(value) <= MAX_LIST_LIMIT
    ):
        raise ApiError(400, "invalid_request", f"limit must be a number from 1 to {MAX_LIST_LIMIT}")
    return int(value)


# --- broadcasts --------------------------------------------------------------------------------


def _broadcast_route(
    event: Mapping[str, Any], backend: AutomationsBackend, account: str, automation: str
) -> dict[str, Any]:
    method, resource = http_method(event), route_template(event)
    if method == "POST" and resource == BROADCASTS_RESOURCE:
        _require_json(_lower_case_headers(event))
        document = _json_object(event)
        unknown = sorted(set(document) - _BROADCAST_FIELDS)
        if unknown:
            raise invalid_field(
                unknown[0][:40], "not a field of a broadcast (key, idempotency_key)"
            )
        key = document.get("key")
        if not isinstance(key, str):
            raise invalid_field("key", "the file's object key in the broadcasts bucket")
        idempotency_key = document.get("idempotency_key")
        if idempotency_key is not None and not isinstance(idempotency_key, str):
            raise invalid_field("idempotency_key", "text")
        record, created = backend.start_broadcast(
            account, automation, key, idempotency_key=idempotency_key, requested_by=caller(event)
        )
        return json_response(201 if created else 200, record)
    if method == "POST" and resource in BROADCAST_CHANGES:
        broadcast_id = _path(event, "broadcast_id")
        changed = backend.change_broadcast(
            account, automation, broadcast_id, BROADCAST_CHANGES[resource]
        )
        if changed is None:
            raise broadcast_not_found(automation)
        return json_response(200, changed)
    if method != "GET" or resource not in (BROADCAST_RESOURCE, BROADCAST_REPORT_RESOURCE):
        raise ApiError(405, "method_not_allowed", f"{method} {resource} is not a route of this API")
    broadcast_id = _path(event, "broadcast_id")
    if resource == BROADCAST_REPORT_RESOURCE:
        found = backend.broadcast_report(account, broadcast_id, MAX_API_REPORT_ROWS)
    else:
        found = backend.describe_broadcast(account, broadcast_id)
    if found is None or not same_automation(found, automation):
        raise broadcast_not_found(automation)
    return json_response(200, found)


def same_automation(broadcast: Mapping[str, Any], automation: str) -> bool:
    """Whether the broadcast is of ``automation`` (the path's name: case ignored, as everywhere)."""
    return str(broadcast.get("automation", "")).casefold() == automation.casefold()


def broadcast_not_found(automation: str) -> ApiError:
    return ApiError(
        404, "broadcast_not_found", f"automation {automation[:80]!r} has no such broadcast"
    )


def broadcast_state_conflict(message: str) -> ApiError:
    """409: the broadcast's status does not allow the change (nothing changed)."""
    return ApiError(409, "broadcast_state_conflict", message)


def report_too_large(rows: int) -> ApiError:
    return ApiError(
        413,
        "report_too_large",
        f"the broadcast has {rows} rows; the API reports at most {MAX_API_REPORT_ROWS}: "
        "use `sms-automation broadcast report`",
    )


# --- plumbing ----------------------------------------------------------------------------------


def json_response(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": JSON_MEDIA_TYPE, **(headers or {})},
        "body": json.dumps(body, default=str),
    }


def _path(event: Mapping[str, Any], name: str) -> str:
    value = (event.get("pathParameters") or {}).get(name)
    if not isinstance(value, str) or not value:
        raise ApiError(404, "not_found", f"the path has no {name}")
    # An HTTP API decodes path parameters except "%25" ("Daily%20summary" arrives as "Daily
    # summary", "50%25" as "50%25"): unquoting finishes the job, a no-op without a "%".
    return unquote(value)


def _lower_case_headers(event: Mapping[str, Any]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
