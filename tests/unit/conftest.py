"""Unit tests open no network connection: every socket that would reach a host (TCP, UDP, a DNS
lookup) raises ``NetworkInUnitTest``. Local pipes (``AF_UNIX``, ``socketpair``) stay allowed.
A test that needs HTTP, a moto server or DNS belongs in ``tests/integration``."""

from __future__ import annotations

import socket
from typing import Any

import pytest


class NetworkInUnitTest(RuntimeError):
    """A unit test tried to use the network."""


def _refuse(what: str) -> Any:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise NetworkInUnitTest(f"unit tests open no network connection ({what})")

    return refused


class _GuardedSocket(socket.socket):
    def __init__(
        self, family: int = -1, type: int = -1, proto: int = -1, fileno: int | None = None
    ) -> None:
        if fileno is None and family not in (-1, socket.AF_UNIX):
            raise NetworkInUnitTest(f"unit tests open no network socket (family {family})")
        if fileno is None and family == -1:
            raise NetworkInUnitTest("unit tests open no network socket")
        super().__init__(family, type, proto, fileno)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "socket", _GuardedSocket)
    monkeypatch.setattr(socket, "create_connection", _refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", _refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "gethostbyname", _refuse("gethostbyname"))
