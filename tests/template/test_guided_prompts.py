"""docs/deploy.md's guided-deploy table is SAM's guided deploy, prompt for prompt: SAM CLI's own
``sam deploy --guided`` (as ``make deploy GUIDED=1`` runs it: the samconfig environment's
parameters) is answered from the table's column for dev and for prod, and must ask exactly the
table's prompts, in order, pre-filling each parameter with the table's value.

It stops after the prompts: AWS is an address where nothing listens, so the first AWS call
(the managed S3 bucket) fails and nothing is saved or deployed. A template change that adds,
removes or reorders a parameter, or a samconfig change of a pre-filled value, fails here until
the guide follows."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.support.docs import DEPLOY_GUIDE, cell_value, table_after
from tests.support.template import ROOT
from tests.unit.test_deploy_tool import tool

pytestmark = pytest.mark.template

TABLE_HEADER = "| prompt | dev | prod | what to answer |"
_PROMPT = re.compile(r"\t(?P<prompt>[^\t#\[\n][^\t\[\n]*?)(?: \[(?P<default>[^\]\n]*)\])?: ")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def table() -> list[list[str]]:
    return table_after(DEPLOY_GUIDE, TABLE_HEADER)


@pytest.mark.parametrize(("config_env", "column"), [("default", 1), ("prod", 2)])
def test_guided_deploy_asks_the_guides_prompts_with_its_values(
    table: list[list[str]], config_env: str, column: int, tmp_path: Path
) -> None:
    if not tool.SAM.exists():
        pytest.skip(f"{tool.SAM.relative_to(ROOT)} missing: run `make tools`")
    for name in ("template.yaml", "samconfig.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    answers = [cell_value(row[column]) for row in table]
    command = tool.sam_deploy_command(config_env, tool.deploy_overrides(config_env, {}), True)

    done = subprocess.run(  # noqa: S603 - the tools venv's SAM CLI, as make deploy runs it
        command,
        cwd=tmp_path,
        input="\n".join(answers) + "\n",
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_MAX_ATTEMPTS": "1",
            "SAM_CLI_TELEMETRY": "0",
        },
    )

    prompts = done.stdout.partition("Setting default arguments for 'sam deploy'")[2]
    asked = [(m["prompt"], m["default"]) for m in _PROMPT.finditer(prompts)]
    assert [prompt for prompt, _ in asked] == [row[0] for row in table], done.stderr[-2000:]
    prefilled = dict(asked)
    for row, answer in zip(table, answers, strict=True):
        if row[0] == "Stack Name" or row[0].startswith("Parameter "):
            assert (row[0], prefilled[row[0]]) == (row[0], answer)
    assert "Looking for resources needed for deployment" in done.stdout  # every answer taken
    assert (tmp_path / "samconfig.toml").read_bytes() == (ROOT / "samconfig.toml").read_bytes()
