"""The console's Dead letters page: what ``sms-automation dead-letters list`` lists (each batch
the trigger processor gave up on, read back from the table's stream to name its messages) and
**redrive** of one entry (``dead_letters.redrive``: its messages replayed through the processor,
the entry deleted only when all of them processed), audited ``dead_letter.redrive`` when it
changed something: a message given to the processor again, or the entry deleted (once per
entry: it is deleted once). A redrive that replayed nothing and kept the entry (malformed, its
stream records expired, its messages gone) answers what it found and writes no entry; a second
redrive at the same moment finds the entry held by the first (404), nothing audited.

Account scope: an entry belongs to the accounts of the messages it covers. A user limited to
accounts sees (and may redrive) an entry only when every one of its messages is of their
accounts; an entry that cannot be attributed to an account (malformed, its stream records
expired, a message of unknown account, or no message at all) only a user with every account
sees. Its redrive (when it changed something) is audited under ``audit.UNATTRIBUTED``
(``*``), a record only users with every account read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

from sms_automation.console.access import Principal
from sms_automation.console.audit import UNATTRIBUTED, AuditLog
from sms_automation.console.queries import BadRequest
from sms_automation.console.reads import NotFound
from sms_automation.edge.timestamps import utc_timestamp

if TYPE_CHECKING:  # the dead_letters package is imported by the dead letters routes only
    from sms_automation.dead_letters.redrive import EntryReport, Survey, SurveyedEntry

MAX_ENTRIES: Final = 100
"""The most entries a listing reads (``dead-letters list``'s default)."""
ENTRY_ID: Final = re.compile(r"^[A-Za-z0-9-]{1,100}$")
REPLAYED: Final = frozenset({"processed", "still_failing"})
"""The outcomes of a message the processor was given again (``dead_letters.replay.Outcome``)."""


class DeadLetterTools(Protocol):
    """The ``dead_letters`` package on the deployment's queue, stream and processor."""

    def survey(self, limit: int) -> Survey:
        """Every entry with the messages it covers, and how many others held them hidden as it
        received the queue; the queue is left as it was."""
        ...

    def redrive(self, entry_id: str, allow: Callable[[SurveyedEntry], bool]) -> EntryReport | None:
        """Redrive that one entry if ``allow`` (asked of it alone, its messages read back) says
        so, in one pass over the queue; None when it was refused or not received (gone, or
        someone else holds it)."""
        ...


def accounts_of(surveyed: SurveyedEntry) -> frozenset[str] | None:
    """The accounts of the entry's messages; None when it cannot be attributed."""
    from sms_automation.dead_letters.stream import StreamState

    resolution = surveyed.resolution
    if resolution is None or resolution.state is not StreamState.HELD or not resolution.messages:
        return None
    accounts = frozenset(message.account for message in resolution.messages)
    return None if "" in accounts else accounts


def may_see(principal: Principal, surveyed: SurveyedEntry) -> bool:
    if principal.accounts is None:
        return True
    accounts = accounts_of(surveyed)
    return accounts is not None and accounts <= principal.accounts


@dataclass(frozen=True, slots=True)
class ConsoleDeadLetters:
    tools: DeadLetterTools
    audit: AuditLog

    def listing(self, principal: Principal) -> dict[str, Any]:
        """``complete``: every entry was read (fewer than ``MAX_ENTRIES``, and none held by
        someone else at that moment: ``in_flight`` counts those, approximately)."""
        found = self.tools.survey(MAX_ENTRIES)
        visible = [entry_view(s) for s in found.entries if may_see(principal, s)]
        complete = len(found.entries) < MAX_ENTRIES and not found.held_elsewhere
        return {"items": visible, "complete": complete, "in_flight": found.held_elsewhere}

    def redrive(self, principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        entry_id = body.get("entry")
        if not isinstance(entry_id, str) or not ENTRY_ID.match(entry_id):
            raise BadRequest("entry must be a dead letter's entry id, as the listing shows it")
        report = self.tools.redrive(entry_id, lambda surveyed: may_see(principal, surveyed))
        if report is None:  # refused, gone or held by someone else: the same answer (no leak)
            raise NotFound(
                f"no dead letter {entry_id!r} that you may see (gone, or being redriven by "
                "someone else right now: list again)"
            )
        from sms_automation.dead_letters.redrive import SurveyedEntry
        from sms_automation.dead_letters.replay import Outcome

        processed = sum(1 for m in report.messages if m.outcome is Outcome.PROCESSED)
        replayed = any(m.outcome in REPLAYED for m in report.messages)
        if not (report.deleted or replayed):  # nothing replayed, nothing deleted: no change
            return report_view(report)
        entry = SurveyedEntry(report.entry, report.resolution)
        for account in sorted(accounts_of(entry) or {UNATTRIBUTED}):
            self.audit.record(
                actor=principal.email,
                action="dead_letter.redrive",
                account=account,
                target=entry_id,
                detail={
                    "deleted": report.deleted,
                    "messages": len(report.messages),
                    "processed": processed,
                    "kept_because": report.kept_because or None,
                },
                once=entry_id if report.deleted else None,  # an entry is deleted once
            )
        return report_view(report)


def entry_view(surveyed: SurveyedEntry) -> dict[str, Any]:
    """What ``dead-letters list --json`` says of an entry, minus the stream's coordinates."""
    entry, resolution = surveyed.entry, surveyed.resolution
    view: dict[str, Any] = {"entry": entry.message_id, "malformed": entry.problem or None}
    batch = entry.batch
    if batch is not None:
        view |= {
            "failed_at": utc_timestamp(batch.failed_at),
            "condition": batch.condition,
            "attempts": batch.attempts,
            "function_error": batch.function_error or None,
            "batch_size": batch.batch_size,
            "first_arrival": utc_timestamp(batch.first_arrival),
            "last_arrival": utc_timestamp(batch.last_arrival),
        }
    if resolution is not None:
        view |= {
            "stream": resolution.state.value,
            "stream_detail": resolution.detail or None,
            "messages": [
                {"message_sid": m.message_sid, "account": m.account or None}
                for m in resolution.messages
            ],
        }
    view["accounts"] = sorted(accounts_of(surveyed) or ())
    return view


def report_view(report: EntryReport) -> dict[str, Any]:
    return {
        "entry": report.entry.message_id,
        "deleted": report.deleted,
        "kept_because": report.kept_because or None,
        "messages": [
            {
                "message_sid": m.message_sid,
                "account": m.account or None,
                "outcome": m.outcome.value,
                "detail": m.detail or None,
            }
            for m in report.messages
        ],
    }
