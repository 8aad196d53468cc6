"""The console API's writes (``console.writes``) on the app table, Secrets Manager and Twilio:
built on the first write route a warm Lambda serves, so the read routes pay nothing for them.

A reply goes out through the same send path as every automatic message: the ledger port
(``processing.port.LedgerActionPort``, built as the runtime builds it:
``composition.ledger_ports``) over the effects (``processing.effects.Effects``: the
opt-out check, the sender's pace, the Twilio adapter, the outbound record whose status
callbacks name the step). Paced like every send from its number (``processing.pacing``, at
reply priority: it may take the replies' overdraft, so bulk never holds it back; a wait up to
``MAX_INLINE_WAIT_MS`` is slept through, a longer one is a 503 ``not_sent`` with its
``retry_after``), and a Twilio "slow down" slows the sender for every Lambda. Built without the
send guard and without the takeovers: a person's reply is neither an automatic send to cap nor
one a takeover pauses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sms_automation.accounts import Account
from sms_automation.adapters.account_store import (
    CachedAccountDirectory,
    DynamoAccountStore,
    TokensOnFirstRead,
)
from sms_automation.adapters.console_replies import DynamoConsoleReplies
from sms_automation.adapters.contact_store import DynamoContactStore
from sms_automation.adapters.pace_store import DynamoPaceStore
from sms_automation.adapters.takeover_store import DynamoTakeoverStore
from sms_automation.composition.ledger_ports import LedgerPorts
from sms_automation.console.audit import AuditLog
from sms_automation.console.reads import ConsoleReads
from sms_automation.console.writes import ConsoleWrites
from sms_automation.edge import aws
from sms_automation.edge.settings import ConsoleSettings
from sms_automation.processing.effects import EffectSettings
from sms_automation.processing.pacing import Pacer, Priority
from sms_automation.processing.port import LedgerActionPort


def console_writes(
    settings: ConsoleSettings,
    client: Any,
    reads: ConsoleReads,
    audit: AuditLog,
    clock: Callable[[], datetime],
) -> ConsoleWrites:
    table = settings.table_name
    directory = CachedAccountDirectory(
        DynamoAccountStore(table, client), TokensOnFirstRead(aws.console_secrets)
    )
    contacts = DynamoContactStore(table, client)
    ledger_ports = LedgerPorts(
        table=table,
        client=client,
        directory=directory,
        clock=clock,
        twilio_api_base_url=settings.twilio_api_base_url,
        function_timeout_seconds=settings.function_timeout_seconds,
    )
    paces = DynamoPaceStore(table, client)

    def port_for(reply_id: str, account: Account) -> LedgerActionPort:
        """The reply's port on the account's record the request read (its SID and rates): the
        account is read once a request; only its token comes from the directory (cached)."""
        effect_settings = EffectSettings(
            status_callback_url=settings.status_callback_url(account.name),
            records_table="",
            app_table=table,
        )
        pacer = Pacer(paces, rates=lambda _name: account.rates, clock=clock, sleep=time.sleep)
        return ledger_ports.port(
            reply_id,
            account.name,
            effect_settings,
            known=account,
            contacts=contacts,
            pacer=pacer,
            priority=Priority.REPLY,
        )

    return ConsoleWrites(
        accounts=DynamoAccountStore(table, client),
        contacts=contacts,
        takeovers=DynamoTakeoverStore(table, client),
        replies=DynamoConsoleReplies(table, client),
        port_for=port_for,
        last_number=reads.last_number,
        audit=audit,
    )
