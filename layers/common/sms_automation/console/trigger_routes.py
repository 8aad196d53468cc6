"""The Triggers page's routes (``console.http`` dispatches here; the use cases are
``trigger_files``). Reads for every role, ``PUT`` (push) and ``rollback`` for admins; the
account is checked against the caller's scope before anything else.

- ``GET  .../triggers``: the live file (``version`` 0 and no text when nothing was pushed);
- ``GET  .../triggers/versions``: every version, newest first, who pushed it when known;
- ``GET  .../triggers/versions/{version}``: one version's text;
- ``POST .../triggers/validate`` ``{text}``: problems at line:column, or the summary and flow;
- ``POST .../triggers/test`` ``{text?, message, replies?}``: a dry run (nothing sent or written);
- ``POST .../triggers/diff`` ``{text, expected_version}``: the edited text against the live one;
- ``PUT  .../triggers`` ``{text, expected_version}``: push (409 when the live version moved);
- ``POST .../triggers/rollback`` ``{version, expected_version}``: an old text live again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from sms_automation.console.access import Principal
    from sms_automation.console.trigger_files import ConsoleTriggers

_BASE: Final = "/console/api/accounts/{account}/triggers"
CURRENT: Final = f"GET {_BASE}"
HISTORY: Final = f"GET {_BASE}/versions"
VERSION: Final = f"GET {_BASE}/versions/{{version}}"
VALIDATE: Final = f"POST {_BASE}/validate"
TEST: Final = f"POST {_BASE}/test"
DIFF: Final = f"POST {_BASE}/diff"
PUSH: Final = f"PUT {_BASE}"
ROLLBACK: Final = f"POST {_BASE}/rollback"
ROUTES: Final = (CURRENT, HISTORY, VERSION, VALIDATE, TEST, DIFF, PUSH, ROLLBACK)
ADMIN_ROUTES: Final = frozenset({PUSH, ROLLBACK})
"""The routes only an admin may use (``console.http`` checks the role before anything)."""


def answer(
    route: str,
    event: Mapping[str, Any],
    *,
    triggers: ConsoleTriggers,
    principal: Principal,
    account: str,
    now: Callable[[], datetime],
) -> dict[str, Any]:
    """The route's answer; the account is already within the caller's scope (the requests'
    parsing, ``trigger_requests``, loads with the page: ``console.http`` imports this module for
    its route keys)."""
    from sms_automation.console import trigger_requests as requests

    if route == CURRENT:
        return triggers.current(principal, account)
    if route == HISTORY:
        return triggers.history(principal, account)
    if route == VERSION:
        found = (event.get("pathParameters") or {}).get("version")
        version = requests.version_in_path(found if isinstance(found, str) else "")
        return triggers.version_text(principal, account, version)
    return _with_body(route, requests.json_body(event), triggers, principal, account, now())


def _with_body(  # noqa: PLR0917 (the route's parts, passed on)
    route: str,
    body: Mapping[str, Any],
    triggers: ConsoleTriggers,
    principal: Principal,
    account: str,
    now: datetime,
) -> dict[str, Any]:
    from sms_automation.console import queries
    from sms_automation.console import trigger_requests as requests

    if route == VALIDATE:
        queries.only(body, {"text"}, "field")
        return triggers.validate(principal, account, requests.text_of(body))
    if route == TEST:
        return triggers.dry_run(principal, account, requests.dry_run_request(body), now)
    if route == ROLLBACK:
        queries.only(body, {"version", "expected_version"}, "field")
        version = requests.version_of(body, "version")
        expected = requests.version_of(body, "expected_version")
        return triggers.rollback(principal, account, version, expected, now)
    queries.only(body, {"text", "expected_version"}, "field")
    text = requests.text_of(body)
    expected = requests.version_of(body, "expected_version")
    if route == DIFF:
        return triggers.diff(principal, account, text, expected)
    return triggers.push(principal, account, text, expected, now)
