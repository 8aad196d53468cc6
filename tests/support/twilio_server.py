"""A Twilio-like REST API on 127.0.0.1 for tests: the local stack's Twilio sandbox
(``local/sms_automation_local/twilio_sandbox``) with the test defaults.

    with TwilioTestServer() as twilio:            # ephemeral port; twilio.base_url
        twilio.fail_next(server_error(), rate_limited(retry_after="2"))
        ...                                       # point the adapter at twilio.base_url
        assert len(twilio.messages()) == 1
        assert twilio.requests()[0].idempotency_token == "key-1"

Unlike the sandbox's defaults it honours ``I-Twilio-Idempotency-Token`` (a create repeated with
the same token answers the first one's resource; ``honour_idempotency_token=False`` behaves like
api.twilio.com) and sends no status callbacks. Everything else (routes, Basic auth, Twilio's
JSON shapes, refusals, ``refuse_recipient``, faults, ``requests()``/``messages()``/``calls()``)
is the sandbox's: one implementation for the tests and the local stack.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Final

from sms_automation_local.twilio_sandbox import (
    API_VERSION,
    IDEMPOTENCY_HEADER,
    DropConnectionFault,
    ErrorAnswerFault,
    Fault,
    HeldRequestFault,
    RecordedRequest,
    SlowAnswerFault,
    TwilioSandbox,
    rate_limited,
    server_error,
    twilio_error,
    twilio_error_body,
)
from sms_automation_local.twilio_sandbox.resources import MESSAGING_SERVICE_SENDER

DEFAULT_ACCOUNT_SID: Final = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN: Final = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

__all__ = [
    "API_VERSION",
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "IDEMPOTENCY_HEADER",
    "MESSAGING_SERVICE_SENDER",
    "DropConnectionFault",
    "ErrorAnswerFault",
    "Fault",
    "HeldRequestFault",
    "RecordedRequest",
    "SlowAnswerFault",
    "TwilioTestServer",
    "rate_limited",
    "server_error",
    "twilio_error",
    "twilio_error_body",
]


class TwilioTestServer(TwilioSandbox):
    def __init__(
        self,
        accounts: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        honour_idempotency_token: bool = True,
        status_callbacks: bool = False,
    ) -> None:
        """``accounts``: Account SID -> auth token (default: one account, ``DEFAULT_*``)."""
        super().__init__(
            accounts or {DEFAULT_ACCOUNT_SID: DEFAULT_AUTH_TOKEN},
            clock=clock,
            honour_idempotency_token=honour_idempotency_token,
            status_callbacks=status_callbacks,
        )
