"""What the benchmarks share: paths, the test account, signed events, statistics."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "common"
FUNCTIONS = ROOT / "functions"

ACCOUNT = "acme"
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
SECRET_ID = "sms-automation/bench/accounts/acme"
TABLE = "sms-automation-bench"

ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "TABLE_NAME": TABLE,
    "RECORDS_TABLE": "sms-automation-bench-records",
    "AUDIT_TABLE": "sms-automation-bench-audit",
    "SECRETS_PREFIX": "sms-automation/bench",
    "PUBLIC_BASE_URL": "",
    "WEBHOOK_BASE_URL": "https://hooks.example.com/dev",
    "TWILIO_API_BASE_URL": "http://127.0.0.1:9",
    "SCHEDULE_GROUP_NAME": "sms-automation-bench",
    "AUTOMATION_EVENTS_FUNCTION_ARN": "arn:aws:lambda:us-east-1:123456789012:function:events",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/bench-scheduler",
    "BROADCASTS_BUCKET": "sms-automation-bench-broadcasts",
    "BROADCAST_STATE_MACHINE_ARN": (
        "arn:aws:states:us-east-1:123456789012:stateMachine:bench-broadcast"
    ),
    "POWERTOOLS_METRICS_NAMESPACE": "SmsAutomationBench",
    "LOG_LEVEL": "INFO",
}


def account_item() -> dict[str, Any]:
    from sms_automation.accounts import Account
    from sms_automation.adapters.account_store import account_to_item

    stamp = "2026-01-01T00:00:00Z"
    return dict(account_to_item(Account(ACCOUNT, ACCOUNT_SID, True, SECRET_ID, stamp, stamp)))


def secret_value() -> dict[str, Any]:
    from sms_automation.accounts import AuthTokens
    from sms_automation.adapters.account_store import auth_tokens_to_secret_string

    return {
        "ARN": f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{SECRET_ID}",
        "Name": SECRET_ID,
        "SecretString": auth_tokens_to_secret_string(AuthTokens(current=AUTH_TOKEN)),
    }


def sms_body(message_sid: str = "SM11111111111111111111111111111111") -> str:
    from tests.support.events import inbound_example

    body: str = inbound_example("sms_plain")["raw_body"]
    return body.replace("SM11111111111111111111111111111111", message_sid)


def signed_event(body: str, route: str = "sms") -> dict[str, Any]:
    from tests.support.events import signed_webhook_event

    return signed_webhook_event(ACCOUNT, body, AUTH_TOKEN, route=route)


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of ``samples`` (0 < fraction <= 1)."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)
