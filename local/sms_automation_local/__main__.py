"""``python -m sms_automation_local run|stop|reset``: what ``make run``, ``make stop`` and
``make reset`` do."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import sys
import time
from types import FrameType

from sms_automation_local.demo import DEMO_AUTH_TOKEN, DEMO_CONSOLE_PASSWORD, DEMO_CONTACT
from sms_automation_local.emulator import DEFAULT_PORT, EmulatorFailed
from sms_automation_local.layout import Layout, MissingPrerequisite
from sms_automation_local.processes import PortInUse, pid_alive
from sms_automation_local.sam import SamFailed
from sms_automation_local.seed import SeedFailed
from sms_automation_local.stack import (
    DEFAULT_REGION,
    AlreadyRunning,
    InvalidPublicUrl,
    LocalStack,
    stop_leftovers,
)
from sms_automation_local.state import LocalState, StateNotFound, load_state
from sms_automation_local.twilio_sandbox.process import DEFAULT_SANDBOX_PORT, SandboxFailed

EXPECTED_FAILURES = (
    MissingPrerequisite,
    PortInUse,
    AlreadyRunning,
    EmulatorFailed,
    SamFailed,
    SeedFailed,
    SandboxFailed,
)


class Stop(Exception):
    """SIGINT or SIGTERM arrived: leave the foreground loop and clean up."""


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def run(args: argparse.Namespace) -> int:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_stop)
    try:
        stack = LocalStack(
            port=args.port,
            sandbox_port=args.sandbox_port,
            region=args.region,
            public_url=args.public_url,
        )
    except InvalidPublicUrl as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        state = stack.up()
        _print_banner(state, stack, time.monotonic() - started)
        while True:  # the foreground: watch the managed processes until told to stop
            time.sleep(1.0)
            dead = stack.dead_processes()
            if dead:
                print(f"error: {', '.join(dead)} stopped unexpectedly (see {stack.layout.logs})")
                return 1
    except Stop as stop:
        print(f"\n==> {stop}: stopping")
        return 0
    except EXPECTED_FAILURES as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut cleanup
        stack.down()
        print("==> stopped; every process started here is gone")


def _console_lines(state: LocalState) -> str:
    if not state.console_url:
        return ""
    return (
        f"  web console                {state.console_url}\n"
        f"  console demo login         {state.console_email} / {DEMO_CONSOLE_PASSWORD}\n"
    )


def _print_banner(state: LocalState, stack: LocalStack, seconds: float) -> None:
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in state.environment().items())
    timings = ", ".join(f"{name} {value:.1f} s" for name, value in stack.timings.items())
    url = state.messaging_request_url(state.demo_account)
    print(
        f"""
The stack is up ({seconds:.0f} s: {timings}).

  phone simulator            {state.simulator_url}
{_console_lines(state)}  Twilio sandbox (REST API)  {state.sandbox_url}
  AWS emulator (ministack)   {state.endpoint_url}
  webhook API (HTTP API)     {state.webhook_base_url}
  automations API (SigV4)    {state.automations_api_url}/automations/{{account}}/{{name}}/runs
  demo account               {state.demo_account} ({state.demo_account_sid})
  demo number                {state.demo_number} (triggers: local/demo/triggers.yaml)
  Messaging Request URL      {url}
  logs                       {stack.layout.logs}

Use the CLI against it (another terminal):
  export {env}
  sms-automation local status
  sms-automation simulate sms --from {DEMO_CONTACT} --body "Hello"
  sms-automation messages list

The demo auth token is {DEMO_AUTH_TOKEN} (local-only test credentials).
Ctrl-C stops everything.""",
        flush=True,
    )


def stop(_args: argparse.Namespace) -> int:
    layout = Layout()
    try:
        state = load_state(layout.state_file)
    except StateNotFound:
        print("no local stack is running")
        return 0
    if pid_alive(state.runner_pid):
        os.kill(state.runner_pid, signal.SIGTERM)  # the runner stops what it started
        deadline = time.monotonic() + 30
        while pid_alive(state.runner_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    stop_leftovers(layout, state)
    print("stopped")
    return 0


def reset(args: argparse.Namespace) -> int:
    stop(args)
    layout = Layout()
    shutil.rmtree(layout.home, ignore_errors=True)
    print(f"removed {layout.home} (state, logs, build); the next `make run` starts from scratch")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sms_automation_local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="build, start, deploy, seed; Ctrl-C stops")
    run_parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="emulator port")
    run_parser.add_argument(
        "--sandbox-port", type=int, default=DEFAULT_SANDBOX_PORT, help="Twilio sandbox port"
    )
    run_parser.add_argument("--region", default=DEFAULT_REGION)
    run_parser.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="a tunnel's public URL to the emulator's port (make run PUBLIC_URL=...): the "
        "webhook checks Twilio's signatures against it and sends go to the real Twilio",
    )
    run_parser.set_defaults(func=run)
    commands.add_parser("stop", help="stop a running `make run`").set_defaults(func=stop)
    commands.add_parser("reset", help="stop, then delete .local").set_defaults(func=reset)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
