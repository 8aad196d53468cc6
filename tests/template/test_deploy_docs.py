"""The deploy guide (README's "Deploy to AWS" and docs/deploy.md) agrees with what it documents:
the template's parameters and outputs, the make targets that create what the commands use, the
one-time account setup's role, and commands a reader can paste (venv paths, a hidden token
prompt). Running them is tests/e2e/test_deploy_guide.py; SAM's guided prompts,
test_guided_prompts.py."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from tests.support.docs import (
    DEPLOY_GUIDE,
    README,
    cell_value,
    code_blocks,
    commands,
    guide_block,
    table_after,
)
from tests.support.template import ROOT

pytestmark = pytest.mark.template

GUIDES = [README, DEPLOY_GUIDE]
README_GUIDE = ["deploy", "dev-account", "dev-triggers", "dev-messages"]
_VENV_TOOL = re.compile(r"(?<![\w/.-])(?P<venv>\.venv(?:-\w+)?)/bin/[\w-]+")


def _backticked(cell: str) -> str:
    match = re.fullmatch(r"`(\w+)`", cell)
    assert match, f"a name cell is one `Name`, not {cell!r}"
    return match[1]


def test_readme_parameters_table_is_the_templates_parameters_with_their_defaults(
    raw_template: dict[str, Any],
) -> None:
    rows = table_after(README, "| parameter | default | meaning |")
    documented = {_backticked(row[0]): cell_value(row[1]) for row in rows}
    defaults = {name: str(p.get("Default", "")) for name, p in raw_template["Parameters"].items()}

    assert documented == defaults


def test_readme_outputs_table_lists_every_output(raw_template: dict[str, Any]) -> None:
    rows = table_after(README, "| output | what it is |")

    assert sorted(_backticked(row[0]) for row in rows) == sorted(raw_template["Outputs"])


@pytest.mark.parametrize(
    "guide", [README, *sorted((ROOT / "docs").glob("*.md"))], ids=lambda p: p.name
)
def test_commands_run_from_a_fresh_clone_without_a_path_setup(guide: Any) -> None:
    """Bare ``sam`` and ``sms-automation`` are on no PATH: the venvs' own copies are."""
    bare = [
        line
        for block in code_blocks(guide)
        for line in commands(block)
        if re.match(r"(sam|sms-automation)\s", line.strip())
    ]
    assert bare == []


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_the_auth_token_is_typed_at_a_hidden_prompt(guide: Any) -> None:
    text = guide.read_text(encoding="utf-8")
    adds = [
        line
        for block in code_blocks(guide)
        for line in commands(block)
        if "accounts add" in line or "rotate-token" in line
    ]
    assert adds, "the guide shows how to add an account"
    assert [line for line in adds if "--auth-token-stdin" in line] == []  # it waits, no prompt
    assert "pbpaste" not in text  # macOS only
    assert "asks for the Auth Token (hidden)" in text


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_the_guide_asks_for_no_account_wide_api_gateway_role(guide: Any) -> None:
    """HTTP APIs log without API Gateway's account-level CloudWatch Logs role (REST APIs' need)."""
    text = guide.read_text(encoding="utf-8")

    assert re.findall(r"aws-account-setup|APIGatewayCloudWatchLogs|--role-name \S+", text) == []


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_the_guide_says_guided_rewrites_samconfig(guide: Any) -> None:
    assert "rewrites `samconfig.toml`" in " ".join(guide.read_text(encoding="utf-8").split())


def test_readme_first_screen_has_exactly_the_two_setup_commands() -> None:
    first = code_blocks(README)[0]
    assert [line.split("#")[0].strip() for line in commands(first)] == ["make run", "make test"]


def _venvs_created_by(targets: list[str]) -> set[str]:
    """The venvs the make targets create on a fresh clone (``make -n -B``: every rule as if
    nothing existed yet, nothing run)."""
    done = subprocess.run(  # noqa: S603 - make with the guide's own targets
        ["make", "--no-print-directory", "-n", "-B", *targets],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(re.findall(r"-m venv (\.venv[\w-]*)", done.stdout))


def test_the_readme_guide_creates_every_venv_its_commands_use() -> None:
    """A fresh clone has no venv: whatever ``.venv*/bin/…`` a command runs, a ``make`` target
    earlier in the guide must have created."""
    targets: list[str] = []
    missing: list[str] = []
    for name in README_GUIDE:
        for line in commands(guide_block(README, name)):
            used = {match["venv"] for match in _VENV_TOOL.finditer(line.split("#")[0])}
            if used and not used <= _venvs_created_by(targets or ["help"]):
                missing.append(line)
            if line.startswith("make "):
                targets += [w for w in line.split("#")[0].split()[1:] if "=" not in w]
    assert targets, "the guide deploys with make"
    assert missing == []
