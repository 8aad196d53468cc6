"""What each candidate of the edge stack adds to a cold start (docs/decisions/0001-edge-stack.md).

    PYTHONPATH=.:layers/common python -m bench.edge_stack [--rounds 15]

Each sample is a fresh interpreter that first does what every function does anyway (``import
boto3`` and one DynamoDB client: the floor), then times, with ``time.perf_counter``, one
candidate's import and first use (a logger's first line, a processor built, a resolver made).
Bytecode caches are warm (as in a deployed layer: ``PYTHONDONTWRITEBYTECODE`` is unset, and a
first unmeasured round writes them). Candidates are interleaved round-robin, so a change of load
on the machine reaches them alike; the median and the minimum of the rounds are printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from bench.common import ENVIRONMENT, LAYER, median

FLOOR = "import boto3; boto3.client('dynamodb')"

_CONTEXT = (
    "class _Context:\n"
    "    function_name = 'bench'; memory_limit_in_mb = 512; aws_request_id = 'r'\n"
    "    invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:bench'\n"
)

CANDIDATES = {
    "Powertools Logger + Metrics (import, one line, one metric flushed)": (
        "import io, logging\n"
        "from aws_lambda_powertools import Logger, Metrics\n"
        "from aws_lambda_powertools.metrics import MetricUnit\n"
        + _CONTEXT
        + "logger = Logger(service='bench', logger_handler=logging.StreamHandler(io.StringIO()))\n"
        "metrics = Metrics(namespace='Bench', service='bench')\n"
        "@metrics.log_metrics\n"
        "@logger.inject_lambda_context(clear_state=True)\n"
        "def handler(event, context):\n"
        "    metrics.add_metric(name='Done', unit=MetricUnit.Count, value=1)\n"
        "    logger.info('done', extra={'account': 'acme'})\n"
        "import contextlib\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    handler({}, _Context())\n"
    ),
    "edge.log_lines (import, one line with its metric)": (
        "import io\n"
        "from sms_automation.edge.log_lines import Count, LogLine, LogLines\n"
        + _CONTEXT
        + "lines = LogLines('bench', 'Bench', location='bench', stream=io.StringIO())\n"
        "lines.write(LogLine('INFO', 'done', {'account': 'acme'}, (Count('Done'),)), _Context())\n"
    ),
    "Powertools BatchProcessor, DynamoDB streams (import, processor built)": (
        "from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType\n"
        "BatchProcessor(event_type=EventType.DynamoDBStreams)\n"
    ),
    "edge.batch (import)": "import sms_automation.edge.batch\n",
    "Powertools APIGatewayHttpResolver (import, resolver made)": (
        "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\n"
        "APIGatewayHttpResolver()\n"
    ),
    "webhooks.route (import: our Twilio route)": "import sms_automation.webhooks.route\n",
    "Powertools package alone (LambdaContext type)": (
        "from aws_lambda_powertools.utilities.typing import LambdaContext\n"
    ),
}


def _sample(code: str, env: dict[str, str]) -> float:
    timed = (
        f"{FLOOR}\nimport time\n_started = time.perf_counter()\n{code}\n"
        "print((time.perf_counter() - _started) * 1000)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", timed], env=env, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    env = {name: value for name, value in os.environ.items() if name in {"PATH", "HOME", "LANG"}}
    env |= ENVIRONMENT | {"PYTHONPATH": str(LAYER)}
    for code in CANDIDATES.values():
        _sample(code, env)  # writes the bytecode caches
    samples: dict[str, list[float]] = {name: [] for name in CANDIDATES}
    for _ in range(args.rounds):
        for name, code in CANDIDATES.items():
            samples[name].append(_sample(code, env))
    print(f"{args.rounds} interleaved rounds, ms added after `{FLOOR}` (median, min):")
    for name, taken in samples.items():
        print(f"  {median(taken):7.1f} {min(taken):7.1f}  {name}")


if __name__ == "__main__":
    main()
