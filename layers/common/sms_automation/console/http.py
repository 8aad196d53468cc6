"""The console HTTP API (payload format 2.0): routes, the caller, and every answer as JSON.

API Gateway's JWT authorizer (the console user pool's issuer and app client) has refused a
missing or invalid token with 401 before this code runs; here the verified claims become a
``Principal`` (``access``) and every route checks role and account first: 403 otherwise.

Routes (all ``GET``, all under ``/console/api``):

- ``/me``: who is signed in, their role and accounts;
- ``/accounts``: the accounts they may see;
- ``/accounts/{account}/messages``: the inbox, newest first (``queries.message_query``);
- ``/accounts/{account}/contacts/{contact}/thread``: everything exchanged with a contact;
- ``/accounts/{account}/messages/{sid}``: one message, its parameters and action log;
- ``/accounts/{account}/summary``: a day's figures (``?date=YYYY-MM-DD``).

Pure: the reads and the clock come in; nothing here logs (the composition does, without
numbers or bodies).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import unquote

from sms_automation.console import queries
from sms_automation.console.access import AccessDenied, Principal, principal_from_claims
from sms_automation.console.reads import ConsoleReads, NotFound

PREFIX: Final = "/console/api"
MAX_PATH_PARAMETER: Final = 128
ROUTES: Final = (
    "GET /console/api/me",
    "GET /console/api/accounts",
    "GET /console/api/accounts/{account}/messages",
    "GET /console/api/accounts/{account}/contacts/{contact}/thread",
    "GET /console/api/accounts/{account}/messages/{sid}",
    "GET /console/api/accounts/{account}/summary",
)
SECURITY_HEADERS: Final = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True, slots=True)
class Answer:
    response: dict[str, Any]
    outcome: str
    """``ok``, ``denied``, ``bad_request``, ``not_found``: for the log line."""
    user: str = "unknown"


def handle(event: Mapping[str, Any], reads: ConsoleReads, now: Callable[[], datetime]) -> Answer:
    """Answer one event; never raises for a bad request or a refused caller."""
    try:
        principal = principal_from_claims(claims(event))
    except AccessDenied as denied:
        return Answer(json_response(403, _error("forbidden", str(denied))), "denied")
    try:
        body = _route(str(event.get("routeKey") or ""), event, reads, principal, now)
        return Answer(json_response(200, body), "ok", principal.email)
    except AccessDenied as denied:
        answer = json_response(403, _error("forbidden", str(denied)))
        return Answer(answer, "denied", principal.email)
    except queries.BadRequest as bad:
        return Answer(
            json_response(400, _error("bad_request", str(bad))), "bad_request", principal.email
        )
    except NotFound as missing:
        return Answer(
            json_response(404, _error("not_found", str(missing))), "not_found", principal.email
        )


def _route(
    route: str,
    event: Mapping[str, Any],
    reads: ConsoleReads,
    principal: Principal,
    now: Callable[[], datetime],
) -> dict[str, Any]:
    query = event.get("queryStringParameters") or {}
    if route == ROUTES[0]:
        return reads.me(principal)
    if route == ROUTES[1]:
        return reads.account_list(principal)
    account = path_parameter(event, "account")
    principal.require_account(account)  # first, whatever else is wrong with the request
    if route == ROUTES[2]:
        return reads.inbox(principal, account, queries.message_query(query))
    if route == ROUTES[3]:
        contact = queries.address(path_parameter(event, "contact"), "contact")
        return reads.thread(principal, account, contact or "")
    if route == ROUTES[4]:
        sid = queries.message_sid(path_parameter(event, "sid"))
        return reads.message(principal, account, sid)
    if route == ROUTES[5]:
        _only(query, {"date"})
        return reads.summary(principal, account, queries.day(query.get("date")), now())
    raise NotFound(f"{route[:80]} is not a route of the console API")


def claims(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The JWT claims API Gateway verified (``requestContext.authorizer.jwt.claims``)."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    found = (authorizer.get("jwt") or {}).get("claims")
    return found if isinstance(found, Mapping) else {}


def path_parameter(event: Mapping[str, Any], name: str) -> str:
    value = (event.get("pathParameters") or {}).get(name)
    if not isinstance(value, str) or not value or len(value) > MAX_PATH_PARAMETER:
        raise queries.BadRequest(
            f"the path's {name} is missing or longer than {MAX_PATH_PARAMETER}"
        )
    return unquote(value)  # an HTTP API leaves "%25" encoded


def json_response(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    """JSON with every string escaped by the encoder: a message body is data, never markup."""
    return {
        "statusCode": status,
        "headers": dict(SECURITY_HEADERS),
        # "<" escaped too (valid JSON, same string): no byte of a body can open a tag even in a
        # page that mistakes the answer for HTML.
        "body": json.dumps(body, default=str, ensure_ascii=True).replace("<", "\\u003c"),
    }


def _only(query: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(str(name)[:40] for name in query if name not in known)
    if unknown:
        raise queries.BadRequest(f"unknown parameter(s): {', '.join(unknown)}")


def _error(code: str, message: str) -> dict[str, str]:
    return {"error": code, "message": message}
