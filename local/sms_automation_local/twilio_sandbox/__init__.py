"""The Twilio sandbox: the part of Twilio's REST API (2010-04-01) this project uses, on
127.0.0.1, for the local stack (``make run``) and the tests.

Messages create/fetch/list, Calls create/list, Accounts fetch, IncomingPhoneNumbers list/update,
with Basic auth checked against the accounts it knows; answers and errors shaped as
api.twilio.com's (checked against Twilio's OpenAPI spec by ``tests/contract``). It records every
request, message and call, sends signed status callbacks, and serves the phone simulator page.

Modules: resources (Twilio's JSON shapes), faults (programmable misbehaviour for tests), state,
rest (the routes), callbacks (status callbacks), server (HTTP), simulator + stack_reader (the
page and what it reads from the stack), process (the runner's managed process), __main__.
"""

from sms_automation_local.twilio_sandbox.faults import (
    DropConnectionFault,
    ErrorAnswerFault,
    Fault,
    HeldRequestFault,
    SlowAnswerFault,
    rate_limited,
    server_error,
    twilio_error,
)
from sms_automation_local.twilio_sandbox.resources import API_VERSION, twilio_error_body
from sms_automation_local.twilio_sandbox.server import TwilioSandbox
from sms_automation_local.twilio_sandbox.state import (
    IDEMPOTENCY_HEADER,
    RecordedRequest,
    SentCallback,
)

__all__ = [
    "API_VERSION",
    "IDEMPOTENCY_HEADER",
    "DropConnectionFault",
    "ErrorAnswerFault",
    "Fault",
    "HeldRequestFault",
    "RecordedRequest",
    "SentCallback",
    "SlowAnswerFault",
    "TwilioSandbox",
    "rate_limited",
    "server_error",
    "twilio_error",
    "twilio_error_body",
]
