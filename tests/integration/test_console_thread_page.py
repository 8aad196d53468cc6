"""The contact thread page (console/js/thread.js) merging the API's deltas, in headless Chromium
under the console's own Content-Security-Policy: the page's real ``renderThread`` over a
scripted API that answers a whole thread, then deltas (what changed since the cursor the page
passes back). Each poll sends the last cursor; a delta's entries are updated where they stand
(the same node for an unchanged one), new ones inserted in time order, never twice; an answer
to a conversation stays one; a cursor the API refuses (400) is dropped for a whole reload."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.console_site import harness_page, js_harness

pytestmark = pytest.mark.integration

HARNESS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<title>thread test</title><script type="module" src="harness.js"></script></head>
<body><main id="main"></main></body></html>
"""
# The API: each GET answers the next scripted answer (an {"error": status} one is refused).
HARNESS_JS = """
import { ApiError } from "./js/api.js";
import { renderThread } from "./js/thread.js";
window.answers = [];
window.asked = [];
window.said = [];
const ctx = {
  setAccount() {},
  may: async () => false,
  accounts: async () => [{ name: "acme", numbers: ["+15005550006"] }],
  say: (text) => window.said.push(text),
  guard: async (action) => action(),
  api: {
    get: async (segments, query = {}) => {
      window.asked.push(query.since ?? null);
      const answer = window.answers.shift();
      if (answer.error) throw new ApiError(answer.error, "since is not a cursor", answer);
      return answer;
    },
  },
};
window.start = async () => {
  window.view = await renderThread(document.getElementById("main"), ctx, "acme", "+15005550001");
};
document.body.dataset.ready = "yes";
"""


def entry(key: str, at: str, status: str, **fields: Any) -> dict[str, Any]:
    inbound = key.startswith("in")
    return {"key": key, "sid": key, "direction": "inbound" if inbound else "outbound",
            "body": f"text of {key}", "at": f"2026-12-07T10:00:{at}.000Z", "status": status,
            "kind": "message", **fields}  # fmt: skip


def answer(items: list[dict[str, Any]], cursor: str, *, delta: bool) -> dict[str, Any]:
    return {"items": items, "delta": delta, "cursor": cursor, "opted_out": False,
            "taken_over": None, "reply_from": None}  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with js_harness(tmp_path_factory.mktemp("console"), HARNESS_HTML, HARNESS_JS) as url:
        yield url


@pytest.fixture
def thread_page(site: str) -> Iterator[Any]:
    with harness_page(site) as page:
        yield page


def script(page: Any, *answers: dict[str, Any]) -> None:
    page.evaluate(f"window.answers.push(...{json.dumps(list(answers))})")


def shown(page: Any) -> list[tuple[str, str]]:
    """Each item on screen: its key and its status badge, in order."""
    return [tuple(row) for row in page.eval_on_selector_all(
        "ol.thread li",
        "(items) => items.map((li) => [li.dataset.key, li.querySelector('.badge')?.textContent])",
    )]  # fmt: skip


def test_a_delta_updates_in_place_and_inserts_in_order_without_duplicates(
    thread_page: Any,
) -> None:
    page = thread_page
    script(page, answer([entry("in1", "01", "received"), entry("out1", "02", "queued")], "c1",
                        delta=False))  # fmt: skip
    page.evaluate("window.start()")
    page.wait_for_selector("li[data-key=out1]")
    assert shown(page) == [("in1", "received"), ("out1", "queued")]
    page.evaluate("window.kept = document.querySelector('li[data-key=in1]')")

    # The echo delivered, a new message and one received before it (late in the index).
    script(page, answer([entry("out1", "02", "delivered"), entry("in3", "05", "received"),
                         entry("in2", "01.5", "received")], "c2", delta=True))  # fmt: skip
    page.evaluate("window.view.refresh()")
    assert shown(page) == [("in1", "received"), ("in2", "received"), ("out1", "delivered"),
                           ("in3", "received")]  # fmt: skip
    assert page.evaluate("document.querySelector('li[data-key=in1]') === window.kept")
    assert page.evaluate("window.said") == ["New messages in this thread."]

    # Nothing changed: nothing redrawn, nothing announced.
    script(page, answer([], "c3", delta=True))
    page.evaluate("window.view.refresh()")
    assert len(shown(page)) == 4
    assert page.evaluate("window.said.length") == 1

    # An answer to a conversation, then the same message again as a plain inbound one.
    script(page, answer([entry("in3", "05", "valid", kind="conversation_answer")], "c4",
                        delta=True))  # fmt: skip
    page.evaluate("window.view.refresh()")
    script(page, answer([entry("in3", "05", "received")], "c5", delta=True))
    page.evaluate("window.view.refresh()")
    assert shown(page)[-1] == ("in3", "valid")
    assert "conversation answer" in page.inner_text("li[data-key=in3]")

    assert page.evaluate("window.asked") == [None, "c1", "c2", "c3", "c4"]


def test_a_refused_cursor_is_dropped_for_a_whole_reload(thread_page: Any) -> None:
    page = thread_page
    script(page, answer([entry("in1", "01", "received")], "c1", delta=False))
    page.evaluate("window.start()")
    page.wait_for_selector("li[data-key=in1]")
    script(page, {"error": 400},
           answer([entry("in1", "01", "received"), entry("out1", "02", "sent")], "fresh",
                  delta=False),
           answer([], "c2", delta=True))  # fmt: skip
    page.evaluate("window.view.refresh()")
    assert shown(page) == [("in1", "received"), ("out1", "sent")]
    page.evaluate("window.view.refresh()")
    assert page.evaluate("window.asked") == [None, "c1", None, "fresh"]
