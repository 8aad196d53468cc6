"""docs/architecture.md cannot drift silently: every function and state machine of template.yaml
has its row (its directory, and the composition module its handler really calls), every resource
it wires together is named, every module, file and link it names exists, it states the import
contracts pyproject enforces, and its glossary defines the project's concepts."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.support.docs import table_after
from tests.support.template import ROOT, load_template

DOC = ROOT / "docs" / "architecture.md"
PACKAGES = {
    "sms_automation": ROOT / "layers" / "common" / "sms_automation",
    "sms_automation_cli": ROOT / "cli" / "sms_automation_cli",
    "sms_automation_local": ROOT / "local" / "sms_automation_local",
}
FUNCTION_TABLE = (
    "| template resource | trigger | function directory | composition | domain | ports | adapters |"
)
NAMED_RESOURCE_TYPES = {
    "AWS::Serverless::Function",
    "AWS::Serverless::StateMachine",
    "AWS::Serverless::LayerVersion",
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::Events::EventBus",
    "AWS::Scheduler::ScheduleGroup",
    "AWS::ApiGatewayV2::Api",
    "AWS::Cognito::UserPool",
    "AWS::SNS::Topic",
}
GLOSSARY_TERMS = (
    "Account",
    "Message",
    "Webhook",
    "Trigger file",
    "Evaluation",
    "Automation run",
    "Step",
    "Step ledger",
    "Lease",
    "Conversation",
    "Dead letter",
    "Contact",
    "Opt-out",
    "Send cap",
)
OUTSIDE_MODULES = {"typing"}  # named in the text, not ours: every other dotted name must resolve
_FILE_SUFFIXES = (".py", ".json", ".yaml", ".yml", ".md", ".toml", ".txt")
_DOTTED = re.compile(r"[a-z_][a-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def _resources() -> dict[str, Any]:
    resources: dict[str, Any] = load_template()["Resources"]
    return resources


def _rows() -> dict[str, list[str]]:
    rows = table_after(DOC, FUNCTION_TABLE)
    named = {}
    for row in rows:
        match = re.fullmatch(r"`(\w+)`", row[0])
        assert match, f"a row's first cell is one template resource in backticks, not {row[0]!r}"
        named[match[1]] = row
    return named


def _handler_composition(function_dir: str) -> str:
    """``composition.<module>``: what ``functions/<name>/handler.py`` imports from the layer."""
    tree = ast.parse((ROOT / function_dir / "handler.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "sms_automation.composition":
            return f"composition.{node.names[0].name}"
    raise AssertionError(f"{function_dir}handler.py imports no composition module")


def _module_file(dotted: str) -> tuple[Path | None, list[str]]:
    """The file of the longest module prefix of ``dotted`` (relative to ``sms_automation`` unless
    it names a package), and the attribute path left after it."""
    parts = dotted.split(".")
    if parts[0] not in PACKAGES:
        parts = ["sms_automation", *parts]
    base = PACKAGES[parts[0]]
    found: tuple[Path | None, list[str]] = (None, parts[1:])
    for end in range(1, len(parts)):
        folder = base.joinpath(*parts[1 : end + 1])
        if (folder / "__init__.py").is_file():
            found = (folder / "__init__.py", parts[end + 1 :])
        elif folder.with_suffix(".py").is_file():
            return folder.with_suffix(".py"), parts[end + 1 :]
        else:
            break
    return found


def _defines(source: str, name: str) -> bool:
    return re.search(rf"(?m)^\s*(?:class|def)\s+{name}\b|^\s*{name}\s*[:=]", source) is not None


@pytest.mark.parametrize(
    "logical_id",
    sorted(
        name
        for name, resource in _resources().items()
        if resource["Type"] in {"AWS::Serverless::Function", "AWS::Serverless::StateMachine"}
    ),
)
def test_every_function_and_state_machine_has_its_row(logical_id: str) -> None:
    resource = _resources()[logical_id]
    row = _rows().get(logical_id)
    assert row is not None, f"docs/architecture.md: no row for {logical_id}"
    if resource["Type"] == "AWS::Serverless::StateMachine":
        assert f"`{resource['Properties']['DefinitionUri']}`" in row[2]
        return
    code_uri = resource["Properties"]["CodeUri"]
    assert row[2] == f"`{code_uri}`", f"{logical_id}: its directory is {code_uri}"
    composition = _handler_composition(code_uri)
    assert f"`{composition}`" in row[3], f"{logical_id}'s handler calls {composition}"


def test_every_row_is_a_resource_of_the_template() -> None:
    assert set(_rows()) <= set(_resources())


def test_every_resource_it_wires_is_named() -> None:
    text = _text()
    wired = [n for n, r in _resources().items() if r["Type"] in NAMED_RESOURCE_TYPES]
    assert [name for name in wired if f"`{name}`" not in text] == []


def test_every_index_of_the_table_is_described() -> None:
    table = _resources()["AppTable"]["Properties"]
    for index in table["GlobalSecondaryIndexes"]:
        assert f"`{index['IndexName']}`" in _text()


def test_every_module_it_names_exists() -> None:
    missing = []
    for span in set(_CODE_SPAN.findall(_text())):
        if not _DOTTED.fullmatch(span) or span.endswith(_FILE_SUFFIXES):
            continue
        if span.split(".")[0] in OUTSIDE_MODULES:
            continue
        path, attributes = _module_file(span)
        if path is None or (
            attributes and not _defines(path.read_text(encoding="utf-8"), attributes[0])
        ):
            missing.append(span)
    assert sorted(missing) == []


def test_every_file_and_link_it_names_exists() -> None:
    top_level = {entry.name for entry in ROOT.iterdir()}
    text = _text()
    paths = [
        span
        for span in _CODE_SPAN.findall(text)
        if not re.search(r"[\s{}<>*#:]", span)
        and (span.split("/")[0] in top_level and ("/" in span or span.endswith(_FILE_SUFFIXES)))
    ]
    links = [(DOC.parent / link).resolve() for link in _LINK.findall(text)]
    assert [p for p in paths if not (ROOT / p).exists()] == []
    assert [str(link) for link in links if not link.exists()] == []


def test_the_layers_rule_is_the_import_contracts() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    text = " ".join(_text().split())
    assert [c["name"] for c in contracts if c["name"] not in text] == []


def test_the_glossary_defines_every_concept() -> None:
    glossary = _text().split("\n## Glossary\n", 1)[1]
    defined = re.findall(r"(?m)^- \*\*([^*]+)\*\*", glossary)
    assert [term for term in GLOSSARY_TERMS if term not in defined] == []


def test_the_readme_links_to_it() -> None:
    assert "(docs/architecture.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
