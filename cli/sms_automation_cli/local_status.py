"""``sms-automation local status``: is the stack that ``make run`` started ready to use?"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from typing import Any

from sms_automation_local.readiness import Check, check_stack
from sms_automation_local.state import LocalState, StateNotFound, find_state_file, load_state

EXIT_READY = 0
EXIT_NOT_READY = 1


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = groups.add_parser("local", help="the local stack started by `make run`")
    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")
    status = commands.add_parser(
        "status",
        help="exit 0 only when the local stack is ready; print its URLs and demo account",
        description="Checks, in order: the emulator answers, the stack is deployed, the demo "
        "account exists, the webhook route reaches its function. Exit 0 only when all pass.",
    )
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=show_status)


def show_status(args: argparse.Namespace) -> int:
    try:
        state_file = find_state_file()
        state = load_state(state_file)
    except StateNotFound as error:
        if args.json:
            print(json.dumps({"ready": False, "checks": [], "error": str(error)}, indent=2))
        else:
            print(f"not ready: {error}", file=sys.stderr)
        return EXIT_NOT_READY
    checks = check_stack(state)
    expected = 5 if state.sandbox_url else 4
    ready = len(checks) == expected and all(check.ok for check in checks)
    report = _report(state, checks, ready, str(state_file))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_report(report, checks)
    return EXIT_READY if ready else EXIT_NOT_READY


def _report(state: LocalState, checks: list[Check], ready: bool, state_file: str) -> dict[str, Any]:
    return {
        "ready": ready,
        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
        "endpoint_url": state.endpoint_url,
        "region": state.region,
        "stack_name": state.stack_name,
        "webhook_base_url": state.webhook_base_url,
        "automations_api_url": state.automations_api_url or None,
        "sandbox_url": state.sandbox_url or None,
        "simulator_url": state.simulator_url or None,
        "console": {"url": state.console_url, "email": state.console_email}
        if state.console_url
        else None,
        "demo": {
            "account": state.demo_account,
            "account_sid": state.demo_account_sid,
            "number": state.demo_number,
            "messaging_request_url": state.messaging_request_url(state.demo_account),
        },
        "environment": state.environment(),
        "processes": {name: {"pid": p.pid, "port": p.port} for name, p in state.processes.items()},
        "state_file": state_file,
    }


def _print_report(report: dict[str, Any], checks: list[Check]) -> None:
    for check in checks:
        print(f"{'ok' if check.ok else 'FAILED':<7}{check.name:<14}{check.detail}")
    print()
    print(f"emulator (AWS endpoint)  {report['endpoint_url']}")
    if report["simulator_url"]:
        print(f"phone simulator          {report['simulator_url']}")
        print(f"Twilio sandbox           {report['sandbox_url']}")
    if report["console"]:
        print(f"web console              {report['console']['url']}")
        print(f"console demo login       {report['console']['email']} (docs/local.md)")
    print(f"demo account             {report['demo']['account']} ({report['demo']['account_sid']})")
    print(f"demo number              {report['demo']['number']}")
    print(f"Messaging Request URL    {report['demo']['messaging_request_url']}")
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in report["environment"].items())
    print(f"use the CLI against it   export {exports}")
    print("ready" if report["ready"] else "NOT READY")
