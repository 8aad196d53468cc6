"""https through a pinned address: the socket goes to the checked IP, while SNI, the
certificate check and ``Host`` are for the URL's host name (a real TLS server on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sms_automation.processing.http_request import TransportFailed, send
from sms_automation.triggers import HttpRequest
from tests.support.http_servers import serving

pytestmark = pytest.mark.integration  # real sockets: a local server, a closed port

HOST = "crm.example"


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Answer(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.hosts.append(self.headers.get("Host"))  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@dataclass
class TlsServer:
    port: int
    client_context: ssl.SSLContext
    server_names: list[str | None] = field(default_factory=list)
    hosts: list[str | None] = field(default_factory=list)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[TlsServer]:
    cert, key = self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    client = ssl.create_default_context(cafile=str(cert))
    world = TlsServer(server.server_address[1], client)
    server.hosts = world.hosts  # type: ignore[attr-defined]

    def remember_sni(sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        world.server_names.append(name)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = remember_sni  # type: ignore[assignment]
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with serving(server):
        yield world


def to_loopback(host: str, port: int) -> Sequence[str]:
    return ["127.0.0.1"]


def get(url: str) -> HttpRequest:
    return HttpRequest(
        step_id="t/1",
        trigger="t",
        method="GET",
        url=url,
        headers={},
        body=None,
        timeout_seconds=5,
    )


def test_https_to_a_pinned_address_names_the_host_in_sni_and_host(tls_server: TlsServer) -> None:
    variables = send(
        get(f"https://{HOST}:{tls_server.port}/hook"),
        allow_private=True,
        resolver=to_loopback,
        tls=tls_server.client_context,
    )
    assert variables["status"] == 204
    assert tls_server.server_names == [HOST]
    assert tls_server.hosts == [f"{HOST}:{tls_server.port}"]


def test_https_checks_the_certificate_against_the_urls_host_not_the_address(
    tls_server: TlsServer,
) -> None:
    with pytest.raises(TransportFailed) as failed:
        send(
            get(f"https://other.example:{tls_server.port}/hook"),
            allow_private=True,
            resolver=to_loopback,
            tls=tls_server.client_context,
        )
    assert failed.value.retry_later is False
    assert tls_server.hosts == []
