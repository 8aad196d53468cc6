"""``docs/openapi/webhooks.yaml`` is a valid OpenAPI 3 description and documents every answer the
README's status table gives, on both routes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.fuzz import openapi_strategies as spec

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_statuses() -> dict[int, set[str]]:
    """Status -> the JSON error reasons the README's table gives for it."""
    table = README.read_text("utf-8").split("## The webhooks' answers", 1)[1].split("\n## ", 1)[0]
    statuses: dict[int, set[str]] = {}
    for match in re.finditer(r"^\| (\d{3}) \| ([^|]*)\|", table, re.MULTILINE):
        reasons = set(re.findall(r"`([a-z_]+)`", match.group(2))) - {"text"}
        statuses.setdefault(int(match.group(1)), set()).update(reasons)
    return statuses


def test_the_description_is_valid_openapi() -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(spec.spec())


@pytest.mark.parametrize("path", sorted(spec.spec()["paths"]))
def test_every_readme_status_is_documented_on_each_route(path: str) -> None:
    statuses = readme_statuses()
    assert {200, 400, 403, 404, 405, 413, 415, 500, 503} <= set(statuses)
    documented = set(spec.documented_statuses(path, "POST"))
    for method in spec.operations(path):
        if method != "POST":
            assert set(spec.documented_statuses(path, method)) == {405}
    assert documented == set(statuses) - {405}
    reasons = set(
        spec.resolve(spec.spec()["components"]["schemas"]["Error"])["properties"]["error"]["enum"]
    )
    assert set().union(*statuses.values()) - {"Allow"} <= reasons
