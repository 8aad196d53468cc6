"""What each remaining piece of the warm webhook costs: ``python -m bench.warm_whatif``.

The real inbound handler (stubbed as in ``bench.warm``) timed whole, then with one more piece
taken away at each step, cumulatively: the request line (its log keys and EMF metric), the
message item's serialisation and PutItem. Nothing here is a fix: it shows what a fix of each
piece could at most buy (``bench/RESULTS.md``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from contextlib import redirect_stdout

from bench import warm
from bench.common import ENVIRONMENT


def _median_us(call: Callable[[int], object]) -> float:
    return warm._median_us(call, runs=4_000)


def run() -> dict[str, float]:
    os.environ.update(ENVIRONMENT)
    from functions.inbound_webhook import handler as inbound

    stub = warm._stub_clients_of(inbound)
    for _ in range(2 * 4_000 + 500):
        stub.add_response("put_item", {})
    events, context = warm._events(256), warm._Context()
    devnull = open(os.devnull, "w")  # noqa: SIM115
    figures: dict[str, float] = {}

    def handler(index: int) -> object:
        return inbound.lambda_handler(events[index % len(events)], context)

    with redirect_stdout(devnull):
        for index in range(500):
            handler(index)
        figures["whole handler"] = _median_us(handler)
        inbound.composition.log_lines.write = lambda *args, **kwargs: None  # type: ignore[method-assign]
        figures["... without the request line"] = _median_us(handler)
        inbound.composition._store().put_new = lambda item: True  # type: ignore[method-assign]
        figures["... and without serialising and putting the item"] = _median_us(handler)
    devnull.close()
    return figures


if __name__ == "__main__":
    json.dump(run(), sys.stdout, indent=2)
