"""API Gateway proxy responses the webhook returns."""

from __future__ import annotations

import json
from typing import Any

from sms_automation.webhooks.rejections import WebhookRejected

# text/xml, never text/plain: Twilio would send a plain-text body back to the sender as an SMS.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def empty_twiml() -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"Content-Type": "text/xml"}, "body": EMPTY_TWIML}


def json_error(status: int, reason: str, detail: str) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if status == 405:
        headers["Allow"] = "POST"
    return {
        "statusCode": status,
        "headers": headers,
        "body": json.dumps({"error": reason, "message": detail}),
    }


def rejection(rejected: WebhookRejected) -> dict[str, Any]:
    return json_error(rejected.status, rejected.reason, rejected.detail)
