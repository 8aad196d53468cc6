"""Each function's configuration, in one place: typed, read from the environment once (its
composition caches it), on first use, and checked. A missing or malformed variable is a
``ConfigurationError`` naming it, never a ``KeyError`` deep in a use case."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sms_automation import webhook_urls

DEFAULT_MAX_BODY_BYTES = 65_536
DEFAULT_TWILIO_API_BASE_URL = "https://api.twilio.com"


class ConfigurationError(RuntimeError):
    pass


def _required(environ: Mapping[str, str], *names: str) -> None:
    missing = [name for name in names if not environ.get(name)]
    if missing:
        raise ConfigurationError(f"missing environment variables: {', '.join(missing)}")


def _whole_seconds(environ: Mapping[str, str], name: str) -> int:
    raw = environ.get(name) or "0"
    if not raw.isdigit():
        raise ConfigurationError(f"{name} must be a whole number of seconds, not {raw!r}")
    return int(raw)


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """The inbound webhook and the status callback."""

    table_name: str
    secrets_prefix: str
    public_base_url: str  # empty: derive the signed URL from the request
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> WebhookSettings:
        _required(environ, "TABLE_NAME", "SECRETS_PREFIX")
        raw_limit = environ.get("MAX_BODY_BYTES") or str(DEFAULT_MAX_BODY_BYTES)
        if not raw_limit.isdigit() or int(raw_limit) <= 0:
            raise ConfigurationError("MAX_BODY_BYTES must be a positive whole number of bytes")
        public_base_url = environ.get("PUBLIC_BASE_URL", "").strip()
        if public_base_url and not public_base_url.startswith(("https://", "http://")):
            raise ConfigurationError("PUBLIC_BASE_URL must start with https:// (or http://)")
        return cls(
            table_name=environ["TABLE_NAME"],
            secrets_prefix=environ["SECRETS_PREFIX"],
            public_base_url=public_base_url.rstrip("/"),
            max_body_bytes=int(raw_limit),
        )


@dataclass(frozen=True, slots=True)
class ProcessorSettings:
    """The trigger processor and the conversation tasks."""

    table_name: str
    records_table: str
    webhook_base_url: str  # status callbacks go to {webhook_base_url}/twilio/{account}/status
    twilio_api_base_url: str = DEFAULT_TWILIO_API_BASE_URL
    allow_private_networks: bool = False
    conversation_state_machine_arn: str = ""
    """The conversation state machine (``wait_for_reply`` steps); empty: none deployed."""
    conversation_poll_seconds: int = 0
    """> 0: a waiting conversation's timer looks this often (for emulators; see Conversations)."""
    retry_queue_url: str = ""
    """Where the stream processor defers a record that cannot be settled yet
    (``processing.deferral``); empty: none deployed, the stream retries it."""
    email_senders: tuple[str, ...] = ()
    """``EMAIL_SENDERS``: the addresses and domains ``send_email`` may send from (comma-separated;
    the template's ``EmailSenders``); empty: none."""
    event_bus_arns: tuple[str, ...] = ()
    """``EVENT_BUS_ARNS``: the buses ``publish_event`` may use (``EventBusArns``)."""
    function_arns: tuple[str, ...] = ()
    """``INVOKE_FUNCTION_ARNS``: the functions ``invoke_lambda`` may invoke."""
    function_timeout_seconds: int = 900
    """This function's timeout (its template ``Timeout``): a step claim's lease is that plus a
    margin (``processing.port.lease_for``). Unset: Lambda's longest, 900 s."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ProcessorSettings:
        _required(environ, "TABLE_NAME", "RECORDS_TABLE", "WEBHOOK_BASE_URL")
        return cls(
            table_name=environ["TABLE_NAME"],
            records_table=environ["RECORDS_TABLE"],
            webhook_base_url=environ["WEBHOOK_BASE_URL"].rstrip("/"),
            twilio_api_base_url=(
                environ.get("TWILIO_API_BASE_URL") or DEFAULT_TWILIO_API_BASE_URL
            ).rstrip("/"),
            allow_private_networks=environ.get("HTTP_ALLOW_PRIVATE_NETWORKS", "").lower()
            in ("1", "true", "yes"),
            conversation_state_machine_arn=environ.get("CONVERSATION_STATE_MACHINE_ARN", ""),
            conversation_poll_seconds=_whole_seconds(environ, "CONVERSATION_POLL_SECONDS"),
            retry_queue_url=environ.get("RETRY_QUEUE_URL", ""),
            function_timeout_seconds=_whole_seconds(environ, "FUNCTION_TIMEOUT_SECONDS") or 900,
            email_senders=_listed(environ.get("EMAIL_SENDERS", "")),
            event_bus_arns=_listed(environ.get("EVENT_BUS_ARNS", "")),
            function_arns=_listed(environ.get("INVOKE_FUNCTION_ARNS", "")),
        )

    def status_callback_url(self, account: str) -> str:
        return webhook_urls.status_callback_url(self.webhook_base_url, account)


@dataclass(frozen=True, slots=True)
class AutomationSettings:
    """The automations API and the automation events (the app table only)."""

    table_name: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> AutomationSettings:
        _required(environ, "TABLE_NAME")
        return cls(table_name=environ["TABLE_NAME"])


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    """The console API: the app table, the audit record's own table; for the accounts page the
    webhooks' base URL (the Messaging Request URL is ``{it}/twilio/{account}/sms``) and
    Twilio's API; for the replies sent from a thread, Twilio too, and where their status
    callbacks come back (``{it}/twilio/{account}/status``); the conversation state machine (a
    cancel wakes its execution; without it, its timer ends it at its next look), the
    processor's dead-letter queue and the processor (a redrive)."""

    table_name: str
    audit_table: str
    webhook_base_url: str = ""  # empty: no status callback (the thread shows the create's status)
    twilio_api_base_url: str = DEFAULT_TWILIO_API_BASE_URL
    function_timeout_seconds: int = 900
    conversation_state_machine_arn: str = ""
    dead_letter_queue_url: str = ""
    """The trigger processor's dead-letter queue (the Dead letters page; "": none listed)."""
    processor_function: str = ""
    """The trigger processor's name (what a redrive invokes)."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ConsoleSettings:
        _required(environ, "TABLE_NAME", "AUDIT_TABLE")
        return cls(
            table_name=environ["TABLE_NAME"],
            audit_table=environ["AUDIT_TABLE"],
            webhook_base_url=environ.get("WEBHOOK_BASE_URL", "").rstrip("/"),
            twilio_api_base_url=(
                environ.get("TWILIO_API_BASE_URL") or DEFAULT_TWILIO_API_BASE_URL
            ).rstrip("/"),
            conversation_state_machine_arn=environ.get("CONVERSATION_STATE_MACHINE_ARN", ""),
            dead_letter_queue_url=environ.get("DEAD_LETTER_QUEUE_URL", ""),
            processor_function=environ.get("PROCESSOR_FUNCTION_NAME", ""),
            function_timeout_seconds=_whole_seconds(environ, "FUNCTION_TIMEOUT_SECONDS") or 900,
        )

    def status_callback_url(self, account: str) -> str | None:
        if not self.webhook_base_url:
            return None
        return webhook_urls.status_callback_url(self.webhook_base_url, account)


@dataclass(frozen=True, slots=True)
class BroadcastSettings:
    """The broadcast functions and the automations API's broadcast routes."""

    table_name: str
    bucket: str
    state_machine_arn: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> BroadcastSettings:
        _required(environ, "TABLE_NAME", "BROADCASTS_BUCKET", "BROADCAST_STATE_MACHINE_ARN")
        return cls(
            table_name=environ["TABLE_NAME"],
            bucket=environ["BROADCASTS_BUCKET"],
            state_machine_arn=environ["BROADCAST_STATE_MACHINE_ARN"],
        )


@dataclass(frozen=True, slots=True)
class ScheduleSyncSettings:
    """The schedule sync: the table it reads, and where its schedules point."""

    table_name: str
    schedule_group: str
    automation_events_arn: str
    scheduler_role_arn: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ScheduleSyncSettings:
        names = (
            "TABLE_NAME",
            "SCHEDULE_GROUP_NAME",
            "AUTOMATION_EVENTS_FUNCTION_ARN",
            "SCHEDULER_ROLE_ARN",
        )
        _required(environ, *names)
        return cls(*(environ[name] for name in names))


def _listed(text: str) -> tuple[str, ...]:
    """A comma-separated parameter's entries, blanks dropped."""
    return tuple(entry.strip() for entry in text.split(",") if entry.strip())
