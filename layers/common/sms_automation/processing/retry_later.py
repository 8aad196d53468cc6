"""What a step that cannot be settled now raises: the work is retried later, nothing was done.

Its own module, without imports beyond the standard library: the stream processor's handler
catches ``RetryLater`` without loading the port (and the engine) on a cold start. The class
names are the errors the conversation state machine's ``Retry`` names
(``statemachines/conversation.asl.json``).
"""

from __future__ import annotations

from datetime import datetime


class RetryLater(Exception):
    """The step cannot be settled by this attempt now: the record (or task) is retried later;
    nothing was performed. The stream processor defers the record to its retry queue until
    ``retry_at`` (``processing.deferral``); the conversation state machine retries the task."""

    def __init__(self, message: str, *, retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at
        """When a later attempt can get further (``None``: not known)."""


class ClaimHeld(RetryLater):
    """Another attempt holds the step's claim and its lease runs: it may be performing it.
    ``retry_at``: when the lease ends."""


class OutcomeStillUnknown(RetryLater):
    """Whether the step's create happened is not known yet: the claim is kept and a later
    attempt looks again. ``retry_at``: when the next look is due."""


class Waiting(RetryLater):
    """The step waits for its time (its sender's send rate, the account's quiet hours):
    nothing was performed, and the step's claim is released before this is raised on
    (``port``). ``retry_at``: when it may go. A wait is not a failure: the stream processor's
    deferrals do not count it towards their limits (``deferral``), however long it lasts."""
