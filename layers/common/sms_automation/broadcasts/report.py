"""A broadcast's report: what became of every row, from the runs themselves. Pure.

The rows file names every row the broadcast offered; each row's run id follows from the
broadcast id and the line (``automations.start.run_id_for`` of the row's idempotency key), so
the report reads each run's story (``AutomationRuns.describe``: evaluation, steps and their
deliveries, conversations) and counts:

- ``rows``, ``invalid`` (with the bad rows' lines), ``opted_out`` (at validation, or refused
  by the processor), ``skipped`` (a contact repeated in the file, or a row not started: the
  broadcast was cancelled or the start refused it);
- ``started`` (runs that exist), ``sent`` (SMS steps done), ``delivered``, ``failed`` by
  Twilio error code (failed or undelivered deliveries, failed send steps), ``answered`` by
  answer (each conversation's reply, trimmed, upper-cased, control characters dropped; at
  most ``MAX_ANSWERS`` kinds, the rest as ``(other)``), ``waiting`` (conversations still open).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from sms_automation.automations.start import run_id_for
from sms_automation.broadcasts.rows import row_key
from sms_automation.edge.printable import printable

MAX_ANSWERS: Final = 20
MAX_ANSWER_CHARS: Final = 40
SEND_KINDS: Final = frozenset({"send_sms"})
FAILED_DELIVERIES: Final = frozenset({"failed", "undelivered"})
OPTED_OUT_DETAIL: Final = "opted out"
"""In a send step's detail: not sent, the contact opted out (``opt_out.ContactState``)."""

DescribeRun = Callable[[str], Mapping[str, Any] | None]


def row_run_id(account: str, broadcast_id: str, line: int) -> str:
    return run_id_for(account, row_key(broadcast_id, line))


def build_report(
    record: Mapping[str, Any], lines: Iterable[int], describe: DescribeRun
) -> dict[str, Any]:
    """The report of one broadcast: ``describe(run_id)`` is the run's view, ``None`` when the
    row never started."""
    counts = record.get("counts") or {}
    tally: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    answers: Counter[str] = Counter()
    for line in lines:
        run = describe(row_run_id(str(record["account"]), str(record["broadcast_id"]), line))
        if run is None:
            tally["not_started"] += 1
            continue
        tally["started"] += 1
        _count_run(run, tally, failed, answers)
    return {
        "broadcast_id": record["broadcast_id"],
        "account": record["account"],
        "automation": record["automation"],
        "status": record["status"],
        "rows": int(counts.get("rows", 0)),
        "invalid": int(counts.get("invalid", 0)),
        "invalid_rows": list(record.get("bad_rows") or []),
        "opted_out": int(counts.get("opted_out", 0)) + tally["opted_out"],
        "skipped": int(counts.get("duplicates", 0)) + tally["not_started"],
        "started": tally["started"],
        "sent": tally["sent"],
        "delivered": tally["delivered"],
        "failed": dict(sorted(failed.items())),
        "answered": _top(answers),
        "waiting": tally["waiting"],
    }


def _count_run(
    run: Mapping[str, Any], tally: Counter[str], failed: Counter[str], answers: Counter[str]
) -> None:
    steps = [step for step in run.get("steps") or () if step.get("kind") in SEND_KINDS]
    refused = [step for step in steps if OPTED_OUT_DETAIL in str(step.get("detail", ""))]
    if run.get("status") == "opted_out" or refused:
        tally["opted_out"] += 1
    for step in steps:
        if step in refused:
            continue
        if step.get("state") == "failed":
            failed[_failure_code(str(step.get("detail", "")))] += 1
            continue
        if step.get("state") != "done":
            continue
        tally["sent"] += 1
        delivery = step.get("delivery") or {}
        if delivery.get("status") == "delivered":
            tally["delivered"] += 1
        elif delivery.get("status") in FAILED_DELIVERIES:
            failed[str(delivery.get("error_code") or "unknown")] += 1
    for conversation in run.get("conversations") or ():
        outcome = conversation.get("outcome") or {}
        if conversation.get("status") == "waiting" or not outcome:
            tally["waiting"] += 1
        elif outcome.get("outcome") == "replied":
            answers[_answer(str(outcome.get("body", "")))] += 1


def _failure_code(detail: str) -> str:
    """A failed send step's detail names Twilio's code as ``... (Twilio error 21211)``."""
    marker = "Twilio error "
    at = detail.rfind(marker)
    if at >= 0:
        digits = "".join(c for c in detail[at + len(marker) :][:6] if c.isdigit())
        if digits:
            return digits
    return "send_failed"


def _answer(body: str) -> str:
    return " ".join(printable(body).split()).upper()[:MAX_ANSWER_CHARS] or "(empty)"


def _top(answers: Counter[str]) -> dict[str, int]:
    top = dict(answers.most_common(MAX_ANSWERS))
    rest = sum(answers.values()) - sum(top.values())
    if rest:
        top["(other)"] = rest
    return top
