"""Every function's AWS clients: one botocore configuration per kind of caller, bounded in time.

A client is made where a function first needs it (its composition caches it), never at import.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

ANSWERING = Config(
    connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 3}
)
"""For a caller that waits (Twilio gives a webhook 15 s, API Gateway 29 s): fail fast enough
for one retry inside the caller's budget."""

BACKGROUND = Config(
    connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}
)
"""For work nobody waits on (streams, queues, state machine tasks, events, schedules)."""


def client(service: str, config: Config = BACKGROUND) -> Any:
    return boto3.client(service, config=config)  # type: ignore[call-overload]
