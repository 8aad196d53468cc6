"""The automations HTTP API on proxy events, with a recording backend: routes, every refusal,
the idempotency-key rule, the Location of a started run."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest

from sms_automation.automations import http
from sms_automation.automations.start import (
    RejectionReason,
    StartRejected,
    StartRequest,
    StartSource,
)
from tests.support.events import automations_api_event

ROLE = "arn:aws:iam::123456789012:role/booking"
RUN_ID = "RU" + "a" * 32


@dataclass(frozen=True)
class Started:
    run_id: str = RUN_ID
    created: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "created": self.created}


@dataclass
class Backend:
    started: Started = field(default_factory=Started)
    error: Exception | None = None
    requests: list[StartRequest] = field(default_factory=list)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: set[str] = field(default_factory=lambda: {"acme"})
    listed: list[tuple[str, str, int]] = field(default_factory=list)

    def start(self, request: StartRequest) -> Started:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        return self.started

    def describe(self, account: str, run_id: str) -> dict[str, Any] | None:
        if self.error is not None:
            raise self.error
        run = self.runs.get(run_id)
        return run if run is not None and run["account"] == account else None

    def recent(self, account: str, automation: str, limit: int) -> list[dict[str, Any]]:
        self.listed.append((account, automation, limit))
        return [{"run_id": RUN_ID}]

    def account_exists(self, account: str) -> bool:
        return account in self.accounts


def event(
    method: str = "POST",
    *,
    body: Any = None,
    raw: str | None = None,
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
    run_id: str | None = None,
    query: dict[str, str] | None = None,
    name: str = "reminder",
    base64_encoded: bool = False,
    stage: str = "$default",
) -> dict[str, Any]:
    all_headers = {"Content-Type": content_type} if content_type else {}
    all_headers.update(headers or {})
    text = raw if raw is not None else (json.dumps(body) if body is not None else None)
    if base64_encoded and text is not None:
        text = base64.b64encode(text.encode()).decode()
    return automations_api_event(
        method,
        "acme",
        name,
        run_id=run_id,
        headers=all_headers,
        body=text,
        base64_encoded=base64_encoded,
        raw_query=urlencode(query or {}),
        caller_arn=ROLE,
        stage=stage,
    )


def body_of(answer: http.Answer) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(answer.response["body"])
    return parsed


def test_start_answers_201_with_the_run_and_its_location() -> None:
    backend = Backend()
    answer = http.handle(event(body={"to": "+14155550101", "variables": {"a": "1"}}), backend)
    assert answer.response["statusCode"] == 201
    assert answer.response["headers"]["Location"] == f"/automations/acme/reminder/runs/{RUN_ID}"
    assert body_of(answer)["status_url"] == answer.response["headers"]["Location"]
    assert answer.started is backend.started
    (request,) = backend.requests
    assert request == StartRequest(
        account="acme",
        automation="reminder",
        to="+14155550101",
        variables={"a": "1"},
        source=StartSource.API,
        requested_by=ROLE,
    )


def test_start_retry_of_an_existing_run_answers_200() -> None:
    answer = http.handle(event(body={"to": "+1"}), Backend(started=Started(created=False)))
    assert answer.response["statusCode"] == 200
    assert body_of(answer)["run_id"] == RUN_ID


@pytest.mark.parametrize(
    ("path_parameter", "automation"),
    [
        ("Daily summary", "Daily summary"),
        ("50%25 off", "50% off"),
        ("Daily%20summary", "Daily summary"),
    ],
    ids=["decoded-by-the-http-api", "percent-25-left-encoded", "still-encoded"],
)
def test_start_names_the_automation_the_path_named(path_parameter: str, automation: str) -> None:
    backend = Backend()
    http.handle(event(body={"to": "+1"}, name=path_parameter), backend)
    assert backend.requests[0].automation == automation


def test_start_reads_a_base64_body() -> None:
    backend = Backend()
    answer = http.handle(event(body={"to": "+1"}, base64_encoded=True), backend)
    assert answer.response["statusCode"] == 201


@pytest.mark.parametrize(
    ("in_body", "in_header", "expected"),
    [("k1", None, "k1"), (None, "k2", "k2"), ("k3", "k3", "k3"), (None, None, None)],
)
def test_start_idempotency_key_from_body_or_header(
    in_body: str | None, in_header: str | None, expected: str | None
) -> None:
    backend = Backend()
    document: dict[str, Any] = {"to": "+1"}
    if in_body is not None:
        document["idempotency_key"] = in_body
    headers = {"Idempotency-Key": in_header} if in_header else {}
    http.handle(event(body=document, headers=headers), backend)
    assert backend.requests[0].idempotency_key == expected


def test_start_refuses_different_keys_in_header_and_body() -> None:
    backend = Backend()
    answer = http.handle(
        event(body={"to": "+1", "idempotency_key": "a"}, headers={"idempotency-key": "b"}),
        backend,
    )
    assert answer.response["statusCode"] == 400
    assert body_of(answer)["problems"][0]["field"] == "idempotency_key"
    assert answer.rejected == "invalid_request"
    assert backend.requests == []


def test_start_names_every_unknown_body_field() -> None:
    backend = Backend()
    answer = http.handle(event(body={"to": "+1", "colour": 1, "vars": {}}), backend)
    assert answer.response["statusCode"] == 400
    assert [p["field"] for p in body_of(answer)["problems"]] == ["colour", "vars"]
    assert backend.requests == []


@pytest.mark.parametrize(
    ("content_type", "raw", "status", "error"),
    [
        ("text/plain", '{"to": "+1"}', 415, "unsupported_media_type"),
        (None, '{"to": "+1"}', 415, "unsupported_media_type"),
        ("application/json; charset=latin-1", '{"to": "+1"}', 415, "unsupported_media_type"),
        ("application/json", "not json", 400, "invalid_request"),
        ("application/json", '["a list"]', 400, "invalid_request"),
        ("application/json", "[" * 50_000, 400, "invalid_request"),  # too deep for json.loads
        ("application/json", "", 400, "invalid_request"),
        (
            "application/json",
            '{"to": "' + "1" * http.MAX_BODY_BYTES + '"}',
            413,
            "payload_too_large",
        ),
    ],
)
def test_start_refuses_what_is_not_a_json_object_within_the_limit(
    content_type: str | None, raw: str, status: int, error: str
) -> None:
    backend = Backend()
    answer = http.handle(event(raw=raw, content_type=content_type), backend)
    assert answer.response["statusCode"] == status
    assert body_of(answer)["error"] == error
    assert answer.rejected == error
    assert backend.requests == []


def test_start_accepts_json_with_a_utf8_charset() -> None:
    answer = http.handle(
        event(body={"to": "+1"}, content_type="application/json; charset=UTF-8"), Backend()
    )
    assert answer.response["statusCode"] == 201


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        (RejectionReason.ACCOUNT_NOT_FOUND, 404),
        (RejectionReason.AUTOMATION_NOT_FOUND, 404),
        (RejectionReason.AUTOMATION_DISABLED, 409),
        (RejectionReason.IDEMPOTENCY_CONFLICT, 409),
        (RejectionReason.INVALID_REQUEST, 400),
    ],
)
def test_start_rejection_maps_to_its_status(reason: RejectionReason, status: int) -> None:
    answer = http.handle(event(body={"to": "+1"}), Backend(error=StartRejected(reason, "no")))
    assert answer.response["statusCode"] == status
    assert body_of(answer)["error"] == reason.value
    assert answer.rejected == reason.value


def test_start_unavailable_backend_answers_503_with_retry_after() -> None:
    answer = http.handle(event(body={"to": "+1"}), Backend(error=http.Unavailable("down")))
    assert answer.response["statusCode"] == 503
    assert answer.response["headers"]["Retry-After"] == str(http.RETRY_AFTER_SECONDS)
    assert answer.rejected == "storage_unavailable"


def test_start_failed_storage_answers_500_not_to_be_retried() -> None:
    failed = http.StorageFailed("AccessDeniedException")
    answer = http.handle(event(body={"to": "+1"}), Backend(error=failed))
    assert answer.response["statusCode"] == 500
    assert "Retry-After" not in answer.response["headers"]
    assert body_of(answer)["error"] == "storage_failed"
    assert "AccessDeniedException" in body_of(answer)["message"]
    assert "do not retry" in body_of(answer)["message"]
    assert (answer.rejected, answer.storage_failure) == ("storage_failed", "AccessDeniedException")


def test_get_run_failed_storage_answers_500_and_rejects_no_start() -> None:
    failed = http.StorageFailed("ResourceNotFoundException")
    answer = http.handle(event("GET", run_id=RUN_ID), Backend(error=failed))
    assert answer.response["statusCode"] == 500
    assert (answer.rejected, answer.storage_failure) == (None, "ResourceNotFoundException")


def test_get_run_answers_the_run() -> None:
    run = {"run_id": RUN_ID, "account": "acme", "automation": "Reminder", "status": "queued"}
    answer = http.handle(event("GET", run_id=RUN_ID), Backend(runs={RUN_ID: run}))
    assert answer.response["statusCode"] == 200
    assert body_of(answer) == run
    assert answer.started is None
    assert answer.rejected is None


@pytest.mark.parametrize(
    "run",
    [
        None,
        {"run_id": RUN_ID, "account": "other", "automation": "reminder"},
        {"run_id": RUN_ID, "account": "acme", "automation": "another"},
    ],
    ids=["missing", "another account", "another automation"],
)
def test_get_run_of_someone_else_is_404(run: dict[str, Any] | None) -> None:
    backend = Backend(runs={RUN_ID: run} if run else {})
    answer = http.handle(event("GET", run_id=RUN_ID), backend)
    assert answer.response["statusCode"] == 404
    assert body_of(answer)["error"] == "run_not_found"


def test_list_runs_passes_the_limit() -> None:
    backend = Backend()
    answer = http.handle(event("GET", query={"limit": "5"}), backend)
    assert answer.response["statusCode"] == 200
    assert body_of(answer)["runs"] == [{"run_id": RUN_ID}]
    assert backend.listed == [("acme", "reminder", 5)]


def test_list_runs_default_limit() -> None:
    backend = Backend()
    http.handle(event("GET"), backend)
    assert backend.listed == [("acme", "reminder", http.DEFAULT_LIST_LIMIT)]


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-1", ""])
def test_list_runs_refuses_a_bad_limit(limit: str) -> None:
    answer = http.handle(event("GET", query={"limit": limit}), Backend())
    assert answer.response["statusCode"] == 400


def test_list_runs_of_an_unknown_account_is_404() -> None:
    answer = http.handle(event("GET"), Backend(accounts=set()))
    assert answer.response["statusCode"] == 404


def test_other_methods_are_405() -> None:
    answer = http.handle(event("DELETE"), Backend())
    assert answer.response["statusCode"] == 405
    assert answer.rejected is None


def test_location_keeps_a_named_stages_segment_as_aws_puts_it_in_raw_path() -> None:
    answer = http.handle(event(body={"to": "+14155550101"}, stage="prod"), Backend())
    location = answer.response["headers"]["Location"]
    assert location == f"/prod/automations/acme/reminder/runs/{RUN_ID}"


def test_caller_is_the_iam_principal_of_the_payload_2_authorizer() -> None:
    assert http.caller(event()) == ROLE


def test_caller_falls_back_to_the_caller_id() -> None:
    iam = {"callerId": "AIDA123", "userArn": None}
    assert http.caller({"requestContext": {"authorizer": {"iam": iam}}}) == "AIDA123"
    assert http.caller({}) == "unknown"
