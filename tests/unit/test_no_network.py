"""The unit tier's guard (``tests/unit/conftest.py``) holds: no connection, no DNS lookup."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from tests.unit.conftest import NetworkInUnitTest


def test_unit_tests_cannot_open_a_tcp_socket() -> None:
    with pytest.raises(NetworkInUnitTest):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def test_unit_tests_cannot_connect_through_the_standard_library() -> None:
    with pytest.raises(NetworkInUnitTest):
        urllib.request.urlopen("http://127.0.0.1:9/", timeout=1)


def test_unit_tests_cannot_resolve_a_name() -> None:
    with pytest.raises(NetworkInUnitTest):
        socket.getaddrinfo("example.com", 443)


def test_unit_tests_may_use_a_local_pipe() -> None:
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"x")
        assert right.recv(1) == b"x"
