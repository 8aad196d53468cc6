"""Who may see a dead letter (``console.dead_letters``): an entry is its messages' accounts';
one that cannot be attributed (malformed, read back from the stream only in part or not at all,
a message of unknown account, no message) is only for users with every account."""

from __future__ import annotations

import pytest

from sms_automation.console.access import Principal, Role
from sms_automation.console.dead_letters import accounts_of, may_see
from sms_automation.dead_letters.ports import MessageRef
from sms_automation.dead_letters.queue import DeadLetter
from sms_automation.dead_letters.redrive import SurveyedEntry
from sms_automation.dead_letters.stream import Resolution, StreamState

ENTRY = DeadLetter("m-1", "receipt", None, "not JSON")
ACME = MessageRef("SM1", "acme")
GLOBEX = MessageRef("SM2", "globex")
UNKNOWN = MessageRef("SM3", "")


def surveyed(state: StreamState | None, *messages: MessageRef) -> SurveyedEntry:
    return SurveyedEntry(ENTRY, None if state is None else Resolution(state, messages))


@pytest.mark.parametrize(
    ("entry", "accounts"),
    [
        (surveyed(StreamState.HELD, ACME), {"acme"}),
        (surveyed(StreamState.HELD, ACME, GLOBEX), {"acme", "globex"}),
        (surveyed(StreamState.HELD, ACME, UNKNOWN), None),
        (surveyed(StreamState.HELD), None),
        (surveyed(StreamState.INCOMPLETE, ACME), None),
        (surveyed(StreamState.EXPIRED), None),
        (surveyed(None), None),
    ],
)
def test_an_entry_belongs_to_its_messages_accounts_or_to_none(
    entry: SurveyedEntry, accounts: set[str] | None
) -> None:
    assert accounts_of(entry) == (None if accounts is None else frozenset(accounts))
    everyone = Principal("root@example.com", Role.VIEWER, None)
    acme_and_globex = Principal("ann@example.com", Role.VIEWER, frozenset({"acme", "globex"}))
    acme = Principal("bo@example.com", Role.OPERATOR, frozenset({"acme"}))
    assert may_see(everyone, entry)
    assert may_see(acme_and_globex, entry) is (accounts is not None)
    assert may_see(acme, entry) is (accounts == {"acme"})
