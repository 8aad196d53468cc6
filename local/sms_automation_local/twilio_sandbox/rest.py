"""The REST routes: Messages create/fetch/list, Calls create/list, Accounts fetch,
IncomingPhoneNumbers list/update; Basic auth with an Account SID and its token on each."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Callable
from typing import Any, Final, Literal
from urllib.parse import urlencode

from sms_automation_local.twilio_sandbox.resources import (
    account_resource,
    call_resource,
    message_resource,
    phone_number_resource,
    rfc2822,
    twilio_error_body,
)
from sms_automation_local.twilio_sandbox.state import Answer, RecordedRequest, SandboxState

Collection = Literal["messages", "calls"]
DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 1000
_ROUTE: Final = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})"
    r"(?:/(?P<collection>Messages|Calls|IncomingPhoneNumbers)"
    r"(?:/(?P<sid>[A-Z]{2}[0-9a-fA-F]{32}))?)?\.json$"
)
_NUMBER_SETTINGS: Final = {
    "SmsUrl": "sms_url",
    "SmsMethod": "sms_method",
    "SmsFallbackUrl": "sms_fallback_url",
    "StatusCallback": "status_callback",
    "StatusCallbackMethod": "status_callback_method",
    "VoiceUrl": "voice_url",
    "FriendlyName": "friendly_name",
}


def route(state: SandboxState, request: RecordedRequest, authorization: str) -> Answer:
    user = authenticated_user(state, authorization)
    if user is None:
        body = twilio_error_body(20003, 401)
        return Answer(401, body, {"WWW-Authenticate": 'Basic realm="Twilio API"'})
    match = _ROUTE.fullmatch(request.path)
    if match is None or match["account"] != user:
        return not_found(request.path)
    account, collection, sid = match.group("account", "collection", "sid")
    operations: dict[tuple[str | None, bool, str], Callable[[], Answer]] = {
        (None, False, "GET"): lambda: Answer(
            200, account_resource(account, state.accounts[account], "Sandbox account")
        ),
        ("Messages", False, "POST"): lambda: _create(state, request, account, "messages"),
        ("Calls", False, "POST"): lambda: _create(state, request, account, "calls"),
        ("Messages", True, "GET"): lambda: _fetch(state, request.path, account, sid),
        ("Messages", False, "GET"): lambda: _list(state, request, account, "messages"),
        ("Calls", False, "GET"): lambda: _list(state, request, account, "calls"),
        ("IncomingPhoneNumbers", False, "GET"): lambda: _list_numbers(state, request, account),
        ("IncomingPhoneNumbers", True, "POST"): lambda: _update_number(
            state, request, account, sid
        ),
    }
    operation = operations.get((collection, sid is not None, request.method))
    if operation is None:
        return Answer(405, twilio_error_body(20004, 405, "Method not allowed"))
    with state.lock:
        return operation()


def authenticated_user(state: SandboxState, authorization: str) -> str | None:
    scheme, _, encoded = authorization.partition(" ")
    if scheme != "Basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    token = state.accounts.get(user)
    if token is None or not secrets.compare_digest(password, token):
        return None
    return user


def not_found(path: str) -> Answer:
    return Answer(
        404, twilio_error_body(20404, 404, f"The requested resource {path} was not found")
    )


def _fetch(state: SandboxState, path: str, account: str, sid: str) -> Answer:
    message = state.messages.get(sid)
    if message is None or message["account_sid"] != account:
        return not_found(path)
    return Answer(200, dict(message))


def _page_params(request: RecordedRequest) -> tuple[int, int] | Answer:
    try:
        size = int(request.query.get("PageSize", [str(DEFAULT_PAGE_SIZE)])[0])
        page = int(request.query.get("Page", ["0"])[0])
    except ValueError:
        return Answer(400, twilio_error_body(20001, 400, "Invalid paging parameters"))
    if not 1 <= size <= MAX_PAGE_SIZE or page < 0:
        return Answer(400, twilio_error_body(20001, 400, "Invalid paging parameters"))
    return size, page


def _paged(
    request: RecordedRequest, key: str, resources: list[dict[str, Any]], filters: dict[str, str]
) -> Answer:
    """One page as Twilio lays it out; ``next_page_uri`` while more remain (the SDK follows it)."""
    params = _page_params(request)
    if isinstance(params, Answer):
        return params
    size, page = params
    start = page * size
    chunk = [dict(resource) for resource in resources[start : start + size]]

    def uri(number: int) -> str:
        query = {**filters, "PageSize": str(size), "Page": str(number)}
        if number > 0:
            query["PageToken"] = f"PA{number * size}"
        return f"{request.path}?{urlencode(query)}"

    more = start + size < len(resources)
    return Answer(
        200,
        {
            key: chunk,
            "end": start + max(len(chunk) - 1, 0),
            "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1) if more else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": uri(page - 1) if page > 0 else None,
            "start": start,
            "uri": uri(page),
        },
    )


def _list(state: SandboxState, request: RecordedRequest, account: str, kind: Collection) -> Answer:
    """Newest first, filtered by ``To`` and ``From`` (the filters the adapter uses)."""
    filters = {name: values[0] for name in ("To", "From") if (values := request.query.get(name))}
    wanted = {name.lower(): value for name, value in filters.items()}
    collection: dict[str, dict[str, Any]] = getattr(state, kind)
    resources = [
        resource
        for resource in reversed(collection.values())
        if resource["account_sid"] == account
        and resource["sid"] not in state.unlisted
        and all(resource[name] == value for name, value in wanted.items())
    ]
    return _paged(request, kind, resources, filters)


def _list_numbers(state: SandboxState, request: RecordedRequest, account: str) -> Answer:
    wanted = request.query.get("PhoneNumber")
    filters = {"PhoneNumber": wanted[0]} if wanted else {}
    resources = [
        number
        for number in state.numbers.values()
        if number["account_sid"] == account
        and filters.get("PhoneNumber", number["phone_number"]) == number["phone_number"]
    ]
    return _paged(request, "incoming_phone_numbers", resources, filters)


def _update_number(state: SandboxState, request: RecordedRequest, account: str, sid: str) -> Answer:
    number = state.numbers.get(sid)
    if number is None or number["account_sid"] != account:
        return not_found(request.path)
    for param, field_name in _NUMBER_SETTINGS.items():
        value = request.param(param)
        if value is not None:
            number[field_name] = value or None
    if number["sms_method"] not in ("GET", "POST", None):
        return Answer(400, twilio_error_body(21602, 400, "SmsMethod must be GET or POST"))
    number["date_updated"] = rfc2822(state.clock())
    return Answer(200, dict(number))


def add_number(
    state: SandboxState, account: str, phone_number: str, sms_url: str | None = None
) -> dict[str, Any]:
    """Give ``account`` a number (call under the lock); Twilio's console does this."""
    resource = phone_number_resource(
        account=account, phone_number=phone_number, now=state.clock(), sms_url=sms_url
    )
    state.numbers[resource["sid"]] = resource
    return resource


def _create(
    state: SandboxState, request: RecordedRequest, account: str, kind: Collection
) -> Answer:
    token = request.idempotency_token if state.honour_idempotency_token else None
    if token is not None:
        earlier = state.by_idempotency_token.get((account, kind, token))
        if earlier is not None:
            return Answer(201, earlier)
    built = (_new_message if kind == "messages" else _new_call)(state, request, account)
    if isinstance(built, Answer):
        return built
    collection: dict[str, dict[str, Any]] = getattr(state, kind)
    collection[built["sid"]] = built
    if kind == "calls":
        state.call_twiml[built["sid"]] = request.param("Twiml")
        events = " ".join(request.form.get("StatusCallbackEvent", [])).split()
        if events:
            state.call_events[built["sid"]] = events
    callback = request.param("StatusCallback")
    if callback:
        state.status_callbacks[built["sid"]] = callback
    if state.list_lag:
        state.unlisted.add(built["sid"])
    if token is not None:
        state.by_idempotency_token[(account, kind, token)] = built
    if state.on_created is not None:
        state.on_created(kind, built)
    return Answer(201, dict(built))


def _new_message(
    state: SandboxState, request: RecordedRequest, account: str
) -> dict[str, Any] | Answer:
    to, sender, service = (
        request.param("To"),
        request.param("From"),
        request.param("MessagingServiceSid"),
    )
    body, media = request.param("Body") or "", request.form.get("MediaUrl", [])
    refusal = _message_refusal(state, to, sender or service, body, media)
    if refusal is not None or to is None:
        return Answer(400, twilio_error_body(refusal or 21604, 400))
    return message_resource(
        account=account,
        to=to,
        sender=sender,
        service=service,
        body=body,
        media=media,
        now=state.clock(),
    )


def _message_refusal(
    state: SandboxState, to: str | None, sender: str | None, body: str, media: list[str]
) -> int | None:
    """The Twilio error code a create gets, as api.twilio.com checks it, or ``None``."""
    if not to:
        return 21604
    if not sender:
        return 21603
    if not body and not media:
        return 21602
    if len(body) > 1600:
        return 21617
    if len(media) > 10:
        return 21623
    return state.refused_recipients.get(to)


def _new_call(
    state: SandboxState, request: RecordedRequest, account: str
) -> dict[str, Any] | Answer:
    to, sender = request.param("To"), request.param("From")
    if not to:
        return Answer(400, twilio_error_body(21201, 400, "No 'To' number is specified"))
    if not sender:
        return Answer(400, twilio_error_body(21213, 400, "No 'From' number is specified"))
    if not (request.param("Twiml") or request.param("Url") or request.param("ApplicationSid")):
        return Answer(400, twilio_error_body(21205, 400, "Url, Twiml or ApplicationSid required"))
    refusal = state.refused_recipients.get(to)
    if refusal is not None:
        return Answer(400, twilio_error_body(refusal, 400))
    return call_resource(account=account, to=to, sender=sender, now=state.clock())
