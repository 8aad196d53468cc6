"""The local-stack rows of issue 7, on demand: ``python -m bench.local_stack [--n 200]``.

Brings the stack up exactly as ``make run`` does (``local.stack.LocalStack``: ministack, the
real template, the Twilio sandbox, the demo account and triggers) on free ports with its own
state folder, then measures over real HTTP:

- signed webhook → auto-reply visible in the sandbox (one new contact per message, polled every
  10 ms: figures carry up to 10 ms of polling granularity);
- reply → waiting conversation resumed and its continuation visible in the sandbox ("BOOK",
  wait for the prompt, reply "YES", time until the confirmation).

Prints the figures as JSON; nothing here runs in ``make test``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local.layout import Layout
from local.processes import unused_port
from local.stack import LocalStack
from sms_automation.local.demo import DEMO_AUTH_TOKEN
from sms_automation.local.inbound_sms import deliver, inbound_sms_form
from sms_automation.local.sandbox_api import list_resources
from sms_automation.local.state import LocalState

POLL_SECONDS = 0.01
DEADLINE_SECONDS = 30.0


def _send(stack: LocalState, contact: str, body: str) -> None:
    form = inbound_sms_form(
        account_sid=stack.demo_account_sid,
        from_number=contact,
        to_number=stack.demo_number,
        body=body,
    )
    delivery = deliver(stack.messaging_request_url(stack.demo_account), form, DEMO_AUTH_TOKEN)
    if delivery.status != 200:
        raise RuntimeError(f"webhook answered {delivery.status}")


def _replies(stack: LocalState, contact: str) -> list[str]:
    return [
        str(m["body"])
        for m in list_resources(stack.sandbox_url, "Messages", To=contact)
        if m["direction"] == "outbound-api"
    ]


def _until(condition: Callable[[], bool]) -> float:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > DEADLINE_SECONDS:
            raise TimeoutError("no answer within the deadline")
        time.sleep(POLL_SECONDS)
    return time.perf_counter() - started


def auto_reply_latencies(stack: LocalState, n: int) -> list[float]:
    latencies = []
    for index in range(n):
        contact = f"+1500555{index:04d}"
        started = time.perf_counter()
        _send(stack, contact, f"bench {index}")
        _until(lambda c=contact: bool(_replies(stack, c)))  # type: ignore[misc]
        latencies.append(time.perf_counter() - started)
    return latencies


def conversation_latencies(stack: LocalState, n: int) -> list[float]:
    latencies = []
    for index in range(n):
        contact = f"+1500666{index:04d}"
        _send(stack, contact, "BOOK")
        _until(lambda c=contact: len(_replies(stack, c)) >= 1)  # type: ignore[misc]
        started = time.perf_counter()
        _send(stack, contact, "YES")
        _until(lambda c=contact: any(b.startswith("Confirmed") for b in _replies(stack, c)))  # type: ignore[misc]
        latencies.append(time.perf_counter() - started)
    return latencies


def summary(latencies: list[float]) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="auto-reply round trips (200)")
    parser.add_argument("--conversations", type=int, default=10, help="conversations (10)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-local-") as home:
        stack = LocalStack(
            layout=Layout(home=Path(home)),
            port=unused_port(),
            sandbox_port=unused_port(),
            report=lambda message: print(message, file=sys.stderr),
        )
        state = stack.up()
        try:
            _send(state, "+15005559999", "warm up")  # cold functions are not the figure
            _until(lambda: bool(_replies(state, "+15005559999")))
            figures = {
                "webhook_to_auto_reply": summary(auto_reply_latencies(state, args.n)),
                "reply_to_continuation": summary(conversation_latencies(state, args.conversations)),
            }
        finally:
            stack.down()
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
