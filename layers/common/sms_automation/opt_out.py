"""Opt-out compliance: which inbound message is a STOP, START or HELP, and what a contact's
opt-out state says about sending to them. Pure: no AWS, no Twilio.

A message is a keyword when its whole body, trimmed and case-folded, is one of Twilio's default
keywords (``DEFAULT_KEYWORDS``) or one of the account's extra opt-out keywords; Twilio's
``OptOutType`` parameter (``STOP`` / ``START`` / ``HELP``), when present, decides alone.

The contact state (``ContactState``) is kept per account, sender (our number or messaging
service) and contact; each change names the message that made it and that message's time, and
an older message never overwrites a newer state (``adapters.contact_store``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Protocol

from sms_automation.pii import mask_phone


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


DEFAULT_KEYWORDS: Final[Mapping[str, Keyword]] = {
    **dict.fromkeys(
        ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"),
        Keyword.OPT_OUT,
    ),
    **dict.fromkeys(("START", "YES", "UNSTOP"), Keyword.OPT_IN),
    **dict.fromkeys(("HELP", "INFO"), Keyword.HELP),
}
OPT_OUT_TYPES: Final[Mapping[str, Keyword]] = {
    "STOP": Keyword.OPT_OUT,
    "START": Keyword.OPT_IN,
    "HELP": Keyword.HELP,
}
REJECTED_BY_TWILIO: Final = "21610"
"""Twilio's error for a send to a contact who replied STOP: the contact is marked opted out."""


def normalised(body: str) -> str:
    """How Twilio compares a body with its keywords: the whole body, trimmed, any case."""
    return " ".join(body.split()).upper()


def keyword_of(
    body: str, opt_out_type: str | None = None, extra_opt_out: Iterable[str] = ()
) -> tuple[Keyword, str] | None:
    """The keyword a message is (with the word that made it one), or ``None``."""
    if opt_out_type:
        kind = OPT_OUT_TYPES.get(opt_out_type.strip().upper())
        if kind is not None:
            return kind, normalised(body) or opt_out_type.strip().upper()
    word = normalised(body)
    kind = DEFAULT_KEYWORDS.get(word)
    if kind is not None:
        return kind, word
    if word and word in {normalised(extra) for extra in extra_opt_out}:
        return Keyword.OPT_OUT, word
    return None


def keyword_of_message(
    message: Mapping[str, Any], extra_opt_out: Iterable[str] = ()
) -> tuple[Keyword, str] | None:
    """``keyword_of`` a stored inbound message (its body and Twilio's ``OptOutType``)."""
    return keyword_of(str(message.get("body") or ""), message.get("opt_out_type"), extra_opt_out)


def sender_of(message: Mapping[str, Any]) -> str:
    """Our side of an inbound message as opt-outs are kept: its messaging service, else its
    number (Twilio keeps a messaging service's opt-outs for the whole service)."""
    return str(message.get("messaging_service_sid") or message.get("to_number") or "")


@dataclass(frozen=True, slots=True)
class ContactState:
    account: str
    sender: str
    contact: str
    opted_out: bool
    keyword: str  # the word (STOP, START, ...) or Twilio's error code that set it
    changed_at: str  # the time of the message that set it (ISO 8601, UTC)
    message_sid: str  # the message that set it

    def refusal(self) -> str:
        """The action log's reason for a send not made."""
        return f"not sent: {mask_phone(self.contact)} opted out ({self.keyword}, {self.changed_at})"


class ContactRecords(Protocol):
    """Where contact states are kept (``adapters.contact_store``)."""

    def get(self, account: str, sender: str, contact: str) -> ContactState | None: ...

    def record(self, state: ContactState) -> bool:
        """Store ``state`` unless the contact's state is as new or newer: ``False`` then."""
        ...


def opted_out(
    records: ContactRecords, account: str, senders: Iterable[str], contact: str
) -> ContactState | None:
    """The opt-out that forbids sending to ``contact`` from any of ``senders``, if any."""
    for sender in senders:
        if not sender:
            continue
        state = records.get(account, sender, contact)
        if state is not None and state.opted_out:
            return state
    return None
