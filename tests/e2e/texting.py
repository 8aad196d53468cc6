"""A contact's texts on the local stack, for the e2e tests: an SMS to one of our numbers as
Twilio delivers it (its signed form posted to the account's webhook), what the stack sent the
contact as the Twilio sandbox's outbox holds it, and the demo triggers' texts the tests wait for
(local/demo/triggers.yaml)."""

from __future__ import annotations

from typing import Any, Final

from sms_automation_local.demo import DEMO_AUTH_TOKEN
from sms_automation_local.inbound_sms import deliver, inbound_sms_form
from sms_automation_local.state import LocalState
from sms_automation_local.twilio_sandbox_client import list_resources

AUTO_REPLY: Final = (
    "Thanks for your message! Text CALL for a call back or BOOK to confirm an appointment."
)
"""The demo's catch-all answer."""
BOOK_PROMPT: Final = "Your appointment is tomorrow at 10:00. Reply YES to confirm or NO to cancel."
"""The demo's BOOK trigger's question (a wait for YES or NO)."""
HELP: Final = "Demo SMS automation: text CALL or BOOK. Reply STOP to opt out, START to opt back in."
"""The demo's answer to HELP."""


def send(
    stack: LocalState,
    contact: str,
    body: str,
    message_sid: str | None = None,
    *,
    account: str | None = None,
    to: str | None = None,
) -> str:
    """``contact`` texts ``body`` to ``to`` (the demo number) of ``account`` (the demo account):
    Twilio's signed form posted to its webhook, which must answer 200; the message's SID
    (``message_sid``: a redelivery of that message)."""
    form = inbound_sms_form(
        account_sid=stack.demo_account_sid,
        from_number=contact,
        to_number=to or stack.demo_number,
        body=body,
        message_sid=message_sid,
    )
    url = stack.messaging_request_url(account or stack.demo_account)
    delivery = deliver(url, form, DEMO_AUTH_TOKEN)
    assert delivery.status == 200, delivery
    return delivery.message_sid


def replies_to(stack: LocalState, contact: str) -> list[dict[str, Any]]:
    """What the stack sent ``contact``, as the sandbox's outbox lists it."""
    return [
        m
        for m in list_resources(stack.sandbox_url, "Messages", To=contact)
        if m["direction"] == "outbound-api"
    ]
