"""How a step and a conversation end: the two enums of ``triggers.plan``, in a module of their own.

The conversations compare outcomes on every look (the timer, a resume, an answer) but build
steps only when they send; ``plan``'s step dataclasses cost a cold start about half a
millisecond each to create, so the functions that only read outcomes import them from here
(``plan`` uses both; ``triggers`` exports them, from here).
"""

from __future__ import annotations

from enum import StrEnum


class ConversationOutcome(StrEnum):
    REPLIED = "replied"
    TIMEOUT = "timeout"
    DELIVERY_FAILED = "delivery_failed"
    NO_VALID_ANSWER = "no_valid_answer"
    SUPERSEDED = "superseded"
    """A newer wait for the same contact and number took over: this conversation ends."""
    CANCELLED = "cancelled"
    """Cancelled by an operator (``conversations cancel``): this conversation ends."""
    OPTED_OUT = "opted_out"
    """The contact sent an opt-out keyword (STOP, ...): this conversation ends, nothing more
    is sent."""


class OutcomeStatus(StrEnum):
    DONE = "done"
    """Performed (or found already performed on a redelivery)."""
    FAILED = "failed"
    """Final failure (opted out, invalid number, ...): recorded; evaluation goes on."""
    PENDING = "pending"
    """Started, result not yet known (``wait_for_reply``): evaluation pauses at this step."""
    PAUSED = "paused"
    """Not performed because its contact is taken over by a person (``takeover``): recorded;
    evaluation goes on (the step is not a failure and is never performed later)."""
