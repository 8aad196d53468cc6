"""``send_email`` steps through Amazon SES v2 ``SendEmail`` (``processing.ports.Mailer``).

The client makes one try per call (``ONE_TRY``): botocore's own retry after a read timeout
could send the e-mail twice, and SES has no idempotency key to stop it. A failure becomes
``CallRefused`` (an error answer, or a connection never made: not sent) or
``CallUnanswered`` (sent, no answer: maybe sent): ``aws_failures.call_once``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sms_automation.adapters.aws_failures import call_once


class SesMailer:
    def __init__(self, client: Any) -> None:
        """``client``: a boto3 ``sesv2`` client made with ``ONE_TRY``."""
        self._client = client

    def send_email(
        self,
        *,
        from_: str,
        to: Sequence[str],
        reply_to: str | None,
        subject: str,
        text: str | None,
        html: str | None,
    ) -> str:
        body: dict[str, Any] = {}
        if text is not None:
            body["Text"] = {"Data": text, "Charset": "UTF-8"}
        if html is not None:
            body["Html"] = {"Data": html, "Charset": "UTF-8"}
        request: dict[str, Any] = {
            "FromEmailAddress": from_,
            "Destination": {"ToAddresses": list(to)},
            "Content": {"Simple": {"Subject": {"Data": subject, "Charset": "UTF-8"}, "Body": body}},
        }
        if reply_to:
            request["ReplyToAddresses"] = [reply_to]
        return str(call_once(lambda: self._client.send_email(**request))["MessageId"])
