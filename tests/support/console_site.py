"""The console's files in a headless browser's reach: a folder served from 127.0.0.1 with a
Content-Security-Policy header (as CloudFront sends the page's own), never cached; and the
console's ES modules run in Node (``node_json``) when it is installed."""

from __future__ import annotations

import contextlib
import functools
import json
import shutil
import subprocess
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.http_servers import serving

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed")


class _PolicyHandler(SimpleHTTPRequestHandler):
    policy = ""

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", self.policy)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def static_site(root: Path, policy: str) -> Iterator[str]:
    """``root`` served under ``policy`` until the block ends; yields its base URL."""
    handler = type("Handler", (_PolicyHandler,), {"policy": policy})
    served = functools.partial(handler, directory=str(root))
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), served)) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"


def node_json(script: str, *argv: str, timeout: float = 30) -> Any:
    """What an ES module ``script`` (given ``argv``) prints as JSON, run by Node."""
    node = shutil.which("node")
    assert node is not None
    done = subprocess.run(  # noqa: S603 (node, our own script)
        [node, "--input-type=module", "-e", script, *argv],
        capture_output=True, text=True, timeout=timeout, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


@contextlib.contextmanager
def js_harness(root: Path, html: str, js: str) -> Iterator[str]:
    """The console's ``js/`` beside a harness page (``html`` with a ``{policy}`` slot, and its
    script ``js``) under ``root``, served with the console page's own CSP: the page's URL."""
    from tests.support.template import ROOT
    from tests.unit.test_console_static import page as console_page

    shutil.copytree(ROOT / "console" / "js", root / "js")
    policy = console_page().csp[0]
    (root / "harness.html").write_text(html.format(policy=policy))
    (root / "harness.js").write_text(js)
    with static_site(root, policy) as base:
        yield f"{base}/harness.html"


@contextlib.contextmanager
def harness_page(url: str) -> Iterator[Any]:
    """A headless Chromium page at ``url`` once its script says ready (``body[data-ready=yes]``);
    no uncaught page error by the end of the block."""
    from tests.e2e.browser import chromium_page

    with chromium_page(width=800, height=600) as page:
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        page.wait_for_selector("body[data-ready=yes]", state="attached")
        yield page
        assert errors == []
