"""The ``http_request`` action: one bounded HTTP call, refused towards private networks.

A trigger's URL is user data rendered with message text, so it must not reach the function's
own network: loopback, private (RFC 1918, unique-local), link-local (the instance metadata
service lives there), multicast and reserved addresses are refused unless configuration allows
them (``HTTP_ALLOW_PRIVATE_NETWORKS=true``, e.g. for a local run). An IPv6 address that embeds
an IPv4 one (``::ffff:127.0.0.1``, 6to4, Teredo, NAT64) is judged by that one too.

The URL is parsed once (``parse_url``), strictly: ``http``/``https``, a host that is a host name
or an IP address written the usual way (no user name, no ``2130706433`` or ``0x7f.1``), an
optional port, then a path and query of visible ASCII. The host is resolved once; every address
is checked; the connection goes to a checked address (no second resolution, so a DNS answer
that changes cannot move the request), with ``Host`` and TLS (SNI and certificate) for the
host name. Redirects are not followed (a redirect could point anywhere).

What can go wrong is one of three exceptions, none quoting message text, none chaining the
transport's own error (which may hold the URL): ``DestinationRefused``, ``RequestInvalid``
(cannot be sent as it is; a retry would do the same) and ``TransportFailed`` (no response).
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import ipaddress
import json
import re
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sms_automation.triggers import HttpRequest
from sms_automation.triggers.http_rendering import AUTHORITY, HEADER_CONTROL

MAX_RESPONSE_BYTES = 65_536
MAX_TIMEOUT_SECONDS = 10.0
USER_AGENT = "sms-automation"

Resolver = Callable[[str, int], Sequence[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_URL: Final = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<rest>.*)", re.DOTALL
)
_ENDS_IN_A_NUMBER: Final = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)
_TARGET: Final = re.compile(r"[\x21-\x7e]*")
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")


class DestinationRefused(ValueError):
    pass


class RequestInvalid(ValueError):
    """The request cannot be sent as it is (a retry would do the same)."""


class TransportFailed(Exception):
    """No response. ``retry_later``: the request certainly did not reach the server and a
    later attempt may succeed (the connection was refused)."""

    def __init__(self, detail: str, *, retry_later: bool) -> None:
        super().__init__(detail)
        self.retry_later = retry_later


@dataclass(frozen=True, slots=True)
class Target:
    """A URL as it is checked and as it is sent: parsed once."""

    scheme: str
    host: str
    """A host name, or an IP address (IPv6 without brackets)."""
    port: int
    path: str
    """The request target: path and query (the fragment is not sent)."""
    address: IPAddress | None
    """The host when it is an IP address."""


def parse_url(url: str) -> Target:
    match = _URL.fullmatch(url)
    scheme = match.group("scheme").lower() if match else ""
    if match is None or scheme not in ("http", "https"):
        raise DestinationRefused("only http:// and https:// URLs are allowed")
    authority = AUTHORITY.fullmatch(match.group("authority"))
    if authority is None:
        raise DestinationRefused(
            "the URL's host is not a plain host name or IP address "
            "(no user name, no '%', '\\' or spaces; an IPv6 address without a zone)"
        )
    host, address = _host(authority.group("host"), authority.group("ipv6"))
    port = int(authority.group("port") or (443 if scheme == "https" else 80))
    if not 0 < port < 65536:
        raise DestinationRefused("the URL's port is out of range")
    path = match.group("rest").partition("#")[0]
    if not _TARGET.fullmatch(path):
        raise RequestInvalid(
            "the URL is invalid after substitution: its path or query holds a space, "
            "a control character or non-ASCII text"
        )
    if path.startswith("?") or not path:
        path = "/" + path
    return Target(scheme, host, port, path, address)


def _host(written: str, ipv6: str | None) -> tuple[str, IPAddress | None]:
    if ipv6 is not None:
        try:
            return ipv6, ipaddress.IPv6Address(ipv6)
        except ValueError:
            raise DestinationRefused("the URL's IPv6 address is invalid") from None
    name = written.removesuffix(".")
    if _ENDS_IN_A_NUMBER.fullmatch(name.rpartition(".")[2]):
        # Resolvers read 2130706433, 0x7f.1 and 0177.0.0.1 as 127.0.0.1: only a plain
        # dotted-quad IPv4 address is taken.
        try:
            address = ipaddress.IPv4Address(name)
        except ValueError:
            raise DestinationRefused(
                "the URL's host is a number but not a dotted-quad IPv4 address"
            ) from None
        return name, address
    return name, None


def resolve(host: str, port: int) -> list[str]:
    """Every address of ``host``, in the resolver's order of preference."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not is_public(embedded):
            return False
    return ip.is_global and not ip.is_multicast


def vetted_addresses(target: Target, *, allow_private: bool, resolver: Resolver) -> list[str]:
    """The addresses to connect to: resolved once, each one checked."""
    if target.address is not None:
        addresses = [str(target.address)]
    else:
        try:
            addresses = list(resolver(target.host, target.port))
        except OSError as error:
            raise DestinationRefused(f"cannot resolve {target.host}: {_reason(error)}") from None
    if not addresses:
        raise DestinationRefused(f"{target.host} has no address")
    if allow_private:
        return addresses
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not is_public(ip):
            raise DestinationRefused(
                f"{target.host} resolves to a non-public address ({ip}); "
                "set HTTP_ALLOW_PRIVATE_NETWORKS=true to allow it"
            )
    return addresses


def check_destination(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> None:
    vetted_addresses(parse_url(url), allow_private=allow_private, resolver=resolver)


class PinnedConnection(http.client.HTTPConnection):
    """Connects to an address already checked; ``Host``, SNI and the certificate are checked
    for the URL's host."""

    def __init__(
        self, target: Target, address: str, timeout: float, tls: ssl.SSLContext | None
    ) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.vetted_address = address
        self.tls = tls

    def connect(self) -> None:
        family = socket.AF_INET6 if ":" in self.vetted_address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect((self.vetted_address, self.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


@functools.cache
def default_tls() -> ssl.SSLContext:
    """Built on first use: building it loads the CA store (~20 ms of a cold start)."""
    return ssl.create_default_context()


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


def _encoded_headers(request: HttpRequest) -> dict[str, bytes]:
    """UTF-8 bytes, refused with a control character (a CR or LF would start a new header)."""
    encoded: dict[str, bytes] = {}
    for name, value in request.headers.items():
        if HEADER_CONTROL.search(value):
            raise RequestInvalid(f"header {name!r} holds a control character")
        try:
            encoded[name] = value.encode("utf-8")
        except UnicodeEncodeError:
            raise RequestInvalid(f"header {name!r} is not valid Unicode text") from None
    written = {name.lower() for name in encoded}
    if "user-agent" not in written:
        encoded["User-Agent"] = USER_AGENT.encode()
    if request.body is not None and "content-type" not in written:
        encoded["Content-Type"] = b"text/plain; charset=utf-8"
    return encoded


def _encoded_body(request: HttpRequest) -> bytes | None:
    if request.body is None:
        return None
    try:
        return request.body.encode("utf-8")
    except UnicodeEncodeError:
        raise RequestInvalid("the body is not valid Unicode text") from None


def _reason(error: BaseException) -> str:
    """What went wrong, without the error's own text (which may quote the URL)."""
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return type(error).__name__


def send(
    request: HttpRequest,
    *,
    allow_private: bool,
    resolver: Resolver = resolve,
    tls: ssl.SSLContext | None = None,
) -> dict[str, Any]:
    """The response's variables (``status``, ``body``, ``headers``, ``json``), whatever the
    status; raises ``DestinationRefused``, ``RequestInvalid`` or ``TransportFailed`` when
    there is no response. ``tls``: the context for https (default: the system's CAs)."""
    target = parse_url(request.url)
    addresses = vetted_addresses(target, allow_private=allow_private, resolver=resolver)
    headers, body = _encoded_headers(request), _encoded_body(request)
    timeout = min(request.timeout_seconds, MAX_TIMEOUT_SECONDS)
    context = (tls or default_tls()) if target.scheme == "https" else None
    connection = _connected(target, addresses, timeout, context)
    try:
        connection.request(request.method.upper(), target.path, body=body, headers=headers)
        response = connection.getresponse()
        return _variables(response.status, response.headers, response.read(MAX_RESPONSE_BYTES))
    except Exception as error:  # anything but a response: http.client, ssl, socket errors
        raise TransportFailed(f"no response: {_reason(error)}", retry_later=False) from None
    finally:
        connection.close()


def _connected(
    target: Target, addresses: list[str], timeout: float, tls: ssl.SSLContext | None
) -> PinnedConnection:
    """A connection to the first checked address that answers; refused by all of them: worth
    trying later (nothing was sent)."""
    reasons: list[BaseException] = []
    for address in addresses:
        connection = PinnedConnection(target, address, timeout, tls)
        try:
            connection.connect()
        except Exception as error:  # the next address; then one diagnostic for all
            connection.close()
            reasons.append(error)
            continue
        return connection
    refused = all(isinstance(reason, ConnectionRefusedError) for reason in reasons)
    detail = "; ".join(dict.fromkeys(_reason(reason) for reason in reasons))
    raise TransportFailed(f"no connection to {target.host}: {detail}", retry_later=refused)
