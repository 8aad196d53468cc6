"""An inbound SMS as Twilio delivers it: the form, its X-Twilio-Signature, one POST.

``simulate sms`` uses this against the local stack or any deployment; the end-to-end tests use
it too, so what they prove is what a developer's simulated message does.
"""

from __future__ import annotations

import math
import secrets
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode, urlsplit

from sms_automation.webhooks.signature import compute_signature

FORM: Final = "application/x-www-form-urlencoded"
API_VERSION: Final = "2010-04-01"
USER_AGENT: Final = "TwilioProxy/1.1"

# GSM 03.38 basic character set (and the extension table, which costs two septets each).
_GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED: Final = frozenset("^{}\\[~]|€\f")


def new_message_sid(*, with_media: bool = False) -> str:
    """``SM`` + 32 hex digits; ``MM`` when the message carries media, as Twilio does."""
    return ("MM" if with_media else "SM") + secrets.token_hex(16)


def segment_count(body: str) -> int:
    """How many SMS segments Twilio reports (``NumSegments``) for ``body``."""
    if all(c in _GSM7_BASIC or c in _GSM7_EXTENDED for c in body):
        septets = sum(2 if c in _GSM7_EXTENDED else 1 for c in body)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def inbound_sms_form(
    *,
    account_sid: str,
    from_number: str,
    to_number: str,
    body: str,
    media_urls: Sequence[str] = (),
    message_sid: str | None = None,
) -> list[tuple[str, str]]:
    """The parameters of Twilio's Messaging webhook, in the order Twilio sends them.

    Geographic fields (``FromCity``, ``ToZip``, ...) are present and blank: Twilio sends them
    blank when it does not know, and blanks are part of what is signed.
    """
    sid = message_sid or new_message_sid(with_media=bool(media_urls))
    form = [
        ("ToCountry", ""),
        ("ToState", ""),
        ("SmsMessageSid", sid),
        ("NumMedia", str(len(media_urls))),
        ("ToCity", ""),
        ("FromZip", ""),
        ("SmsSid", sid),
        ("FromState", ""),
        ("SmsStatus", "received"),
        ("FromCity", ""),
        ("Body", body),
        ("FromCountry", ""),
        ("To", to_number),
        ("ToZip", ""),
        ("NumSegments", str(segment_count(body))),
        ("MessageSid", sid),
        ("AccountSid", account_sid),
        ("From", from_number),
        ("ApiVersion", API_VERSION),
    ]
    for index, url in enumerate(media_urls):
        form.append((f"MediaContentType{index}", _guess_content_type(url)))
        form.append((f"MediaUrl{index}", url))
    return form


def _guess_content_type(url: str) -> str:
    path = urlsplit(url).path.lower()
    for suffix, content_type in (
        ((".jpg", ".jpeg"), "image/jpeg"),
        ((".png",), "image/png"),
        ((".gif",), "image/gif"),
        ((".mp4",), "video/mp4"),
        ((".pdf",), "application/pdf"),
    ):
        if path.endswith(suffix):
            return content_type
    return "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the webhook answered to one POST."""

    status: int
    content_type: str
    body: str
    message_sid: str


def deliver(
    url: str,
    form: Sequence[tuple[str, str]],
    auth_token: str,
    *,
    signature: str | None = None,
    idempotency_token: str | None = None,
    timeout: float = 15.0,
) -> Delivery:
    """POST ``form`` to ``url`` signed with ``auth_token`` (or with ``signature`` as given).

    Twilio gives up on a webhook after 15 s, hence the default timeout. HTTP errors are answers
    (returned), not exceptions; a network failure raises ``urllib.error.URLError``.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=urlencode(form).encode("ascii"),
        method="POST",
        headers={
            "Content-Type": FORM,
            "User-Agent": USER_AGENT,
            "X-Twilio-Signature": signature or compute_signature(url, form, auth_token),
            "I-Twilio-Idempotency-Token": idempotency_token or secrets.token_hex(16),
        },
    )
    message_sid = dict(form).get("MessageSid", "")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Delivery(
                status=response.status,
                content_type=response.headers.get("Content-Type", ""),
                body=response.read().decode("utf-8", "replace"),
                message_sid=message_sid,
            )
    except urllib.error.HTTPError as error:
        with error:
            return Delivery(
                status=error.code,
                content_type=error.headers.get("Content-Type", ""),
                body=error.read().decode("utf-8", "replace"),
                message_sid=message_sid,
            )
