"""``make run PUBLIC_URL=https://…``: the local stack deployed for a tunnel's public URL, with no
code edited. Twilio signs the URL it posts to, so the webhook's ``PublicBaseUrl`` (what it
checks signatures against, and what status callbacks point at) is the tunnel's URL plus the
API's path; what the stack sends goes to the real Twilio, not the sandbox."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sms_automation_local.__main__ import build_parser
from sms_automation_local.stack import InvalidPublicUrl, LocalStack

ROOT = Path(__file__).resolve().parents[2]
TUNNEL = "https://abc123.tunnel.example"


def test_without_a_public_url_the_webhook_checks_the_invoke_url_and_sends_to_the_sandbox() -> None:
    stack = LocalStack(port=4566, sandbox_port=4570)
    assert stack.deploy_parameters(api_id=None).get("PublicBaseUrl") is None  # first deploy
    parameters = stack.deploy_parameters(api_id="a1b2c3")
    assert parameters["PublicBaseUrl"] == "http://127.0.0.1:4566/_aws/execute-api/a1b2c3"
    assert parameters["TwilioApiBaseUrl"] == "http://127.0.0.1:4570"


@pytest.mark.parametrize("given", [TUNNEL, TUNNEL + "/"])
def test_with_a_public_url_the_webhook_checks_the_tunnel_s_url(given: str) -> None:
    stack = LocalStack(port=4566, sandbox_port=4570, public_url=given)
    parameters = stack.deploy_parameters(api_id="a1b2c3")
    assert parameters["PublicBaseUrl"] == f"{TUNNEL}/_aws/execute-api/a1b2c3"
    assert "TwilioApiBaseUrl" not in parameters  # the template's default: api.twilio.com
    assert stack.webhook_base_url("a1b2c3") == parameters["PublicBaseUrl"]


@pytest.mark.parametrize(
    "bad",
    [
        "abc123.tunnel.example",
        "ftp://x.example",
        "https://",
        "https://x.example/?a=1",
        "https://x.example/#f",
        "https://x .example",
    ],
)
def test_a_public_url_that_is_not_one_is_refused(bad: str) -> None:
    with pytest.raises(InvalidPublicUrl, match="PUBLIC_URL"):
        LocalStack(public_url=bad)


def test_python_m_local_run_takes_public_url() -> None:
    args = build_parser().parse_args(["run", "--public-url", TUNNEL])
    assert args.public_url == TUNNEL
    assert build_parser().parse_args(["run"]).public_url is None


def _make_dry_run(*variables: str) -> str:
    """What ``make run`` would execute (``make -n``: printed, not run)."""
    return subprocess.run(  # noqa: S603 - make, fixed arguments
        ["make", "-n", "--no-print-directory", "run", *variables],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def test_make_run_passes_public_url_through() -> None:
    [command] = [
        line
        for line in _make_dry_run(f"PUBLIC_URL={TUNNEL}").splitlines()
        if "-m sms_automation_local run" in line
    ]
    assert command.endswith(f"--public-url '{TUNNEL}'")
    assert "--public-url" not in _make_dry_run()
