"""The console HTTP API (payload format 2.0): routes, the caller, and every answer as JSON.

API Gateway's JWT authorizer (the console user pool's issuer and app client) has refused a
missing or invalid token with 401 before this code runs; here the verified claims become a
``Principal`` (``access``) and every route checks, before anything else, the least role it
needs (``Route.role``) and the account in its path: 403 otherwise.

Routes (all under ``/console/api``, in ``ROUTES``):

- ``GET /me``: who is signed in, their role and accounts;
- ``GET /accounts``: the accounts they may see;
- ``GET /accounts/{account}/messages``: the inbox, newest first (``queries.message_query``);
- ``GET /accounts/{account}/contacts/{contact}/thread``: everything exchanged with a contact,
  and a ``cursor``; ``?since=`` that cursor: only what changed since (``thread_cursor``);
- ``GET /accounts/{account}/messages/{sid}``: one message, its parameters and action log;
- ``GET /accounts/{account}/summary``: a day's figures (``?date=YYYY-MM-DD``);
- ``GET /audit/{account}``: the account's audit record, newest first (``audit.listing``;
  ``/audit/*``: what belongs to no one account, for users with every account);
- ``GET /accounts/{account}/conversations``: the waiting conversations (``?state=all``: and
  the ended ones; ``conversations``);
- ``POST /accounts/{account}/conversations/cancel`` (operator): ``{"id": "MessageSid:step"}``;
- ``GET /dead-letters``: the processor's dead letters the user may see (``dead_letters``);
- ``POST /dead-letters/redrive`` (operator): ``{"entry": id}``, one entry replayed;
- ``/accounts/{account}/triggers...``: the Triggers page's, listed in ``trigger_routes`` (reads
  for every role; push and rollback for admins).
- the automations page (``console.automations``): ``GET /accounts/{account}/automations``,
  ``POST .../automations/{automation}/runs`` (operator: start one, once per submitted form),
  ``GET .../runs`` (``?automation=&cursor=&limit=``) and ``GET .../runs/{run_id}``;
- the accounts page (``console.account_settings``): ``GET /accounts/{account}``,
  ``GET .../numbers``, ``POST .../verify``, and the admin's ``PUT .../receive``,
  ``POST .../numbers/connect`` and ``PUT .../auth-token`` (write-only);
- a contact's thread (``console.writes``, operator): ``POST /threads/{account}/{contact}/reply``
  (``{"body", "key", "from"?}``: an SMS by hand, once per key), ``.../takeover``
  (``{"minutes"?}``: automatic sends pause) and ``.../handback`` (``{}``). A write refused in
  its state is a 409 (``opted_out``, ``key_reused``), a reply not sent a 503 (``not_sent``:
  Twilio did not take it, or its sender is at its send rate — ``retry_after`` seconds, also
  the ``Retry-After`` header; send it again with the same key, never sent twice), one still
  being sent by another request a 202 ``sending`` and one whose outcome Twilio left unknown a
  202 ``unknown`` (both with ``retry_after``: the same request again settles it once).

Pure: the reads, the audit record and the clock come in (``Console``); nothing here logs (the
composition does, without numbers or bodies).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote

from sms_automation.console import audit, queries, trigger_routes
from sms_automation.console.access import AccessDenied, Principal, Role, principal_from_claims
from sms_automation.console.json_body import json_object_body
from sms_automation.console.reads import Conflict, ConsoleReads, NotFound

if TYPE_CHECKING:  # a page's use cases load on its first request (the inbox never pays for them)
    from sms_automation.console.account_settings import ConsoleAccounts
    from sms_automation.console.automations import ConsoleAutomations
    from sms_automation.console.conversations import ConsoleConversations
    from sms_automation.console.dead_letters import ConsoleDeadLetters
    from sms_automation.console.trigger_files import ConsoleTriggers
    from sms_automation.console.writes import ConsoleWrites, Written

PREFIX: Final = "/console/api"
MAX_PATH_PARAMETER: Final = 128
MAX_BODY_BYTES: Final = 4096
SECURITY_HEADERS: Final = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


FAILURES: Final[Mapping[type[Exception], tuple[int, str]]] = {
    AccessDenied: (403, "forbidden"),
    queries.BadRequest: (400, "bad_request"),
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
}
"""What each refusal of the reads answers: its status and error code (the pages' own refusals:
``page_failures``)."""


@cache
def page_failures() -> Mapping[type[Exception], tuple[int, str]]:
    """What each refusal of a page's use cases answers, imported when a request fails with an
    exception the reads do not raise (the page that raised it is loaded by then)."""
    from sms_automation.console.trigger_files import InvalidFile, TooLarge
    from sms_automation.console.writes import Conflict as StateConflict
    from sms_automation.console.writes import Unavailable as NotSent
    from sms_automation.triggers.versions import ConcurrentTriggerChange, TriggerSourceTooLarge

    return {
        InvalidFile: (400, "invalid_trigger_file"),
        TooLarge: (413, "too_large"),
        TriggerSourceTooLarge: (413, "too_large"),
        ConcurrentTriggerChange: (409, "conflict"),
        StateConflict: (409, "conflict"),  # its own code (``opted_out``, ``key_reused``) is said
        NotSent: (503, "not_sent"),
    }


@dataclass(frozen=True, slots=True)
class Console:
    """What the routes work with."""

    reads: ConsoleReads
    audit: audit.AuditLog
    triggers: Callable[[], ConsoleTriggers] | None = None
    """The Triggers page, built on first use (None: a console without it answers 404)."""
    pages: Pages | None = None
    """The automations and accounts pages (None: a console without them answers 404)."""
    writes: Callable[[], ConsoleWrites] | None = None
    """A contact thread's writes, built on first use (the read routes never pay for them)."""
    conversations: Callable[[], ConsoleConversations] | None = None
    """The Conversations page, built on first use (None: a console without it answers 404)."""
    dead_letters: Callable[[], ConsoleDeadLetters] | None = None
    """The Dead letters page, built on first use (None: a console without it answers 404)."""


@dataclass(frozen=True, slots=True)
class Pages:
    """Built on first use by the composition (the inbox never pays for them)."""

    automations: Callable[[], ConsoleAutomations]
    accounts: Callable[[], ConsoleAccounts]


@dataclass(frozen=True, slots=True)
class Request:
    """One checked request: the caller, and the account of its path (its scope already
    checked; empty for a route without one)."""

    event: Mapping[str, Any]
    console: Console
    principal: Principal
    account: str
    now: Callable[[], datetime]

    @property
    def query(self) -> Mapping[str, Any]:
        return self.event.get("queryStringParameters") or {}

    def path(self, name: str) -> str:
        return path_parameter(self.event, name)


@dataclass(frozen=True, slots=True)
class Route:
    answer: Callable[[Request], dict[str, Any] | Written]
    role: Role = Role.VIEWER
    """The least role that may use it."""


@dataclass(frozen=True, slots=True)
class Answer:
    response: dict[str, Any]
    outcome: str
    """``ok``, ``denied``, ``bad_request``, ``not_found``, ``conflict``, ``too_large``,
    ``invalid_trigger_file``: for the log line."""
    user: str = "unknown"


def handle(event: Mapping[str, Any], console: Console, now: Callable[[], datetime]) -> Answer:
    """Answer one event; never raises for a bad request or a refused caller."""
    try:
        principal = principal_from_claims(claims(event))
    except AccessDenied as denied:
        return Answer(json_response(403, _error("forbidden", str(denied))), "denied")
    try:
        body = _route(str(event.get("routeKey") or ""), event, console, principal, now)
    except Exception as failure:
        refused = refusal(failure, principal.email)
        if refused is None:
            raise
        return refused
    status, payload = (200, body) if isinstance(body, dict) else (body.status, body.body)
    return Answer(json_response(status, payload), "ok", principal.email)


def refusal(failure: Exception, user: str) -> Answer | None:
    """The answer to a refused request (None: ``failure`` is no refusal: the composition
    answers 500). A page's refusals are imported here, once a request has failed."""
    from sms_automation.automations.http import ApiError
    from sms_automation.automations.service import RunStoreUnavailable
    from sms_automation.automations.start import StartRejected
    from sms_automation.console.account_settings import Refused
    from sms_automation.console.trigger_files import InvalidFile

    known = FAILURES.get(type(failure)) or page_failures().get(type(failure))
    if known is not None:
        status, code = known
        code = getattr(failure, "code", code)
        body = _error(code, str(failure))
        if isinstance(failure, InvalidFile):
            body["problems"] = failure.problems
        retry_after = getattr(failure, "retry_after", None)  # a reply not sent: the pace
        if isinstance(retry_after, int):
            body["retry_after"] = retry_after  # the page says it
        response = json_response(status, body)
        if isinstance(retry_after, int):
            response["headers"]["Retry-After"] = str(retry_after)
        return Answer(response, "denied" if status == 403 else code, user)
    if isinstance(failure, StartRejected):  # every problem of a start, by field
        return Answer(json_response(failure.status, failure.as_dict()), failure.reason.value, user)
    if isinstance(failure, (ApiError, Refused)):  # a body not JSON or too large; Twilio failing
        answer = json_response(failure.status, _error(failure.error, failure.message))
        return Answer(answer, failure.error, user)
    if isinstance(failure, RunStoreUnavailable):
        message = "the run store did not answer; nothing was started: submit again"
        answer = json_response(503, _error("storage_unavailable", message))
        return Answer(answer, "storage_unavailable", user)
    return None


def _route(
    key: str,
    event: Mapping[str, Any],
    console: Console,
    principal: Principal,
    now: Callable[[], datetime],
) -> dict[str, Any] | Written:
    route = ROUTES.get(key)
    if route is None:
        raise NotFound(f"{key[:80]} is not a route of the console API")
    principal.require_role(route.role)
    account = ""
    if "{account}" in key:
        account = path_parameter(event, "account")
        principal.require_account(account)  # first, whatever else is wrong with the request
    return route.answer(Request(event, console, principal, account, now))


def _inbox(request: Request) -> dict[str, Any]:
    query = queries.message_query(request.query)
    return request.console.reads.inbox(request.principal, request.account, query)


def _thread(request: Request) -> dict[str, Any]:
    from sms_automation.console import thread_cursor

    contact = queries.address(request.path("contact"), "contact")
    queries.only(request.query, {"since"})
    since = request.query.get("since")
    if since is not None and not isinstance(since, str):
        raise queries.BadRequest(thread_cursor.NOT_OURS)
    cursor = thread_cursor.decode(since) if since else None
    reads = request.console.reads
    return reads.thread(request.principal, request.account, contact or "", request.now(), cursor)


def _message(request: Request) -> dict[str, Any]:
    sid = queries.message_sid(request.path("sid"))
    return request.console.reads.message(request.principal, request.account, sid)


def _summary(request: Request) -> dict[str, Any]:
    queries.only(request.query, {"date"})
    day = queries.day(request.query.get("date"))
    return request.console.reads.summary(request.principal, request.account, day, request.now())


def _audit(request: Request) -> dict[str, Any]:
    page = queries.page_query(request.query)
    if request.account != audit.UNATTRIBUTED:  # (scoped users were refused "*" already)
        request.console.reads.require_account(request.principal, request.account)
    return audit.listing(request.console.audit, request.principal, request.account, page)


def _triggers(request: Request) -> dict[str, Any]:
    if request.console.triggers is None:
        raise NotFound("this console API has no trigger files")
    return trigger_routes.answer(
        str(request.event.get("routeKey")),
        request.event,
        triggers=request.console.triggers(),
        principal=request.principal,
        account=request.account,
        now=request.now,
    )


def _automations(request: Request) -> ConsoleAutomations:
    return _pages(request).automations()


def _accounts(request: Request) -> ConsoleAccounts:
    return _pages(request).accounts()


def _pages(request: Request) -> Pages:
    if request.console.pages is None:
        raise NotFound("this console has no automations or accounts pages")
    return request.console.pages


def _body(request: Request) -> dict[str, Any]:
    """A change's JSON object body (none: ``{}``)."""
    from sms_automation.automations.http import json_body

    return json_body(request.event) if request.event.get("body") else {}


def _start(request: Request) -> dict[str, Any]:
    name = request.path("automation")
    created, run = _automations(request).start(
        request.principal, request.account, name, _body(request)
    )
    return {**run, "created": created}


def _read(answer: Callable[[Request], dict[str, Any]]) -> Callable[[Request], dict[str, Any]]:
    """A page's read that takes no query parameter."""

    def checked(request: Request) -> dict[str, Any]:
        queries.only(request.query, set())
        return answer(request)

    return checked


def _thread_write(request: Request) -> Written:
    """Reply, take over or hand back (``writes.ConsoleWrites``), by the route's last segment."""
    from sms_automation.console.writes import parse_body

    contact = queries.address(request.path("contact"), "contact") or ""
    queries.only(request.query, set())
    if request.console.writes is None:
        raise NotFound("the thread's writes are not served here")
    writes = request.console.writes()
    use_case = {
        "reply": writes.reply,
        "takeover": writes.take_over,
        "handback": writes.hand_back,
    }[str(request.event.get("routeKey") or "").rpartition("/")[2]]
    return use_case(request.principal, request.account, contact, parse_body(request.event),
                    request.now())  # fmt: skip


THREAD: Final = "/console/api/threads/{account}/{contact}"


def _conversation_page(request: Request) -> ConsoleConversations:
    if request.console.conversations is None:
        raise NotFound("this console has no conversations page")
    return request.console.conversations()


def _conversations(request: Request) -> dict[str, Any]:
    from sms_automation.console.conversations import CONVERSATION_KEY

    state = request.query.get("state") or "waiting"
    if state not in {"waiting", "all"}:
        raise queries.BadRequest("state must be waiting (the default) or all")
    rest = {name: value for name, value in request.query.items() if name != "state"}
    page = queries.page_query(rest, CONVERSATION_KEY)
    request.console.reads.require_account(request.principal, request.account)
    return _conversation_page(request).waiting(
        request.principal, request.account, page, finished=state == "all"
    )


def _cancel(request: Request) -> dict[str, Any]:
    queries.only(request.query, set())
    body = object_body(request.event)
    return _conversation_page(request).cancel(request.principal, request.account, body)


def _dead_letter_page(request: Request) -> ConsoleDeadLetters:
    if request.console.dead_letters is None:
        raise NotFound("this console has no dead letters page")
    return request.console.dead_letters()


def _dead_letters(request: Request) -> dict[str, Any]:
    queries.only(request.query, set())
    return _dead_letter_page(request).listing(request.principal)


def _redrive(request: Request) -> dict[str, Any]:
    queries.only(request.query, set())
    return _dead_letter_page(request).redrive(request.principal, object_body(request.event))


OPERATION_ROUTES: Final[Mapping[str, Route]] = {
    "GET /console/api/accounts/{account}/conversations": Route(_conversations),
    "POST /console/api/accounts/{account}/conversations/cancel": Route(_cancel, Role.OPERATOR),
    "GET /console/api/dead-letters": Route(_dead_letters),
    "POST /console/api/dead-letters/redrive": Route(_redrive, Role.OPERATOR),
}
"""The Conversations and Dead letters pages' routes, each with the least role that may use it."""

ACCOUNT: Final = "/console/api/accounts/{account}"
PAGE_ROUTES: Final[Mapping[str, Route]] = {
    f"GET {ACCOUNT}/automations": Route(
        _read(lambda r: _automations(r).list(r.principal, r.account))
    ),
    f"POST {ACCOUNT}/automations/{{automation}}/runs": Route(_start, Role.OPERATOR),
    f"GET {ACCOUNT}/runs": Route(
        lambda r: _automations(r).run_page(r.principal, r.account, r.query)
    ),
    f"GET {ACCOUNT}/runs/{{run_id}}": Route(
        _read(lambda r: _automations(r).run(r.principal, r.account, r.path("run_id")))
    ),
    f"GET {ACCOUNT}": Route(_read(lambda r: _accounts(r).detail(r.principal, r.account))),
    f"GET {ACCOUNT}/numbers": Route(_read(lambda r: _accounts(r).numbers(r.principal, r.account))),
    f"POST {ACCOUNT}/verify": Route(lambda r: _accounts(r).verify(r.principal, r.account)),
    f"PUT {ACCOUNT}/receive": Route(
        lambda r: _accounts(r).set_receive(r.principal, r.account, _body(r)), Role.ADMIN
    ),
    f"POST {ACCOUNT}/numbers/connect": Route(
        lambda r: _accounts(r).connect(r.principal, r.account, _body(r)), Role.ADMIN
    ),
    f"PUT {ACCOUNT}/auth-token": Route(
        lambda r: _accounts(r).replace_token(r.principal, r.account, _body(r)), Role.ADMIN
    ),
}
"""The automations and accounts pages' routes, each with the least role that may use it."""

ROUTES: Final[Mapping[str, Route]] = {
    "GET /console/api/me": Route(lambda r: r.console.reads.me(r.principal)),
    "GET /console/api/accounts": Route(lambda r: r.console.reads.account_list(r.principal)),
    "GET /console/api/accounts/{account}/messages": Route(_inbox),
    "GET /console/api/accounts/{account}/contacts/{contact}/thread": Route(_thread),
    "GET /console/api/accounts/{account}/messages/{sid}": Route(_message),
    "GET /console/api/accounts/{account}/summary": Route(_summary),
    "GET /console/api/audit/{account}": Route(_audit),
    **{
        key: Route(_triggers, Role.ADMIN if key in trigger_routes.ADMIN_ROUTES else Role.VIEWER)
        for key in trigger_routes.ROUTES
    },
    **PAGE_ROUTES,
    f"POST {THREAD}/reply": Route(_thread_write, Role.OPERATOR),
    f"POST {THREAD}/takeover": Route(_thread_write, Role.OPERATOR),
    f"POST {THREAD}/handback": Route(_thread_write, Role.OPERATOR),
    **OPERATION_ROUTES,
}
"""Every route of the console API (template.yaml has one ``AWS::ApiGatewayV2::Route`` each)."""


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


def object_body(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """A cancel's or a redrive's body: a JSON object of at most ``MAX_BODY_BYTES`` (else
    ``BadRequest``; ``json_body.json_object_body``)."""
    return json_object_body(event, MAX_BODY_BYTES)


def json_response(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    """JSON with every string escaped by the encoder: a message body is data, never markup."""
    return {
        "statusCode": status,
        "headers": dict(SECURITY_HEADERS),
        # "<" escaped too (valid JSON, same string): no byte of a body can open a tag even in a
        # page that mistakes the answer for HTML.
        "body": json.dumps(body, default=str, ensure_ascii=True).replace("<", "\\u003c"),
    }


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": code, "message": message}
