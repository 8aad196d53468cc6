"""What the three conversation tasks' lines share: the sends a task did not make (over the
account's cap, to an opted-out contact), counted on every line."""

from __future__ import annotations

from sms_automation.composition.runtime import Runtime
from sms_automation.edge.log_lines import Count


def sends_not_made(runtime: Runtime) -> tuple[Count, ...]:
    return (
        Count(name="SendsCapped", value=runtime.take_sends_capped()),
        Count(name="SendsToOptedOut", value=runtime.take_opt_out_counts().sends_skipped),
    )
