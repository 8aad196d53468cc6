"""The Lambda layer carries only what Lambda runs: nothing the functions load (layers/common,
functions/) imports the command line (``sms_automation_cli``) or the local stack
(``sms_automation_local``), whether at the top of a module or inside a function, and neither
lives under layers/common. (The import contract ``layer-without-tooling`` holds the same for
the layer's package; ``make build`` checks the built layer: tools/layer_size.py.)"""

from __future__ import annotations

import ast

from tests.support.template import ROOT

LAMBDA_CODE = (ROOT / "layers" / "common", ROOT / "functions")
NOT_FOR_LAMBDA = ("sms_automation_cli", "sms_automation_local")


def imported_modules(source: str) -> set[str]:
    """Every module a source imports: ``import``/``from`` statements anywhere in it (inside
    functions too), and the string given to ``import_module``/``__import__``. (A relative import
    stays inside its own package: skipped.)"""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def not_for_lambda(modules: set[str]) -> set[str]:
    return {
        module
        for module in modules
        if module.split(".")[0] in NOT_FOR_LAMBDA
        or module.startswith(("sms_automation.cli", "sms_automation.local"))
    }


def test_nothing_lambda_loads_imports_the_cli_or_the_local_stack() -> None:
    sources = sorted(path for top in LAMBDA_CODE for path in top.rglob("*.py"))
    assert len(sources) > 50, "the scan reads the layer and the functions"
    offenders = {
        str(path.relative_to(ROOT)): sorted(found)
        for path in sources
        if (found := not_for_lambda(imported_modules(path.read_text(encoding="utf-8"))))
    }
    assert offenders == {}


def test_the_scan_finds_every_way_of_importing() -> None:
    source = """
import sms_automation_cli.main
from sms_automation.local import demo

def later():
    from sms_automation_local.state import load_state
    importlib.import_module("sms_automation.cli.accounts")
    return __import__("sms_automation_cli")
"""
    assert not_for_lambda(imported_modules(source)) == {
        "sms_automation_cli.main",
        "sms_automation.local",
        "sms_automation.local.demo",
        "sms_automation_local.state",
        "sms_automation_local.state.load_state",
        "sms_automation.cli.accounts",
        "sms_automation_cli",
    }
    assert not_for_lambda(imported_modules("from sms_automation.adapters import clients")) == set()


def test_the_cli_and_the_local_stack_live_outside_the_layer() -> None:
    layer = ROOT / "layers" / "common"
    assert sorted(p.name for p in layer.iterdir() if p.is_dir()) == ["sms_automation"]
    assert not (layer / "sms_automation" / "cli").exists()
    assert not (layer / "sms_automation" / "local").exists()
    assert (ROOT / "cli" / "sms_automation_cli" / "main.py").is_file()
    assert (ROOT / "local" / "sms_automation_local" / "state.py").is_file()
