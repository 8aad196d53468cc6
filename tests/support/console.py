"""The console API in one process, for integration tests: a request through its real handler
(:func:`console_call`, the event as API Gateway passes it once the JWT authorizer accepted the
token), and the conversation world made ready for it (:func:`console_world`): the acme account's
triggers, a second account ``globex`` to prove account scope with, a cold handler."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import boto3
import yaml

from functions.console_api import handler as api
from tests.support.aws import (
    FakeLambdaContext,
    account_registry,
    add_account,
    clear_cached_dependencies,
)
from tests.support.conversation_world import World
from tests.support.events import console_api_event


def console_call(
    route: str,
    path: Mapping[str, str] | None = None,
    *,
    groups: str | None = "[viewer]",
    query: Mapping[str, str] | None = None,
    body: Any = None,
    method: str | None = None,
    email: str = "ann@example.com",
) -> dict[str, Any]:
    """The console API handler's answer to one request on ``route`` (its ``{name}`` parts from
    ``path``) by a user in ``groups`` (None: no group claim): the response, its body parsed
    under ``"json"``. ``body``: a string is sent as it is, anything else as JSON; the method is
    GET without a body, POST with one, unless ``method`` says otherwise."""
    text = None if body is None else body if isinstance(body, str) else json.dumps(body)
    event = console_api_event(
        route,
        dict(path) if path else None,
        groups=groups,
        raw_query=urlencode(query or {}),
        email=email,
        method=method or ("GET" if body is None else "POST"),
        body=text,
    )
    response = api.lambda_handler(event, FakeLambdaContext())
    return {**response, "json": json.loads(response["body"])}


@contextmanager
def console_world(world: World, triggers: str | Mapping[str, Any]) -> Iterator[World]:
    """``world`` with ``triggers`` (YAML text, or the document to dump) live for acme, a second
    account ``globex`` (no triggers), and the console API's cached clients and settings
    forgotten on the way in and out (a cold start, no client from another test's moto)."""
    world.push(triggers if isinstance(triggers, str) else yaml.safe_dump(dict(triggers)))
    registry = account_registry(
        world.table, boto3.client("dynamodb"), boto3.client("secretsmanager")
    )
    add_account(registry, "globex")
    clear_cached_dependencies(api)
    try:
        yield world
    finally:
        clear_cached_dependencies(api)


def ask_and_echo(**waiting: Any) -> dict[str, Any]:
    """Two triggers: a text starting "book" opens a conversation (prompt "Reply YES to
    confirm", thanked on a reply), with ``waiting``'s settings (``timeout``, ``expect``,
    ``remind``); a text starting "hello" is answered "Hi there"."""
    return {
        "version": 1,
        "triggers": [
            {
                "name": "ask",
                "when": {"field": "Body", "starts_with": "book"},
                "actions": [
                    {
                        "type": "wait_for_reply",
                        "prompt": "Reply YES to confirm",
                        **waiting,
                        "on_reply": [{"type": "send_sms", "body": "Thanks"}],
                    }
                ],
            },
            {
                "name": "echo",
                "when": {"field": "Body", "starts_with": "hello"},
                "actions": [{"type": "send_sms", "body": "Hi there"}],
            },
        ],
    }
