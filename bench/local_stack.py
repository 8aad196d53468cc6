"""The local-stack rows of issue 7, on demand: ``python -m bench.local_stack [--n 200]``.

Brings the stack up exactly as ``make run`` does (``sms_automation_local.stack.LocalStack``:
ministack, the real template, the Twilio sandbox, the demo account and triggers) on free ports
with its own state folder, then measures over real HTTP:

- signed webhook → auto-reply visible in the sandbox (one new contact per message, polled every
  10 ms: figures carry up to 10 ms of polling granularity);
- reply → waiting conversation resumed and its continuation visible in the sandbox ("BOOK",
  wait for the prompt, reply "YES", time until the confirmation);
- ``--burst 1000``: a burst of signed webhooks from 16 threads, 10 % of them redeliveries of
  others (same MessageSid, same signature, same idempotency token), each distinct message from a
  new contact: webhooks answered per second, replies sent per second, and, once the sandbox has
  been quiet for a while, every distinct message stored once (0 lost) and exactly one auto-reply
  per contact (0 duplicate replies). A sender retries a 429, a 5xx or no answer in 15 s, as
  Twilio does (up to ``BURST_ATTEMPTS`` times, counted). The stage's throttle
  (``ApiThrottlingRateLimit`` 200/s, burst 500 by default) is raised for the burst unless
  ``--template-throttle``: the figure is the stack's capacity, not the configured cap.

Prints the figures as JSON; nothing here runs in ``make test``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3

from sms_automation import keys
from sms_automation_local import sam
from sms_automation_local.demo import DEMO_AUTH_TOKEN
from sms_automation_local.inbound_sms import deliver, inbound_sms_form
from sms_automation_local.layout import Layout
from sms_automation_local.processes import unused_port
from sms_automation_local.stack import LocalStack
from sms_automation_local.state import LocalState
from sms_automation_local.twilio_sandbox_client import PAGE_SIZE, list_resources

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


BURST_THREADS = 16
BURST_ATTEMPTS = 5
RAISED_THROTTLE = {"ApiThrottlingRateLimit": "10000", "ApiThrottlingBurstLimit": "5000"}
BURST_REDELIVERED = 0.10
QUIET_SECONDS = 10.0  # no new reply for this long: the burst is over


def burst(stack: LocalState, total: int) -> dict[str, Any]:
    """``total`` signed webhooks from ``BURST_THREADS`` threads, 10 % of them redeliveries."""
    redelivered = round(total * BURST_REDELIVERED)
    distinct = [
        (contact, f"SM{index:08d}{'b' * 24}", f"{index:032x}")
        for index in range(total - redelivered)
        for contact in [f"+1500777{index:04d}"]
    ]
    seeded = random.Random(7)  # a reproducible mix
    deliveries = distinct + seeded.sample(distinct, redelivered)
    seeded.shuffle(deliveries)
    url = stack.messaging_request_url(stack.demo_account)

    def post(delivery: tuple[str, str, str]) -> tuple[str, float, int]:
        """The final answer, the time until it, and how many attempts it took."""
        started = time.perf_counter()
        for attempt in range(1, BURST_ATTEMPTS + 1):
            status = attempt_once(delivery)
            if status == "200" or (status.startswith("4") and status != "429"):
                break
            time.sleep(0.2 * attempt)
        return status, time.perf_counter() - started, attempt

    def attempt_once(delivery: tuple[str, str, str]) -> str:
        contact, sid, token = delivery
        form = inbound_sms_form(
            account_sid=stack.demo_account_sid,
            from_number=contact,
            to_number=stack.demo_number,
            body=f"burst {sid}",
            message_sid=sid,
        )
        try:
            answer = deliver(url, form, DEMO_AUTH_TOKEN, idempotency_token=token or None)
        except OSError as error:  # no answer within Twilio's 15 s
            return type(error).__name__
        return str(answer.status)

    # Cold functions are not the figure: one wave of BURST_THREADS distinct webhooks first, so
    # the emulator has as many warm workers as there are senders (each a contact of its own).
    with ThreadPoolExecutor(BURST_THREADS) as pool:
        wave = [(f"+1500778{i:04d}", f"SM{i:08d}{'c' * 24}", "") for i in range(BURST_THREADS)]
        list(pool.map(post, wave))

    started = time.perf_counter()
    with ThreadPoolExecutor(BURST_THREADS) as pool:
        answers = list(pool.map(post, deliveries))
    answered = time.perf_counter() - started

    contacts = {contact for contact, _, _ in distinct}
    replies: Counter[str] = Counter()
    last_change, last_count = time.perf_counter(), -1
    while time.perf_counter() - last_change < QUIET_SECONDS:
        time.sleep(0.5)
        sent = list_resources(stack.sandbox_url, "Messages", From=stack.demo_number)
        if len(sent) >= PAGE_SIZE:
            raise RuntimeError(f"the sandbox has {PAGE_SIZE}+ messages: burst at most 900")
        replies = Counter(str(m["to"]) for m in sent if str(m["to"]) in contacts)
        count = sum(replies.values())
        if count != last_count:
            last_change, last_count = time.perf_counter(), count
    replied = last_change - started

    stored = _stored_message_sids(stack)
    statuses = Counter(status for status, _, _ in answers)
    attempts = Counter(attempt for _, _, attempt in answers)
    return {
        "webhooks": total,
        "distinct_messages": len(distinct),
        "redeliveries": redelivered,
        "threads": BURST_THREADS,
        "final_answers_by_status": dict(sorted(statuses.items())),
        "webhooks_by_attempts": {str(k): v for k, v in sorted(attempts.items())},
        "answered_seconds": round(answered, 2),
        "answered_per_second": round(total / answered, 1),
        "answered_200_per_second": round(statuses["200"] / answered, 1),
        "webhook_latency_with_retries": summary([latency for _, latency, _ in answers]),
        "last_reply_seconds": round(replied, 2),
        "replied_per_second": round(len(distinct) / replied, 1),
        "lost": sum(1 for _, sid, _ in distinct if stored[sid] == 0),
        "stored_twice": sum(1 for count in stored.values() if count > 1),
        "contacts_without_reply": sum(1 for contact in contacts if replies[contact] == 0),
        "duplicate_replies": sum(count - 1 for count in replies.values() if count > 1),
    }


def _raise_stage_throttle() -> None:
    """``sam deploy`` with ``RAISED_THROTTLE`` added to the local stack's parameter overrides."""
    deploy = sam.deploy

    def raised(layout: Layout, *, parameters: Mapping[str, str], **kwargs: Any) -> None:
        return deploy(layout, parameters={**parameters, **RAISED_THROTTLE}, **kwargs)

    sam.deploy = raised  # type: ignore[assignment]


def _stored_message_sids(stack: LocalState) -> Counter[str]:
    """Inbound messages in the deployed table (the stack's ``TableName`` output), by Sid."""
    session = boto3.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=stack.region
    )
    cfn = session.client("cloudformation", endpoint_url=stack.endpoint_url)
    outputs = cfn.describe_stacks(StackName=stack.stack_name)["Stacks"][0]["Outputs"]
    table = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "TableName")
    pages = (
        session.client("dynamodb", endpoint_url=stack.endpoint_url)
        .get_paginator("scan")
        .paginate(TableName=table)
    )
    return Counter(
        item["message_sid"]["S"]
        for page in pages
        for item in page["Items"]
        if item.get("kind", {}).get("S") == keys.KIND_INBOUND_MESSAGE
    )


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
    parser.add_argument(
        "--burst", type=int, default=0, help="only the burst: this many webhooks (1000)"
    )
    parser.add_argument(
        "--template-throttle", action="store_true", help="burst at the template's stage throttle"
    )
    args = parser.parse_args(argv)
    if args.burst and not args.template_throttle:
        _raise_stage_throttle()
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
            if args.burst:
                figures = {"burst": burst(state, args.burst)}
            else:
                figures = {
                    "webhook_to_auto_reply": summary(auto_reply_latencies(state, args.n)),
                    "reply_to_continuation": summary(
                        conversation_latencies(state, args.conversations)
                    ),
                }
        finally:
            stack.down()
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
