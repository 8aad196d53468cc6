"""The console's accounts page: receive on/off, "Verify Twilio Account", the Messaging Request
URL to copy, the account's numbers and whether each points here, connecting one, and replacing
the auth token.

Every user in the account's scope reads (and may verify: it changes nothing); only an admin
changes (``Role.ADMIN``: the routes' role, which ``console.http`` checks before anything, a 403
otherwise). Each change writes an ``account.update`` audit record
naming what changed, never a token and never a whole phone number.

The auth token is write-only: no answer carries it, no log line or audit detail names it. A new
token is first tried against Twilio (the account fetch ``accounts verify`` makes) and replaces
the current one only when Twilio accepts it; the current one then stays accepted as the
previous token for ``DEFAULT_PREVIOUS_TOKEN_VALIDITY`` (as ``accounts rotate-token`` does), so
webhooks Twilio signed with it still pass while the Twilio Console is switched over.

The URLs are the ones the CLI prints and ``numbers connect`` sets: the deployment's webhook
base URL + ``/twilio/{account}/sms`` (and ``/status`` for delivery statuses). Pure: the account
records, the token vault, Twilio and the audit trail come in as ports.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

from sms_automation import webhook_urls
from sms_automation.accounts import (
    DEFAULT_PREVIOUS_TOKEN_VALIDITY,
    Account,
    AuthTokens,
    InvalidAuthToken,
    validate_auth_token,
)
from sms_automation.console.access import Principal
from sms_automation.console.queries import BadRequest, only
from sms_automation.console.reads import NotFound
from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.pii import mask_phone

if TYPE_CHECKING:
    from datetime import timedelta

    from sms_automation.console.automations import AuditTrail

MAX_TOKEN_CHARS: Final = 128
_E164: Final = re.compile(r"^\+[1-9][0-9]{6,14}$")


class Refused(Exception):
    """An answer other than 200 that is not a 400/403/404: Twilio refused or did not answer."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


class TwilioFailure(Exception):
    """Twilio refused (``unreachable`` False: its answer says why) or did not answer."""

    def __init__(self, detail: str, *, unreachable: bool, not_found: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.unreachable = unreachable
        self.not_found = not_found


class PhoneNumber(Protocol):
    """One of the account's numbers as Twilio lists it (``adapters.twilio_numbers``)."""

    @property
    def phone_number(self) -> str: ...

    @property
    def friendly_name(self) -> str | None: ...

    @property
    def sms_url(self) -> str | None: ...

    @property
    def sms_method(self) -> str | None: ...

    @property
    def sms_application_sid(self) -> str | None: ...

    def points_at(self, messaging_request_url: str) -> bool: ...


class AccountVerification(Protocol):
    """What "Verify Twilio Account" found (``adapters.twilio_verify``): its ``outcome``'s
    value is ``verified``, ``unavailable`` (no answer) or why Twilio refused."""

    @property
    def outcome(self) -> Any: ...

    def as_dict(self) -> dict[str, Any]: ...


VERIFIED: Final = "verified"
UNAVAILABLE: Final = "unavailable"


class AccountRecords(Protocol):
    def get(self, name: str) -> Account | None: ...

    def set_receive_enabled(self, name: str, enabled: bool) -> Account: ...

    def add_own_numbers(self, name: str, numbers: frozenset[str]) -> None: ...


class TokenVault(Protocol):
    def get(self, secret_id: str) -> AuthTokens: ...

    def rotate_from(
        self, secret_id: str, tokens: AuthTokens, new_token: str, previous_valid_for: timedelta
    ) -> AuthTokens:
        """``new_token`` current, ``tokens`` (read by this request) the value it replaces."""
        ...


class TwilioAccount(Protocol):
    """Twilio's REST API with an account's credentials (``TwilioFailure`` when it fails)."""

    def verify(self, account_sid: str, auth_token: str) -> AccountVerification: ...

    def numbers(self, account_sid: str, auth_token: str) -> Sequence[PhoneNumber]: ...

    def connect(
        self, account_sid: str, auth_token: str, number: str, *, sms_url: str, status_url: str
    ) -> PhoneNumber: ...


@dataclass(frozen=True, slots=True)
class ConsoleAccounts:
    records: AccountRecords
    vault: TokenVault
    twilio: TwilioAccount
    audit: AuditTrail
    webhook_base_url: str

    def detail(self, principal: Principal, account: str) -> dict[str, Any]:
        return self.detail_of(self._account(principal, account))

    def detail_of(self, record: Account) -> dict[str, Any]:
        return {
            "name": record.name,
            "account_sid": record.account_sid,
            "receive": record.receive_enabled,
            "time_zone": record.timezone or "UTC",
            "messaging_request_url": self.messaging_request_url(record.name),
            "status_callback_url": self.status_callback_url(record.name),
        }

    def numbers(self, principal: Principal, account: str) -> dict[str, Any]:
        record = self._account(principal, account)
        expected = self.messaging_request_url(record.name)
        numbers = self._twilio(lambda token: self.twilio.numbers(record.account_sid, token), record)
        return {
            "messaging_request_url": expected,
            "items": [number_view(number, expected) for number in numbers],
        }

    def verify(self, principal: Principal, account: str) -> dict[str, Any]:
        record = self._account(principal, account)
        token = self.vault.get(record.secret_id).current
        verification = self.twilio.verify(record.account_sid, token)
        shown = verification.as_dict()
        shown.pop("base_url", None)  # where this deployment reaches Twilio: not the user's concern
        return {"name": record.name, **shown}

    def set_receive(
        self, principal: Principal, account: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        record = self._account(principal, account)
        only(body, {"enabled"}, "field")
        enabled = body.get("enabled")
        if not isinstance(enabled, bool):
            raise BadRequest("enabled: true (receive messages) or false (refuse them)")
        if enabled == record.receive_enabled:
            return self.detail_of(record)  # nothing to change, nothing audited
        changed = self.records.set_receive_enabled(record.name, enabled)  # the item as updated
        self._audit(principal, record, {"receive": enabled,
                                        "receive_was": record.receive_enabled})  # fmt: skip
        return self.detail_of(changed)

    def connect(
        self, principal: Principal, account: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        record = self._account(principal, account)
        only(body, {"number"}, "field")
        number = body.get("number")
        if not isinstance(number, str) or not _E164.fullmatch(number):
            raise BadRequest("number: one of the account's numbers in E.164 form (+15551234567)")
        expected = self.messaging_request_url(record.name)
        connected = self._twilio(
            lambda token: self.twilio.connect(
                record.account_sid, token, number,
                sms_url=expected, status_url=self.status_callback_url(record.name),
            ),
            record,
        )  # fmt: skip
        # One of the account's own numbers (the loop guard), as ``numbers connect`` records it.
        self.records.add_own_numbers(record.name, frozenset({connected.phone_number}))
        self._audit(principal, record, {"connected": mask_phone(connected.phone_number)})
        return number_view(connected, expected)

    def replace_token(
        self, principal: Principal, account: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        record = self._account(principal, account)
        only(body, {"auth_token"}, "field")
        token = body.get("auth_token")
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            raise BadRequest(f"auth_token: the account's auth token (at most {MAX_TOKEN_CHARS})")
        try:
            validate_auth_token(token)
        except InvalidAuthToken as invalid:
            raise BadRequest(f"auth_token: {invalid}") from None
        verification = self.twilio.verify(record.account_sid, token)
        outcome = str(verification.outcome.value)
        if outcome == UNAVAILABLE:
            raise Refused(503, "twilio_unavailable", "Twilio did not answer; nothing changed: "
                          "try again")  # fmt: skip
        if outcome != VERIFIED:
            raise BadRequest(
                f"auth_token: Twilio did not accept it for {record.account_sid} "
                f"({outcome}); nothing changed"
            )
        before = self.vault.get(record.secret_id)  # the secret's one read of the request
        replaced = token != before.current
        tokens = self.vault.rotate_from(
            record.secret_id, before, token, DEFAULT_PREVIOUS_TOKEN_VALIDITY
        )
        until = tokens.previous_accepted_until
        if replaced:
            # What changed, never the token itself (the audit refuses a "token" key anyway).
            self._audit(principal, record, {"changed": "auth token",
                                            "previous_accepted_until": _stamp(until)})  # fmt: skip
        return {"replaced": replaced, "previous_accepted_until": _stamp(until)}

    def messaging_request_url(self, account: str) -> str:
        return webhook_urls.messaging_request_url(self.webhook_base_url, account)

    def status_callback_url(self, account: str) -> str:
        return webhook_urls.status_callback_url(self.webhook_base_url, account)

    def _account(self, principal: Principal, account: str) -> Account:
        principal.require_account(account)  # before any read: no existence oracle
        record = self.records.get(account)
        if record is None:
            raise NotFound(f"no account {account!r}")
        return record

    def _twilio[T](self, call: Callable[[str], T], record: Account) -> T:
        token = self.vault.get(record.secret_id).current
        try:
            result = call(token)
        except TwilioFailure as failure:
            if failure.not_found:
                raise NotFound(f"Twilio: {failure.detail}") from None
            if failure.unreachable:
                raise Refused(503, "twilio_unavailable", f"Twilio did not answer: {failure.detail}"
                              ) from None  # fmt: skip
            raise Refused(502, "twilio_refused", f"Twilio refused: {failure.detail}") from None
        return result

    def _audit(self, principal: Principal, record: Account, detail: dict[str, Any]) -> None:
        self.audit.record(
            actor=principal.email,
            action="account.update",
            account=record.name,
            target=record.name,
            detail=detail,
        )


def number_view(number: PhoneNumber, messaging_request_url: str) -> dict[str, Any]:
    return {
        "phone_number": number.phone_number,
        "friendly_name": number.friendly_name,
        "sms_url": number.sms_url,
        "sms_method": number.sms_method,
        "sms_application_sid": number.sms_application_sid,
        "points_here": number.points_at(messaging_request_url),
    }


def _stamp(moment: Any) -> str | None:
    return utc_timestamp(moment) if moment is not None else None
