"""The automations API's broadcast routes on proxy events, with a recording backend: start from
an object key (201, then 200 for the same key), status, report, every refusal."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sms_automation.automations import http
from sms_automation.automations.start import RejectionReason, StartRejected
from tests.support.events import http_api_event

BROADCAST_ID = "BC" + "b" * 32
ROLE = "arn:aws:iam::123456789012:role/marketing"


@dataclass
class Backend:
    created: bool = True
    error: Exception | None = None
    started: list[tuple[str, str, str, str | None, str]] = field(default_factory=list)
    report_limits: list[int] = field(default_factory=list)
    changes: list[tuple[str, str, str, str]] = field(default_factory=list)

    def start_broadcast(
        self,
        account: str,
        automation: str,
        key: str,
        *,
        idempotency_key: str | None,
        requested_by: str,
    ) -> tuple[dict[str, Any], bool]:
        self.started.append((account, automation, key, idempotency_key, requested_by))
        if self.error is not None:
            raise self.error
        return {
            "broadcast_id": BROADCAST_ID,
            "automation": automation,
            "status": "validating",
        }, self.created

    def describe_broadcast(self, account: str, broadcast_id: str) -> dict[str, Any] | None:
        if account != "acme" or broadcast_id != BROADCAST_ID:
            return None
        return {"broadcast_id": BROADCAST_ID, "automation": "notify", "status": "running"}

    def broadcast_report(
        self, account: str, broadcast_id: str, max_rows: int
    ) -> dict[str, Any] | None:
        self.report_limits.append(max_rows)
        if self.error is not None:
            raise self.error
        found = self.describe_broadcast(account, broadcast_id)
        return None if found is None else {**found, "sent": 3}

    def change_broadcast(
        self, account: str, automation: str, broadcast_id: str, change: str
    ) -> dict[str, Any] | None:
        self.changes.append((account, automation, broadcast_id, change))
        if self.error is not None:
            raise self.error
        found = self.describe_broadcast(account, broadcast_id)
        return None if found is None else {**found, "status": change}


def event(
    method: str, suffix: str = "", body: Any = None, content_type: str = "application/json"
) -> dict[str, Any]:
    template = "/automations/{account}/{name}/broadcasts" + suffix.replace(
        BROADCAST_ID, "{broadcast_id}"
    )
    parameters = {"account": "acme", "name": "notify"}
    if BROADCAST_ID in suffix:
        parameters["broadcast_id"] = BROADCAST_ID
    return http_api_event(
        method,
        f"{method} {template}",
        f"/automations/acme/notify/broadcasts{suffix}",
        path_parameters=parameters,
        headers={"Content-Type": content_type},
        body=None if body is None else json.dumps(body),
        authorizer={"iam": {"userArn": ROLE}},
    )


def answer(backend: Backend, *args: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    response = http.handle(event(*args, **kwargs), backend).response  # type: ignore[arg-type]
    return response["statusCode"], json.loads(response["body"])


def test_a_broadcast_starts_from_an_object_key_once_per_idempotency_key() -> None:
    backend = Backend()
    body = {"key": "uploads/acme/monday.csv", "idempotency_key": "monday"}
    assert answer(backend, "POST", body=body)[0] == 201
    backend.created = False
    status, started = answer(backend, "POST", body=body)
    assert (status, started["broadcast_id"]) == (200, BROADCAST_ID)
    assert backend.started[0] == ("acme", "notify", "uploads/acme/monday.csv", "monday", ROLE)


def test_a_bad_start_is_refused_before_the_backend() -> None:
    backend = Backend()
    assert answer(backend, "POST", body={"key": 5})[1]["problems"][0]["field"] == "key"
    assert answer(backend, "POST", body={"key": "k", "colour": "red"})[0] == 400
    assert answer(backend, "POST", body={"key": "k"}, content_type="text/csv")[0] == 415
    assert backend.started == []


def test_the_start_path_refusals_keep_their_status() -> None:
    backend = Backend(error=StartRejected(RejectionReason.AUTOMATION_NOT_FOUND, "no automation"))
    assert answer(backend, "POST", body={"key": "uploads/acme/a.csv"})[0] == 404
    backend.error = http.Unavailable("throttled")
    assert answer(backend, "POST", body={"key": "uploads/acme/a.csv"})[0] == 503


def test_status_and_report_of_a_broadcast_and_of_none() -> None:
    backend = Backend()
    assert answer(backend, "GET", f"/{BROADCAST_ID}") == (
        200,
        {"broadcast_id": BROADCAST_ID, "automation": "notify", "status": "running"},
    )
    assert answer(backend, "GET", f"/{BROADCAST_ID}/report")[1]["sent"] == 3
    assert backend.report_limits == [http.MAX_API_REPORT_ROWS]
    backend.error = http.report_too_large(9_000)
    status, body = answer(backend, "GET", f"/{BROADCAST_ID}/report")
    assert (status, body["error"]) == (413, "report_too_large")
    assert answer(Backend(), "DELETE", f"/{BROADCAST_ID}")[0] == 405


def test_another_accounts_or_automations_broadcast_is_not_found() -> None:
    other = event("GET", f"/{BROADCAST_ID}")
    other["pathParameters"]["name"] = "reminder"
    response = http.handle(other, Backend()).response  # type: ignore[arg-type]
    assert response["statusCode"] == 404
    other["pathParameters"] |= {"name": "notify", "account": "globex"}
    assert http.handle(other, Backend()).response["statusCode"] == 404  # type: ignore[arg-type]


def test_pause_resume_and_cancel_each_reach_the_backend_by_their_route() -> None:
    backend = Backend()
    for change in ("pause", "resume", "cancel"):
        status, body = answer(backend, "POST", f"/{BROADCAST_ID}/{change}", content_type="")
        assert (status, body["status"]) == (200, change)
    assert backend.changes == [
        ("acme", "notify", BROADCAST_ID, "pause"),
        ("acme", "notify", BROADCAST_ID, "resume"),
        ("acme", "notify", BROADCAST_ID, "cancel"),
    ]
    assert answer(backend, "GET", f"/{BROADCAST_ID}/pause")[0] == 405
    assert len(backend.changes) == 3


def test_a_change_of_no_broadcast_is_404_and_a_refused_one_409() -> None:
    other = event("POST", f"/{BROADCAST_ID}/pause")
    other["pathParameters"]["account"] = "globex"
    response = http.handle(other, Backend()).response  # type: ignore[arg-type]
    assert (response["statusCode"], json.loads(response["body"])["error"]) == (
        404,
        "broadcast_not_found",
    )
    backend = Backend(error=http.broadcast_state_conflict("it is completed"))
    status, body = answer(backend, "POST", f"/{BROADCAST_ID}/resume")
    assert (status, body) == (
        409,
        {"error": "broadcast_state_conflict", "message": "it is completed"},
    )
    backend.error = http.Unavailable("throttled")
    assert answer(backend, "POST", f"/{BROADCAST_ID}/cancel")[0] == 503
