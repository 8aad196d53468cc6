"""The ``http_request`` action: one bounded HTTP call, refused towards private networks.

A trigger's URL is user data rendered with message text, so it must not reach the function's
own network: loopback, private (RFC 1918, unique-local), link-local (the instance metadata
service lives there), multicast and reserved addresses are refused unless configuration allows
them (``HTTP_ALLOW_PRIVATE_NETWORKS=true``, e.g. for a local run). Every address the host name
resolves to is checked, and redirects are not followed (a redirect could point anywhere).
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from sms_automation.triggers import HttpRequest

MAX_RESPONSE_BYTES = 65_536
MAX_TIMEOUT_SECONDS = 10.0

Resolver = Callable[[str, int], Sequence[str]]


class DestinationRefused(ValueError):
    pass


class TransportFailed(Exception):
    """No response: ``sent`` tells whether the request may have reached the server."""

    def __init__(self, detail: str, *, sent: bool) -> None:
        super().__init__(detail)
        self.sent = sent


def resolve(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port)})


def check_destination(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise DestinationRefused(f"only http and https URLs are allowed, not {parts.scheme!r}")
    if not parts.hostname:
        raise DestinationRefused("the URL has no host")
    if allow_private:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolver(parts.hostname, port)
    except OSError as error:
        raise DestinationRefused(f"cannot resolve {parts.hostname}: {error}") from error
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            raise DestinationRefused(
                f"{parts.hostname} resolves to a non-public address ({ip}); "
                "set HTTP_ALLOW_PRIVATE_NETWORKS=true to allow it"
            )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    """Built on first use: building it loads the CA store (~20 ms of a cold start)."""
    return urllib.request.build_opener(_NoRedirects())


def _variables(status: int, headers: Any, raw: bytes) -> dict[str, Any]:
    body = raw[:MAX_RESPONSE_BYTES].decode("utf-8", errors="replace")
    variables: dict[str, Any] = {
        "status": status,
        "body": body,
        "headers": {name.lower(): value for name, value in headers.items()},
    }
    if "json" in (headers.get("Content-Type") or "").lower():
        with contextlib.suppress(ValueError):
            variables["json"] = json.loads(body)
    return variables


def send(
    request: HttpRequest, *, allow_private: bool, resolver: Resolver = resolve
) -> dict[str, Any]:
    """The response's variables (``status``, ``body``, ``headers``, ``json``), whatever the
    status; raises ``DestinationRefused`` or ``TransportFailed`` when there is no response."""
    check_destination(request.url, allow_private=allow_private, resolver=resolver)
    data = request.body.encode("utf-8") if request.body is not None else None
    outgoing = urllib.request.Request(  # noqa: S310 - scheme checked above
        request.url, data=data, method=request.method.upper(), headers=dict(request.headers)
    )
    timeout = min(request.timeout_seconds, MAX_TIMEOUT_SECONDS)
    try:
        with _opener().open(outgoing, timeout=timeout) as response:
            return _variables(response.status, response.headers, response.read(MAX_RESPONSE_BYTES))
    except urllib.error.HTTPError as answer:
        with answer:
            return _variables(answer.code, answer.headers, answer.read(MAX_RESPONSE_BYTES))
    except urllib.error.URLError as error:
        refused = isinstance(error.reason, ConnectionRefusedError | socket.gaierror)
        raise TransportFailed(f"no response: {error.reason}", sent=not refused) from error
    except (TimeoutError, OSError) as error:
        raise TransportFailed(f"no response: {error}", sent=True) from error
