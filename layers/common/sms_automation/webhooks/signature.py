"""X-Twilio-Signature: compute and verify Twilio's webhook request signatures.

Twilio signs every webhook with HMAC-SHA1, keyed with the account's auth token, over the
URL it called followed by each POST parameter's name and value, names sorted, no
delimiters; the header carries the digest base64-encoded. Requests with a JSON (or any
non-form) body are signed over the URL alone, and that URL carries a ``bodySHA256`` query
parameter holding the hex SHA-256 of the raw body, so the body is covered indirectly.

This module reproduces the official helper libraries (twilio-python's
``RequestValidator``, twilio-node's ``validateRequest``/``validateRequestWithBody``) with
the standard library only: it runs on the webhook's hot path for every request, so it
avoids importing the twilio SDK or pydantic and keeps allocations to the minimum the
algorithm needs. The tests pin it to known-answer vectors and to twilio-python itself.

Auth tokens never appear in return values, exceptions or reprs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final
from urllib.parse import parse_qsl, urlsplit

BODY_HASH_PARAM: Final = "bodySHA256"

_DEFAULT_PORTS: Final = {"https": "443", "http": "80"}

REASON_MISSING_SIGNATURE: Final = "missing signature"
REASON_NO_MATCH: Final = "no URL/token matched"
REASON_BODY_HASH_MISSING: Final = "bodySHA256 missing"
REASON_BODY_HASH_MISMATCH: Final = "bodySHA256 does not match the body"


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """The outcome of a verification, with enough detail to explain a rejection.

    ``matched_url`` and ``matched_token_index`` (0 = current token, 1 = previous) are set
    only when ``valid``; ``tried_urls`` lists the URL variants every token was tried with.
    """

    valid: bool
    matched_url: str | None
    matched_token_index: int | None
    tried_urls: tuple[str, ...]
    reason: str


def compute_signature(url: str, params: Sequence[tuple[str, str]], auth_token: str) -> str:
    """Return the X-Twilio-Signature Twilio sends for a request to ``url`` with ``params``.

    ``params`` are the decoded form fields in any order, repeats allowed. As in
    twilio-python (multi-dicts) and twilio-node (arrays), a repeated name contributes each
    of its *distinct* values once, in sorted order; names sort by code point, which is the
    UTF-8 byte order. Blank values are signed as they are: ``ToCity=`` contributes
    ``ToCity``, and dropping or trimming it changes the signature.
    """
    return _signature(_utf8(auth_token), _utf8(url + _signed_params(params))).decode("ascii")


def body_sha256(body: bytes) -> str:
    """Return the ``bodySHA256`` value Twilio puts in the URL of a request with ``body``."""
    return hashlib.sha256(body).hexdigest()


def url_with_body_hash(url: str, body: bytes) -> str:
    """Return ``url`` with ``bodySHA256=<hex>`` appended to its query (before any fragment)."""
    base, hash_mark, fragment = url.partition("#")
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{BODY_HASH_PARAM}={body_sha256(body)}{hash_mark}{fragment}"


def claimed_body_hash(url: str) -> str | None:
    """Return the (first) ``bodySHA256`` query value of ``url``, or None when it has none."""
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if name == BODY_HASH_PARAM:
            return value
    return None


# A pure function of the URL, which is the same for every webhook of an account's route; small,
# as a query string can make any number of distinct URLs.
@lru_cache(maxsize=32)
def url_variants(url: str) -> tuple[str, ...]:
    """Return the URLs a signature may have been computed over, ``url`` itself first.

    Twilio has not always signed the URL exactly as configured where the port is
    concerned, so the official libraries accept the URL with the scheme's default port
    added (443 for https, 80 for http) when it has none, and without its port when it has
    one (any port, as they do). Everything but the port is kept byte for byte: re-encoding
    a URL through a parser can change what was signed.
    """
    scheme_end = url.find("://")
    if scheme_end < 0 or any(delimiter in url[:scheme_end] for delimiter in "/?#"):
        return (url,)
    authority_start = scheme_end + 3
    authority_end = len(url)
    for delimiter in "/?#":
        found = url.find(delimiter, authority_start, authority_end)
        if found >= 0:
            authority_end = found
    host_start = url.rfind("@", authority_start, authority_end) + 1 or authority_start
    port_colon = url.rfind(":", host_start, authority_end)
    port = url[port_colon + 1 : authority_end] if port_colon >= 0 else ""
    has_port_part = port_colon >= 0 and (port == "" or (port.isascii() and port.isdigit()))
    prefix, suffix = url[:authority_end], url[authority_end:]
    variants = [url]
    if has_port_part:
        variants.append(url[:port_colon] + suffix)
    default_port = _DEFAULT_PORTS.get(url[:scheme_end].lower())
    if default_port is not None and (not has_port_part or port == ""):
        host = url[:port_colon] if has_port_part else prefix
        variants.append(f"{host}:{default_port}{suffix}")
    return tuple(dict.fromkeys(variants))


def verify_form(
    url: str,
    params: Sequence[tuple[str, str]],
    signature: str | None,
    auth_tokens: Sequence[str],
) -> SignatureCheck:
    """Check the signature of an ``application/x-www-form-urlencoded`` webhook.

    ``params`` are the decoded fields (``parse_qsl(body, keep_blank_values=True)``).
    ``auth_tokens`` is the current token, then optionally the previous one, so requests
    signed just before a token rotation still pass. Raises ``ValueError`` when no token is
    non-empty: an empty HMAC key is one anybody can sign with.
    """
    urls = url_variants(url)
    if not signature:
        return _rejected(urls, REASON_MISSING_SIGNATURE)
    return _match_signature(urls, _signed_params(params), signature, auth_tokens)


def verify_json(
    url: str, body: bytes, signature: str | None, auth_tokens: Sequence[str]
) -> SignatureCheck:
    """Check the signature of a webhook with a JSON (or other non-form) body.

    Both must hold, as in twilio-node's ``validateRequestWithBody``: the signature matches
    the URL (which carries ``bodySHA256``) with no parameters appended, and ``bodySHA256``
    equals the hex SHA-256 of the raw ``body``. Raises ``ValueError`` like
    :func:`verify_form`.
    """
    urls = url_variants(url)
    if not signature:
        return _rejected(urls, REASON_MISSING_SIGNATURE)
    claimed_hash = claimed_body_hash(url)
    if claimed_hash is None:
        return _rejected(urls, REASON_BODY_HASH_MISSING)
    check = _match_signature(urls, "", signature, auth_tokens)
    body_matches = hmac.compare_digest(_utf8(body_sha256(body)), _utf8(claimed_hash))
    if check.valid and not body_matches:
        return _rejected(urls, REASON_BODY_HASH_MISMATCH)
    return check


def _match_signature(
    urls: tuple[str, ...], signed_params: str, signature: str, auth_tokens: Sequence[str]
) -> SignatureCheck:
    """Try every URL variant with every token, comparing all of them in constant time.

    Always computing the full grid keeps the timing independent of which URL or token
    matched; the first match in (URL, token) order is reported.
    """
    keys = _token_keys(auth_tokens)
    expected = _utf8(signature)
    match: tuple[str, int] | None = None
    for url in urls:
        message = _utf8(url + signed_params)
        for token_index, key in keys:
            if hmac.compare_digest(_signature(key, message), expected) and match is None:
                match = (url, token_index)
    if match is None:
        return _rejected(urls, REASON_NO_MATCH)
    return SignatureCheck(True, match[0], match[1], urls, "")


def _signed_params(params: Sequence[tuple[str, str]]) -> str:
    # Sorting the distinct (name, value) pairs orders names first, then each name's
    # values: exactly the official libraries' "sorted names, sorted distinct values".
    return "".join([name + value for name, value in sorted(set(params))])


def _signature(key: bytes, message: bytes) -> bytes:
    return base64.b64encode(hmac.digest(key, message, "sha1"))


def _token_keys(auth_tokens: Sequence[str]) -> list[tuple[int, bytes]]:
    keys = [(index, _utf8(token)) for index, token in enumerate(auth_tokens) if token]
    if not keys:
        raise ValueError("no auth token to verify with (all given tokens are empty)")
    return keys


def _rejected(urls: tuple[str, ...], reason: str) -> SignatureCheck:
    return SignatureCheck(False, None, None, urls, reason)


def _utf8(text: str) -> bytes:
    # surrogatepass: a lone surrogate in attacker-supplied input must fail the comparison,
    # not raise; for every well-formed string this is plain UTF-8.
    return text.encode("utf-8", "surrogatepass")
