"""Programmable misbehaviour: each of the next requests meets one fault, in order."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sms_automation_local.twilio_sandbox.resources import STATUS_FOR_CODE


@dataclass(frozen=True, slots=True)
class ErrorAnswerFault:
    """Answer with a Twilio error (nothing is created)."""

    status: int
    code: int
    message: str | None = None
    retry_after: str | None = None


@dataclass(frozen=True, slots=True)
class SlowAnswerFault:
    """Do the work (a create creates), then wait ``seconds`` before answering: a client with a
    shorter read timeout gives up although the message exists."""

    seconds: float


@dataclass(frozen=True, slots=True)
class DropConnectionFault:
    """Close the connection without an answer, after doing the work or before it."""

    after_processing: bool = True


@dataclass(frozen=True, slots=True)
class HeldRequestFault:
    """Hold the request (nothing done yet) until ``release`` is set, then serve it as usual:
    ``arrived`` is set once it is held. For interleaving two callers at a precise point."""

    arrived: threading.Event
    release: threading.Event


Fault = ErrorAnswerFault | SlowAnswerFault | DropConnectionFault | HeldRequestFault


def server_error(status: int = 500, code: int = 20500) -> ErrorAnswerFault:
    return ErrorAnswerFault(status, code)


def rate_limited(retry_after: str | None = None) -> ErrorAnswerFault:
    return ErrorAnswerFault(429, 20429, retry_after=retry_after)


def twilio_error(code: int, status: int = 400) -> ErrorAnswerFault:
    return ErrorAnswerFault(STATUS_FOR_CODE.get(code, status), code)
