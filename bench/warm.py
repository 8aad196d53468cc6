"""The warm webhook: per-request time of the real inbound handler on API Gateway events,
DynamoDB and Secrets Manager answered in process (``_Answers``; botocore's ``Stubber`` for the
others), against the standard-library
floor and the Powertools + ``RequestValidator`` reference, all three in this process, on the same
events, in interleaved blocks (so load changes reach all three alike).

A block's first requests run right after another handler has filled the CPU's caches with its
own code and data: the harness's doing, not the handler's (on Lambda one handler has the
process). They are counted apart, ``AFTER_SWITCH`` of every block for each handler alike, and
reported as their own figure; p50 and p99 are of the rest, the handler serving back to back.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from bench.common import (
    ACCOUNT,
    AUTH_TOKEN,
    ENVIRONMENT,
    TABLE,
    account_item,
    percentile,
    secret_value,
    signed_event,
    sms_body,
)
from bench.floor_handler import FloorHandler
from bench.reference_handler import ReferenceHandler

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
TARGET_P99_US = 1000.0
"""The budget (issue 14): a warm request's p99 handler time within Lambda's 1 ms billing unit.
The ratios to the floor and the reference are shown for comparison, without a target."""
BLOCK = 500  # requests of one handler before the next one's turn
AFTER_SWITCH = 5  # a block's first requests: counted apart (see the module's docstring)


class _Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "00000000-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _events(count: int) -> list[dict[str, Any]]:
    return [signed_event(sms_body(f"SM{index:032x}")) for index in range(count)]


class _Answers:
    """Answers a client's calls by operation, as often as they come (botocore's ``before-call``
    event, the hook its ``Stubber`` uses, without the Stubber's fixed order): the handler re-reads
    the account when its cache expires (``ACCOUNT_CACHE_SECONDS``) and the token after
    ``AUTH_TOKEN_CACHE_SECONDS``, at any point of a long run. Calls are counted per operation."""

    def __init__(self, client: Any, answers: dict[str, Callable[[], dict[str, Any]]]) -> None:
        self.calls: dict[str, int] = dict.fromkeys(answers, 0)
        self._answers = answers
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-call.{service}", self._answer)

    def _answer(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        name = model.name
        if name not in self._answers:
            raise AssertionError(f"the bench has no answer for {name}")
        self.calls[name] += 1
        return AWSResponse("https://bench.invalid", 200, {}, None), self._answers[name]()


def _stub_clients_of(inbound: Any) -> _Answers:
    """The handler creates its clients (its own configuration) through ``boto3.client``; each
    is answered by ``_Answers``: DynamoDB's GetItem (the account) and PutItem (the message),
    Secrets Manager's GetSecretValue. Returns DynamoDB's, whose PutItem count the run checks."""
    created: dict[str, Any] = {}
    real_client = boto3.client

    def recording_client(*args: Any, **kwargs: Any) -> Any:
        client = real_client(*args, **kwargs)
        service = client.meta.service_model.service_name
        assert service not in created, f"a second {service} client"
        created[service] = client
        return client

    for cached in (
        inbound.composition._settings,
        inbound.composition._dynamodb,
        inbound.composition._directory,
        inbound.composition._store,
    ):
        cached.cache_clear()
    boto3.client = recording_client
    try:
        inbound.composition._directory()
        inbound.composition._store()
    finally:
        boto3.client = real_client
    _Answers(created["secretsmanager"], {"GetSecretValue": secret_value})
    return _Answers(
        created["dynamodb"], {"GetItem": lambda: {"Item": account_item()}, "PutItem": dict}
    )


def run(
    requests: int, warmup: int, block: int = BLOCK, after_switch: int = AFTER_SWITCH
) -> dict[str, Any]:
    os.environ.update(ENVIRONMENT)
    from functions.inbound_webhook import handler as inbound

    ours_dynamodb = _stub_clients_of(inbound)

    # The floor's and the reference's: a default client each, as each would have in its Lambda
    # (one shared client would stay in the CPU's caches across their blocks, ours would not).
    floor_dynamodb, reference_dynamodb = boto3.client("dynamodb"), boto3.client("dynamodb")
    stubs = [Stubber(floor_dynamodb), Stubber(reference_dynamodb)]
    for stub in stubs:
        stub.activate()

    events = _events(256)
    context = _Context()
    devnull = open(os.devnull, "w")  # noqa: SIM115 (the request lines go to stdout)
    with redirect_stdout(devnull):
        first = inbound.lambda_handler(events[0], context)
    assert first["statusCode"] == 200, first

    handlers: dict[str, Handler] = {
        "ours": inbound.lambda_handler,
        "floor": FloorHandler(TABLE, {ACCOUNT: AUTH_TOKEN}, floor_dynamodb),
        "reference": ReferenceHandler(TABLE, {ACCOUNT: AUTH_TOKEN}, reference_dynamodb),
    }
    for stub in stubs:
        for _ in range(requests + warmup):
            stub.add_response("put_item", {})

    samples: dict[str, list[float]] = {name: [] for name in handlers}
    switched: dict[str, list[float]] = {name: [] for name in handlers}
    names = list(handlers)
    with redirect_stdout(devnull):
        for name in names:  # warm-up, then check each answers 200
            for index in range(warmup):
                response = handlers[name](events[index % len(events)], context)
                assert response["statusCode"] == 200, (name, response)
        done = 0
        while done < requests:
            size = min(block, requests - done)
            names = names[1:] + names[:1]
            for name in names:
                handler, steady, first = handlers[name], samples[name], switched[name]
                for index in range(done, done + size):
                    event = events[index % len(events)]
                    started = time.perf_counter_ns()
                    handler(event, context)
                    elapsed = (time.perf_counter_ns() - started) / 1000
                    (first if index - done < after_switch else steady).append(elapsed)
            done += size
        # every request of ours stored its message once (the first, the warm-up, the blocks)
        assert ours_dynamodb.calls["PutItem"] == 1 + warmup + requests, ours_dynamodb.calls
        parts = _breakdown(inbound, events, context)
    devnull.close()
    for stub in stubs:
        stub.assert_no_pending_responses()
    return {
        **_summary(samples, switched, requests, block, after_switch),
        "ours_breakdown_us": parts,
    }


def _median_us(call: Callable[[int], object], runs: int = 2_000) -> float:
    timings = []
    for index in range(runs):
        started = time.perf_counter_ns()
        call(index)
        timings.append((time.perf_counter_ns() - started) / 1000)
    return round(percentile(timings, 0.5), 1)


def _breakdown(inbound: Any, events: list[dict[str, Any]], context: Any) -> dict[str, float]:
    """Where our warm request's time goes: each piece on its own, median µs."""
    from datetime import UTC, datetime

    from sms_automation.webhooks.authenticate import authenticate
    from sms_automation.webhooks.inbound_message import InboundMessage, kept_headers
    from sms_automation.webhooks.receive_message import Received
    from sms_automation.webhooks.request import parse_webhook_event

    settings = inbound.composition._settings()
    requests = [
        parse_webhook_event(e, public_base_url="", max_body_bytes=settings.max_body_bytes)
        for e in events
    ]
    directory, store = inbound.composition._directory(), inbound.composition._store()
    items = [
        InboundMessage(
            "acme", "2026-01-01T00:00:00.000Z", r.params, kept_headers(r.header)
        ).to_item()
        for r in requests
    ]
    n = len(events)
    outcome = inbound.composition._outcome(Received("stored", "acme", "SM1", "sms"), requests[0])
    return {
        "whole handler": _median_us(lambda i: inbound.lambda_handler(events[i % n], context)),
        "parse_webhook_event": _median_us(
            lambda i: parse_webhook_event(events[i % n], public_base_url="", max_body_bytes=65536)
        ),
        "authenticate (account and tokens cached)": _median_us(
            lambda i: authenticate(requests[i % n], directory, datetime.now(UTC))
        ),
        "InboundMessage.to_item": _median_us(
            lambda i: InboundMessage(
                "acme",
                datetime.now(UTC).isoformat(),
                requests[i % n].params,
                kept_headers(requests[i % n].header),
            ).to_item()
        ),
        "DynamoMessageStore.put_new (serialise + botocore + stub)": _median_us(
            lambda i: store.put_new(items[i % n])
        ),
        "the request line (outcome, log keys and EMF metric; one write)": _median_us(
            lambda i: inbound.composition.log_lines.write(outcome, context, "SM1")
        ),
    }


def _summary(
    samples: dict[str, list[float]],
    switched: dict[str, list[float]],
    requests: int,
    block: int,
    after_switch: int,
) -> dict[str, Any]:
    figures = {
        name: {
            "p50_us": round(percentile(s, 0.5), 1),
            "p99_us": round(percentile(s, 0.99), 1),
            "after_switch_p50_us": round(percentile(switched[name], 0.5), 1)
            if switched[name]
            else None,
        }
        for name, s in samples.items()
    }
    ours, floor, reference = figures["ours"], figures["floor"], figures["reference"]
    ratios = {
        "vs_floor_p50": round(ours["p50_us"] / floor["p50_us"], 2),
        "vs_floor_p99": round(ours["p99_us"] / floor["p99_us"], 2),
        "vs_reference_p50": round(ours["p50_us"] / reference["p50_us"], 2),
        "vs_reference_p99": round(ours["p99_us"] / reference["p99_us"], 2),
    }
    if ours["after_switch_p50_us"]:
        ratios["vs_floor_after_switch"] = round(
            ours["after_switch_p50_us"] / floor["after_switch_p50_us"], 2
        )
        ratios["vs_reference_after_switch"] = round(
            ours["after_switch_p50_us"] / reference["after_switch_p50_us"], 2
        )
    return {
        "requests_each": requests,
        "block": block,
        "after_switch": after_switch,
        "python": sys.version.split()[0],
        "figures": figures,
        "ratios": ratios,
        "target_p99_us": TARGET_P99_US,
        "pass": ours["p99_us"] <= TARGET_P99_US,
    }


if __name__ == "__main__":  # a quick look: python -m bench.warm
    import json

    json.dump(run(2000, 200), sys.stdout, indent=2)
