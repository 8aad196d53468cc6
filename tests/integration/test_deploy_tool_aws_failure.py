"""tools/deploy.py (``make deploy``) when AWS cannot be reached: one line naming the failure
(a real connection to a closed port: not a unit test; the rest: tests/unit/test_deploy_tool.py)."""

from __future__ import annotations

import pytest

from tests.unit.test_deploy_tool import tool

pytestmark = pytest.mark.integration


def test_an_aws_failure_ends_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    for name, value in {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)

    assert tool.main(["delete-failed-stack", "--config-env", "prod"]) == 1

    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: an AWS call failed (EndpointConnectionError)")
