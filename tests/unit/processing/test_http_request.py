"""The http_request action: private destinations refused, responses turned into variables."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sms_automation.processing.http_request import (
    DestinationRefused,
    TransportFailed,
    check_destination,
    send,
)
from sms_automation.triggers import HttpRequest


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
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


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
    assert failed.value.sent is False
