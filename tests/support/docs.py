"""The docs as data: code blocks (all, or the one after a ``<!-- guide: NAME -->`` marker) and
tables, so tests can run and check what the README and docs/*.md tell a reader to do."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.template import ROOT

README = ROOT / "README.md"
DEPLOY_GUIDE = ROOT / "docs" / "deploy.md"

_FENCE = re.compile(
    r"^(?P<indent>[ ]*)```(?P<lang>\w*)\n(?P<body>.*?)^(?P=indent)```$", re.M | re.S
)
_MARKER = re.compile(r"^[ ]*<!-- guide: (?P<name>[\w-]+) -->\n", re.M)


def code_blocks(path: Path, lang: str = "bash") -> list[str]:
    """Every fenced ``lang`` block's text (indentation of a block inside a list item removed)."""
    text = path.read_text(encoding="utf-8")
    return [
        _dedent(match["body"], len(match["indent"]))
        for match in _FENCE.finditer(text)
        if match["lang"] == lang
    ]


def guide_block(path: Path, name: str) -> str:
    """The code block right after ``<!-- guide: name -->`` (exactly one such marker)."""
    text = path.read_text(encoding="utf-8")
    markers = [m for m in _MARKER.finditer(text) if m["name"] == name]
    if len(markers) != 1:
        raise AssertionError(f"{path.name}: {len(markers)} `<!-- guide: {name} -->` markers")
    block = _FENCE.match(text, markers[0].end())
    if block is None:
        raise AssertionError(f"{path.name}: no code block right after the {name!r} marker")
    return _dedent(block["body"], len(block["indent"]))


def guide_names(path: Path) -> list[str]:
    return [m["name"] for m in _MARKER.finditer(path.read_text(encoding="utf-8"))]


def commands(block: str) -> list[str]:
    """The block's command lines (comments and blank lines left out, trailing comments kept)."""
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def table_after(path: Path, header: str) -> list[list[str]]:
    """The rows (cells stripped) of the Markdown table whose header row is ``header``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index(header) + 2  # the header, then the |---| line
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def cell_value(cell: str) -> str:
    """A value cell: ``empty`` or exactly one backticked value."""
    if cell == "empty":
        return ""
    match = re.fullmatch(r"`([^`]*)`", cell)
    if match is None:
        raise AssertionError(f"a value cell is `value` or empty, not {cell!r}")
    return match[1]


def _dedent(body: str, indent: int) -> str:
    lines = body.splitlines(keepends=True)
    return "".join(line[indent:] if line[:indent].isspace() else line for line in lines)
