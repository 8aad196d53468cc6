"""One record per side-effecting step of a message: the idempotency ledger.

A step is *claimed* (``started``) with a conditional put before its side effect, and *finished*
(``done`` / ``failed``) after it. A redelivered message finds the finished record and gets the
recorded outcome back instead of a second SMS.

A claim is a **lease**: it carries ``lease_until``, the claiming attempt's start plus its
function's timeout plus a margin (``port.lease_for``). Until then the attempt may still be
running, and nobody else touches the step; after it, the attempt is certainly over (Lambda
stopped it), and another attempt may *take the claim over* (``take_over``: a conditional update
on the ``started_at`` it saw, so of two takers exactly one wins). An attempt that ends with an
error while holding a claim gives its lease up at once (``abandon``), so the retry need not wait.

A claim is *released* (deleted) only when the effect certainly did not happen, so the next
attempt may perform it. A claim whose effect may have happened but could not be identified yet
stays, marked unknown (``record_unknown``: since when, how many looks; the lease given up), and
the next attempt looks again (``port``).

The ledger itself is a port (``ports.StepLedger``): ``adapters.step_ledger`` keeps it in the app
table with conditional writes; the tests' in-memory ledger keeps the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class StepState(StrEnum):
    STARTED = "started"
    DONE = "done"
    FAILED = "failed"
    PAUSED = "paused"
    """Not performed, on purpose and for good: its contact was taken over by a person
    (``takeover``). Final like ``failed``, but not a failure: nothing went wrong."""


@dataclass(frozen=True, slots=True)
class StepEntry:
    step_id: str
    kind: str
    state: StepState
    started_at: str
    finished_at: str = ""
    detail: str = ""
    variables: Mapping[str, Any] = field(default_factory=dict)
    resource_sid: str = ""
    """The Twilio SID (SM..., CA...) the step created, when it created one."""
    attempts: int = 1
    lease_until: str = ""
    """While ``started``: until when the attempt holding the claim may still be running."""
    claimed_at: str = ""
    """When the step was first claimed: a lookup searches Twilio from then on."""
    unknown_since: str = ""
    """While ``started``: since when its outcome is unknown (a create that may have happened)."""
    looks: int = 0
    """How many times an unknown outcome was looked up without settling it."""
