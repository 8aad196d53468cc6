"""Today's figures kept as counters: which quarter hour an event counts in.

An account's messages sent (Twilio accepted them: the outbound record's first write) and failed
(a status callback moved the message to ``failed`` or ``undelivered`` for the first time) are
counted per account and per quarter hour of UTC (``keys.figures_key``), when the conditional
write that records the event succeeds, never on its repeat (``adapters.outbound_store``). Every
time zone's midnight falls on a quarter hour of UTC, so a day in any zone is a whole run of
quarter hours: the console's summary sums them with one query (``console.reads``).

A failed message is counted in both: sent when Twilio accepted it, failed when its delivery
failed (the day each happened). Received is not a counter: it is the message index's count.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, Literal

from sms_automation.edge.timestamps import utc_timestamp

Figure = Literal["sent", "failed"]
FIGURES: Final[tuple[Figure, ...]] = ("sent", "failed")
QUARTER_HOUR_MINUTES: Final = 15


def quarter_hour(moment: datetime) -> str:
    """The start of ``moment``'s quarter hour in UTC, stamped like ``received_at``
    (``2026-12-07T05:15:00.000Z``), so a day's bounds select its quarter hours."""
    utc = moment.astimezone(UTC)
    start = utc.replace(minute=utc.minute - utc.minute % QUARTER_HOUR_MINUTES, second=0,
                        microsecond=0)  # fmt: skip
    return utc_timestamp(start)
