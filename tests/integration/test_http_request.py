"""The http_request action: private destinations refused, responses turned into variables."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sms_automation.processing.http_request import (
    DestinationRefused,
    RequestInvalid,
    TransportFailed,
    check_destination,
    resolve,
    send,
)
from sms_automation.triggers import HttpRequest
from tests.support.http_servers import HangUpServer, serving

pytestmark = pytest.mark.integration  # real sockets: a local server, a closed port


def resolver_to(*addresses: str):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> Sequence[str]:
        return addresses

    return resolve


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",  # instance metadata
        "::1",
        "fd00::1",
        "fe80::1",
        "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
        "224.0.0.1",
    ],
)
def test_check_destination_refuses_non_public_addresses(address: str) -> None:
    with pytest.raises(DestinationRefused, match="non-public"):
        check_destination(
            "https://api.example.com/x", allow_private=False, resolver=resolver_to(address)
        )


def test_check_destination_refuses_when_any_resolved_address_is_private() -> None:
    with pytest.raises(DestinationRefused):
        check_destination(
            "https://api.example.com",
            allow_private=False,
            resolver=resolver_to("93.184.216.34", "10.0.0.1"),
        )


def test_check_destination_accepts_public_addresses() -> None:
    check_destination(
        "https://api.example.com", allow_private=False, resolver=resolver_to("93.184.216.34")
    )


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/", "gopher://x", "https://"]
)
def test_check_destination_refuses_other_schemes_and_hostless_urls(url: str) -> None:
    with pytest.raises(DestinationRefused):
        check_destination(url, allow_private=True, resolver=resolver_to("93.184.216.34"))


def test_check_destination_allows_private_networks_when_configured() -> None:
    check_destination(
        "http://127.0.0.1:8080/", allow_private=True, resolver=resolver_to("127.0.0.1")
    )


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        """``/echo``: the request's headers as JSON (their bytes read as UTF-8)."""
        received = {k.lower(): v.encode("latin-1").decode() for k, v in self.headers.items()}
        body = json.dumps(received).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        received = self.rfile.read(length).decode()
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
            return
        status = 404 if self.path == "/missing" else 200
        body = json.dumps({"echo": received, "auth": self.headers.get("Authorization")}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def local_server() -> Iterator[str]:
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _Handler)) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def hangup_server() -> Iterator[str]:
    with serving(HangUpServer()) as server:
        yield server.url


def request(url: str, *, body: str | None = "hello") -> HttpRequest:
    return HttpRequest(
        step_id="t/1",
        trigger="t",
        method="post",
        url=url,
        headers={"Authorization": "Bearer x"},
        body=body,
        timeout_seconds=5,
    )


def test_send_returns_status_body_json_and_headers(local_server: str) -> None:
    variables = send(request(f"{local_server}/crm"), allow_private=True)
    assert variables["status"] == 200
    assert variables["json"] == {"echo": "hello", "auth": "Bearer x"}
    assert variables["headers"]["content-type"] == "application/json"


def test_send_returns_error_statuses_as_variables(local_server: str) -> None:
    assert send(request(f"{local_server}/missing"), allow_private=True)["status"] == 404


def test_send_does_not_follow_redirects(local_server: str) -> None:
    assert send(request(f"{local_server}/redirect"), allow_private=True)["status"] == 302


def test_send_refuses_loopback_by_default(local_server: str) -> None:
    with pytest.raises(DestinationRefused):
        send(request(f"{local_server}/crm"), allow_private=False)


def test_send_reports_a_refused_connection_as_not_sent() -> None:
    with pytest.raises(TransportFailed) as failed:
        send(request("http://127.0.0.1:9/closed"), allow_private=True)
    assert failed.value.retry_later is True


# --- one resolution, one parser: the address checked is the address connected to ------------


class _Recorder(BaseHTTPRequestHandler):
    """Answers 200 with what it received: the path and the Host header."""

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Host")))  # type: ignore[attr-defined]
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


class RecordingServer(ThreadingHTTPServer):
    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Recorder)
        self.seen: list[tuple[str, str | None]] = []


@pytest.fixture
def two_loopback_servers() -> Iterator[tuple[RecordingServer, RecordingServer]]:
    """One server on 127.0.0.1 and one on 127.0.0.2, on the same port."""
    first = RecordingServer(("127.0.0.1", 0))
    with serving(first), serving(RecordingServer(("127.0.0.2", first.server_address[1]))) as second:
        yield first, second


class RebindingResolver:
    """A DNS name whose answer changes between lookups (DNS rebinding)."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append(host)
        return [self.answers[min(len(self.lookups), len(self.answers)) - 1]]


def get(url: str, headers: dict[str, str] | None = None) -> HttpRequest:
    return HttpRequest(
        step_id="t/1",
        trigger="t",
        method="GET",
        url=url,
        headers=headers or {"Authorization": "Bearer secret"},
        body=None,
        timeout_seconds=5,
    )


def test_send_connects_to_the_address_it_resolved_and_checked_once(
    two_loopback_servers: tuple[RecordingServer, RecordingServer],
) -> None:
    first, second = two_loopback_servers
    port = first.server_address[1]
    resolver = RebindingResolver("127.0.0.1", "127.0.0.2")
    variables = send(
        get(f"http://rebind.example:{port}/hook?x=1"), allow_private=True, resolver=resolver
    )
    assert variables["status"] == 200
    assert resolver.lookups == ["rebind.example"]  # one resolution, none by the transport
    assert first.seen == [("/hook?x=1", f"rebind.example:{port}")]
    assert second.seen == []


def test_send_refuses_a_name_whose_checked_answer_is_private_whatever_it_answers_next(
    two_loopback_servers: tuple[RecordingServer, RecordingServer],
) -> None:
    first, second = two_loopback_servers
    resolver = RebindingResolver("127.0.0.1", "93.184.216.34")
    with pytest.raises(DestinationRefused, match="non-public"):
        send(
            get(f"http://rebind.example:{first.server_address[1]}/"),
            allow_private=False,
            resolver=resolver,
        )
    assert resolver.lookups == ["rebind.example"]
    assert first.seen == second.seen == []


def names_public_except_numbers(host: str, port: int) -> Sequence[str]:
    """evil.com is public; anything else is resolved as the system would (numbers included)."""
    if host in ("evil.com", "evil"):
        return ["93.184.216.34"]
    return resolve(host, port)


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.com@127.0.0.1:{port}/",
        "http://127.0.0.1:{port}#@evil.com/",
        "http://127.0.0.1:{port}%2f@evil/",
        "http://127.0.0.1:{port}\\@evil.com/",
        "http://evil.com\\@127.0.0.1:{port}/",
        "http://user:pass@127.0.0.1:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://[::1]:{port}/",
        "http://[fe80::1%25lo]:{port}/",
        "http://[2002:7f00:1::1]:{port}/",  # 6to4 wrapping 127.0.0.1
        "http://2130706433:{port}/",
        "http://0x7f.1:{port}/",
        "http://0x7f000001:{port}/",
        "http://017700000001:{port}/",
        "http://127.1:{port}/",
        "http://127.0.0.1.:{port}/",
        "http://localhost:{port}/",
        "http://127.0.0.1:{port} /",
        "http:/127.0.0.1:{port}/",
        "http:\\\\127.0.0.1:{port}/",
    ],
)
def test_send_refuses_host_confusions_and_never_reaches_loopback(
    url: str, two_loopback_servers: tuple[RecordingServer, RecordingServer]
) -> None:
    first, second = two_loopback_servers
    with pytest.raises(DestinationRefused):
        send(
            get(url.format(port=first.server_address[1])),
            allow_private=False,
            resolver=names_public_except_numbers,
        )
    assert first.seen == second.seen == []


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("http://x.example/a b", "the URL is invalid"),
        ("http://x.example/café", "the URL is invalid"),
        ("http://x.example/?q=a\r\nHost: evil", "the URL is invalid"),
    ],
)
def test_send_refuses_an_unsendable_url_without_echoing_it(url: str, detail: str) -> None:
    with pytest.raises(RequestInvalid) as invalid:
        send(get(url), allow_private=True, resolver=resolver_to("127.0.0.1"))
    assert detail in str(invalid.value)
    assert "café" not in str(invalid.value)
    assert "a b" not in str(invalid.value)
    assert invalid.value.__context__ is None  # nothing chained that could quote the URL


@pytest.mark.parametrize("value", ["a\r\nX-Evil: 1", "a\nb", "a\x00b", "\ud800"])
def test_send_refuses_a_header_value_that_cannot_be_sent_as_it_is(
    value: str, local_server: str
) -> None:
    with pytest.raises(RequestInvalid, match="header 'X-Text'"):
        send(get(f"{local_server}/", {"X-Text": value}), allow_private=True)


def test_send_sends_unicode_header_values_as_utf8(local_server: str) -> None:
    variables = send(get(f"{local_server}/echo", {"X-Text": "café 😀"}), allow_private=True)
    assert variables["json"]["x-text"] == "café 😀"


def test_send_refuses_a_body_that_is_not_unicode_text(local_server: str) -> None:
    with pytest.raises(RequestInvalid, match="body"):
        send(request(f"{local_server}/crm", body="\ud800"), allow_private=True)


def test_send_reports_a_server_that_hangs_up_as_possibly_sent(hangup_server: str) -> None:
    with pytest.raises(TransportFailed) as failed:
        send(request(hangup_server), allow_private=True)
    assert failed.value.retry_later is False
    assert failed.value.__suppress_context__
