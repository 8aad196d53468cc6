"""The console's one idempotency key (console/js/api.js ``idempotencyKey``, run in Node when it
is installed) is taken by both writes that carry one: a reply (``console.writes.KEY_PATTERN``)
and a started automation (``console.automations.start_request``); each call gives a new one."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from sms_automation.console.automations import start_request
from sms_automation.console.writes import KEY_PATTERN
from tests.support.template import ROOT


@pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed")
def test_the_key_the_page_makes_is_one_every_write_takes() -> None:
    module = (ROOT / "console" / "js" / "api.js").as_uri()
    script = (
        f"import {{ idempotencyKey }} from {json.dumps(module)};"
        "console.log(JSON.stringify(Array.from({ length: 20 }, () => idempotencyKey())));"
    )
    node = shutil.which("node")
    assert node is not None
    done = subprocess.run(  # noqa: S603 (node, our own script)
        [node, "--input-type=module", "-e", script],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    keys = json.loads(done.stdout)
    assert len(set(keys)) == len(keys)
    for key in keys:
        assert KEY_PATTERN.fullmatch(key)
        started = start_request("acme", "welcome", {"idempotency_key": key}, "ann@example.com")
        assert started.idempotency_key.endswith(key)
