"""The single DynamoDB table's key layout: one place, so no module invents its own.

Items (``pk`` / ``sk``; ``gsi1pk`` / ``gsi1sk`` on the ``gsi1`` index; ``gsi2pk`` / ``gsi2sk`` on
the sparse ``gsi2`` index, which only run origins carry):

- account: ``ACCOUNT#{name}`` / ``ACCOUNT``; gsi1: ``ACCOUNTS`` / ``{name}``
- inbound message: ``MSG#{MessageSid}`` / ``MSG``;
  gsi1: ``ACCOUNT#{name}#MESSAGES`` / ``{received_at}#{MessageSid}``
- the evaluation of a message (or of an automation run) against its triggers: the pinned
  trigger version and time zone, status, matched triggers, diagnostics:
  ``MSG#{MessageSid}`` / ``RUN`` (the stored ``RUN`` sort key and kind ``run`` predate the name
  "evaluation" and stay: existing tables must still read)
- one side-effecting step of it (the idempotency record): ``MSG#{MessageSid}`` / ``STEP#{step id}``
- trigger set: ``ACCOUNT#{name}`` / ``TRIGGERS#CURRENT`` (pointer to the current version) and
  ``ACCOUNT#{name}`` / ``TRIGGERS#V{version:08d}`` (each pushed version, kept)
- outbound message or call we created: ``OUT#{Sid}`` / ``OUT``; each status callback:
  ``OUT#{Sid}`` / ``STATUS#{status}`` (deduplicated on Sid + status)
- an account's figures of one quarter hour (kind ``day_figures``; counters ``sent``, ``failed``):
  ``FIGURES#{account}`` / ``{quarter hour's start, UTC, as a received_at stamp}``
- conversation (one ``wait_for_reply`` step of a message: its rendered wait, replies, outcome,
  execution ARN): ``MSG#{MessageSid}`` / ``WAIT#{step id}``;
  gsi1: ``ACCOUNT#{name}#WAITS`` / ``{started_at}#{MessageSid}#{step id}``
- the open conversation of a contact on one of our numbers (correlation; TTL ``expires_at``):
  ``WAIT#{account}#{our number}#{contact}`` / ``WAIT``
- what became of an inbound message that answered a conversation:
  ``MSG#{MessageSid}`` / ``REPLY``
- an automation run's origin (who started which automation for whom, with which variables):
  ``MSG#{run id}`` / ``MSG``, kind ``automation_run``, so its evaluation, steps and
  conversations sit beside it exactly as a message's do;
  gsi1: ``ACCOUNT#{name}#RUNS`` / ``{requested_at}#{run id}``;
  gsi2: ``ACCOUNT#{name}#AUTOMATION#{automation, case-folded}#RUNS`` / ``{requested_at}#{run id}``
  (one automation's runs without reading the account's others; origins stored before gsi2
  existed carry no gsi2 keys and are listed only account-wide)
- the automatic sends counted on one lane (account, sender, contact) for the send cap (see
  ``send_guard``; TTL ``expires_at``): ``SENDS#{account}#{sender}#{contact}`` / ``SENDS``
- one sender's send rate bucket (see ``processing.pacing``; TTL ``expires_at``):
  ``PACE#{account}#{sender}`` / ``PACE``; a bulk send's place in its queue:
  ``PACE#{account}#{sender}`` / ``HOLD#{place}`` (TTL)
- a contact's opt-out state towards one sender (our number or messaging service; see
  ``opt_out``): ``CONTACT#{account}#{sender}#{contact}`` / ``CONTACT``;
  gsi1: ``ACCOUNT#{name}#CONTACTS`` / ``{contact}#{sender}``
- a contact taken over by a person (see ``takeover``; TTL ``expires_at``):
  ``TAKEOVER#{account}#{contact}`` / ``TAKEOVER``
- a reply sent from the console (its text, sender and author; its send is the step ``reply``
  of the same ``MSG#{reply id}`` partition, exactly as a message's steps):
  ``MSG#{reply id}`` / ``MSG``, kind ``console_reply``;
  gsi1: ``ACCOUNT#{name}#CONTACT#{contact}#REPLIES`` / ``{sent_at}#{reply id}``
- a broadcast (one automation started for each row of a file; see ``broadcasts``):
  ``BROADCAST#{broadcast id}`` / ``BROADCAST``;
  gsi1: ``ACCOUNT#{name}#BROADCASTS`` / ``{created_at}#{broadcast id}``

Every item carries ``kind`` (``account``, ``inbound_message``, ...) so stream filters and readers
never have to parse keys.
"""

from typing import Final

PK: Final = "pk"
SK: Final = "sk"
GSI1: Final = "gsi1"
GSI1_PK: Final = "gsi1pk"
GSI1_SK: Final = "gsi1sk"
GSI2: Final = "gsi2"
GSI2_PK: Final = "gsi2pk"
GSI2_SK: Final = "gsi2sk"
INDEX_PARTITION_KEYS: Final = {GSI1: GSI1_PK, GSI2: GSI2_PK}
INDEX_SORT_KEYS: Final = {GSI1: GSI1_SK, GSI2: GSI2_SK}
"""Each index's partition key attribute, by index name."""
EXPIRES_AT: Final = "expires_at"  # the table's TTL attribute (epoch seconds)

KIND_ACCOUNT: Final = "account"
KIND_INBOUND_MESSAGE: Final = "inbound_message"
KIND_EVALUATION: Final = "run"  # stored value: kept from before the name "evaluation"
KIND_STEP: Final = "step"
KIND_TRIGGER_SET: Final = "trigger_set"
KIND_TRIGGER_POINTER: Final = "trigger_pointer"
KIND_OUTBOUND: Final = "outbound"
KIND_OUTBOUND_STATUS: Final = "outbound_status"
KIND_CONVERSATION: Final = "conversation"
KIND_OPEN_CONVERSATION: Final = "pending_wait"
KIND_CONVERSATION_REPLY: Final = "conversation_reply"
KIND_AUTOMATION_RUN: Final = "automation_run"
KIND_SEND_LANE: Final = "send_lane"
KIND_CONTACT: Final = "contact"
KIND_TAKEOVER: Final = "takeover"
KIND_CONSOLE_REPLY: Final = "console_reply"
KIND_BROADCAST: Final = "broadcast"
KIND_SEND_PACE: Final = "send_pace"
KIND_DAY_FIGURES: Final = "day_figures"
KIND_SEND_PACE_HOLD: Final = "send_pace_hold"
PROCESSED_KINDS: Final = frozenset({KIND_INBOUND_MESSAGE, KIND_AUTOMATION_RUN})
"""What the trigger processor's stream filter lets through (when inserted)."""

ACCOUNTS_INDEX_PK: Final = "ACCOUNTS"


def account_key(name: str) -> dict[str, str]:
    return {PK: f"ACCOUNT#{name}", SK: "ACCOUNT"}


def account_of_partition(partition: str) -> str | None:
    """The account an ``ACCOUNT#{name}`` partition (its item, its trigger pointer) belongs to."""
    return partition.removeprefix("ACCOUNT#") if partition.startswith("ACCOUNT#") else None


def message_key(message_sid: str) -> dict[str, str]:
    return {PK: f"MSG#{message_sid}", SK: "MSG"}


def message_sid_of(message_pk: str) -> str:
    """The MessageSid (or run id) of a message's (or run origin's) ``pk``: ``MSG#{sid}``."""
    return message_pk.removeprefix("MSG#")


def account_messages_index_pk(account_name: str) -> str:
    return f"ACCOUNT#{account_name}#MESSAGES"


def evaluation_key(message_sid: str) -> dict[str, str]:
    """A message's evaluation. The stored sort key stays ``RUN`` (its name before "evaluation"):
    existing tables must still read."""
    return {PK: f"MSG#{message_sid}", SK: "RUN"}


def step_key(message_sid: str, step_id: str) -> dict[str, str]:
    return {PK: f"MSG#{message_sid}", SK: f"STEP#{step_id}"}


STEP_SK_PREFIX: Final = "STEP#"


def trigger_pointer_key(account_name: str) -> dict[str, str]:
    return {PK: f"ACCOUNT#{account_name}", SK: "TRIGGERS#CURRENT"}


TRIGGER_VERSION_SK_PREFIX: Final = "TRIGGERS#V"


def trigger_version_key(account_name: str, version: int) -> dict[str, str]:
    return {PK: f"ACCOUNT#{account_name}", SK: f"{TRIGGER_VERSION_SK_PREFIX}{version:08d}"}


def outbound_key(sid: str) -> dict[str, str]:
    return {PK: f"OUT#{sid}", SK: "OUT"}


def outbound_status_key(sid: str, status: str) -> dict[str, str]:
    return {PK: f"OUT#{sid}", SK: f"STATUS#{status}"}


def figures_pk(account_name: str) -> str:
    return f"FIGURES#{account_name}"


def figures_key(account_name: str, quarter_hour: str) -> dict[str, str]:
    return {PK: figures_pk(account_name), SK: quarter_hour}


CONVERSATION_SK_PREFIX: Final = "WAIT#"


def conversation_key(message_sid: str, step_id: str) -> dict[str, str]:
    return {PK: f"MSG#{message_sid}", SK: f"{CONVERSATION_SK_PREFIX}{step_id}"}


def account_conversations_index_pk(account_name: str) -> str:
    return f"ACCOUNT#{account_name}#WAITS"


def open_conversation_key(account_name: str, our_number: str, contact: str) -> dict[str, str]:
    return {PK: f"WAIT#{account_name}#{our_number}#{contact}", SK: "WAIT"}


def evaluation_and_reply_range(message_sid: str) -> tuple[str, str, str]:
    """A message's partition and the sort keys of its conversation reply (``REPLY``) and of its
    evaluation (``RUN``): nothing else of the partition sorts between them (``MSG``, ``STEP#``
    and ``WAIT#`` sort outside), so one query of that range reads exactly those two."""
    return f"MSG#{message_sid}", "REPLY", "RUN"


def conversation_reply_key(message_sid: str) -> dict[str, str]:
    return {PK: f"MSG#{message_sid}", SK: "REPLY"}


def automation_run_key(run_id: str) -> dict[str, str]:
    """The origin of a run shares the message key: the processor and the conversations replay
    a run exactly as they replay a message."""
    return message_key(run_id)


def account_runs_index_pk(account_name: str) -> str:
    return f"ACCOUNT#{account_name}#RUNS"


def automation_runs_index_pk(account_name: str, automation: str) -> str:
    """``gsi2``: one automation's runs. Automation names are case-insensitive
    (``Triggers.automation`` matches them case-folded), so the key holds the folded name:
    ``Reminder`` and ``reminder`` are one automation's runs."""
    return f"ACCOUNT#{account_name}#AUTOMATION#{automation.casefold()}#RUNS"


def send_lane_key(account_name: str, sender: str, contact: str) -> dict[str, str]:
    return {PK: f"SENDS#{account_name}#{sender}#{contact}", SK: "SENDS"}


def send_pace_key(account_name: str, sender: str) -> dict[str, str]:
    return {PK: f"PACE#{account_name}#{sender}", SK: "PACE"}


def send_pace_hold_key(account_name: str, sender: str, place: str) -> dict[str, str]:
    return {PK: f"PACE#{account_name}#{sender}", SK: f"HOLD#{place}"}


def contact_key(account_name: str, sender: str, contact: str) -> dict[str, str]:
    return {PK: f"CONTACT#{account_name}#{sender}#{contact}", SK: "CONTACT"}


def account_contacts_index_pk(account_name: str) -> str:
    return f"ACCOUNT#{account_name}#CONTACTS"


def takeover_key(account_name: str, contact: str) -> dict[str, str]:
    return {PK: f"TAKEOVER#{account_name}#{contact}", SK: "TAKEOVER"}


def console_reply_key(reply_id: str) -> dict[str, str]:
    """A console reply shares the message key: its send is a step of it, read by the action
    log exactly as a message's."""
    return message_key(reply_id)


def contact_replies_index_pk(account_name: str, contact: str) -> str:
    return f"ACCOUNT#{account_name}#CONTACT#{contact}#REPLIES"


def broadcast_key(broadcast_id: str) -> dict[str, str]:
    return {PK: f"BROADCAST#{broadcast_id}", SK: "BROADCAST"}


def account_broadcasts_index_pk(account_name: str) -> str:
    return f"ACCOUNT#{account_name}#BROADCASTS"
