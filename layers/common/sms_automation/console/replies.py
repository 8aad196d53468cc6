"""A reply sent from the console, as stored (its text kept, bounded by the send's 1,600
characters, as long as inbound messages are), and where replies are kept: the port the thread
reads and the reply route writes (``adapters.console_replies``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ConsoleReply:
    reply_id: str
    account: str
    contact: str
    from_: str
    body: str
    by: str
    sent_at: str


class ReplyStore(Protocol):
    """The console's replies (``adapters.console_replies``)."""

    def create(self, reply: ConsoleReply) -> tuple[ConsoleReply, bool]:
        """Store ``reply`` unless its id is stored already: the stored one, and whether this
        call stored it."""
        ...

    def for_contact(self, account: str, contact: str, limit: int) -> list[ConsoleReply]:
        """The contact's latest ``limit`` replies, newest first."""
        ...

    def since(self, account: str, contact: str, start: str, limit: int) -> list[ConsoleReply]:
        """The contact's replies whose sort key (``{sent_at}#{reply_id}``) is ``start`` or
        later, oldest first, at most ``limit``."""
        ...
