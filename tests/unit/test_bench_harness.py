"""``make bench``'s harness still measures what bench/RESULTS.md says it measures.

Nothing here is timed (figures are taken on demand, never in ``make test``): a handler that
changes its AWS calls, its events or its answers must break these, not quietly turn a benchmark
into the timing of an error. Each runs in a fresh interpreter, as the benchmarks do, so the
handlers' cached, stubbed clients never meet another test.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.python import run_python

ROOT = Path(__file__).resolve().parents[2]
PYTHONPATH = f"{ROOT}:{ROOT / 'layers' / 'common'}"


def test_the_warm_webhook_harness_serves_every_request_of_all_three_handlers() -> None:
    code = (
        "import json; from bench import warm; from bench.runner import machine, markdown_figures\n"
        "result = warm.run(requests=40, warmup=5, block=10, after_switch=2)\n"
        "run = {'date': 'now', 'commit': 'HEAD', 'machine': machine(), 'warm_webhook': result}\n"
        "print(json.dumps({'result': result, 'markdown': markdown_figures(run)}))"
    )
    out = json.loads(run_python(code, pythonpath=PYTHONPATH))
    result = out["result"]
    # warm.run asserts every handler answered 200 and every stubbed PutItem was consumed.
    assert set(result["figures"]) == {"ours", "floor", "reference"}
    for figures in result["figures"].values():
        assert 0 < figures["p50_us"] <= figures["p99_us"]
        assert figures["after_switch_p50_us"] > 0
    assert (result["block"], result["after_switch"]) == (10, 2)
    assert set(result["ratios"]) >= {"vs_floor_p99", "vs_reference_p99", "vs_floor_after_switch"}
    assert "after a switch" in out["markdown"]
    assert "| ours ÷ floor |" in out["markdown"]


def test_every_cold_start_scenario_still_serves_its_first_event() -> None:
    code = (
        "import json; from bench import cold_start\n"
        "floor, results = cold_start.run(list(cold_start.SCENARIOS), runs=1)\n"
        "print(json.dumps([(r.name, r.ok, r.note, r.response) for r in results]))"
    )
    served = json.loads(run_python(code, pythonpath=PYTHONPATH))
    functions = {path.parent.name for path in (ROOT / "functions").glob("*/handler.py")}
    assert {name for name, *_ in served} == functions  # every function
    failed = [(name, note, response) for name, ok, note, response in served if not ok]
    assert failed == []


def test_the_regex_worst_case_runs_every_pattern_on_every_body() -> None:
    code = (
        "import json; from bench import regex_worst_case; from bench.runner import regex_lines\n"
        "result = regex_worst_case.run(repeats=1)\n"
        "print(json.dumps({'result': result, 'markdown': regex_lines(result)}))"
    )
    out = json.loads(run_python(code, pythonpath=PYTHONPATH))
    result = out["result"]
    # run() measures both paths of every pattern on every body; refusals raise if one compiles.
    assert len(result["patterns"]) == len({row["pattern"] for row in result["patterns"]}) > 20
    assert [len(result["bodies"]), result["body_chars"]] == [12, 1_600]
    for row in result["patterns"]:
        assert row["worst_groups_body"] in result["bodies"]
        assert row["worst_yes_no_body"] in result["bodies"]
    assert {row["pattern"] for row in result["refused"]} >= {r"a{1,1000}", r"(\w+)\s+\1"}
    assert result["import_re2_ms"] > 0
    assert any(r"`(x+x+)+y`" in line for line in out["markdown"])
    assert any(r"`(a\|aa)+$`" in line for line in out["markdown"])


def test_the_console_first_load_counts_every_file_the_page_fetches() -> None:
    code = "import json; from bench import console_load\nprint(json.dumps(console_load.run()))"
    result = json.loads(run_python(code, pythonpath=PYTHONPATH))
    loaded = {row["file"] for row in result["files"]}
    served = {p.relative_to(ROOT / "console").as_posix() for p in (ROOT / "console").rglob("*")}
    served = {p for p in served if "." in p.rsplit("/", 1)[-1]}
    # Only the Triggers page loads its own modules and the YAML editor (by dynamic import), its
    # stylesheet and the schema; the licenses are never fetched. Every other file is in the
    # inbox's first load.
    editor = {"js/yaml-editor.js", "js/yaml-schema.js", "js/yaml-check-worker.js"}
    editor |= {"vendor/yaml-editor.bundle.js"}
    page_modules = {"js/triggers.js", "js/trigger-editor.js", "js/trigger-flow.js"}
    triggers_only = editor | page_modules | {"yaml-editor.css", "schema/triggers.schema.json"}
    assert loaded == served - triggers_only - {"vendor/LICENSES.txt"} | {"config.json"}
    assert result["requests"] == len(loaded)
    assert 0 < result["gzip_bytes"] < result["bytes"]
    assert result["target_gzip_bytes"] == 300 * 1024
    page = result["triggers_page"]
    assert {row["file"] for row in page["files"]} >= loaded | triggers_only
    assert page["gzip_bytes"] > result["gzip_bytes"] + 100_000  # the bundle: >100 KB gzipped


def _outbox(seconds: list[int]) -> list[dict[str, str]]:
    from datetime import UTC, datetime
    from email.utils import format_datetime

    start = datetime(2026, 12, 7, 9, 0, tzinfo=UTC).timestamp()
    return [
        {"date_created": format_datetime(datetime.fromtimestamp(start + s, UTC))} for s in seconds
    ]


def test_the_broadcast_bench_holds_sends_to_pacing_s_bound_over_every_window() -> None:
    from bench.broadcast import rate_figures

    even = rate_figures(_outbox([n // 5 for n in range(100)]), 5.0)
    assert (even["max_per_second"], even["windows_over_bound"]) == (5, 0)
    # A second's burst at the start is within the bound (r * w + burst) ...
    burst = rate_figures(_outbox([0] * 10 + [1 + n // 5 for n in range(50)]), 5.0)
    assert (burst["max_per_second"], burst["windows_over_bound"]) == (10, 0)
    # ... a sender kept above its rate is not, though no single second holds twice the rate.
    fast = rate_figures(_outbox([n // 7 for n in range(140)]), 5.0)
    assert fast["max_per_second"] == 7
    assert fast["windows_over_bound"] > 0
