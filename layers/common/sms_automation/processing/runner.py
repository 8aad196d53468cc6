"""Process one stored inbound message: pin its trigger version, evaluate, record the evaluation.

An opt-out keyword (``opt_out``; the caller says whether a message is one) is evaluated only
against the triggers that ask for it (``on_opt_out``); when none does, the
evaluation is ``opted_out`` and nothing runs.

Safe to call any number of times for the same message (stream redeliveries, dead-letter redrives),
two attempts at the same moment included: the first write of the evaluation pins the trigger
version, the step ledger answers every step already performed, and a message whose evaluation
finished is not evaluated again.

The first write is one of two. A message that acts is pinned (``running``) before its first step,
then finished. A message its version performs nothing for (no trigger matches, or none that
matches has a step to take: the common case) is known to be so before anything is written: the
evaluation is made without a port that acts (``Engine.dry_run``) and written once, finished
(``EvaluationStore.finish_once``): one write instead of two. An attempt whose write meets a
record another attempt wrote first goes on from that record, whatever it is: finished, it is
the answer; running, its pinned version is evaluated (its steps through the ledger, at most
once). So two attempts that read different versions (a push between their pointer reads) still
end with one: the one written first.

Time conditions, ``%now%``/``%date%``/``%time%`` and a conversation's ``until`` without an offset
are evaluated in the account's time zone (``account_zone``; an account without one is UTC),
pinned on the evaluation by its first attempt: a later attempt or a replay after a conversation
decides the same way even if the account's zone changed meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.processing.evaluations import EvaluationRecord, is_automation_run
from sms_automation.triggers.versions import PerVersion, StoredTriggers

if TYPE_CHECKING:
    # The engine (pydantic, YAML) is imported when the first trigger file is compiled: a cold
    # start whose message has no triggers, or is a conversation's answer, never loads it.
    from sms_automation.processing.ports import EvaluationStore
    from sms_automation.triggers import ActionPort, Engine
    from sms_automation.triggers.context import Diagnostic


class TriggerSource(Protocol):
    def current(self, account: str) -> StoredTriggers | None: ...

    def version(self, account: str, version: int) -> StoredTriggers | None: ...


OPTED_OUT = "opted_out"
"""The evaluation status of an opt-out keyword that no trigger asked for (nothing ran)."""


class MissingTriggerVersion(RuntimeError):
    """The pinned trigger version is gone: retrying cannot help; the record becomes a dead
    letter."""


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    evaluation: EvaluationRecord
    replayed: bool  # an earlier attempt had already started this message
    steps_performed: int = 0


def received_at(message: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(message["received_at"]).replace("Z", "+00:00"))


class MessageProcessor:
    def __init__(
        self,
        *,
        evaluations: EvaluationStore,
        triggers: TriggerSource,
        engines: PerVersion[Engine],
        port_for: Callable[[Mapping[str, Any]], ActionPort],
        clock: Callable[[], datetime],
        account_zone: Callable[[str], str | None],
    ) -> None:
        """``account_zone``: an account's IANA time zone by name (None: UTC)."""
        self._evaluations = evaluations
        self._triggers = triggers
        self._engines = engines
        self._port_for = port_for
        self._clock = clock
        self._account_zone = account_zone

    def process(self, message: Mapping[str, Any], *, opt_out: bool = False) -> EvaluationResult:
        """``message``: a stored inbound message, or an automation run's origin (which names
        its automation and carries the trigger version pinned when it was started).
        ``opt_out``: the message is an opt-out keyword."""
        existing = self._evaluations.get(str(message["message_sid"]))
        return self.process_after_read(message, existing, opt_out=opt_out)

    def process_after_read(
        self,
        message: Mapping[str, Any],
        existing: EvaluationRecord | None,
        *,
        opt_out: bool = False,
    ) -> EvaluationResult:
        """As ``process``, ``existing`` being the message's evaluation as the caller has just
        read it (the intake reads it first): every write that follows is conditional on the
        record as it is, so an older read costs at most work that the write then undoes."""
        sid, account = str(message["message_sid"]), str(message["account"])
        if existing is not None and existing.finished:
            return EvaluationResult(existing, replayed=True)
        if existing is None and is_automation_run(message):
            version, fingerprint = int(message["trigger_version"]), str(message["fingerprint"])
        elif existing is None:
            current = self._triggers.current(account)
            if current is None:
                status = OPTED_OUT if opt_out else "no_triggers"
                return self.went_on(
                    message,
                    self._evaluations.start(
                        sid,
                        account,
                        trigger_version=0,
                        fingerprint="",
                        now=self._now(),
                        status=status,
                    ),
                    opt_out=opt_out,
                )
            inert = self._performing_nothing(message, current, opt_out=opt_out)
            if inert is not None:
                return self.went_on(message, inert, opt_out=opt_out)
            version, fingerprint = current.version, current.fingerprint
        else:
            version, fingerprint = existing.trigger_version, existing.fingerprint
        # The first attempt pins the version and zone; a concurrent or later one gets that
        # evaluation back.
        evaluation = self._evaluations.start(
            sid,
            account,
            trigger_version=version,
            fingerprint=fingerprint,
            now=self._now(),
            timezone=self._account_zone(account) or "",
        )
        if existing is not None:
            return self._evaluate(message, evaluation, replayed=True, opt_out=opt_out)
        return self.went_on(message, evaluation, opt_out=opt_out)

    def went_on(
        self, message: Mapping[str, Any], written: EvaluationRecord, *, opt_out: bool = False
    ) -> EvaluationResult:
        """After this attempt's first write: the record it wrote (``attempts`` 1), or the one
        another attempt wrote first (this attempt counted on it, not counted again), finished or
        to evaluate."""
        replayed = written.attempts > 1
        if written.finished:
            return EvaluationResult(written, replayed=replayed)
        return self._evaluate(message, written, replayed=replayed, opt_out=opt_out)

    def _performing_nothing(
        self, message: Mapping[str, Any], current: StoredTriggers, *, opt_out: bool
    ) -> EvaluationRecord | None:
        """A message the current version performs nothing for, written once, finished (or the
        record another attempt wrote first); None when the version would act on it."""
        account = str(message["account"])
        zone = self._account_zone(account) or ""
        engine = self._engines.get(account, current)
        matched: tuple[str, ...] = ()
        diagnostics: list[dict[str, str]] = []
        if opt_out and not engine.runs_on_opt_out:
            status = OPTED_OUT
        else:
            from sms_automation.triggers.engine import AccountSettings  # loaded with the engine

            evaluated = engine.dry_run(
                dict(message.get("params") or {}),
                now=received_at(message),
                account=AccountSettings(account, zone or None),
                headers=dict(message.get("headers") or {}),
                opt_out=opt_out,
            )
            if evaluated.steps:
                return None
            status, matched = evaluated.status.value, evaluated.matched
            diagnostics = _diagnostics(evaluated.diagnostics)
        return self._evaluations.finish_once(
            str(message["message_sid"]),
            account,
            trigger_version=current.version,
            fingerprint=current.fingerprint,
            timezone=zone,
            now=self._now(),
            status=status,
            matched=matched,
            diagnostics=diagnostics,
        )

    def _evaluate(
        self,
        message: Mapping[str, Any],
        evaluation: EvaluationRecord,
        *,
        replayed: bool,
        opt_out: bool,
    ) -> EvaluationResult:
        if evaluation.finished:
            return EvaluationResult(evaluation, replayed=replayed)
        stored = self._triggers.version(evaluation.account, evaluation.trigger_version)
        if stored is None:
            raise MissingTriggerVersion(
                f"trigger version {evaluation.trigger_version} of {evaluation.account!r} is gone"
            )
        engine = self._engines.get(evaluation.account, stored)
        # Loaded with the engine (above), not at import.
        from sms_automation.triggers.engine import AccountSettings, UnknownAutomation

        automation = str(message["automation"]) if is_automation_run(message) else None
        opt_out = opt_out and automation is None
        if opt_out and not engine.runs_on_opt_out:
            finished = self._evaluations.finish(
                evaluation.message_sid,
                status=OPTED_OUT,
                now=self._now(),
                matched=[],
                diagnostics=[],
                paused_at=None,
            )
            return EvaluationResult(finished, replayed=replayed)
        try:
            evaluated = engine.evaluate(
                dict(message.get("params") or {}),
                now=received_at(message),
                account=AccountSettings(evaluation.account, evaluation.timezone or None),
                port=self._port_for(message),
                headers=dict(message.get("headers") or {}),
                automation=automation,
                opt_out=opt_out,
            )
        except UnknownAutomation as error:  # the pinned version had it when the evaluation started
            raise MissingTriggerVersion(str(error)) from None
        finished = self._evaluations.finish(
            evaluation.message_sid,
            status=evaluated.status.value,
            now=self._now(),
            matched=evaluated.matched,
            diagnostics=_diagnostics(evaluated.diagnostics),
            paused_at=evaluated.paused_at,
        )
        return EvaluationResult(finished, replayed=replayed, steps_performed=len(evaluated.steps))

    def _now(self) -> str:
        return utc_timestamp(self._clock())


def _diagnostics(diagnostics: Sequence[Diagnostic]) -> list[dict[str, str]]:
    """As the evaluation stores them."""
    return [
        {
            "severity": d.severity,
            "message": d.message,
            "trigger": d.trigger or "",
            "step_id": d.step_id or "",
        }
        for d in diagnostics
    ]
