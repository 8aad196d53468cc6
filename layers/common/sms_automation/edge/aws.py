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


WAITED_SECRETS = Config(
    connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 2}
)
"""For an auth token read or written inside a request a person waits on (the console's API:
a reply, a token replacement, the accounts page's Twilio calls). Secrets Manager answers a
``GetSecretValue`` in tens of milliseconds; two tries in all (``total_max_attempts``: botocore's
``max_attempts`` counts the retries only) of at most 3 s each leave the rest of
API Gateway's 29 s to Twilio, whose own call follows the token read."""


def console_secrets() -> Any:
    """The console API's Secrets Manager client (``WAITED_SECRETS``)."""
    return client("secretsmanager", WAITED_SECRETS)


def client(service: str, config: Config = BACKGROUND) -> Any:
    return boto3.client(service, config=config)  # type: ignore[call-overload]
