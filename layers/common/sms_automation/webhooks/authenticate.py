"""Is this request from Twilio, for this account? The check every Twilio webhook route shares.

The account is looked up by the URL's name, the signature checked with its current auth token
or, inside the window after a rotation (checked against ``now``, not when the tokens were
cached), its previous one, and the signed ``AccountSid`` compared with the account's; only then
are the parameters returned, to be trusted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sms_automation.accounts import Account, AccountDirectory
from sms_automation.webhooks.rejections import (
    AccountSidMismatch,
    InvalidSignature,
    MalformedRequest,
    UnknownAccount,
)
from sms_automation.webhooks.request import FORM, WebhookRequest, first_values, json_params
from sms_automation.webhooks.signature import verify_form, verify_json


@dataclass(frozen=True, slots=True)
class Authenticated:
    account: Account
    params: tuple[tuple[str, str], ...]  # every parameter, as signed, in the order sent
    fields: Mapping[str, str]  # the first value of each parameter


def authenticate(
    request: WebhookRequest, directory: AccountDirectory, now: datetime
) -> Authenticated:
    """Raises ``UnknownAccount``, ``InvalidSignature``, ``MalformedRequest`` (a parameter with an
    empty name) or ``AccountSidMismatch``."""
    account = directory.find(request.account_name)
    if account is None:
        raise UnknownAccount(f"no account named {request.account_name!r}")

    tokens = directory.auth_tokens(account).accepted_at(now)
    if request.media_type == FORM:
        check = verify_form(request.url, request.params, request.signature, tokens)
        params, fields = request.params, request.fields
    else:
        check = verify_json(request.url, request.body, request.signature, tokens)
        params = json_params(request.body) if check.valid else ()
        fields = first_values(params)
    if not check.valid:
        raise InvalidSignature(f"X-Twilio-Signature is not valid: {check.reason}")

    if any(not name for name, _ in params):
        raise MalformedRequest("a parameter has an empty name")
    if fields.get("AccountSid") != account.account_sid:
        raise AccountSidMismatch("AccountSid does not match this account's Twilio Account SID")
    return Authenticated(account, params, fields)
