"""Telling "never sent" from "sent, no answer" by the exception requests raises."""

from __future__ import annotations

import socket

import pytest
import requests
from urllib3.connection import HTTPConnection
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
)

from sms_automation.adapters.twilio_messaging import network_failure
from sms_automation.outbound import NoAnswer, NotSent

URL = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json"
CONNECTION = HTTPConnection("127.0.0.1", 9)


def wrapped(reason: Exception) -> requests.ConnectionError:
    """What requests raises: its ConnectionError around urllib3's MaxRetryError(reason)."""
    return requests.ConnectionError(MaxRetryError(None, URL, reason))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "error",
    [
        requests.ConnectTimeout(MaxRetryError(None, URL, ConnectTimeoutError())),  # type: ignore[arg-type]
        wrapped(NewConnectionError(CONNECTION, "Connection refused")),
        wrapped(NameResolutionError("api.invalid", CONNECTION, socket.gaierror("no such host"))),
    ],
    ids=["connect-timeout", "refused", "dns"],
)
def test_network_failure_not_sent_when_no_connection_was_made(
    error: requests.RequestException,
) -> None:
    assert isinstance(network_failure(error), NotSent)


@pytest.mark.parametrize(
    "error",
    [
        requests.ReadTimeout("read timed out"),
        requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError())),
        wrapped(ProtocolError("Connection aborted.")),
        requests.exceptions.ChunkedEncodingError("truncated"),
        requests.ConnectionError(),
    ],
    ids=["read-timeout", "aborted", "aborted-after-retry", "truncated", "bare"],
)
def test_network_failure_no_answer_once_the_request_may_have_been_sent(
    error: requests.RequestException,
) -> None:
    assert isinstance(network_failure(error), NoAnswer)
