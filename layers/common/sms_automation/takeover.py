"""Taking over a contact: a person handles the contact by hand for a while (the console's
*Take over*), and the automatic sends to them pause until they hand back or the time is up.

While a contact is taken over, every automatic SMS or call to them (a trigger's ``send_sms`` or
``make_call``, a conversation's prompt, reminder or re-ask, an automation's message) is not
made: its step is finished ``paused`` in the action log with ``Takeover.pause_detail``, not
failed and not retried (a paused step is final: the person answers instead; handing back does
not send what was paused). Triggers still evaluate and record; answers to an open conversation
still resolve it. The check is made where a send is decided (``processing.effects``), next to
the opt-out check, so a message that sends nothing reads nothing more.

A takeover ends when handed back (the item is deleted) or at ``until``: expiry is a time check
(``Takeover.active``), the table's TTL only tidies up; no job runs. Pure: standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from sms_automation.edge.timestamps import parse_timestamp, utc_timestamp
from sms_automation.pii import mask_email

DEFAULT_MINUTES: Final = 60
"""How long a takeover lasts when no time is given."""
MAX_MINUTES: Final = 12 * 60
"""The longest takeover: a forgotten one ends within a working day."""


class TakeoverInvalid(ValueError):
    """A takeover request out of bounds (the message says which bound)."""


@dataclass(frozen=True, slots=True)
class Takeover:
    account: str
    contact: str
    by: str
    """The console user's e-mail."""
    since: str
    until: str

    def active(self, now: datetime) -> bool:
        return parse_timestamp(self.until) > now

    def pause_detail(self) -> str:
        """The action log's detail of a send not made (no full address)."""
        who = mask_email(self.by)
        return f"paused: taken over by {who} since {self.since} (until {self.until})"

    def as_dict(self) -> dict[str, str]:
        return {"by": self.by, "since": self.since, "until": self.until}


def take_over(account: str, contact: str, by: str, now: datetime, minutes: int | None) -> Takeover:
    """A takeover from ``now`` for ``minutes`` (``DEFAULT_MINUTES`` when None)."""
    minutes = DEFAULT_MINUTES if minutes is None else minutes
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_MINUTES:
        raise TakeoverInvalid(f"minutes is a whole number from 1 to {MAX_MINUTES}")
    return Takeover(
        account, contact, by, utc_timestamp(now), utc_timestamp(now + timedelta(minutes=minutes))
    )


class Takeovers(Protocol):
    """Where takeovers are kept (``adapters.takeover_store``), one per account and contact."""

    def get(self, account: str, contact: str) -> Takeover | None: ...

    def put(self, takeover: Takeover) -> None: ...

    def delete(self, account: str, contact: str) -> Takeover | None:
        """Hand back: the takeover it removed (in force or expired), ``None`` when there was
        none (never taken over, or another hand-back removed it first)."""
        ...


def current(takeovers: Takeovers, account: str, contact: str, now: datetime) -> Takeover | None:
    """The takeover in force for the contact at ``now``, if any (an expired one is none)."""
    found = takeovers.get(account, contact)
    return found if found is not None and found.active(now) else None
