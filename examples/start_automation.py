#!/usr/bin/env python3
"""Start an automation through the automations API, signed with SigV4 (IAM), from any service.

    python examples/start_automation.py --api-url "$API_URL" --account demo \
        --automation appointment-reminder --to +15005550001 \
        --var patient=Ann --var "appointment=tomorrow at 10:00" --idempotency-key booking-42

    python examples/start_automation.py --api-url "$API_URL" --account demo \
        --automation appointment-reminder --run-id RU...          # the run's status and log

``--api-url`` is the stack's ``AutomationsApiUrl`` output. Credentials come from the usual AWS
configuration (environment, profile, role); the region from ``AWS_REGION`` or
``AWS_DEFAULT_REGION`` (or the profile). The caller needs ``execute-api:Invoke`` on the API.
Only botocore and the standard library: copy ``signed_request`` into your own service.

A start is retried (503, a dropped connection) with the same idempotency key, so a retry
never starts a second run; without ``--idempotency-key`` one is made up and printed.
Exit codes: 0 started (201) or the same run again (200) or a run read; 2 the request was
invalid (400, every problem named); 1 anything else (403, 404, 409, 413, 415, 503 ...).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import quote

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "execute-api"
ATTEMPTS = 3


def signed_request(
    method: str, url: str, body: dict[str, Any] | None, credentials: Credentials, region: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """One SigV4-signed JSON request: (status, JSON answer, headers). Raises ``URLError``
    when there is no answer at all."""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"not an http(s) URL: {url[:80]}")
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    unsigned = AWSRequest(method=method, url=url, data=data, headers=headers)
    SigV4Auth(credentials, SERVICE, region).add_auth(unsigned)  # adds X-Amz-Date, Authorization
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=data, headers=dict(unsigned.headers.items()), method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, _json(response.read()), dict(response.headers.items())
    except urllib.error.HTTPError as error:
        return error.code, _json(error.read()), dict(error.headers.items())


def _json(raw: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        return {"message": raw[:200].decode("utf-8", "replace")}
    return answer if isinstance(answer, dict) else {"answer": answer}


def runs_url(api_url: str, account: str, automation: str) -> str:
    account, automation = quote(account, safe=""), quote(automation, safe="")
    return f"{api_url.rstrip('/')}/automations/{account}/{automation}/runs"


def start_automation(
    url: str, body: dict[str, Any], credentials: Credentials, region: str
) -> tuple[int, dict[str, Any]]:
    """POST the start to ``runs_url(...)``, retrying a 503 or a lost connection with the same
    body (so the same idempotency key)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            status, answer, headers = signed_request("POST", url, body, credentials, region)
        except (urllib.error.URLError, TimeoutError):
            if attempt == ATTEMPTS:
                raise
            time.sleep(attempt)
            continue
        if status != 503 or attempt == ATTEMPTS:
            return status, answer
        time.sleep(float(headers.get("Retry-After") or attempt))
    raise AssertionError("unreachable")


def variable(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError("expected NAME=VALUE")
    return name, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api-url", required=True, help="the stack's AutomationsApiUrl output")
    parser.add_argument("--account", required=True)
    parser.add_argument("--automation", required=True)
    parser.add_argument("--to", help="the contact (+E.164); required to start a run")
    parser.add_argument("--from", dest="our_number", help="our number (default: the automation's)")
    parser.add_argument("--var", type=variable, action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--idempotency-key", help="default: a new random key (printed)")
    parser.add_argument("--run-id", help="read this run instead of starting one")
    args = parser.parse_args(argv)

    session = botocore.session.get_session()
    credentials = session.get_credentials()
    region = os.environ.get("AWS_REGION") or session.get_config_variable("region")
    if credentials is None or not region:
        print("error: no AWS credentials or region (set AWS_REGION)", file=sys.stderr)
        return 1
    frozen = credentials.get_frozen_credentials()
    signing = Credentials(str(frozen.access_key), str(frozen.secret_key), frozen.token)

    if args.run_id:
        url = f"{runs_url(args.api_url, args.account, args.automation)}/{quote(args.run_id)}"
        status, answer, _ = signed_request("GET", url, None, signing, region)
    else:
        if not args.to:
            parser.error("--to is required to start a run")
        key = args.idempotency_key or str(uuid.uuid4())
        if not args.idempotency_key:
            print(f"idempotency key: {key}", file=sys.stderr)
        body: dict[str, Any] = {"to": args.to, "variables": dict(args.var), "idempotency_key": key}
        if args.our_number:
            body["from"] = args.our_number
        url = runs_url(args.api_url, args.account, args.automation)
        status, answer = start_automation(url, body, signing, region)
    print(f"HTTP {status}", file=sys.stderr)
    print(json.dumps(answer, indent=2))
    if status in (200, 201):
        return 0
    return 2 if status == 400 else 1


if __name__ == "__main__":
    sys.exit(main())
