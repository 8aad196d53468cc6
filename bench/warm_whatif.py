"""What each remaining piece of the warm webhook costs: ``python -m bench.warm_whatif``.

The real inbound handler (stubbed as in ``bench.warm``) timed whole, then with one more piece
taken away at each step, cumulatively: botocore's serialisation of the PutItem request (the item
sent as ``json.dumps`` of the AttributeValues our serializer already wrote), the outcome log line,
the metric calls, the Powertools decorators. Nothing here is a fix: it shows what a fix of each
piece could at most buy (``bench/RESULTS.md``, "Targets still missed").
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from typing import Any

from bench import warm
from bench.common import ENVIRONMENT, percentile


def _median_us(call: Callable[[int], object], runs: int = 4_000) -> float:
    timings = []
    for index in range(runs):
        started = time.perf_counter_ns()
        call(index)
        timings.append((time.perf_counter_ns() - started) / 1000)
    return round(percentile(timings, 0.5), 1)


class _JsonDumpsPutItem:
    """A serializer that writes PutItem's parameters as they are (they already are
    AttributeValues) and leaves every other operation to botocore's."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def serialize_to_request(self, parameters: dict[str, Any], operation: Any) -> Any:
        if operation.name != "PutItem":
            return self._real.serialize_to_request(parameters, operation)
        return {
            "url_path": "/",
            "query_string": "",
            "method": "POST",
            "headers": {
                "X-Amz-Target": "DynamoDB_20120810.PutItem",
                "Content-Type": "application/x-amz-json-1.0",
            },
            "body": json.dumps(parameters).encode(),
        }


def run() -> dict[str, float]:
    os.environ.update(ENVIRONMENT)
    from functions.inbound_webhook import handler as inbound

    stub = warm._stub_clients_of(inbound)
    for _ in range(6 * 4_000 + 500):
        stub.add_response("put_item", {})
    events, context = warm._events(256), warm._Context()
    devnull = open(os.devnull, "w")  # noqa: SIM115
    inbound.logger.registered_handler.stream = devnull  # type: ignore[attr-defined]
    figures: dict[str, float] = {}

    def handler(index: int) -> object:
        return inbound.lambda_handler(events[index % len(events)], context)

    with redirect_stdout(devnull):
        for index in range(500):
            handler(index)
        figures["whole handler"] = _median_us(handler)
        client = inbound._dynamodb()
        client._serializer = _JsonDumpsPutItem(client._serializer)
        figures["without botocore's PutItem serialisation"] = _median_us(handler)
        inbound.logger.info = lambda *args, **kwargs: None  # type: ignore[method-assign]
        figures["... and without the outcome log line"] = _median_us(handler)
        inbound.metrics.add_metric = lambda *args, **kwargs: None  # type: ignore[method-assign]
        inbound.metrics.add_metadata = lambda *args, **kwargs: None  # type: ignore[method-assign]
        figures["... and without the metric calls"] = _median_us(handler)
        undecorated = inbound.lambda_handler.__wrapped__.__wrapped__  # type: ignore[attr-defined]
        figures["... and without the Powertools decorators"] = _median_us(
            lambda index: undecorated(events[index % len(events)], context)
        )
    devnull.close()
    return figures


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")  # "No application metrics to publish" once they are gone
    json.dump(run(), sys.stdout, indent=2)
