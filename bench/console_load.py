"""The console's first load of the inbox: every file the browser fetches, raw and gzipped.

The browser loads ``index.html``, then what it links (the stylesheet, ``js/app.js``), then every
module those import statically, then ``config.json``. Each file is compressed on its own, as
CloudFront does for a response (``Compress: true``; gzip level 6 here, brotli would be smaller).
The API's JSON answers are not counted: they are data, a few KB per page of 25 messages.
Target (issue 16): ≤ 300 KB compressed.

The Triggers page's first load is measured too (no target): the inbox's files plus what only
that page loads, by dynamic import: the YAML editor (js/yaml-editor.js and its static imports,
the vendored CodeMirror bundle among them), the stylesheet it links and the trigger schema the
page fetches. A module reached only by ``import(...)`` is never part of the inbox's load.
"""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from bench.common import ROOT

CONSOLE = ROOT / "console"
TARGET_GZIP_BYTES = 300 * 1024
IMPORT = re.compile(r"""^\s*(?:import|export)\b[^;]*?\bfrom\s+["'](\.\.?/[^"']+)["']""", re.M)
DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*["'](\.\.?/[^"']+)["']\s*\)""")
# The Triggers page's modules: its own, the editor's, and the editor's checking worker
# (`new Worker(new URL(...))`, which the import scan does not see).
TRIGGERS_PAGE_MODULES = ("js/triggers.js", "js/yaml-editor.js", "js/yaml-check-worker.js")
# What it loads besides modules: the editor's stylesheet (yaml-editor.js links it) and the
# trigger file's JSON Schema (fetched for the editor).
TRIGGERS_PAGE_FILES = ("yaml-editor.css", "schema/triggers.schema.json")
SAMPLE_CONFIG = (
    b'{"apiUrl": "https://abcdef1234.execute-api.eu-west-1.amazonaws.com", "region": '
    b'"eu-west-1", "userPoolId": "eu-west-1_AbCdEfGhI", "userPoolClientId": '
    b'"1a2b3c4d5e6f7g8h9i0j1k2l3m", "pollSeconds": 15}\n'
)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and attributes.get("src"):
            self.found.append(attributes["src"] or "")
        if tag == "link" and attributes.get("rel") == "stylesheet" and attributes.get("href"):
            self.found.append(attributes["href"] or "")


def first_load(directory: Path = CONSOLE) -> list[Path]:
    """index.html, what it links, and every module reachable by static import, in fetch order."""
    links = _Links()
    links.feed((directory / "index.html").read_text())
    return _with_imports([directory / "index.html"], [directory / link for link in links.found])


def triggers_page_load(directory: Path = CONSOLE) -> list[Path]:
    """The inbox's first load, then the Triggers page's modules (static and dynamic imports)."""
    loaded = first_load(directory)
    modules = [directory / name for name in TRIGGERS_PAGE_MODULES if (directory / name).is_file()]
    lazy = _with_imports(loaded, modules, follow_dynamic=True)
    return lazy + [directory / name for name in TRIGGERS_PAGE_FILES]


def _with_imports(
    loaded: list[Path], queue: list[Path], follow_dynamic: bool = False
) -> list[Path]:
    loaded = list(loaded)
    while queue:
        path = queue.pop(0).resolve()
        if path in loaded:
            continue
        loaded.append(path)
        if path.suffix == ".js":
            source = path.read_text()
            targets = IMPORT.findall(source) + (
                DYNAMIC_IMPORT.findall(source) if follow_dynamic else []
            )
            queue += [path.parent / target for target in targets]
    return loaded


def run(directory: Path = CONSOLE) -> dict[str, Any]:
    result = _measure(directory, first_load(directory))
    result["triggers_page"] = _measure(directory, triggers_page_load(directory))
    del result["triggers_page"]["target_gzip_bytes"], result["triggers_page"]["pass"]
    return result


def _measure(directory: Path, paths: list[Path]) -> dict[str, Any]:
    root = directory.resolve()
    files = [(p.resolve().relative_to(root).as_posix(), p.read_bytes()) for p in paths]
    files.append(("config.json", SAMPLE_CONFIG))
    rows = [
        {"file": name, "bytes": len(body), "gzip_bytes": len(gzip.compress(body, 6, mtime=0))}
        for name, body in files
    ]
    total_gzip = sum(row["gzip_bytes"] for row in rows)
    return {
        "requests": len(rows),
        "bytes": sum(row["bytes"] for row in rows),
        "gzip_bytes": total_gzip,
        "target_gzip_bytes": TARGET_GZIP_BYTES,
        "pass": total_gzip <= TARGET_GZIP_BYTES,
        "files": rows,
    }


def markdown(result: dict[str, Any]) -> list[str]:
    return [
        "### Console: first load of the inbox",
        "",
        f"{result['requests']} requests, {result['bytes']:,} bytes, "
        f"{result['gzip_bytes']:,} bytes gzipped (each file on its own, level 6); target ≤ "
        f"{result['target_gzip_bytes']:,}: {'pass' if result['pass'] else '**miss**'}. "
        "The API's JSON answers come on top (a page of 25 messages: a few KB).",
        "",
        *_triggers_page_lines(result.get("triggers_page")),
    ]


def _triggers_page_lines(page: dict[str, Any] | None) -> list[str]:
    if not page:
        return []
    return [
        f"The Triggers page's first load (the inbox's files, then the YAML editor by dynamic "
        f"import, its stylesheet and the trigger schema): {page['requests']} requests, "
        f"{page['bytes']:,} bytes, {page['gzip_bytes']:,} bytes gzipped.",
        "",
    ]
