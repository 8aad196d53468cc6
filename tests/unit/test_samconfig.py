"""samconfig.toml: each environment deploys its own stack, with parameters a new account takes.

An environment naming another's stack (or S3 prefix) would turn that stack into something else
on ``sam deploy --config-env``; reserved concurrency fails on accounts whose Lambda concurrency
quota is the new-account minimum (docs/deploy.md, "Reserved concurrency")."""

from __future__ import annotations

import shlex
import tomllib
from typing import Any

import pytest

from tests.support.template import ROOT, load_template

CONFIG: dict[str, Any] = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
ENVIRONMENTS = sorted(name for name in CONFIG if name != "version")


def deploy_setting(env: str, key: str) -> Any:
    sections = CONFIG[env]
    for command in ("deploy", "global"):
        value = sections.get(command, {}).get("parameters", {}).get(key)
        if value is not None:
            return value
    return None


def overrides(env: str) -> dict[str, str]:
    text = deploy_setting(env, "parameter_overrides") or ""
    return dict(item.split("=", 1) for item in shlex.split(text))


def test_there_are_a_dev_and_a_prod_environment() -> None:
    assert {"default", "prod"} <= set(ENVIRONMENTS)


@pytest.mark.parametrize("key", ["stack_name", "s3_prefix"])
def test_no_two_environments_share_a_stack_or_an_s3_prefix(key: str) -> None:
    values = {env: deploy_setting(env, key) for env in ENVIRONMENTS}
    assert None not in values.values(), values
    assert len(set(values.values())) == len(values), f"{key} shared: {values}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_environment_reserves_concurrency_a_new_account_lacks(env: str) -> None:
    reserved = int(overrides(env).get("TriggerProcessorReservedConcurrency", "0"))
    default = load_template()["Parameters"]["TriggerProcessorReservedConcurrency"]["Default"]
    assert (reserved, default) == (0, 0)
