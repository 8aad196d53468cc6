"""The console's Triggers page on the local stack, in headless Chromium: the demo admin edits
the demo account's trigger file in the page's YAML editor (CodeMirror, console/js/yaml-editor.js).
An invalid edit shows its problem at its line and column as it is made (the editor's check
against the trigger schema) and again from Validate (the server's); a click puts the caret
there, and it cannot be pushed; a valid edit is reviewed as a diff, pushed,
and the next SMS (``simulate sms``, through the real webhook and processor) follows it (its
reply is in the Twilio sandbox); rolled
back, the account is as before. A viewer sees no push or rollback control, and the API refuses
their push (403) through the real JWT authorizer.

The stack is shared by the e2e tests: the edit only adds a trigger for a word nobody else
sends, and the test rolls it back. Screenshots are kept under ``.local/artifacts/``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sms_automation_local.demo import DEMO_CONSOLE_PASSWORD
from sms_automation_local.layout import ROOT
from sms_automation_local.readiness import stack_outputs
from sms_automation_local.state import LocalState
from tests.e2e.browser import chromium_page, sign_in
from tests.e2e.conftest import sms_automation
from tests.e2e.polling import DEADLINE_SECONDS, wait_for
from tests.e2e.test_console_api import PASSWORD, send, signed_in
from tests.e2e.texting import replies_to

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / ".local" / "artifacts"
CONTACT = "+15005550242"  # this test's own contact


# The editor is CodeMirror in a shadow root: its text is read and replaced (as a paste would)
# through CodeMirror's public API, EditorView.findFromDOM, from the page's own bundle.
_VIEW = (
    "const { EditorView } = await import("
    "new URL('vendor/yaml-editor.bundle.js', document.baseURI).href);"
    "const view = EditorView.findFromDOM("
    "document.querySelector('.yaml-editor').shadowRoot.querySelector('.cm-editor'));"
)


def editor_text(page: Any) -> str:
    return str(page.evaluate(f"async () => {{ {_VIEW} return view.state.doc.toString(); }}"))


def editor_caret(page: Any) -> int:
    return int(page.evaluate(f"async () => {{ {_VIEW} return view.state.selection.main.head; }}"))


def paste_into_editor(page: Any, text: str) -> None:
    page.evaluate(
        f"async (text) => {{ {_VIEW} view.dispatch({{ changes: {{ from: 0, "
        "to: view.state.doc.length, insert: text }, userEvent: 'input.paste' }); }",
        text,
    )


@pytest.fixture
def page() -> Iterator[object]:
    with chromium_page(1100, 1000) as page:
        yield page


def api_url(stack: LocalState) -> str:
    aws_url = stack_outputs(stack)["ConsoleApiUrl"]
    found = re.fullmatch(r"https://([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com", aws_url)
    assert found is not None, aws_url
    return f"{stack.endpoint_url}/_aws/execute-api/{found.group(1)}/console/api"


def restore_triggers(cli_env: dict[str, str], account: str, text: str, folder: Path) -> None:
    """Push ``text`` back as the account's live trigger file (with the CLI, not the page)."""
    file = folder / "restored.yaml"
    file.write_text(text, encoding="utf-8")
    pushed = sms_automation(cli_env, "triggers", "push", account, str(file))
    assert pushed.returncode == 0, pushed.stderr


def put(url: str, token: str, body: dict[str, Any]) -> int:
    return send("PUT", url, token, body)


def test_an_admin_pushes_a_trigger_edit_from_the_console_and_a_viewer_cannot(
    local_stack: LocalState, cli_env: dict[str, str], page: object, tmp_path: Path
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    wait = DEADLINE_SECONDS * 1000
    demo = local_stack.demo_account
    word = f"trig{uuid.uuid4().hex[:8]}"
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    sign_in(page, local_stack.console_url, local_stack.console_email, DEMO_CONSOLE_PASSWORD)
    page.goto(f"{local_stack.console_url}#/triggers/{demo}")
    expect(page.get_by_role("heading", name="Triggers", exact=True)).to_be_visible(timeout=wait)
    expect(page.locator("#live-version")).to_contain_text("Live: version", timeout=wait)
    live = page.locator("#live-version").inner_text()
    page.locator(".yaml-editor .cm-content").wait_for(timeout=wait)
    original = editor_text(page)
    assert "version: 1" in original
    expect(page.locator("#flow details").first).to_be_visible(timeout=wait)
    head, triggers, rest = original.partition("triggers:\n")
    assert triggers, "the demo file has a block list of triggers"

    # An invalid edit: its problem at line 5, column 9; the click puts the caret there.
    invalid = (
        f"{head}triggers:\n  - name: {word}\n    actions:\n      - type: send_sms\n"
        f"        boddy: oops\n{rest}"
    )
    paste_into_editor(page, invalid)
    line = invalid[: invalid.index("boddy")].count("\n") + 1
    # As it is made: the editor's own check, underlined and listed, before any Validate.
    as_typed = page.locator(".yaml-problems li button")
    expect(as_typed.first).to_have_text(
        f'Line {line}, column 9: unknown field "boddy" (did you mean "body"?)', timeout=wait
    )
    expect(page.locator(".yaml-editor .cm-lintRange-error")).to_have_text("boddy")
    page.click("#validate")
    problem = page.locator("#problems ol.problems button").first
    expect(problem).to_contain_text("unknown field 'boddy'", timeout=wait)
    expect(problem).to_contain_text(f"Line {line}, column 9:")
    problem.click()
    assert editor_caret(page) == invalid.index("boddy")
    page.click("#push")
    expect(page.locator("#push-review")).to_contain_text("cannot be pushed", timeout=wait)
    assert page.locator("#confirm-push").count() == 0
    expect(page.locator("#live-version")).to_have_text(live)
    page.screenshot(path=str(ARTIFACTS / "console-triggers-invalid.png"), full_page=True)

    # A valid edit: reviewed as a diff, pushed; the next SMS with the word follows it.
    reply = f"Pushed from the console {word}"
    valid = (
        f"{head}triggers:\n  - name: {word}\n    when: {{field: Body, starts_with: {word}}}\n"
        f"    actions:\n      - type: send_sms\n        body: {reply}\n{rest}"
    )
    paste_into_editor(page, valid)
    expect(page.locator(".yaml-problems-count")).to_have_text(
        "Checked as you type: no problems.", timeout=wait
    )
    page.click("#push")
    expect(page.locator("#push-review pre.diff .added").first).to_contain_text(
        f"+  - name: {word}", timeout=wait
    )
    expect(page.locator("#flow details").first.locator("summary")).to_contain_text(word)
    page.screenshot(path=str(ARTIFACTS / "console-triggers-diff.png"), full_page=True)
    rolled_back = False
    try:
        page.click("#confirm-push")
        expect(page.locator("#push-review")).to_contain_text("is live", timeout=wait)
        sent = sms_automation(
            cli_env, "simulate", "sms", "--from", CONTACT, "--body", f"{word} please", "--json"
        )
        assert sent.returncode == 0, sent.stderr
        answered = wait_for("the pushed trigger's reply in the sandbox", lambda: next(
            (m for m in replies_to(local_stack, CONTACT) if m["body"] == reply), None))  # fmt: skip
        assert answered["from"] == local_stack.demo_number

        # Rolled back from the history: the demo file is live again, as a new version.
        page.goto(f"{local_stack.console_url}#/triggers/{demo}")
        previous = int(re.search(r"version (\d+)", live).group(1))  # type: ignore[union-attr]
        page.get_by_role("button", name=f"Roll back to version {previous}").click()
        page.click("#confirm-rollback")
        expect(page.locator("#live-version")).to_contain_text(
            f"Live: version {previous + 2}", timeout=wait
        )
        wait_for(
            "the rolled-back file in the editor",
            lambda: True if editor_text(page) == original else None,
        )
        rolled_back = True
    finally:  # a failure above does not leave the shared stack's demo file edited
        if not rolled_back:
            restore_triggers(cli_env, demo, original, tmp_path)

    # A viewer: no push or rollback control; the API refuses their push.
    token = signed_in(local_stack, cli_env, f"viewer-{word}@example.com", "--role", "viewer")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, local_stack.console_url, f"viewer-{word}@example.com", PASSWORD)
    page.goto(f"{local_stack.console_url}#/triggers/{demo}")
    expect(page.locator("#read-only")).to_be_visible(timeout=wait)
    expect(page.locator("#history table")).to_be_visible(timeout=wait)
    assert page.locator("#push").count() == 0
    assert page.get_by_role("button", name=re.compile("Roll back")).count() == 0
    body = {"text": valid, "expected_version": previous + 2}
    assert put(f"{api_url(local_stack)}/accounts/{demo}/triggers", token, body) == 403
    assert errors == []
