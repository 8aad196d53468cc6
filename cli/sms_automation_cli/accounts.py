"""``sms-automation accounts``: add, list, show, set, remove, enable, disable, rotate-token,
verify.

Auth tokens are read from stdin (``--auth-token-stdin``), ``TWILIO_AUTH_TOKEN`` or a hidden
prompt, never from a command-line flag (it would land in shell history and ``ps``), and are
never printed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from sms_automation.accounts import (
    DEFAULT_PREVIOUS_TOKEN_VALIDITY,
    Account,
    AuthTokens,
    AuthTokenSecretNotFound,
    MalformedAuthTokenSecret,
)
from sms_automation.adapters.account_store import (
    ACCOUNT_CACHE_SECONDS,
    AUTH_TOKEN_CACHE_SECONDS,
)
from sms_automation.adapters.twilio_verify import (
    DEFAULT_TIMEOUT_SECONDS,
    AccountVerification,
    VerificationOutcome,
    verify_twilio_account,
)
from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.send_cap import MAX_CAP_COUNT, MAX_WINDOW_SECONDS, SendCap
from sms_automation.send_settings import (
    DEFAULT_RATES,
    SendWindow,
    validate_rate,
    validate_rate_key,
)
from sms_automation_cli import argtypes
from sms_automation_cli.account_registry import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    Handler,
    UsageError,
    command_context,
    fail,
    open_registry,
    reports_errors,
)
from sms_automation_cli.context import CliContext

ENV_AUTH_TOKEN: Final = "TWILIO_AUTH_TOKEN"  # noqa: S105 (a variable name)

_ACCOUNT_CACHE = f"{ACCOUNT_CACHE_SECONDS:g} s"
_UNSET: Final = object()
"""--send-hours not given (None is 'off')."""
_TOKEN_CACHE_MINUTES = f"{AUTH_TOKEN_CACHE_SECONDS / 60:g}"


def _read_auth_token(from_stdin: bool, prompt: str) -> str:
    """stdin (``--auth-token-stdin``), else ``TWILIO_AUTH_TOKEN``, else a hidden prompt."""
    if from_stdin:
        return sys.stdin.read().strip()
    from_env = os.environ.get(ENV_AUTH_TOKEN, "").strip()
    if from_env:
        print(f"using the auth token from ${ENV_AUTH_TOKEN}", file=sys.stderr)
        return from_env
    if sys.stdin.isatty():
        return getpass.getpass(prompt).strip()
    raise UsageError(
        f"no auth token: pipe it with --auth-token-stdin, set {ENV_AUTH_TOKEN}, "
        "or run in a terminal to be prompted"
    )


def _confirm(question: str) -> bool:
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}


def _on_off(enabled: bool) -> str:
    return "on" if enabled else "off"


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2))


def _account_summary(account: Account, context: CliContext) -> dict[str, Any]:
    return {
        "name": account.name,
        "account_sid": account.account_sid,
        "receive_enabled": account.receive_enabled,
        "messaging_request_url": context.messaging_request_url(account.name),
    }


# --- commands ---------------------------------------------------------------------------------


@reports_errors
def add_account(args: argparse.Namespace) -> int:
    context = command_context(args)
    token = _read_auth_token(args.auth_token_stdin, f"Auth Token for {args.account_sid}: ")
    account = open_registry(args).add(
        args.name,
        args.account_sid,
        token,
        secrets_prefix=context.secrets_prefix,
        receive_enabled=not args.disabled,
        timezone=args.timezone,
    )
    print(f"added account {account.name!r} ({account.account_sid})")
    print(f"receive messages: {_on_off(account.receive_enabled)}")
    print(f"time zone: {_describe_zone(account)}")
    print("Messaging Request URL (Twilio Console > Phone Numbers > a number > Messaging,")
    print('"A message comes in", Webhook, HTTP POST):')
    print(f"  {context.messaging_request_url(account.name)}")
    return EXIT_OK


@reports_errors
def list_accounts(args: argparse.Namespace) -> int:
    context = command_context(args)
    accounts = [_account_summary(account, context) for account in open_registry(args).list()]
    if args.json:
        _print_json(accounts)
        return EXIT_OK
    if not accounts:
        print("no accounts (add one: sms-automation accounts add NAME --account-sid AC...)")
        return EXIT_OK
    rows = [("NAME", "ACCOUNT SID", "RECEIVE", "MESSAGING REQUEST URL")] + [
        (
            a["name"],
            a["account_sid"],
            _on_off(a["receive_enabled"]),
            a["messaging_request_url"],
        )
        for a in accounts
    ]
    widths = [max(len(cell) for cell in column) for column in zip(*rows, strict=True)]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
    return EXIT_OK


@reports_errors
def show_account(args: argparse.Namespace) -> int:
    context = command_context(args)
    registry = open_registry(args)
    account = registry.get(args.name)
    details = {
        **_account_summary(account, context),
        "send_cap": _cap_details(account.send_cap),
        "own_numbers": sorted(account.own_numbers),
        "timezone": account.timezone or "UTC",
        "help_text": account.help_text,
        "opt_out_keywords": sorted(account.opt_out_keywords),
        "send_hours": account.send_window.describe() if account.send_window else None,
        "send_rates": account.rates,
        "secret_id": account.secret_id,
        "created_at": account.created_at,
        "updated_at": account.updated_at,
    }
    tokens: AuthTokens | None = None
    try:
        tokens = registry.auth_tokens(account.name)
    except (AuthTokenSecretNotFound, MalformedAuthTokenSecret) as error:
        token_problem = str(error)
    else:
        token_problem = ""
        until = tokens.previous_accepted_until
        details["token_rotated_at"] = tokens.rotated_at
        details["previous_token_accepted"] = len(tokens.accepted_at(datetime.now(UTC))) > 1
        details["previous_token_accepted_until"] = utc_timestamp(until) if until else None
    if args.json:
        _print_json({**details, "token_problem": token_problem or None})
    else:
        _print_show(details, tokens)
    if token_problem:
        fail(token_problem)
        return EXIT_FAILED
    return EXIT_OK


def _print_show(details: dict[str, Any], tokens: AuthTokens | None) -> None:
    lines = [
        ("name", details["name"]),
        ("account SID", details["account_sid"]),
        ("receive messages", _on_off(details["receive_enabled"])),
        ("Messaging Request URL", details["messaging_request_url"]),
        ("send cap", _describe_send_cap(details["send_cap"])),
        ("own numbers", ", ".join(details["own_numbers"]) or "none seen yet"),
        ("time zone", details["timezone"]),
        ("help text", details["help_text"] or "none (HELP is an ordinary message)"),
        ("opt-out keywords", _describe_keywords(frozenset(details["opt_out_keywords"]))),
        ("send hours", _describe_send_hours(details["send_hours"])),
        ("send rates", _describe_rates(details["send_rates"])),
        ("auth token secret", details["secret_id"]),
        ("created", details["created_at"]),
        ("updated", details["updated_at"]),
    ]
    if tokens is not None:
        lines.append(("current token since", tokens.rotated_at or "unknown"))
        lines.append(("previous token", _previous_token_state(details)))
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        print(f"{label.ljust(width)}  {value}")


def _previous_token_state(details: dict[str, Any]) -> str:
    until = details["previous_token_accepted_until"]
    if details["previous_token_accepted"]:
        return f"accepted until {until} (end it sooner with: rotate-token --clear-previous)"
    if until is not None:
        return f"no longer accepted (its window ended {until})"
    return "none (only the current token is accepted)"


@reports_errors
def remove_account(args: argparse.Namespace) -> int:
    registry = open_registry(args)
    account = registry.get(args.name)
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(
                f"refusing to remove {account.name!r} without confirmation "
                "(no terminal to ask on); pass --yes"
            )
        question = (
            f"Remove account {account.name!r} ({account.account_sid}) and delete its auth token "
            f"secret {account.secret_id!r} at once, without recovery?"
        )
        if not _confirm(question):
            print("nothing removed")
            return EXIT_FAILED
    registry.remove(account.name)
    print(f"removed account {account.name!r} and its auth token secret")
    print(f"warm webhook instances may accept its messages for up to {_ACCOUNT_CACHE} more")
    return EXIT_OK


def _set_receive(enabled: bool) -> Handler:
    @reports_errors
    def run(args: argparse.Namespace) -> int:
        account = open_registry(args).set_receive_enabled(args.name, enabled)
        print(f"{account.name}: receive messages {_on_off(account.receive_enabled)}")
        print(f"(takes effect within {_ACCOUNT_CACHE}: the webhook caches account records)")
        return EXIT_OK

    return run


def _describe_keywords(keywords: frozenset[str]) -> str:
    return ", ".join(sorted(keywords)) + " (and Twilio's)" if keywords else "Twilio's only"


def _keywords(value: str) -> frozenset[str]:
    """``--opt-out-keywords HALT,BASTA``: trimmed, upper case; empty clears them."""
    words = frozenset(" ".join(word.split()).upper() for word in value.split(","))
    words -= {""}
    if any(len(word) > 40 for word in words) or len(words) > 20:
        raise argparse.ArgumentTypeError("at most 20 keywords of at most 40 characters each")
    return words


def _help_text(value: str) -> str:
    if len(value) > 320:
        raise argparse.ArgumentTypeError("at most 320 characters (two SMS segments)")
    return value.strip()


def _describe_send_cap(cap: dict[str, int]) -> str:
    return (
        f"{cap['count']} automatic messages per {cap['window_minutes']} minutes to one contact "
        "from one sender"
    )


def _bounded(name: str, low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = argtypes.positive_int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} is {low} to {high}, not {value}")
        return value

    return parse


def _describe_send_hours(window: str | None) -> str:
    if window is None:
        return "always (no quiet hours)"
    return f"{window} in the account's time zone (automatic sends wait outside it)"


def _describe_rates(rates: dict[str, float]) -> str:
    defaults = ", ".join(f"{kind.value} {rate:g}" for kind, rate in DEFAULT_RATES.items())
    own = ", ".join(f"{key} {rate:g}" for key, rate in sorted(rates.items()))
    return f"{own + '; ' if own else ''}defaults: {defaults} (segments a second)"


def _send_rate(text: str) -> tuple[str, float | None]:
    """``KEY=RATE`` or ``KEY=default`` (None: remove the account's own rate)."""
    key, equals, value = text.partition("=")
    if not equals:
        raise argparse.ArgumentTypeError("KEY=RATE, e.g. long_code=1 or MG...=30")
    try:
        validate_rate_key(key)
        return key, None if value == "default" else validate_rate(float(value))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _send_hours(text: str) -> SendWindow | None:
    if text == "off":
        return None
    try:
        return SendWindow.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _describe_zone(account: Account) -> str:
    return account.timezone or "UTC (none set; change it with: accounts set NAME --timezone ZONE)"


@reports_errors
def set_account(args: argparse.Namespace) -> int:
    opt_out_settings = args.help_text is not None or args.opt_out_keywords is not None
    send_settings = args.send_hours is not _UNSET or bool(args.send_rates)
    wanted = (args.send_cap, args.send_window, args.timezone)
    if all(value is None for value in wanted) and not opt_out_settings and not send_settings:
        raise UsageError(
            "nothing to set: give --send-cap, --send-window, --timezone, --help-text, "
            "--opt-out-keywords, --send-hours or --send-rate"
        )
    registry = open_registry(args)
    account = registry.get(args.name)
    if args.send_cap is not None or args.send_window is not None:
        current = account.send_cap
        cap = SendCap(
            count=args.send_cap or current.count,
            window_seconds=(args.send_window or current.window_minutes) * 60,
        )
        account = registry.set_send_cap(args.name, cap)
        print(f"{account.name}: send cap {_describe_send_cap(_cap_details(account.send_cap))}")
    if args.timezone is not None:
        account = registry.set_timezone(args.name, args.timezone)
        print(f"{account.name}: time zone {account.timezone}")
    if opt_out_settings:
        account = registry.set_opt_out_settings(
            args.name,
            help_text=account.help_text if args.help_text is None else args.help_text,
            opt_out_keywords=(
                account.opt_out_keywords if args.opt_out_keywords is None else args.opt_out_keywords
            ),
        )
        print(f"{account.name}: help text {account.help_text!r}")
        print(f"{account.name}: opt-out keywords {_describe_keywords(account.opt_out_keywords)}")
    if send_settings:
        rates = account.rates
        for key, rate in args.send_rates or ():
            if rate is None:
                rates.pop(key, None)
            else:
                rates[key] = rate
        window = account.send_window if args.send_hours is _UNSET else args.send_hours
        account = registry.set_send_settings(args.name, send_rates=rates, send_window=window)
        hours = account.send_window.describe() if account.send_window else None
        print(f"{account.name}: send hours {_describe_send_hours(hours)}")
        print(f"{account.name}: send rates {_describe_rates(account.rates)}")
    print(f"(takes effect within {_ACCOUNT_CACHE}: the functions cache account records)")
    return EXIT_OK


def _cap_details(cap: SendCap) -> dict[str, int]:
    return {"count": cap.count, "window_minutes": cap.window_minutes}


@reports_errors
def rotate_token(args: argparse.Namespace) -> int:
    registry = open_registry(args)
    account = registry.get(args.name)
    if args.clear_previous:
        if args.previous_valid_for is not None:
            raise UsageError("--previous-valid-for starts a rotation; --clear-previous ends one")
        if registry.auth_tokens(account.name).previous is None:
            print(f"{account.name}: no previous token to clear; only the current one is accepted")
            return EXIT_OK
        registry.clear_previous_token(account.name)
        print(f"{account.name}: previous token cleared; only the current one is accepted now")
        return EXIT_OK
    new_token = _read_auth_token(args.auth_token_stdin, f"New Auth Token for {account.name}: ")
    before = registry.auth_tokens(account.name)
    window = args.previous_valid_for or DEFAULT_PREVIOUS_TOKEN_VALIDITY
    tokens = registry.rotate_token(account.name, new_token, window)
    if tokens == before:
        print(f"{account.name}: that token is already the current one; nothing changed")
        return EXIT_OK
    print(
        f"{account.name}: the new token is current; the previous token is accepted until "
        f"{tokens.previous_valid_until}"
    )
    print(
        f"next: wait at least {_TOKEN_CACHE_MINUTES} minutes, promote the secondary token in "
        "the Twilio Console, then run:"
    )
    print(f"  sms-automation accounts rotate-token {account.name} --clear-previous")
    return EXIT_OK


@reports_errors
def verify_account(args: argparse.Namespace) -> int:
    context = command_context(args)
    registry = open_registry(args)
    account = registry.get(args.name)
    tokens = registry.auth_tokens(account.name)
    verification = verify_twilio_account(
        account.account_sid,
        tokens.current,
        base_url=context.twilio_api_base_url,
        timeout=args.timeout,
    )
    not_connected = None
    if verification.outcome is VerificationOutcome.VERIFIED:
        not_connected = _numbers_not_pointing_here(account, tokens.current, context, args.timeout)
    if args.json:
        _print_json(
            {"name": account.name, **verification.as_dict(), "numbers_not_connected": not_connected}
        )
    else:
        _print_verification(account, verification)
    return _verification_exit_code(verification)


def _numbers_not_pointing_here(
    account: Account, token: str, context: CliContext, timeout: float
) -> list[str] | None:
    """Warns (stderr) about each number of the account whose SMS webhook is not this
    deployment's; the numbers, or None when Twilio would not list them (a warning too)."""
    from sms_automation.adapters.twilio_numbers import TwilioNumbersError, list_numbers
    from sms_automation_cli.numbers import not_pointing_here

    expected = context.messaging_request_url(account.name)
    try:
        numbers = list_numbers(
            account.account_sid, token, base_url=context.twilio_api_base_url, timeout=timeout
        )
    except TwilioNumbersError as error:
        print(f"warning: could not list the account's numbers: {error}", file=sys.stderr)
        return None
    others = not_pointing_here(numbers, expected)
    for number in others:
        print(
            f"warning: {number.phone_number} does not send to this deployment "
            f"(SMS webhook: {number.sms_url or 'none'}); fix: "
            f"sms-automation numbers connect {account.name} {number.phone_number}",
            file=sys.stderr,
        )
    return [number.phone_number for number in others]


def _verification_exit_code(verification: AccountVerification) -> int:
    if verification.outcome is VerificationOutcome.VERIFIED:
        return EXIT_OK
    if verification.outcome is VerificationOutcome.UNAVAILABLE:
        return EXIT_UNREACHABLE
    return EXIT_FAILED


def _print_verification(account: Account, verification: AccountVerification) -> None:
    outcome = verification.outcome
    sid = account.account_sid
    answer = _twilio_answer(verification)
    if outcome is VerificationOutcome.VERIFIED:
        print(
            f"verified: {verification.friendly_name!r} ({sid}) is {verification.status}, "
            f"type {verification.type}"
        )
        return
    if outcome is VerificationOutcome.WRONG_CREDENTIALS:
        fail(f"Twilio rejected the stored credentials for {sid} ({answer})")
        print(
            "hint: copy the Auth Token again from the Twilio Console (Account > API keys & "
            f"tokens) and store it with: sms-automation accounts rotate-token {account.name}\n"
            "      if the token was rotated in Twilio (a secondary token promoted), the stored "
            "one is stale: store the new one the same way",
            file=sys.stderr,
        )
    elif outcome is VerificationOutcome.ACCOUNT_INACTIVE:
        fail(
            f"the Twilio account {verification.friendly_name!r} ({sid}) is "
            f"{verification.status}: it cannot send or receive messages"
        )
    elif outcome is VerificationOutcome.ACCOUNT_NOT_FOUND:
        fail(
            f"Twilio has no account {sid} ({answer}); check the Account SID "
            f"(remove and add {account.name!r} again with the right one)"
        )
    elif outcome is VerificationOutcome.REJECTED:
        fail(f"Twilio refused the request for {sid} ({answer})")
    else:
        fail(
            f"could not reach Twilio at {verification.base_url}: {answer}; nothing was "
            "verified, retry later"
        )


def _twilio_answer(verification: AccountVerification) -> str:
    parts = []
    if verification.http_status is not None:
        parts.append(f"HTTP {verification.http_status}")
    if verification.twilio_code is not None:
        parts.append(f"error {verification.twilio_code}")
    parts.append(verification.detail)
    if verification.more_info:
        parts.append(f"see {verification.more_info}")
    return ", ".join(parts)


# --- parser -----------------------------------------------------------------------------------

_CREDENTIAL_INPUT_HELP = (
    "The auth token is read from stdin with --auth-token-stdin (e.g. "
    "`pbpaste | sms-automation ...`), else from $TWILIO_AUTH_TOKEN, else from a hidden prompt. "
    "It is stored only in AWS Secrets Manager and never printed."
)

_ROTATE_EPILOG = f"""\
Twilio's auth token rotation, without rejecting a single message:
  1. Twilio Console > Account > API keys & tokens: create a secondary Auth Token.
  2. sms-automation accounts rotate-token NAME --auth-token-stdin   (give it the secondary token)
     The new token becomes current, the old one previous: the webhook accepts both.
     (sms-automation accounts verify NAME checks the new token against Twilio.)
  3. Wait at least {_TOKEN_CACHE_MINUTES} minutes: warm webhook instances cache tokens that long.
  4. Twilio Console: promote the secondary token to primary (Twilio now signs with it).
  5. sms-automation accounts rotate-token NAME --clear-previous
The previous token is accepted for 24 hours after step 2 (--previous-valid-for: 10m to 30d),
then refused even without step 5: finish steps 3-4 within that window.
A second rotation before step 5 drops the older previous token.
"""

_VERIFY_EPILOG = """\
Fetches /2010-04-01/Accounts/{AccountSid}.json with the stored Account SID and current auth
token (base URL: $TWILIO_API_BASE_URL, default https://api.twilio.com).

exit codes:
  0  verified: the credentials work and the account is active
  1  not verified: wrong credentials (HTTP 401 / error 20003), account suspended or closed,
     Account SID not found (HTTP 404 / error 20404), or another refusal
  2  usage error (invalid name)
  3  Twilio not reachable: network failure, timeout or a 5xx answer; retry later
"""


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    accounts = groups.add_parser(
        "accounts",
        help="Twilio accounts: add, list, show, set, remove, enable, disable, rotate-token, verify",
        description="Twilio accounts the webhook receives messages for. " + _CREDENTIAL_INPUT_HELP,
    )
    commands = accounts.add_subparsers(dest="command", required=True, metavar="COMMAND")
    name_help = "the account's name (lowercase letters, digits, hyphens; a URL segment)"
    zone_help = (
        "the account's IANA time zone (e.g. Europe/London): time conditions, %%now%%/%%date%%/"
        "%%time%%, conversation 'until' and schedules that name no zone use it (default UTC)"
    )

    add = commands.add_parser(
        "add",
        help="add an account and print its Messaging Request URL",
        description="Add a Twilio account. " + _CREDENTIAL_INPUT_HELP,
    )
    add.add_argument("name", type=argtypes.account_name, metavar="NAME", help=name_help)
    add.add_argument("--account-sid", required=True, type=argtypes.account_sid, metavar="AC...")
    add.add_argument("--auth-token-stdin", action="store_true", help="read the token from stdin")
    add.add_argument("--disabled", action="store_true", help="add with receiving turned off")
    add.add_argument("--timezone", type=argtypes.time_zone_name, metavar="ZONE", help=zone_help)
    add.set_defaults(func=add_account)

    listing = commands.add_parser("list", help="list accounts and their Messaging Request URLs")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=list_accounts)

    show = commands.add_parser("show", help="show an account (never its token)")
    show.add_argument("name", type=argtypes.account_name, metavar="NAME", help=name_help)
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=show_account)

    remove = commands.add_parser(
        "remove",
        help="remove an account and delete its auth token secret",
        description="Remove an account, then delete its secret at once (no recovery window).",
    )
    remove.add_argument("name", type=argtypes.account_name, metavar="NAME", help=name_help)
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    remove.set_defaults(func=remove_account)

    for command, enabled in (("enable", True), ("disable", False)):
        toggle = commands.add_parser(
            command,
            help=f"turn receiving messages {_on_off(enabled)}",
            description=f"Turn receiving messages {_on_off(enabled)} for an account; the "
            f"webhook notices within {_ACCOUNT_CACHE}.",
        )
        toggle.add_argument("name", type=argtypes.account_name, metavar="NAME", help=name_help)
        toggle.set_defaults(func=_set_receive(enabled))

    rotate = commands.add_parser(
        "rotate-token",
        help="store a new auth token, keeping the previous one accepted; or finish a rotation",
        description=textwrap.fill(
            "Store a new auth token: it becomes current and the old one previous (the webhook "
            "accepts both), or finish a rotation with --clear-previous. " + _CREDENTIAL_INPUT_HELP,
            width=92,
        ),
        epilog=_ROTATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rotate.add_argument("name", type=argtypes.account_name, metavar="NAME", help=name_help)
    source = rotate.add_mutually_exclusive_group()
    source.add_argument(
        "--auth-token-stdin", action="store_true", help="read the new token from stdin"
    )
    source.add_argument(
        "--clear-previous",
        action="store_true",
        help="stop accepting the previous token (the last step of a rotation)",
    )
    rotate.add_argument(
        "--previous-valid-for",
        type=argtypes.token_window,
        metavar="DURATION",
        help="accept the previous token this long after the rotation, e.g. 90m, 48h, 7d "
        "(default: 24h)",
    )
    rotate.set_defaults(func=rotate_token)

    settings = commands.add_parser(
        "set",
        help="change an account's settings: send cap, time zone, HELP answer, opt-out keywords, "
        "send hours (quiet hours), send rates",
        description="The send cap (the loop and flood guard, docs/triggers.md): at most COUNT "
        "automatic messages (trigger replies, conversation prompts and reminders, automations) "
        "to one contact from one sender per rolling window of MINUTES; one over it is not sent. "
        "Default: 10 per 10 minutes. The time zone: time conditions, %%now%%/%%date%%/%%time%%, "
        "conversation 'until' without an offset and automation schedules that name no zone are "
        "evaluated in it (default UTC). Send hours (quiet hours, docs/triggers.md): automatic "
        "sends outside HH:MM-HH:MM (the account's time zone) wait for it. Send rates "
        "(docs/decisions/0002-pacing.md): segments a second per sender type (long_code 1, "
        "toll_free 3, short_code 100, messaging_service 1 by default) or per sender.",
    )
    settings.add_argument("name", type=argtypes.account_name, metavar="NAME", help=name_help)
    settings.add_argument(
        "--send-cap",
        type=_bounded("--send-cap", 1, MAX_CAP_COUNT),
        metavar="COUNT",
        help=f"automatic messages per window to one contact from one sender (1-{MAX_CAP_COUNT})",
    )
    settings.add_argument(
        "--send-window",
        type=_bounded("--send-window", 1, MAX_WINDOW_SECONDS // 60),
        metavar="MINUTES",
        help=f"the rolling window, in minutes (1-{MAX_WINDOW_SECONDS // 60})",
    )
    settings.add_argument(
        "--timezone", type=argtypes.time_zone_name, metavar="ZONE", help=zone_help
    )
    settings.add_argument(
        "--help-text",
        type=_help_text,
        metavar="TEXT",
        help='the answer to HELP / INFO (docs/triggers.md, Opt-out); "" removes it (HELP is then '
        "an ordinary message)",
    )
    settings.add_argument(
        "--opt-out-keywords",
        type=_keywords,
        metavar="WORD,WORD",
        help="opt-out keywords of this account's own, besides Twilio's STOP, UNSUBSCRIBE, ...; "
        '"" removes them',
    )
    settings.add_argument(
        "--send-hours",
        type=_send_hours,
        default=_UNSET,
        metavar="HH:MM-HH:MM",
        help="quiet hours: automatic sends only between these local times (may cross midnight, "
        "e.g. 21:00-07:00); 'off' (the default) sends at any hour",
    )
    settings.add_argument(
        "--send-rate",
        dest="send_rates",
        type=_send_rate,
        action="append",
        metavar="KEY=RATE",
        help="segments a second for a sender type (long_code, toll_free, short_code, "
        "messaging_service) or one sender (+E.164, short code, MG... SID); KEY=default removes "
        "it; repeatable",
    )
    settings.set_defaults(func=set_account)

    verify = commands.add_parser(
        "verify",
        help="Verify Twilio Account: check the stored credentials against the Twilio API",
        description="Verify Twilio Account: check the stored Account SID and auth token.",
        epilog=_VERIFY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("name", type=argtypes.account_name, metavar="NAME", help=name_help)
    verify.add_argument("--json", action="store_true", help="print JSON")
    verify.add_argument(
        "--timeout",
        type=argtypes.positive_seconds,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help=f"give up on Twilio after this long (default: {DEFAULT_TIMEOUT_SECONDS:g})",
    )
    verify.set_defaults(func=verify_account)
