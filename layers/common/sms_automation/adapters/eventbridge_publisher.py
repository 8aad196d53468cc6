"""``publish_event`` steps through EventBridge ``PutEvents`` (``processing.ports.EventPublisher``).

One entry per call, one try (``aws_failures.ONE_TRY``: PutEvents has no idempotency key, so
botocore's retry could put the event twice). An entry the bus refused (``FailedEntryCount``) is
``CallRefused`` with its ``ErrorCode``; an internal failure or a throttle is transient.
"""

from __future__ import annotations

from typing import Any, Final

from sms_automation.adapters.aws_failures import call_once
from sms_automation.processing.ports import CallRefused

TRANSIENT_ENTRY_ERRORS: Final = frozenset({"InternalFailure", "ThrottlingException"})


class EventBridgePublisher:
    def __init__(self, client: Any) -> None:
        """``client``: a boto3 ``events`` client made with ``ONE_TRY``."""
        self._client = client

    def publish(self, *, bus: str, source: str, detail_type: str, detail: str) -> str:
        entry = {"EventBusName": bus, "Source": source, "DetailType": detail_type, "Detail": detail}
        answer = call_once(lambda: self._client.put_events(Entries=[entry]))
        [result] = answer.get("Entries") or [{}]
        if answer.get("FailedEntryCount") or not result.get("EventId"):
            code = str(result.get("ErrorCode") or "Unknown")
            raise CallRefused(code, transient=code in TRANSIENT_ENTRY_ERRORS)
        return str(result["EventId"])
