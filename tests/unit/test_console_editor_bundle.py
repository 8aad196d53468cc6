"""The console's vendored YAML editor and the schema it checks against are what they claim.

- console/vendor/yaml-editor.bundle.js is built by tools/console-editor (``make console-editor``)
  and committed; its first line names every package inside it with its version. Those are
  exactly the versions pinned in tools/console-editor/package-lock.json, every direct
  dependency in package.json is among them at its pinned version, and LICENSES.txt carries a
  license text for each: a version bump without a rebuild (or a rebuild from a stale
  node_modules) fails here.
- console/schema/triggers.schema.json, which the Triggers page's editor fetches, is the JSON
  Schema the code generates (``sms-automation triggers schema``): a model change without
  refreshing the copy fails here.
"""

from __future__ import annotations

import json
import re

from sms_automation.triggers import json_schema
from tests.support.template import ROOT

EDITOR_TOOL = ROOT / "tools" / "console-editor"
VENDOR = ROOT / "console" / "vendor"
BUNDLE = VENDOR / "yaml-editor.bundle.js"
SCHEMA_COPY = ROOT / "console" / "schema" / "triggers.schema.json"
HEADER = re.compile(r"^/\*! yaml-editor\.bundle\.js: .*? Packages: (?P<packages>.*?)\. Licenses: ")
LICENSE_HEADING = re.compile(
    r"^={72}\n(?P<name>\S+)@(?P<version>\S+) \((?P<license>[^)]+)\)\n={72}\n", re.M
)


def bundled() -> dict[str, str]:
    first_line = BUNDLE.read_text().split("\n", 1)[0]
    match = HEADER.match(first_line)
    assert match, first_line[:200]
    packages = {}
    for entry in match.group("packages").split():
        name, _, version = entry.rpartition("@")
        packages[name] = version
    return packages


def locked() -> dict[str, str]:
    lock = json.loads((EDITOR_TOOL / "package-lock.json").read_text())
    return {
        path.removeprefix("node_modules/"): entry["version"]
        for path, entry in lock["packages"].items()
        if path.startswith("node_modules/") and "/node_modules/" not in path
    }


def test_the_bundle_names_exactly_the_locked_versions() -> None:
    packages = bundled()
    lock = locked()
    assert packages, "the bundle names no package"
    assert {name: lock.get(name) for name in packages} == packages
    manifest = json.loads((EDITOR_TOOL / "package.json").read_text())
    for name, version in manifest["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned exactly: {version}"
        assert packages.get(name) == version == lock[name], name
    assert set(manifest["devDependencies"]) == {"esbuild"}  # the build tool, not in the bundle
    assert "esbuild" not in packages
    # CodeMirror 6 throughout.
    assert all(v.startswith("6.") for n, v in packages.items() if n.startswith("@codemirror/"))


def test_licenses_cover_every_bundled_package() -> None:
    text = (VENDOR / "LICENSES.txt").read_text()
    headings = list(LICENSE_HEADING.finditer(text))
    found = {m.group("name"): m.group("version") for m in headings}
    assert found == bundled()
    bodies = re.split(LICENSE_HEADING, text)[4::4]  # the text after each heading
    assert len(bodies) == len(headings)
    for heading, body in zip(headings, bodies, strict=True):
        assert heading.group("license") in {"MIT", "ISC"}, heading.group(0)
        assert "Permission" in body or "permission" in body, heading.group("name")


def test_the_bundle_is_one_self_contained_module() -> None:
    source = BUNDLE.read_text()
    # One file: no import of anything else (no chunk, no CDN), an ES module with exports.
    assert not re.search(r"""\bimport\s*(?:\(|[\w{*][^;]*?\bfrom\s*)["']""", source)
    assert re.search(r"\bexport\s*\{", source)
    assert "sourceMappingURL" not in source


STALE = (
    "console/schema/triggers.schema.json is not the schema the code generates: refresh it with "
    "`sms-automation triggers schema > console/schema/triggers.schema.json`"
)


def test_the_consoles_schema_copy_is_the_generated_schema() -> None:
    assert json.loads(SCHEMA_COPY.read_text()) == json_schema(), STALE
    # Written as `sms-automation triggers schema` prints it (diffs stay readable).
    assert SCHEMA_COPY.read_text() == json.dumps(json_schema(), indent=2) + "\n", STALE
