"""``sms-automation webhook sign|verify``: compute and check X-Twilio-Signature offline.

Both commands call :mod:`sms_automation.webhooks.signature`, the code the webhook Lambda runs, so a
verdict here is the Lambda's verdict for the same URL, body and token. Exit codes:
0 valid (or signed), 1 invalid, 2 usage error (bad arguments, unreadable file, no token).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import parse_qsl

from sms_automation.webhooks.signature import (
    REASON_BODY_HASH_MISMATCH,
    REASON_BODY_HASH_MISSING,
    REASON_MISSING_SIGNATURE,
    SignatureCheck,
    body_sha256,
    claimed_body_hash,
    compute_signature,
    url_with_body_hash,
    verify_form,
    verify_json,
)

ENV_AUTH_TOKEN = "TWILIO_AUTH_TOKEN"  # noqa: S105 (the variable's name, not a secret)
READ_FROM_STDIN = "-"
TOKEN_LABELS = ("current", "previous")

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_USAGE = 2

# argparse %-formats help strings: "%%" prints "%".
AUTH_TOKEN_HELP = (
    f"Twilio auth token. '{READ_FROM_STDIN}' reads it from the next line of stdin; without "
    f"this option ${ENV_AUTH_TOKEN} is used. Either way the token stays out of shell "
    "history and the process list."
)
FORM_FILE_HELP = (
    "file holding the application/x-www-form-urlencoded body exactly as posted (UTF-8). "
    "One trailing line ending (\\n or \\r\\n) is dropped: Twilio sends line breaks as "
    "%%0A, so a literal one at the end was added by an editor. Everything else is kept, "
    "blank values such as 'ToCity=' included."
)
JSON_FILE_HELP = "file holding a JSON (non-form) body, hashed byte for byte: nothing is stripped"

URL_HINTS = (
    "http vs https: use the scheme the webhook URL is configured with in Twilio",
    "a proxy, tunnel or custom domain changes the host: use the public URL Twilio calls, "
    "not the one the server sees",
    "a port: only the default port (added) and the given port (removed) are tried",
    "a stage path (e.g. /Prod) added: the stack's HTTP APIs serve their $default stage, none",
    "the query string must be byte for byte the configured one, same order and encoding",
)
FORM_HINTS = (
    "blank values (e.g. 'ToCity=') trimmed or dropped: the body must be exactly as posted",
)
TOKEN_HINTS = (
    "the token: the account (or subaccount) that owns the number? recently rotated? "
    "pass the previous token as a second --auth-token",
)


class UsageError(Exception):
    """Input the command cannot work with; reported on stderr with exit code 2."""


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    webhook = groups.add_parser(
        "webhook",
        help="sign and verify X-Twilio-Signature",
        description="Compute or check the X-Twilio-Signature of a webhook request offline.",
    )
    commands = webhook.add_subparsers(dest="webhook_command", required=True, metavar="COMMAND")

    sign = commands.add_parser(
        "sign",
        help="print the signature Twilio would send",
        description=(
            "Print the X-Twilio-Signature Twilio would send for this URL and body. With "
            "--json-file and a URL without bodySHA256, prints the URL with bodySHA256 "
            "appended on one line (Twilio calls and signs that URL), then the signature."
        ),
    )
    _add_request_arguments(sign)
    sign.add_argument("--auth-token", metavar="TOKEN", help=AUTH_TOKEN_HELP)
    sign.set_defaults(func=_reporting_usage_errors(sign, _sign))

    verify = commands.add_parser(
        "verify",
        help="check a signature (exit 0 valid, 1 invalid, 2 usage error)",
        description=(
            "Check an X-Twilio-Signature the way the webhook Lambda does: every URL variant "
            "(default port added or port removed) with every token."
        ),
    )
    _add_request_arguments(verify)
    verify.add_argument("--signature", required=True, help="the X-Twilio-Signature header value")
    verify.add_argument(
        "--auth-token",
        metavar="TOKEN",
        action="append",
        help=f"{AUTH_TOKEN_HELP} Give it twice (current, then previous) to accept either.",
    )
    verify.set_defaults(func=_reporting_usage_errors(verify, _verify))


def _add_request_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="the full URL Twilio calls, query included")
    body = parser.add_mutually_exclusive_group(required=True)
    body.add_argument("--form-file", type=Path, metavar="FILE", help=FORM_FILE_HELP)
    body.add_argument("--json-file", type=Path, metavar="FILE", help=JSON_FILE_HELP)


def _reporting_usage_errors(
    parser: argparse.ArgumentParser, command: Callable[[argparse.Namespace], int]
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except UsageError as error:
            print(f"{parser.prog}: error: {error}", file=sys.stderr)
            return EXIT_USAGE

    return run


def _sign(args: argparse.Namespace) -> int:
    [token] = _auth_tokens([args.auth_token] if args.auth_token else [])
    if args.form_file is not None:
        print(compute_signature(args.url, _read_form_params(args.form_file), token))
        return EXIT_VALID
    body = _read_bytes(args.json_file)
    url = args.url
    claimed = claimed_body_hash(url)
    if claimed is None:
        url = url_with_body_hash(url, body)
        print("note: the URL had no bodySHA256; Twilio calls and signs this one:", file=sys.stderr)
        print(url)
    elif claimed != body_sha256(body):
        raise UsageError(
            f"the URL's bodySHA256 is not the SHA-256 of {args.json_file} "
            f"({body_sha256(body)}): fix the URL or the file"
        )
    print(compute_signature(url, (), token))
    return EXIT_VALID


def _verify(args: argparse.Namespace) -> int:
    tokens = _auth_tokens(args.auth_token or [])
    json_body: bytes | None = None
    if args.form_file is not None:
        params = _read_form_params(args.form_file)
        check = verify_form(args.url, params, args.signature, tokens)
    else:
        json_body = _read_bytes(args.json_file)
        check = verify_json(args.url, json_body, args.signature, tokens)
    if check.valid:
        label = TOKEN_LABELS[check.matched_token_index or 0]
        print(f"valid: signed for {check.matched_url} with the {label} auth token")
        return EXIT_VALID
    print(f"invalid: {check.reason}")
    print(f"tried {len(tokens)} auth token(s) with each URL variant:")
    for url in check.tried_urls:
        print(f"  {url}")
    print("check:")
    for hint in _hints(check, args.url, json_body):
        print(f"  - {hint}")
    return EXIT_INVALID


def _hints(check: SignatureCheck, url: str, json_body: bytes | None) -> tuple[str, ...]:
    if check.reason == REASON_MISSING_SIGNATURE:
        return ("pass the X-Twilio-Signature header value as --signature",)
    if check.reason == REASON_BODY_HASH_MISSING:
        return (
            "Twilio puts bodySHA256 in the query string of JSON webhooks: pass the full URL "
            "the request was made to; for form bodies use --form-file",
        )
    if check.reason == REASON_BODY_HASH_MISMATCH and json_body is not None:
        return (
            f"the file's SHA-256 is {body_sha256(json_body)}, the URL claims "
            f"{claimed_body_hash(url)}: the file must hold the body byte for byte "
            "(an editor's trailing newline or reformatting changes it)",
        )
    body_hints = FORM_HINTS if json_body is None else ()
    return (*URL_HINTS, *body_hints, *TOKEN_HINTS)


def _auth_tokens(given: Sequence[str]) -> list[str]:
    if not given:
        token = os.environ.get(ENV_AUTH_TOKEN, "")
        if not token:
            raise UsageError(
                f"no auth token: pass --auth-token TOKEN, --auth-token {READ_FROM_STDIN} "
                f"(read from stdin) or set {ENV_AUTH_TOKEN}"
            )
        return [token]
    if len(given) > len(TOKEN_LABELS):
        raise UsageError("--auth-token is accepted at most twice (current, then previous)")
    tokens = [_read_token_line() if token == READ_FROM_STDIN else token for token in given]
    if not all(tokens):
        raise UsageError("an --auth-token is empty")
    return tokens


def _read_token_line() -> str:
    line = sys.stdin.readline().strip()
    if not line:
        raise UsageError(f"--auth-token {READ_FROM_STDIN}: no token line on stdin")
    return line


def _read_form_params(path: Path) -> list[tuple[str, str]]:
    raw = _read_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"{path} is not UTF-8 ({error.reason} at byte {error.start})") from None
    body = text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")
    if "\n" in body or "\r" in body:
        print(
            f"warning: {path} has a line break inside the body; Twilio sends them as %0A, "
            "so the file was probably edited",
            file=sys.stderr,
        )
    return parse_qsl(body, keep_blank_values=True, strict_parsing=False)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
