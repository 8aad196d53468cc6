"""The trigger processor's configuration: read from the environment once, on first use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sms_automation.inbound.settings import ConfigurationError

DEFAULT_TWILIO_API_BASE_URL = "https://api.twilio.com"


@dataclass(frozen=True, slots=True)
class ProcessorSettings:
    table_name: str
    records_table: str
    webhook_base_url: str  # status callbacks go to {webhook_base_url}/twilio/{account}/status
    twilio_api_base_url: str = DEFAULT_TWILIO_API_BASE_URL
    allow_private_networks: bool = False
    wait_state_machine_arn: str = ""
    """The wait-for-reply state machine (``wait_for_reply`` steps); empty: none deployed."""
    conversation_poll_seconds: int = 0
    """> 0: a waiting conversation's timer looks this often (for emulators; see Conversations)."""
    retry_queue_url: str = ""
    """Where the stream processor defers a record that cannot be settled yet
    (``processing.deferral``); empty: none deployed, the stream retries it."""
    function_timeout_seconds: int = 900
    """This function's timeout (its template ``Timeout``): a step claim's lease is that plus a
    margin (``processing.port.lease_for``). Unset: Lambda's longest, 900 s."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ProcessorSettings:
        required = ("TABLE_NAME", "RECORDS_TABLE", "WEBHOOK_BASE_URL")
        missing = [name for name in required if not environ.get(name)]
        if missing:
            raise ConfigurationError(f"missing environment variables: {', '.join(missing)}")
        return cls(
            table_name=environ["TABLE_NAME"],
            records_table=environ["RECORDS_TABLE"],
            webhook_base_url=environ["WEBHOOK_BASE_URL"].rstrip("/"),
            twilio_api_base_url=(
                environ.get("TWILIO_API_BASE_URL") or DEFAULT_TWILIO_API_BASE_URL
            ).rstrip("/"),
            allow_private_networks=environ.get("HTTP_ALLOW_PRIVATE_NETWORKS", "").lower()
            in ("1", "true", "yes"),
            wait_state_machine_arn=environ.get("WAIT_STATE_MACHINE_ARN", ""),
            conversation_poll_seconds=_whole_seconds(environ, "CONVERSATION_POLL_SECONDS"),
            retry_queue_url=environ.get("RETRY_QUEUE_URL", ""),
            function_timeout_seconds=_whole_seconds(environ, "FUNCTION_TIMEOUT_SECONDS") or 900,
        )

    def status_callback_url(self, account: str) -> str:
        return f"{self.webhook_base_url}/twilio/{account}/status"


def _whole_seconds(environ: Mapping[str, str], name: str) -> int:
    raw = environ.get(name) or "0"
    if not raw.isdigit():
        raise ConfigurationError(f"{name} must be a whole number of seconds, not {raw!r}")
    return int(raw)
