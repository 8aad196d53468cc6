"""No import cycles between the files of the command line and of the local stack: a module
that two others need is a public module both import (as ``cli/account_registry.py`` for
``accounts`` and ``numbers``), never a private name borrowed from one by the other."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.imports import cycles, import_graph
from tests.support.template import ROOT


@pytest.mark.parametrize(
    "package_dir",
    [ROOT / "cli" / "sms_automation_cli", ROOT / "local" / "sms_automation_local"],
    ids=lambda path: path.name,
)
def test_no_file_imports_itself_back_through_others(package_dir: Path) -> None:
    graph = import_graph(package_dir)
    assert len(graph) > 10, "the scan reads the package"
    assert sum(map(len, graph.values())) > 10, "the scan sees the package's own imports"
    assert cycles(graph) == []


def test_the_cycle_check_sees_a_cycle_through_a_lazy_import(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import helper\n")
    (package / "b.py").write_text("def helper():\n    from . import c\n")
    (package / "c.py").write_text("def later():\n    from pkg.a import x\n")
    (package / "d.py").write_text("import pkg.a\n")
    assert cycles(import_graph(package)) == [["pkg.a", "pkg.b", "pkg.c"]]
