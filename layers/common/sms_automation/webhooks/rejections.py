"""Why the webhook refuses a request: one exception type, one HTTP status and metric reason each.

The handler maps these to responses in one place; nothing matches on message text.
"""

from typing import ClassVar


class WebhookRejected(Exception):
    """A request the webhook will not store. ``detail`` is safe to return and to log."""

    status: ClassVar[int] = 400
    reason: ClassVar[str] = "bad_request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class MalformedRequest(WebhookRejected):
    status = 400
    reason = "malformed_request"


class InvalidSignature(WebhookRejected):
    status = 403
    reason = "invalid_signature"


class AccountSidMismatch(WebhookRejected):
    status = 403
    reason = "account_sid_mismatch"


class UnknownAccount(WebhookRejected):
    status = 404
    reason = "unknown_account"


class MethodNotAllowed(WebhookRejected):
    status = 405
    reason = "method_not_allowed"


class PayloadTooLarge(WebhookRejected):
    status = 413
    reason = "payload_too_large"


class UnsupportedMediaType(WebhookRejected):
    status = 415
    reason = "unsupported_media_type"


class StorageUnavailable(WebhookRejected):
    """The message could not be made durable: answer 5xx so Twilio tries the fallback URL."""

    status = 503
    reason = "storage_unavailable"
