"""The console's one pager (console/js/dom.js ``pager``), which the inbox, the conversations,
the audit record and the automations' runs page with: in headless Chromium, under the console's
own Content-Security-Policy, over a list of 60 entries served 25 a page. Next to it, the one
"ask, then confirm or keep" step (``confirmStep``) of a cancel and a rollback.

"Older" follows the answer's next_cursor and "Newest" goes back; each shows only when it
leads somewhere; a refresh redraws the newest page only when its signature changed (marked
live) and leaves an older page alone; reload draws the page on screen again; a failure of a
click goes to the guard.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.console_site import harness_page, js_harness

HARNESS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<title>pager test</title><script type="module" src="harness.js"></script></head>
<body><main id="main"><ul id="list"></ul><div id="pages"></div>
<div id="step"></div></main></body></html>
"""
# 60 entries, newest first; a cursor is the offset of the page, as a string.
HARNESS_JS = """
import { confirmStep, el, pager, show } from "./js/dom.js";
window.entries = Array.from({ length: 60 }, (_, i) => ({ id: `e${60 - i}` }));
window.draws = [];
window.asked = [];
window.guarded = [];
window.failing = false;
const list = document.getElementById("list");
window.pages = pager({
  fetch: async (cursor) => {
    window.asked.push(cursor ?? null);
    if (window.failing) throw new Error("the API is down");
    const start = Number(cursor ?? 0);
    const next = start + 25 < window.entries.length ? String(start + 25) : null;
    return { items: window.entries.slice(start, start + 25), next_cursor: next };
  },
  signature: (items) => items.map((e) => e.id).join(","),
  render: (items, { next, live }) => {
    window.draws.push({ first: items[0]?.id ?? null, count: items.length, next, live });
    show(list, items.map((e) => el("li", {}, el("a", { href: `#${e.id}` }, e.id))));
  },
  guard: async (action) => {
    try {
      return await action();
    } catch (error) {
      window.guarded.push(error.message);
    }
  },
  focus: () => list.querySelector("a")?.focus(),
});
document.getElementById("pages").append(window.pages.node);
await window.pages.load();
window.yeses = 0;
window.live = 3;
document.getElementById("step").append(confirmStep(
  el("button", { type: "button" }, "Roll back"),
  () => `Roll back? Version ${window.live} is kept.`,
  el("button", { type: "button" }, "Yes, roll back"),
  el("button", { type: "button" }, "Keep it"),
  () => window.yeses++,
));
document.body.dataset.ready = "yes";
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with js_harness(tmp_path_factory.mktemp("console"), HARNESS_HTML, HARNESS_JS) as url:
        yield url


@pytest.fixture
def pager_page(site: str) -> Iterator[Any]:
    with harness_page(site) as page:
        yield page


def shown(page: Any) -> tuple[str, str, bool, bool]:
    """The first and last entries on screen, and whether Newest and Older show."""
    ids = page.eval_on_selector_all("#list li", "(items) => items.map((li) => li.textContent)")
    newest = page.get_by_role("button", name="Newest").is_visible()
    older = page.get_by_role("button", name="Older").is_visible()
    return ids[0], ids[-1], newest, older


def test_older_and_newest_page_through_the_list(pager_page: Any) -> None:
    page = pager_page
    assert shown(page) == ("e60", "e36", False, True)
    page.get_by_role("button", name="Older").click()
    page.wait_for_function("window.draws.length === 2")
    assert shown(page) == ("e35", "e11", True, True)
    assert page.evaluate("document.activeElement.textContent") == "e35"
    page.get_by_role("button", name="Older").click()
    page.wait_for_function("window.draws.length === 3")
    assert shown(page) == ("e10", "e1", True, False)  # the last page: no Older
    page.get_by_role("button", name="Newest").click()
    page.wait_for_function("window.draws.length === 4")
    assert shown(page) == ("e60", "e36", False, True)
    assert page.evaluate("window.asked") == [None, "25", "50", None]
    assert page.evaluate("window.draws.map((d) => d.live)") == [False] * 4


def test_a_refresh_redraws_the_newest_page_only_when_it_changed(pager_page: Any) -> None:
    page = pager_page
    page.evaluate("window.pages.refresh()")
    page.wait_for_function("window.asked.length === 2")
    assert page.evaluate("window.draws.length") == 1  # the same entries: not drawn again
    page.evaluate("window.entries.unshift({ id: 'e61' }); window.pages.refresh()")
    page.wait_for_function("window.draws.length === 2")
    assert page.evaluate("window.draws[1]") == {
        "first": "e61",
        "count": 25,
        "next": "25",
        "live": True,
    }
    # An older page stays as it was: a refresh asks nothing.
    page.get_by_role("button", name="Older").click()
    page.wait_for_function("window.draws.length === 3")
    asked = page.evaluate("window.asked.length")
    assert page.evaluate("window.pages.refresh() === undefined")
    assert page.evaluate("window.asked.length") == asked
    # reload: the page on screen, drawn again though nothing changed.
    page.evaluate("window.pages.reload()")
    page.wait_for_function("window.draws.length === 4")
    assert page.evaluate("window.asked.at(-1)") == "25"
    assert shown(page)[:2] == ("e36", "e12")


def test_a_click_that_fails_goes_to_the_guard(pager_page: Any) -> None:
    page = pager_page
    page.evaluate("window.failing = true")
    page.get_by_role("button", name="Older").click()
    page.wait_for_function("window.guarded.length === 1")
    assert page.evaluate("window.guarded") == ["the API is down"]
    assert shown(page) == ("e60", "e36", False, True)  # what was on screen stays


def test_a_change_is_asked_for_twice(pager_page: Any) -> None:
    page = pager_page
    step = page.locator("#step")
    assert page.evaluate("document.querySelector('#step > span').className") == ""
    page.evaluate("window.live = 4")  # the question says what holds when it is asked
    step.get_by_role("button", name="Roll back").click()
    assert step.inner_text().startswith("Roll back? Version 4 is kept.")
    assert page.evaluate("document.activeElement.textContent") == "Yes, roll back"
    assert page.evaluate("document.querySelector('#step > span').className") == "confirm"
    step.get_by_role("button", name="Keep it").click()
    assert step.get_by_role("button").all_inner_texts() == ["Roll back"]
    assert page.evaluate("document.activeElement.textContent") == "Roll back"
    assert page.evaluate("window.yeses") == 0
    step.get_by_role("button", name="Roll back").click()
    step.get_by_role("button", name="Yes, roll back").click()
    assert page.evaluate("window.yeses") == 1
