"""Every request of the console is bounded in time, the answer's body included
(console/js/api.js ``fetchWithin``): the console API (``Api``), the sign-in service
(``Auth.call``, so also the token ``Api`` waits for) and config.json (``loadConfig``).

A real HTTP server on loopback answers slowly on purpose: its headers at once and then a body
that never ends, or nothing at all; the modules run in Node (when it is installed) with a limit
of a fraction of a second, and each request must fail with the module's own error instead of
hanging. A watchdog in the script reports a request still pending after ten seconds as "hung".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.console_site import needs_node, node_json
from tests.support.template import ROOT

pytestmark = needs_node

JS = ROOT / "console" / "js"
LIMIT_MS = 300


class SlowServer(ThreadingHTTPServer):
    daemon_threads = True
    release = threading.Event()


class SlowHandler(BaseHTTPRequestHandler):
    server: SlowServer

    def do_GET(self) -> None:
        self.answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.answer()

    def answer(self) -> None:
        if self.path.endswith("/ok"):
            body = b'{"items": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if "stall-headers" in self.path:
            self.server.release.wait(30)
            return
        # The headers at once, then a body that stops after its first bytes.
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b'{"items": [')
        self.wfile.flush()
        self.server.release.wait(30)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[str]:
    server = SlowServer(("127.0.0.1", 0), SlowHandler)
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


SCRIPT = """
import { Api } from "%(api)s";
import { Auth } from "%(auth)s";
import { loadConfig } from "%(config)s";
const [base, limit] = [process.argv[1], Number(process.argv[2])];
const storage = (session) => {
  const items = new Map(session ? [["sms-console-session", JSON.stringify(session)]] : []);
  return {
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => items.set(k, v),
    removeItem: (k) => items.delete(k),
  };
};
const fresh = { idToken: "a.b.c", refreshToken: "r", expiresAt: Date.now() / 1000 + 3600 };
const stale = { ...fresh, expiresAt: 0 };
const config = (path) => ({
  apiUrl: `${base}/${path}`,
  cognitoEndpoint: `${base}/${path}/cognito`,
  userPoolClientId: "c",
});
const signIn = (path) => new Auth(config(path), undefined, storage(null), limit).signIn("u", "p");
// config.json, as the page asks for it, read from the slow server instead.
const configAt = (path) => (url, init) => fetch(`${base}/${path}/${url}`, init);
const limits = { read: limit, write: limit };
const api = (path, session) => {
  const auth = new Auth(config(path), undefined, storage(session), limit);
  return new Api(config(path), auth, undefined, limits);
};
const cases = {
  api_ok: () => api("fine", fresh).get(["ok"]),
  api_body_stalls: () => api("stall-body", fresh).get(["messages"]),
  api_write_body_stalls: () => api("stall-body", fresh).post(["cancel"], { id: 1 }),
  api_headers_stall: () => api("stall-headers", fresh).get(["messages"]),
  api_token_refresh_stalls: () => api("stall-headers", stale).get(["messages"]),
  sign_in_body_stalls: () => signIn("stall-body"),
  sign_in_headers_stall: () => signIn("stall-headers"),
  config_body_stalls: () => loadConfig(configAt("stall-body"), limit),
};
const results = Object.fromEntries(Object.keys(cases).map((name) => [name, "hung"]));
const report = () => console.log(JSON.stringify(results));
const watchdog = setTimeout(() => { report(); process.exit(0); }, 10000);
await Promise.all(Object.entries(cases).map(async ([name, run]) => {
  try {
    results[name] = ["ok", await run()];
  } catch (error) {
    results[name] = [error.constructor.name, error.code ?? error.status ?? null, error.message];
  }
}));
clearTimeout(watchdog);
report();
process.exit(0);
"""


def run_cases(base: str) -> dict[str, object]:
    script = SCRIPT % {
        "api": (JS / "api.js").as_uri(),
        "auth": (JS / "auth.js").as_uri(),
        "config": (JS / "config.js").as_uri(),
    }
    return node_json(script, base, str(LIMIT_MS), timeout=60)


def test_every_request_of_the_console_ends_within_its_limit(slow_server: str) -> None:
    results = run_cases(slow_server)
    assert results["api_ok"] == ["ok", {"items": []}]
    late_api = "The console API did not answer in time."
    assert results["api_body_stalls"] == ["ApiError", 0, late_api]
    assert results["api_write_body_stalls"] == ["ApiError", 0, late_api]
    assert results["api_headers_stall"] == ["ApiError", 0, late_api]
    # The token the API call waits for: the sign-in service's limit ends it (the session kept).
    late_sign_in = "The sign-in service did not answer in time."
    assert results["api_token_refresh_stalls"] == ["AuthError", "Network", late_sign_in]
    assert results["sign_in_body_stalls"] == ["AuthError", "Network", late_sign_in]
    assert results["sign_in_headers_stall"] == ["AuthError", "Network", late_sign_in]
    assert results["config_body_stalls"] == ["ConfigError", None, "config.json: no answer in time"]
