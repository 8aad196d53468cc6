"""Masking for what may reach a log line: Twilio classes phone numbers and bodies as PII."""

_KEEP_TAIL = 2


def mask_phone(value: str | None) -> str:
    """``+14155550123`` -> ``+1*********23``; ``whatsapp:+44...`` keeps its channel prefix.

    Short codes and alphanumeric sender ids are not personal and stay readable only when they
    are at most 6 characters; anything longer is masked like a number.
    """
    if not value:
        return ""
    prefix, sep, number = value.rpartition(":")
    channel = f"{prefix}{sep}"
    if len(number) <= 6:
        return f"{channel}{number}"
    head = number[:2] if number.startswith("+") else number[:1]
    return f"{channel}{head}{'*' * (len(number) - len(head) - _KEEP_TAIL)}{number[-_KEEP_TAIL:]}"


def mask_email(value: str | None) -> str:
    """``ann@example.com`` -> ``a***@example.com``: who it was, for a colleague, not an address."""
    if not value:
        return ""
    local, sep, domain = value.partition("@")
    return f"{local[:1]}***{sep}{domain}" if sep else f"{value[:1]}***"
