"""A guard against per-message compilation: 1,000 non-matching triggers stay cheap.

The real benchmark lives in bench/; this only fails on a gross regression (10x the budget of
0.5 ms per non-matching trigger is still far above what a compiled evaluation takes).
"""

from __future__ import annotations

import time

from sms_automation.triggers import Engine
from tests.unit.triggers.builders import ACCOUNT, NOW, message, trigger_set


def test_engine_thousand_non_matching_triggers_evaluate_quickly() -> None:
    triggers = trigger_set(
        *(
            {
                "name": f"t{index}",
                "when": {
                    "all": [
                        {"field": "Body", "contains": f"keyword{index}"},
                        {"field": "From", "regex": rf"^\+44{index}"},
                    ]
                },
                "actions": [{"type": "send_sms", "body": "%Body%"}],
            }
            for index in range(1_000)
        )
    )
    engine = Engine(triggers)
    msg = message(Body="x" * 1_000)
    started = time.perf_counter()
    evaluation = engine.dry_run(msg, now=NOW, account=ACCOUNT)
    elapsed = time.perf_counter() - started
    assert evaluation.matched == ()
    assert elapsed < 1_000 * 0.5e-3 * 10
