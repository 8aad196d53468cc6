"""The console's one idempotency key (console/js/api.js ``idempotencyKey``, run in Node when it
is installed) is taken by both writes that carry one: a reply (``console.writes.KEY_PATTERN``)
and a started automation (``console.automations.start_request``); each call gives a new one."""

from __future__ import annotations

import json

from sms_automation.console.automations import start_request
from sms_automation.console.writes import KEY_PATTERN
from tests.support.console_site import needs_node, node_json
from tests.support.template import ROOT


@needs_node
def test_the_key_the_page_makes_is_one_every_write_takes() -> None:
    module = (ROOT / "console" / "js" / "api.js").as_uri()
    script = (
        f"import {{ idempotencyKey }} from {json.dumps(module)};"
        "console.log(JSON.stringify(Array.from({ length: 20 }, () => idempotencyKey())));"
    )
    keys = node_json(script)
    assert len(set(keys)) == len(keys)
    for key in keys:
        assert KEY_PATTERN.fullmatch(key)
        started = start_request("acme", "welcome", {"idempotency_key": key}, "ann@example.com")
        assert started.idempotency_key.endswith(key)
