"""``python -m sms_automation_local.twilio_sandbox CONFIG.json``: the sandbox process ``make run``
manages.

Serves Twilio's REST API and the phone simulator on 127.0.0.1 until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from sms_automation_local.twilio_sandbox.config import SandboxConfig
from sms_automation_local.twilio_sandbox.server import TwilioSandbox
from sms_automation_local.twilio_sandbox.simulator import SimulatedAccount, Simulator
from sms_automation_local.twilio_sandbox.stack_reader import StackReader


def build(config: SandboxConfig) -> TwilioSandbox:
    sandbox = TwilioSandbox(
        {account.account_sid: account.auth_token for account in config.accounts},
        port=config.port,
    )
    for account in config.accounts:
        for number in account.numbers:
            sandbox.add_number(account.account_sid, number.phone_number, number.sms_url)
    for failing, failure in config.delivery_failures.items():
        sandbox.fail_deliveries_to(failing, str(failure["status"]), int(failure["error_code"]))
    sandbox.attach(
        Simulator(
            sandbox,
            {a.account_sid: SimulatedAccount(a.name, a.account_sid) for a in config.accounts},
            reader=StackReader(config.table) if config.table else None,
            contacts=tuple(config.contacts),
            console=config.console,
        )
    )
    return sandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sms_automation_local.twilio_sandbox", description=__doc__
    )
    parser.add_argument("config", type=Path, help="the JSON file the runner wrote")
    args = parser.parse_args(argv)
    sandbox = build(SandboxConfig.read(args.config))
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    sandbox.start()
    print(f"twilio sandbox listening on {sandbox.base_url}", flush=True)
    while not stop.wait(1.0):
        pass
    sandbox.stop()
    print("twilio sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
