"""A route's role is checked in one place, the router (``console.http``: ``Route.role``), before
anything else: each role below a route's least role is refused (403) with nothing read, no page
built and no body parsed. The pages' use cases do not check it again."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from sms_automation.console.access import Role
from sms_automation.console.http import ROUTES, Console, Pages, handle
from tests.support.events import console_api_event

TRIGGERS = "/console/api/accounts/{account}/triggers"
THREAD = "/console/api/threads/{account}/{contact}"
ACCOUNT = "/console/api/accounts/{account}"
ABOVE_VIEWER = {
    f"PUT {TRIGGERS}": Role.ADMIN,  # push
    f"POST {TRIGGERS}/rollback": Role.ADMIN,
    f"PUT {ACCOUNT}/receive": Role.ADMIN,
    f"POST {ACCOUNT}/numbers/connect": Role.ADMIN,
    f"PUT {ACCOUNT}/auth-token": Role.ADMIN,
    f"POST {ACCOUNT}/automations/{{automation}}/runs": Role.OPERATOR,
    f"POST {THREAD}/reply": Role.OPERATOR,
    f"POST {THREAD}/takeover": Role.OPERATOR,
    f"POST {THREAD}/handback": Role.OPERATOR,
    f"POST {ACCOUNT}/conversations/cancel": Role.OPERATOR,
    "POST /console/api/dead-letters/redrive": Role.OPERATOR,
}
REFUSED = [
    (key, role) for key, route in sorted(ROUTES.items()) for role in Role if role < route.role
]


class Untouchable:
    """Any use of the console (a read, a page, a write) fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the console was used ({name}) before the role was checked")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a page was built before the role was checked")


def test_every_change_names_its_least_role_and_every_other_route_is_any_roles() -> None:
    assert {key: route.role for key, route in ROUTES.items() if route.role > Role.VIEWER} == (
        ABOVE_VIEWER
    )


@pytest.mark.parametrize(("key", "role"), REFUSED)
def test_a_role_below_the_routes_is_refused_before_anything_is_read(key: str, role: Role) -> None:
    method, route = key.split(" ", 1)
    path = dict.fromkeys(re.findall(r"\{(\w+)\}", route), "acme")
    event = console_api_event(
        route, path, groups=f"[{role.label} account:acme]", method=method, body="{not json"
    )
    untouchable: Any = Untouchable()
    console = Console(
        reads=untouchable,
        audit=untouchable,
        triggers=untouchable,
        pages=Pages(automations=untouchable, accounts=untouchable),
        writes=untouchable,
        conversations=untouchable,
        dead_letters=untouchable,
    )

    answer = handle(event, console, untouchable)

    assert answer.response["statusCode"] == 403, answer.response
    refusal = json.loads(answer.response["body"])
    assert refusal["error"] == "forbidden"
    assert ROUTES[key].role.label in refusal["message"]
    assert answer.outcome == "denied"
