"""A message's step-ledger port (``processing.port.LedgerActionPort``) and the Twilio client
its sends use, built one way for both functions that perform steps: the processing runtime
(``composition.runtime``: a trigger's, an automation's, a conversation's steps) and the
console's replies (``composition.console_writes``).

What differs between them is what the effects are given (``EffectOptions``: the send guard,
the takeovers, quiet hours, the mailer... a person's reply has none of these) and their
``EffectSettings``; the ledger, the outbound records whose status callbacks name the step, the
Twilio client per account and token and the claim's lease are the same. Imported when a step
is first performed: the runtime's cold starts do not load the effects or the Twilio client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypedDict, Unpack

from sms_automation.accounts import Account
from sms_automation.adapters.account_store import CachedAccountDirectory
from sms_automation.adapters.outbound_store import DynamoOutboundStore
from sms_automation.adapters.record_table import DynamoRecordTables
from sms_automation.adapters.step_ledger import DynamoStepLedger
from sms_automation.adapters.twilio_messaging import TwilioMessaging
from sms_automation.opt_out import ContactRecords
from sms_automation.processing.effects import Effects, EffectSettings, Messaging, QuietHoursRule
from sms_automation.processing.pacing import Pacer, Priority
from sms_automation.processing.port import LedgerActionPort, lease_for
from sms_automation.processing.ports import EventPublisher, FunctionInvoker, Mailer
from sms_automation.send_guard import SendGuard
from sms_automation.takeover import Takeovers
from sms_automation.webhooks.receive_status import OutboundKind


@cache
def messaging_client(account_sid: str, auth_token: str, api_base_url: str) -> TwilioMessaging:
    """One client (and connection pool) per account and token; a rotated token gets a new one."""
    return TwilioMessaging(account_sid, auth_token, api_base_url=api_base_url)


class EffectOptions(TypedDict, total=False):
    """What a function gives its effects beyond the port's own parts (``Effects``' options)."""

    send_guard: SendGuard
    contacts: ContactRecords
    on_opted_out: Callable[[], None]
    takeovers: Takeovers
    pacer: Pacer
    quiet_hours: QuietHoursRule
    priority: Priority
    mailer: Callable[[], Mailer]
    events: Callable[[], EventPublisher]
    functions: Callable[[], FunctionInvoker]


@dataclass(frozen=True, slots=True)
class LedgerPorts:
    """The step-ledger ports of one function: its table, client, accounts and clock."""

    table: str
    client: Any
    directory: CachedAccountDirectory
    clock: Callable[[], datetime]
    twilio_api_base_url: str
    function_timeout_seconds: int  # its template Timeout: a claim's lease is that plus a margin

    def messaging(self, account_name: str, known: Account | None = None) -> Callable[[], Messaging]:
        """The account's Twilio client with its current token, looked up when a send first
        needs it (a message without SMS steps needs no token). ``known``: the account's record
        the caller already read for this request (a console reply), used as it is: not read
        again, nor taken from the directory's cache (which may predate it)."""

        def client() -> Messaging:
            account = known if known is not None else self.directory.find(account_name)
            if account is None:
                raise LookupError(f"account {account_name!r} no longer exists")
            token = self.directory.auth_tokens(account).current
            return messaging_client(account.account_sid, token, self.twilio_api_base_url)

        return client

    def port(
        self,
        message_sid: str,
        account_name: str,
        settings: EffectSettings,
        known: Account | None = None,
        **options: Unpack[EffectOptions],
    ) -> LedgerActionPort:
        """The ledger port of ``message_sid`` (a message, a run, a console reply): its steps
        claimed, performed and finished exactly once; its sends recorded as its own.
        ``known``: the account's record already read (``messaging``)."""
        outbound = DynamoOutboundStore(self.table, self.client)
        clock = self.clock

        def record_outbound(
            *, sid: str, kind: OutboundKind, to: str, from_: str, step_id: str, status: str,
            step_key: str, exclusive: bool,
        ) -> bool:  # fmt: skip
            return outbound.record_created(
                sid, account=account_name, kind=kind, to=to, from_=from_,
                origin_message_sid=message_sid, origin_step_id=step_id, status=status,
                created_at=clock(), step_key=step_key, exclusive=exclusive,
            )  # fmt: skip

        effects = Effects(
            message_sid=message_sid,
            messaging=self.messaging(account_name, known),
            records=DynamoRecordTables(self.client),
            settings=settings,
            record_outbound=record_outbound,
            owners=outbound.owner,
            clock=clock,
            account=account_name,
            **options,
        )
        return LedgerActionPort(
            message_sid,
            DynamoStepLedger(self.table, self.client),
            effects,
            clock,
            lease=lease_for(self.function_timeout_seconds),
        )
