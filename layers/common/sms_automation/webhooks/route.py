"""What every Twilio webhook route does around its use case, in one place.

Parse the API Gateway event, run the use case, and answer: empty TwiML on success, the
rejection's JSON error when the request is refused, a 500 when anything else fails — never a
200 without the use case having done its work, so Twilio retries or tries the fallback URL.
Whatever happens, the request writes one line (``log_lines``): its outcome, the Sid as
correlation id, the account, and its metrics (a rejection is counted by reason); no secret.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sms_automation.edge.log_lines import (
    Count,
    LambdaContextLike,
    LogLine,
    LogLines,
)
from sms_automation.edge.settings import WebhookSettings
from sms_automation.webhooks.rejections import WebhookRejected
from sms_automation.webhooks.request import WebhookRequest, parse_webhook_event
from sms_automation.webhooks.responses import empty_twiml, json_error, rejection


@dataclass(frozen=True, slots=True)
class TwilioRoute[R]:
    name: str
    """How log lines name the route: "inbound webhook", "status callback"."""
    rejected_metric: str
    """Counted with a ``Reason`` dimension for every refused or failed request."""
    not_done: str
    """What a 500 tells the caller was not done."""
    lines: LogLines

    def serve(
        self,
        event: Mapping[str, Any],
        context: LambdaContextLike | None,
        settings: Callable[[], WebhookSettings],
        use_case: Callable[[WebhookRequest], R],
        outcome_of: Callable[[R, WebhookRequest], LogLine],
    ) -> dict[str, Any]:
        request: WebhookRequest | None = None
        try:
            configured = settings()
            request = parse_webhook_event(
                event,
                public_base_url=configured.public_base_url,
                max_body_bytes=configured.max_body_bytes,
            )
            result = use_case(request)
        except WebhookRejected as rejected:
            self._write(self._rejected(rejected, request), context, request)
            return rejection(rejected)
        except Exception as error:
            failed = LogLine(
                level="ERROR",
                message=f"{self.name} failed",
                fields=self._account(request) | {"reason": "internal_error"},
                counts=(self._rejection_count("internal_error"),),
                error=error,
            )
            self._write(failed, context, request)
            return json_error(500, "internal_error", self.not_done)
        self._write(outcome_of(result, request), context, request)
        return empty_twiml()

    def _write(
        self,
        outcome: LogLine,
        context: LambdaContextLike | None,
        request: WebhookRequest | None,
    ) -> None:
        self.lines.write(outcome, context, correlation_id(request))

    def _rejected(self, rejected: WebhookRejected, request: WebhookRequest | None) -> LogLine:
        return LogLine(
            level="ERROR" if rejected.status >= 500 else "WARNING",
            message=f"{self.name} rejected",
            fields=self._account(request)
            | {"reason": rejected.reason, "status": rejected.status, "detail": rejected.detail},
            counts=(self._rejection_count(rejected.reason),),
        )

    def _rejection_count(self, reason: str) -> Count:
        return Count(name=self.rejected_metric, dimensions={"Reason": reason})

    @staticmethod
    def _account(request: WebhookRequest | None) -> dict[str, Any]:
        return {"account": request.account_name if request else None}


def correlation_id(request: WebhookRequest | None) -> str | None:
    """The Sid, from a form only: JSON is not read before it is trusted."""
    if request is None:
        return None
    fields = request.fields
    sid = fields.get("MessageSid") or fields.get("CallSid") or ""
    return sid[:64] or None
