"""The local stack's build of the common layer, without what no function can load.

The emulator starts a Lambda worker per concurrent invocation and unpacks the function's layer
for each one, on its one Python process: the layer's ~4,000 files cost ~1 s of the emulator's
time per worker, and a burst of 16 senders starts ~16 webhook workers at once (bench/RESULTS.md,
"Burst"). Half of those files are botocore's models of the ~440 AWS services the code never
calls, and most of the rest Twilio's REST domains besides ``api``. Both are loaded by name only
(botocore reads ``data/<service>`` when a client is created; ``twilio.rest.Client`` imports a
domain when its attribute is first read), so leaving them out changes nothing the functions do:
``tests/unit/test_layer_prune.py`` holds that every service and Twilio domain the code names
is kept. Deployments to AWS keep the whole layer as ``sam build`` makes it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

AWS_SERVICES = frozenset(
    {
        "cloudformation",
        "dynamodb",
        "dynamodbstreams",
        "events",
        "lambda",
        "s3",
        "scheduler",
        "secretsmanager",
        "sesv2",
        "sqs",
        "stepfunctions",
        "sts",
    }
)
"""The botocore service models kept: every ``client("...")`` the package and functions create."""

TWILIO_DOMAINS = frozenset({"api"})
"""The Twilio REST domains kept (``client.api.v2010``: messages, calls, numbers, accounts)."""


def prune_layer(python_dir: Path) -> int:
    """Remove the unused service models and Twilio domains under a built layer's ``python/``;
    the number of files removed. Anything not found (another botocore or twilio layout) is
    left as it is."""
    removed = 0
    botocore_data = python_dir / "botocore" / "data"
    if botocore_data.is_dir():
        removed += _remove_dirs_except(botocore_data, AWS_SERVICES)
    twilio_rest = python_dir / "twilio" / "rest"
    if (twilio_rest / "__init__.py").is_file():
        removed += _remove_dirs_except(twilio_rest, TWILIO_DOMAINS | {"__pycache__"})
    return removed


def _remove_dirs_except(parent: Path, kept: frozenset[str]) -> int:
    removed = 0
    for child in parent.iterdir():
        if child.is_dir() and child.name not in kept:
            removed += sum(1 for path in child.rglob("*") if path.is_file())
            shutil.rmtree(child)
    return removed
