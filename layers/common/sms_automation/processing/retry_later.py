"""What a step that cannot be settled now raises: the work is retried later, nothing was done.

Its own module, without imports: the stream processor's handler catches ``RetryLater`` without
loading the port (and the engine) on a cold start. The class names are the errors the wait
state machine's ``Retry`` names (``statemachines/wait_for_reply.asl.json``).
"""


class RetryLater(Exception):
    """The step cannot be settled by this attempt now: the record (or task) is retried later;
    nothing was performed. The stream retries the record (a batch item failure); the wait
    state machine retries the task."""


class ClaimHeld(RetryLater):
    """Another attempt holds the step's claim and its lease runs: it may be performing it."""


class OutcomeStillUnknown(RetryLater):
    """Whether the step's create happened is not known yet: the claim is kept and a later
    attempt looks again."""
