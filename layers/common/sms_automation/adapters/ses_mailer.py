"""``send_email`` steps through Amazon SES v2 ``SendEmail`` (``processing.ports.Mailer``).

The client makes one try per call (``ONE_TRY``): botocore's own retry after a read timeout
could send the e-mail twice, and SES has no idempotency key to stop it. A failure becomes
``CallRefused`` (an error answer, or a connection never made: not sent; ``aws_failures``
says whether it is transient) or ``CallUnanswered`` (sent, no answer: maybe sent).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from sms_automation.adapters.aws_failures import error_code, is_transient
from sms_automation.processing.ports import CallRefused, CallUnanswered

ONE_TRY: Final = Config(connect_timeout=2, read_timeout=10, retries={"total_max_attempts": 1})
"""No retry inside botocore: the step ledger decides what is tried again."""


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


def call_once(call: Any) -> Any:
    """``call()``'s answer; its failure as ``CallRefused`` or ``CallUnanswered``."""
    try:
        return call()
    except ClientError as error:
        raise CallRefused(error_code(error), transient=is_transient(error)) from None
    except (EndpointConnectionError, ConnectTimeoutError) as error:  # never reached the service
        raise CallRefused(error_code(error), transient=True) from None
    except BotoCoreError as error:
        if is_transient(error):  # sent, then the connection dropped or the answer timed out
            raise CallUnanswered(error_code(error)) from None
        raise CallRefused(error_code(error), transient=False) from None
