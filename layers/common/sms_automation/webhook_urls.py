"""Where Twilio reaches an account: the deployment's webhook base URL (``WebhookBaseUrl``,
without its trailing slash) + ``/twilio/{account}/sms`` (the Messaging Request URL, the
Messaging webhook) and ``/twilio/{account}/status`` (the status callbacks). The one place
these paths are built: the functions' settings, the console's accounts page, the CLI and the
local stack all ask here. Standard library only.
"""

from __future__ import annotations


def messaging_request_url(base_url: str, account: str) -> str:
    """The URL Twilio POSTs the account's inbound messages to."""
    return f"{base_url}/twilio/{account}/sms"


def status_callback_url(base_url: str, account: str) -> str:
    """The URL Twilio POSTs the delivery statuses of the account's sends to."""
    return f"{base_url}/twilio/{account}/status"
