"""One cold start, run as ``python bench/cold_child.py FUNCTION_DIR LAYER_DIR SCENARIO OUT``.

Laid out the way Lambda starts a Python function: ``sys.path`` begins with the function's
directory, then the layer, then the runtime's packages. Nothing is imported before the handler
but the standard library pieces this file needs (``json``, ``sys``): what the handler imports
is what the measurement pays for. AWS answers at the client seam: every client the handler
creates gets a ``before-call`` hook answering from the scenario's script (no network), the way
botocore's ``Stubber`` answers, so client creation and request serialisation are real.
"""

import json
import sys
from typing import Any


def main() -> None:
    function_dir, layer_dir, scenario_path, out_path = sys.argv[1:5]
    sys.path[0:1] = [function_dir, layer_dir]
    with open(scenario_path, encoding="utf-8") as file:
        scenario = json.load(file)

    import handler  # type: ignore[import-not-found]  # the measured import (and everything it pulls in)

    calls: list[str] = []
    _answer_aws_from(scenario["aws"], calls)
    response = handler.lambda_handler(scenario["event"], _Context())
    with open(out_path, "w", encoding="utf-8") as file:
        json.dump({"response": response, "calls": calls}, file, default=str)


class _Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "00000000-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _answer_aws_from(script: dict[str, list[dict[str, Any]]], calls: list[str]) -> None:
    """Wrap ``boto3.client``: each client answers ``Service.Operation`` from ``script`` (in
    order; the last answer repeats), like a Stubber without expected parameters."""
    import boto3
    from botocore.awsrequest import AWSResponse

    real_client = boto3.client
    queues = {name: list(answers) for name, answers in script.items()}

    def answer(model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        name = f"{model.service_model.service_name}.{model.name}"
        calls.append(name)
        queue = queues.get(name) or queues.get(f"*.{model.name}") or [{}]
        parsed = queue.pop(0) if len(queue) > 1 else queue[0]
        headers: Any = {}
        return AWSResponse("https://stubbed.invalid", 200, headers, None), dict(parsed)

    def client(*args: Any, **kwargs: Any) -> Any:
        created = real_client(*args, **kwargs)
        created.meta.events.register_first("before-call.*.*", answer)
        return created

    boto3.client = client


if __name__ == "__main__":
    main()
