"""The Triggers page's YAML editor (console/js/yaml-editor.js) in headless Chromium, under the
console's real Content-Security-Policy: it renders, lints as you type against the trigger file's
JSON Schema with each problem at its line:column, completes fields and action types, keeps
Tab for indenting but lets Escape-then-Tab leave, fits a phone, and the browser reports NO
CSP violation. (CodeMirror's style-mod adds a <style> element to a document, which
`style-src 'self'` blocks, unstyled; in a shadow root it uses a constructed stylesheet, which
the policy allows: so the editor is mounted in one, and this test is what showed it.)

No stack is needed: the console's files are served from 127.0.0.1 by a small HTTP server that
sends the page's own policy as a header (as CloudFront does), next to a test page whose module
imports the editor dynamically, as the Triggers page does. Debian's chromium via Playwright
(tests/e2e/browser.py): skipped without it outside CI, a failure in CI.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.browser import chromium_page
from tests.support.console_site import static_site
from tests.support.template import ROOT
from tests.unit.test_console_static import page as console_page

CONSOLE = ROOT / "console"
SHADOW = "document.querySelector('.yaml-editor').shadowRoot"
EDITOR = f"{SHADOW}.querySelector('.cm-editor')"
IN_EDITOR = f"{SHADOW}.activeElement?.classList.contains('cm-content')"
VALID = """\
version: 1
triggers:
  - name: hello
    actions:
      - type: send_sms
        body: Hi there
"""
HARNESS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<title>editor test</title><link rel="stylesheet" href="app.css">
<script type="module" src="harness.js"></script></head>
<body><button type="button" id="before">Before</button>
<main id="main"><div id="editor"></div></main>
<button type="button" id="after">After</button></body></html>
"""
# Listens for violations first, then loads the editor by dynamic import (as the page does).
HARNESS_JS = """
window.violations = [];
document.addEventListener("securitypolicyviolation", (event) =>
  window.violations.push([event.violatedDirective, event.blockedURI, event.sample,
    `${event.sourceFile}:${event.lineNumber}:${event.columnNumber}`].join(" ")));
const { mountYamlEditor, loadTriggerSchema } = await import("./js/yaml-editor.js");
window.schemaModule = await import("./js/yaml-schema.js");
window.schema = await loadTriggerSchema();
window.changes = 0;
window.editor = mountYamlEditor(document.getElementById("editor"), {
  text: %s, schema: window.schema, label: "Trigger file", onChange: () => window.changes++,
});
document.body.dataset.ready = "yes";
"""


# The worker answers under the policy (a module worker from 'self'; an error would reject).
WORKER_ROUND_TRIP = """(text) => new Promise((resolve, reject) => {
  const worker = new Worker("js/yaml-check-worker.js", { type: "module" });
  worker.onmessage = (event) => { resolve(event.data); worker.terminate(); };
  worker.onerror = (event) => reject(new Error(event.message || "the worker failed"));
  worker.postMessage({ schema: window.schema });
  worker.postMessage({ id: 1, text });
})"""

FALLBACK_JS = """
const { mountEditor } = await import("./js/trigger-editor.js");
window.editor = await mountEditor(document.getElementById("editor"), { text: %s, label: "File" });
document.body.dataset.ready = "yes";
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("console")
    shutil.copytree(CONSOLE, root, dirs_exist_ok=True)
    policy = console_page().csp[0]
    (root / "harness.html").write_text(HARNESS_HTML.format(policy=policy))
    (root / "harness.js").write_text(HARNESS_JS % json.dumps(VALID))
    # A copy without the vendored bundle: the Triggers page's seam falls back to a text area.
    broken = root / "broken"
    shutil.copytree(CONSOLE, broken, ignore=shutil.ignore_patterns("yaml-editor.bundle.js"))
    (broken / "fallback.html").write_text(
        HARNESS_HTML.format(policy=policy).replace("harness.js", "fallback.js")
    )
    (broken / "fallback.js").write_text(FALLBACK_JS % json.dumps(VALID))
    with static_site(root, policy + "; frame-ancestors 'none'") as base:
        yield f"{base}/harness.html"


@pytest.fixture(scope="module")
def browser_page() -> Iterator[tuple[Any, list[str]]]:
    """One browser for the module (starting one takes seconds); each test reloads the page."""
    with chromium_page(width=1000, height=800) as page:
        messages: list[str] = []
        page.on(
            "console",
            lambda message: messages.append(
                f"{message.type}: {message.text} {message.location.get('url', '')}"
            ),
        )
        page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
        yield page, messages


@pytest.fixture
def editor_page(site: str, browser_page: tuple[Any, list[str]]) -> Iterator[Any]:
    page, messages = browser_page
    messages.clear()
    page.set_viewport_size({"width": 1000, "height": 800})
    page.goto(site)
    page.wait_for_selector("body[data-ready=yes]")
    yield page
    assert page.evaluate("window.violations") == []
    # (The browser asks for /favicon.ico; the console has none, as on AWS.)
    assert [
        m
        for m in messages
        if ("error" in m or "Content Security Policy" in m) and "favicon.ico" not in m
    ] == []


def _type_at_end(page: Any, text: str) -> None:
    page.click(".cm-content")
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def test_the_editor_renders_with_its_styles_under_the_csp(editor_page: Any) -> None:
    page = editor_page
    assert page.locator(".cm-editor").is_visible()
    assert page.locator(".cm-lineNumbers .cm-gutterElement").filter(has_text="6").count() == 1
    # CodeMirror's base theme applied (its constructed stylesheet was allowed): a flex column.
    assert page.evaluate(f"getComputedStyle({EDITOR}).display") == "flex"
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    # The page stylesheet the editor links (a file of the console).
    assert page.evaluate("!!document.querySelector('link[href=\"yaml-editor.css\"]')")
    content = page.locator(".cm-content")
    assert content.get_attribute("aria-label") == "Trigger file"
    assert "press Escape, then Tab" in (content.get_attribute("aria-description") or "")
    assert "press Escape, then Tab" in page.locator(".yaml-editor-help").inner_text()
    assert page.evaluate("editor.getText()") == VALID
    # The file is checked in the module worker (not on the page's thread).
    fetched = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert any(name.endswith("/js/yaml-check-worker.js") for name in fetched)
    answer = page.evaluate(WORKER_ROUND_TRIP, "version: 2\n")
    assert [(p["line"], p["column"], p["message"]) for p in answer["problems"]] == [
        (1, 10, "must be 1")
    ]
    page.locator(".yaml-problems-count").filter(
        has_text="Checked as you type: no problems."
    ).wait_for()


def test_an_invalid_edit_shows_its_error_at_its_line_as_you_type(editor_page: Any) -> None:
    page = editor_page
    _type_at_end(page, "        boddy: hi")
    problem = page.locator(".yaml-problems li button")
    problem.first.wait_for()
    assert problem.all_inner_texts() == [
        'Line 7, column 9: unknown field "boddy" (did you mean "body"?)'
    ]
    assert page.locator(".yaml-problems-count").get_attribute("aria-live") == "polite"
    assert (
        page.locator(".yaml-problems-count")
        .inner_text()
        .startswith("Checked as you type: 1 problem. Line 7")
    )
    assert page.locator(".cm-lintRange-error").inner_text() == "boddy"
    assert page.evaluate("editor.problems()") == [
        {"line": 7, "column": 9, "message": 'unknown field "boddy" (did you mean "body"?)'}
    ]
    assert page.evaluate("window.changes") > 0
    # Fixing it (the field it meant to add) clears the list.
    for _ in "boddy: hi":
        page.keyboard.press("Backspace")
    page.keyboard.type("to: '+15005550006'")
    page.locator(".yaml-problems-count").filter(
        has_text="Checked as you type: no problems."
    ).wait_for()
    assert page.locator(".yaml-problems li").count() == 0


def test_a_problem_in_the_list_moves_the_cursor_to_it(editor_page: Any) -> None:
    page = editor_page
    page.evaluate("editor.setText('version: 2\\ntriggers: []\\n')")
    button = page.locator(".yaml-problems li button")
    button.first.wait_for()
    assert button.all_inner_texts() == ["Line 1, column 10: must be 1"]
    button.first.click()
    assert page.evaluate("editor.cursor()") == {"line": 1, "column": len("version: ") + 1}
    assert page.evaluate(IN_EDITOR)


def test_completion_offers_action_types_and_the_fields_of_the_action(editor_page: Any) -> None:
    page = editor_page
    _type_at_end(page, "      - type: ")
    options = page.locator(".cm-tooltip-autocomplete li")
    options.first.wait_for()
    labels = options.all_inner_texts()
    assert {"send_sms", "if", "wait_for_reply", "http_request"} <= set(labels)
    page.keyboard.type("wait_f")
    page.locator(".cm-tooltip-autocomplete li").filter(has_text="wait_for_reply").wait_for()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.press("Control+Space")
    page.locator(".cm-tooltip-autocomplete").wait_for()
    fields = set(page.locator(".cm-tooltip-autocomplete li").all_inner_texts())
    assert {"prompt", "expect", "on_reply", "timeout"} <= {f.split()[0] for f in fields}
    assert "body" not in {f.split()[0] for f in fields}  # a send_sms field, not this action's
    assert page.evaluate("editor.getText()").endswith("      - type: wait_for_reply\n        ")


def test_tab_indents_and_escape_then_tab_leaves_the_editor(editor_page: Any) -> None:
    page = editor_page
    page.click(".cm-content")
    page.keyboard.press("Control+End")
    page.keyboard.press("Tab")
    assert page.evaluate("editor.getText()").endswith("\n  ")
    assert page.evaluate(IN_EDITOR)
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "after"
    page.evaluate("editor.goTo(3, 5)")
    assert page.evaluate(IN_EDITOR)
    page.keyboard.type("X")
    assert page.evaluate("editor.getText()").splitlines()[2] == "  - Xname: hello"


def test_the_editor_fits_a_phone_sized_screen(editor_page: Any) -> None:
    page = editor_page
    page.set_viewport_size({"width": 360, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    box = page.locator(".cm-editor").bounding_box()
    assert box is not None
    assert box["width"] <= 360
    assert box["height"] <= 640
    # Long lines wrap instead of widening the page.
    page.evaluate("editor.setText('version: 1\\n# ' + 'word '.repeat(200))")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def action_types() -> list[str]:
    """Every action's ``type``, as the schema the editor loads defines them, in order."""
    schema = json.loads((ROOT / "console" / "schema" / "triggers.schema.json").read_text())
    found = [
        definition["properties"]["type"]["const"]
        for definition in schema["$defs"].values()
        if "const" in definition.get("properties", {}).get("type", {})
    ]
    assert "send_sms" in found, "the schema names the action types"
    return sorted(found)


CASES = [
    (
        "version: 1\ntriggers:\n  - name: t\n    continue: maybe\n",
        [(4, 15, "expected true or false, found text")],
    ),
    (
        "version: 1\ntriggers:\n  - name: t\n    actions:\n      - type: fax\n",
        [
            (
                5,
                15,
                f'unknown type "fax": expected one of {", ".join(action_types())}',
            )
        ],
    ),
    (
        "version: 1\ntriggers:\n  - name: t\n    when:\n      field: Body\n      equalz: x\n",
        [(6, 7, 'unknown field "equalz" (did you mean "equals"?)')],
    ),
    (
        "version: 1\nautomations:\n  - name: a\n    from: '12'\n    actions:\n      - type: stop\n",
        [(4, 11, "expected E.164, e.g. +15005550006")],
    ),
    ("version: 1\ntriggers:\n  - actions: []\n", [(3, 5, 'missing required field "name"')]),
    ("version: 1\nversion: 1\n", [(2, 1, "Map keys must be unique")]),
    ("version: 1\ntriggers: [\n", [(3, 1, None)]),
    ("", [(1, 1, "the file is empty: it needs at least `version: 1`")]),
    (VALID, []),
]


def test_the_checker_places_each_problem_at_its_line_and_column(editor_page: Any) -> None:
    for text, expected in CASES:
        found = editor_page.evaluate(
            "([text]) => new schemaModule.TriggerSchema(window.schema).diagnose(text)"
            ".map(p => [p.line, p.column, p.message])",
            [text],
        )
        assert [(line, column) for line, column, _ in found] == [
            (line, column) for line, column, _ in expected
        ], text
        for (_, _, message), (_, _, wanted) in zip(found, expected, strict=True):
            assert wanted is None or message == wanted, text


def test_the_checker_agrees_with_the_server_on_the_examples(editor_page: Any) -> None:
    examples = [*sorted((ROOT / "examples").rglob("*.yaml")), ROOT / "local/demo/triggers.yaml"]
    triggers = [p for p in examples if p.read_text().lstrip().startswith(("version", "#"))]
    assert triggers
    for path in triggers:
        found = editor_page.evaluate(
            "([text]) => new schemaModule.TriggerSchema(window.schema).diagnose(text)",
            [path.read_text()],
        )
        assert found == [], path


def test_without_workers_the_page_checks_the_file_itself(editor_page: Any) -> None:
    editor_page.evaluate(
        """async () => {
          const { mountYamlEditor } = await import("./js/yaml-editor.js");
          window.Worker = undefined;
          const host = document.createElement("div");
          host.id = "second";
          document.body.append(host);
          mountYamlEditor(host, { text: "version: 2\\n", schema: window.schema });
        }"""
    )
    problem = editor_page.locator("#second .yaml-problems li button")
    problem.first.wait_for()
    assert problem.all_inner_texts() == ["Line 1, column 10: must be 1"]


COMPLETIONS = [
    # (text up to the cursor, text after it, offered (subset), not offered)
    ("version: 1\ntr", "", {"triggers", "automations"}, {"version"}),
    (
        "version: 1\ntriggers:\n  - name: t\n    when:\n      field: Body\n      ",
        "",
        {"equals", "contains", "regex", "is_blank"},
        {"all", "any", "field"},  # a field condition, and `field` is written already
    ),
    (
        "version: 1\ntriggers:\n  - name: t\n    actions:\n      - type: if\n        then:\n"
        "          - type: send_sms\n            ",
        "\n        else: []\n",
        {"body", "to", "media_urls"},
        {"type", "prompt", "condition"},  # the inner send_sms, not the outer if
    ),
    (
        "version: 1\ntriggers:\n  - name: t\n    enabled: ",
        "",
        {"true", "false"},
        set(),
    ),
]


def test_completion_follows_the_structure_around_the_cursor(editor_page: Any) -> None:
    for before, after, offered, absent in COMPLETIONS:
        labels = editor_page.evaluate(
            "([before, after]) => new schemaModule.TriggerSchema(window.schema)"
            ".complete(before + after, before.length)?.options.map(o => o.label) ?? []",
            [before, after],
        )
        assert offered <= set(labels), (before, labels)
        assert not absent & set(labels), (before, labels)


def test_the_triggers_page_falls_back_to_a_text_area_when_the_editor_cannot_load(
    site: str, browser_page: tuple[Any, list[str]]
) -> None:
    page, messages = browser_page
    page.goto(site.replace("/harness.html", "/broken/fallback.html"))
    page.wait_for_selector("body[data-ready=yes]")
    area = page.locator("textarea#trigger-text")
    assert area.input_value() == VALID
    assert page.locator("label[for=trigger-text]").inner_text() == "File"
    assert "could not be loaded" in page.locator("#editor").inner_text()
    assert page.locator(".cm-editor").count() == 0
    page.evaluate("editor.setText('version: 1\\n'); editor.goTo(1, 4)")
    assert area.input_value() == "version: 1\n"
    assert area.evaluate("area => area.selectionStart") == 3
    messages.clear()  # the bundle's 404 and the warning are this test's point
