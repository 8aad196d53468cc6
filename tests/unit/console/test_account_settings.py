"""The console's accounts page on in-memory ports: what every role reads, what an admin changes
(only an admin: the routes' role, test_route_roles.py), what each change audits, and that the
auth token is never answered nor audited and replaces the current one only when Twilio accepts
it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from sms_automation.accounts import Account, AuthTokens
from sms_automation.adapters.twilio_numbers import PhoneNumber
from sms_automation.adapters.twilio_verify import AccountVerification, VerificationOutcome
from sms_automation.console.access import AccessDenied, Principal, Role
from sms_automation.console.account_settings import ConsoleAccounts, Refused, TwilioFailure
from sms_automation.console.queries import BadRequest
from sms_automation.console.reads import NotFound

SID = "AC" + "1" * 32
OLD, NEW = "old-token-0123456789abcdef012345", "new-token-0123456789abcdef012345"
BASE = "https://hooks.example.com/prod"
HERE = f"{BASE}/twilio/acme/sms"
OURS, ELSEWHERE = "+15005550006", "+15005550007"


class Records:
    def __init__(self) -> None:
        self.accounts = {
            name: Account(name, SID, True, f"test/accounts/{name}", "t0", "t0", timezone=None)
            for name in ("acme", "globex")
        }

    def get(self, name: str) -> Account | None:
        return self.accounts.get(name)

    def set_receive_enabled(self, name: str, enabled: bool) -> Account:
        self.accounts[name] = replace(self.accounts[name], receive_enabled=enabled)
        return self.accounts[name]

    def add_own_numbers(self, name: str, numbers: frozenset[str]) -> None:
        account = self.accounts[name]
        self.accounts[name] = replace(account, own_numbers=account.own_numbers | numbers)


class Vault:
    def __init__(self) -> None:
        self.tokens = {f"test/accounts/{n}": AuthTokens(OLD) for n in ("acme", "globex")}

    def get(self, secret_id: str) -> AuthTokens:
        return self.tokens[secret_id]

    def rotate_from(
        self, secret_id: str, tokens: AuthTokens, new_token: str, previous_valid_for: timedelta
    ) -> AuthTokens:
        if tokens.current != new_token:
            previous = tokens.current
            self.tokens[secret_id] = AuthTokens(new_token, previous, "t1", "2026-12-08T10:00:00Z")
        return self.tokens[secret_id]


def number(phone: str, sms_url: str | None) -> PhoneNumber:
    return PhoneNumber(f"PN{phone[1:]}", phone, phone, sms_url, "POST", None, None, None)


class Twilio:
    def __init__(self) -> None:
        self.accepts = {OLD, NEW}
        self.numbers_of = [number(OURS, HERE), number(ELSEWHERE, "https://demo.twilio.com/sms")]
        self.failure: TwilioFailure | None = None
        self.calls: list[tuple[str, str]] = []

    def verify(self, account_sid: str, auth_token: str) -> AccountVerification:
        self.calls.append(("verify", auth_token))
        if self.failure is not None and self.failure.unreachable:
            return AccountVerification(VerificationOutcome.UNAVAILABLE, account_sid, "b", "down")
        if auth_token not in self.accepts:
            return AccountVerification(
                VerificationOutcome.WRONG_CREDENTIALS, account_sid, "b", "Authenticate",
                http_status=401, twilio_code=20003,
            )  # fmt: skip
        return AccountVerification(
            VerificationOutcome.VERIFIED, account_sid, "b", "credentials accepted", "Acme", "active"
        )

    def numbers(self, account_sid: str, auth_token: str) -> list[PhoneNumber]:
        self.calls.append(("numbers", auth_token))
        if self.failure is not None:
            raise self.failure
        return list(self.numbers_of)

    def connect(
        self, account_sid: str, auth_token: str, phone: str, *, sms_url: str, status_url: str
    ) -> PhoneNumber:
        self.calls.append(("connect", auth_token))
        if self.failure is not None:
            raise self.failure
        if phone not in {n.phone_number for n in self.numbers_of}:
            raise TwilioFailure(f"the account has no number {phone}", unreachable=False,
                                not_found=True)  # fmt: skip
        connected = replace(number(phone, sms_url), status_callback=status_url)
        self.numbers_of = [connected if n.phone_number == phone else n for n in self.numbers_of]
        return connected


class Audit:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def record(self, **entry: Any) -> None:
        self.entries.append(entry)


class World:
    def __init__(self) -> None:
        self.records, self.vault, self.twilio, self.audit = Records(), Vault(), Twilio(), Audit()
        self.page = ConsoleAccounts(self.records, self.vault, self.twilio, self.audit, BASE)


@pytest.fixture
def world() -> World:
    return World()


def user(role: Role = Role.ADMIN, *accounts: str) -> Principal:
    return Principal("bo@example.com", role, frozenset(accounts) or None)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_account_its_url_and_numbers_and_may_verify(
    world: World, role: Role
) -> None:
    detail = world.page.detail(user(role, "acme"), "acme")
    assert detail == {
        "name": "acme", "account_sid": SID, "receive": True, "time_zone": "UTC",
        "messaging_request_url": HERE, "status_callback_url": f"{BASE}/twilio/acme/status",
    }  # fmt: skip
    numbers = world.page.numbers(user(role, "acme"), "acme")
    assert numbers["messaging_request_url"] == HERE
    assert [(n["phone_number"], n["points_here"]) for n in numbers["items"]] == [
        (OURS, True), (ELSEWHERE, False),
    ]  # fmt: skip
    verified = world.page.verify(user(role, "acme"), "acme")
    assert (verified["outcome"], verified["friendly_name"]) == ("verified", "Acme")
    assert "base_url" not in verified
    assert OLD not in json.dumps([detail, numbers, verified])
    assert world.audit.entries == []


def test_an_admin_of_another_account_reads_and_changes_nothing_of_it(world: World) -> None:
    theirs = user(Role.ADMIN, "globex")
    for call in (
        lambda: world.page.detail(theirs, "acme"),
        lambda: world.page.numbers(theirs, "acme"),
        lambda: world.page.verify(theirs, "acme"),
        lambda: world.page.set_receive(theirs, "acme", {"enabled": False}),
        lambda: world.page.connect(theirs, "acme", {"number": ELSEWHERE}),
        lambda: world.page.replace_token(theirs, "acme", {"auth_token": NEW}),
        lambda: world.page.detail(theirs, "nosuch"),  # no existence oracle either
    ):
        with pytest.raises(AccessDenied):
            call()
    assert world.twilio.calls == []
    with pytest.raises(NotFound):
        world.page.detail(user(), "nosuch")


def test_receive_off_and_on_is_audited_with_what_changed(world: World) -> None:
    assert world.page.set_receive(user(), "acme", {"enabled": False})["receive"] is False
    assert world.page.set_receive(user(), "acme", {"enabled": False})["receive"] is False
    assert world.records.accounts["acme"].receive_enabled is False
    assert world.audit.entries == [
        {
            "actor": "bo@example.com",
            "action": "account.update",
            "account": "acme",
            "target": "acme",
            "detail": {"receive": False, "receive_was": True},
        },
    ]  # fmt: skip, and the repeat changed nothing, so it audits nothing


def test_connecting_a_number_points_it_here_and_records_it_as_ours(world: World) -> None:
    connected = world.page.connect(user(), "acme", {"number": ELSEWHERE})

    assert (connected["phone_number"], connected["points_here"]) == (ELSEWHERE, True)
    assert ELSEWHERE in world.records.accounts["acme"].own_numbers
    [entry] = world.audit.entries
    assert entry["action"] == "account.update"
    assert ELSEWHERE not in json.dumps(entry), "no whole phone number in the audit"
    with pytest.raises(NotFound):
        world.page.connect(user(), "acme", {"number": "+15005550099"})


def test_replacing_the_token_tries_it_first_and_never_answers_or_audits_it(
    world: World,
) -> None:
    answer = world.page.replace_token(user(), "acme", {"auth_token": NEW})

    assert answer == {"replaced": True, "previous_accepted_until": "2026-12-08T10:00:00.000Z"}
    assert world.twilio.calls == [("verify", NEW)]
    tokens = world.vault.tokens["test/accounts/acme"]
    assert (tokens.current, tokens.previous) == (NEW, OLD)
    [entry] = world.audit.entries
    assert entry["detail"]["changed"] == "auth token"
    shown = json.dumps([answer, entry])
    assert NEW not in shown
    assert OLD not in shown
    again = world.page.replace_token(user(), "acme", {"auth_token": NEW})
    assert again["replaced"] is False
    assert len(world.audit.entries) == 1


def test_a_token_twilio_refuses_or_cannot_check_replaces_nothing(world: World) -> None:
    with pytest.raises(BadRequest) as refused:
        world.page.replace_token(user(), "acme", {"auth_token": "wrong-token-0123456789abcdef"})
    assert "wrong-token" not in str(refused.value)
    world.twilio.failure = TwilioFailure("down", unreachable=True)
    with pytest.raises(Refused) as unavailable:
        world.page.replace_token(user(), "acme", {"auth_token": NEW})
    assert unavailable.value.status == 503
    assert world.vault.tokens["test/accounts/acme"] == AuthTokens(OLD)
    assert world.audit.entries == []


@pytest.mark.parametrize(
    ("call", "body"),
    [
        ("set_receive", {}),
        ("set_receive", {"enabled": "yes"}),
        ("set_receive", {"enabled": True, "name": "x"}),
        ("connect", {"number": "5005550007"}),
        ("connect", {}),
        ("replace_token", {}),
        ("replace_token", {"auth_token": ""}),
        ("replace_token", {"auth_token": "has space"}),
        ("replace_token", {"auth_token": 12345}),
        ("replace_token", {"auth_token": "x" * 500}),
    ],
)
def test_bad_input_is_a_bad_request_that_changes_nothing(
    world: World, call: str, body: dict[str, Any]
) -> None:
    with pytest.raises(BadRequest):
        getattr(world.page, call)(user(), "acme", body)
    assert world.twilio.calls == []
    assert world.audit.entries == []


def test_twilio_failing_is_a_502_or_503_naming_it(world: World) -> None:
    world.twilio.failure = TwilioFailure("HTTP 401, error 20003", unreachable=False)
    with pytest.raises(Refused) as refused:
        world.page.numbers(user(Role.VIEWER), "acme")
    assert (refused.value.status, refused.value.error) == (502, "twilio_refused")
    world.twilio.failure = TwilioFailure("no answer within 5 s", unreachable=True)
    with pytest.raises(Refused) as down:
        world.page.connect(user(), "acme", {"number": OURS})
    assert (down.value.status, down.value.error) == (503, "twilio_unavailable")
    assert world.audit.entries == []
