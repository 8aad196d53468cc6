"""What the conversations need from the outside, as ``typing.Protocol`` ports.

``adapters.conversation_store`` (DynamoDB) and ``adapters.conversation_workflow`` (Step Functions)
implement them for the deployed functions; the unit tests' in-memory fakes
(``tests/support/fakes.py``) implement the same contracts, held to them by one suite run against
both (``tests/integration/test_port_contracts.py``). Sending goes through an
``ActionPort`` (the message's ledger port, ``service.PortFor``), so what a conversation sends is
a recorded step like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from sms_automation.conversations.model import (
    Conversation,
    OpenConversation,
    RecordedReply,
    ReplyDecision,
)


class ConversationStore(Protocol):
    """Conversations, the contacts' open conversation and the replies' decisions. Exactly once: a
    conversation is created once per (message, step), resolved once (``resolve`` only while
    ``waiting``), and a reply is counted once (``record_reply`` conditional on the attempts seen
    and on the reply not being decided yet)."""

    def create(self, conversation: Conversation) -> Conversation:
        """Store a new conversation; when one exists for that step, that one."""
        ...

    def get(self, message_sid: str, step_id: str) -> Conversation | None: ...

    def set_execution(self, message_sid: str, step_id: str, execution_arn: str) -> None: ...

    def set_task_token(self, message_sid: str, step_id: str, token: str) -> None: ...

    def set_timer_token(self, message_sid: str, step_id: str, token: str) -> None: ...

    def resolve(
        self,
        conversation: Conversation,
        outcome: str,
        variables: Mapping[str, Any],
        now: str,
        *,
        by: str = "",
    ) -> bool:
        """Record the outcome if still waiting; False if it was not. ``by``: who (a console
        user's cancel), kept as the conversation's ``cancelled_by``."""
        ...

    def record_reply(self, decision: ReplyDecision, *, seen_attempts: int) -> bool:
        """Count the reply and record its decision, atomically; False when the conversation
        moved on (attempts or status changed) or the reply was decided already."""
        ...

    def recorded_reply(self, reply_sid: str) -> RecordedReply | None: ...

    def claim_contact(self, conversation: Conversation) -> OpenConversation | None:
        """Make it the contact's open conversation on our number; the other conversation it
        replaced, if any."""
        ...

    def find_open_conversation(
        self, account: str, our_number: str, contact: str, *, consistent: bool = True
    ) -> OpenConversation | None:
        """``consistent=False``: an eventually consistent read (half the read unit), which
        may not show a conversation opened an instant ago."""
        ...

    def release_contact(self, conversation: Conversation) -> None:
        """Remove the contact's open conversation if it is still this conversation's."""
        ...


class ConversationWorkflow(Protocol):
    """The executions that wait (Step Functions' ``ConversationStateMachine``)."""

    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        """Start the execution ``name`` (once: a second start of the same name is the first's);
        its ARN."""
        ...

    def wake(self, token: str, output: Mapping[str, Any]) -> bool:
        """Succeed the task ``token``; False when the token is used or timed out."""
        ...

    def fail(self, token: str, error_name: str, cause: str) -> bool:
        """Fail the task ``token``; False when the token is used or timed out."""
        ...

    def running(self, execution_arn: str) -> bool: ...
