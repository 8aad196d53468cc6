"""``make bench``: run every benchmark, write ``bench/results.json`` and the figures block of
``bench/RESULTS.md`` (the prose around it is kept).

    python -m bench                 # everything (a few minutes)
    python -m bench --quick         # fewer runs, for a look while working
    python -m bench --only cold     # cold | warm | triggers | regex | console
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import cold_start, console_load, regex_worst_case, trigger_eval, warm
from bench.common import ROOT

RESULTS_JSON = Path(__file__).with_name("results.json")
RESULTS_MD = Path(__file__).with_name("RESULTS.md")
BEGIN, END = "<!-- figures:begin (written by make bench) -->", "<!-- figures:end -->"


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "load_average_1_5_15": [round(value, 2) for value in load],
    }


def commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            check=False,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--",
                "layers",
                "functions",
                "bench",
                ":(exclude)bench/RESULTS.md",
                ":(exclude)bench/results.json",
            ],
            check=False,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head}{'+uncommitted' if dirty else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs (not for RESULTS.md)")
    parser.add_argument(
        "--only", choices=("cold", "warm", "triggers", "regex", "console"), action="append"
    )
    parser.add_argument("--no-write", action="store_true", help="print, do not write results")
    args = parser.parse_args(argv)
    parts = set(args.only or ("cold", "warm", "triggers", "regex", "console"))
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": machine(),
        "quick": args.quick,
    }
    if "cold" in parts:
        runs = 7 if args.quick else 11
        print(f"cold starts: {runs} interleaved runs each ...", file=sys.stderr)
        floor, cold = cold_start.run(list(cold_start.SCENARIOS), runs)
        rows = cold_start.summarise(floor, cold)
        for row in rows:
            row["top_imports_ms"] = cold_start.import_profile(row["function"])
        results["cold_start"] = {
            "floor": cold_start.FLOOR_CODE,
            "floor_samples_ms": [round(s * 1000, 1) for s in floor.samples],
            "functions": rows,
        }
    if "warm" in parts:
        # The whole run stays inside the account cache's 30 s: the stub answers one GetItem.
        requests, warmup = (2_000, 200) if args.quick else (20_000, 500)
        print(f"warm webhook: {requests} requests each ...", file=sys.stderr)
        results["warm_webhook"] = warm.run(requests, warmup)
    if "triggers" in parts:
        print("trigger evaluation ...", file=sys.stderr)
        results["trigger_evaluation"] = trigger_eval.run()
    if "regex" in parts:
        print("user regexes, worst case ...", file=sys.stderr)
        results["regex_worst_case"] = regex_worst_case.run(repeats=3 if args.quick else 5)
    if "console" in parts:
        print("console first load ...", file=sys.stderr)
        results["console_first_load"] = console_load.run()
    results["machine"]["load_average_after"] = [round(v, 2) for v in os.getloadavg()]

    text = json.dumps(results, indent=2)
    if args.no_write:
        print(text)
        return 0
    previous = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    merged = {**previous, **results}  # a partial run (--only) keeps the other figures
    RESULTS_JSON.write_text(json.dumps(merged, indent=2) + "\n")
    write_markdown(merged)
    print(markdown_figures(merged))
    return 0


def _mark(passed: bool | None) -> str:
    return "—" if passed is None else ("pass" if passed else "**miss**")


def markdown_figures(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Measured {results['date']} on commit `{results['commit']}`"
        + (" (quick run)" if results.get("quick") else "")
        + f": {m['cpu']}, {m['cores']} cores, {m['os']}, {m['implementation']} {m['python']}; "
        f"load average {m['load_average_1_5_15']} before, {m.get('load_average_after')} after "
        "(the machine is shared with other test runs).",
        "",
    ]
    cold = results.get("cold_start")
    if cold:
        lines += [
            "### Cold start (median of interleaved runs ÷ the floor's median)",
            "",
            f"Floor: a fresh interpreter running `{cold['floor']}`: median "
            f"{cold['functions'][0]['floor_median_ms']} ms.",
            "",
            "| function | first event | median ms | ÷ floor | target | "
            "| import time by package (ms, self) |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in cold["functions"]:
            imports = ", ".join(f"{name} {ms:.0f}" for name, ms in row["top_imports_ms"][:5])
            served = "served" if row["first_event_served"] else "**not served**"
            lines.append(
                f"| `{row['function']}` | {served}: {row['note']} | {row['median_ms']} | "
                f"{row['ratio']}x | ≤ {row['target']}x | {_mark(row['pass'])} | {imports} |"
            )
        lines.append("")
    hot = results.get("warm_webhook")
    if hot:
        f, r = hot["figures"], hot["ratios"]
        budget = hot.get("target_p99_us", warm.TARGET_P99_US)  # (figures of before the budget)
        lines += [
            f"### Warm webhook ({hot['requests_each']:,} requests each, interleaved blocks of "
            f"{hot['block']:,})",
            "",
            f"p50 and p99 of the requests served back to back; the first {hot['after_switch']} "
            "of each block, run right after another handler, are counted apart (last column).",
            "",
            "| handler | p50 µs | p99 µs | after a switch, p50 µs |",
            "|---|---|---|---|",
            *(
                f"| {label} | {f[name]['p50_us']} | {f[name]['p99_us']} | "
                f"{f[name]['after_switch_p50_us']} |"
                for name, label in (
                    ("ours", "ours (`functions/inbound_webhook`)"),
                    ("floor", "floor (`bench/floor_handler.py`)"),
                    ("reference", "reference (`bench/reference_handler.py`)"),
                )
            ),
            "",
            f"Budget: ours p99 ≤ {budget:,.0f} µs of handler time: "
            f"{f['ours']['p99_us']} µs, {_mark(f['ours']['p99_us'] <= budget)}.",
            "",
            "| ratio (no target) | p50 | p99 | after a switch |",
            "|---|---|---|---|",
            f"| ours ÷ floor | {r['vs_floor_p50']}x | {r['vs_floor_p99']}x | "
            f"{r.get('vs_floor_after_switch', '—')}x |",
            f"| ours ÷ reference | {r['vs_reference_p50']}x | {r['vs_reference_p99']}x | "
            f"{r.get('vs_reference_after_switch', '—')}x |",
            "",
        ]
        if hot.get("ours_breakdown_us"):
            lines += ["Where our request's time goes (each piece alone, median µs):", ""]
            lines += [f"- {part}: {us}" for part, us in hot["ours_breakdown_us"].items()]
            lines.append("")
    triggers = results.get("trigger_evaluation")
    if triggers:
        lines += [
            "### Trigger evaluation (per message; the last trigger matches)",
            "",
            f"Lowest median of {trigger_eval.BLOCKS} blocks of calls spread over the run (the "
            "most disturbed block's median beside it).",
            "",
            "| triggers | ms per message | most disturbed block, ms | µs per trigger | growth "
            "x(previous) | hand-written loop ms | compiled once, ms | target | |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for row in triggers:
            growth = f"{row['growth_vs_previous']}x" if row["growth_vs_previous"] else "—"
            target = f"≤ {row['target_ms']} ms" if row["target_ms"] else ""
            lines.append(
                f"| {row['triggers']:,} | {row['per_message_ms']} | "
                f"{row.get('most_disturbed_block_ms', '—')} | {row['per_trigger_us']} | "
                f"{growth} | {row['hand_written_floor_ms']} | {row['compile_once_ms']} | "
                f"{target} | {_mark(row['pass'])} |"
            )
        lines.append("")
    lines += regex_lines(results.get("regex_worst_case"))
    if results.get("console_first_load"):
        lines += ["", *console_load.markdown(results["console_first_load"])]
    return "\n".join(lines)


def regex_lines(regex: dict[str, Any] | None) -> list[str]:
    if not regex:
        return []
    lines = [
        f"### User regexes on RE2 (worst of {len(regex['bodies'])} bodies of "
        f"{regex['body_chars']:,} characters; median of {regex['repeats']}, cold automaton)",
        "",
        f"Worst case over the corpus: {regex['worst_ms']} ms; {regex['passed']} of "
        f"{len(regex['patterns'])} patterns within {regex['target_ms']} ms. `import re2`: "
        f"{regex['import_re2_ms']} ms (`-X importtime`, cumulative, bytecode cached). Kept "
        f"automaton (compiled once, every body seen once, worst body again): "
        f"{regex.get('kept_automaton_worst_ms', '—')} ms.",
        "",
        "| pattern | compile ms | groups (extract) ms | its worst body | yes/no (when, expect) ms "
        "| its worst body | target | | kept automaton ms | its worst body |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in regex["patterns"]:
        shown = row["pattern"] if len(row["pattern"]) <= 48 else row["pattern"][:45] + "..."
        shown = shown.replace("|", "\\|")
        flag = "" if row["case_sensitive"] else " (any case)"
        lines.append(
            f"| `{shown}`{flag} | {row['compile_ms']} | {row['worst_groups_ms']} | "
            f"{row['worst_groups_body']} | {row['worst_yes_no_ms']} | {row['worst_yes_no_body']} "
            f"| ≤ {row['target_ms']} ms | {_mark(row['pass'])} | "
            f"{row.get('kept_automaton_ms', '—')} | {row.get('kept_automaton_body', '—')} |"
        )
    lines += ["", "Refused at load (nothing runs):", ""]
    lines += [f"- `{row['pattern']}`: {row['refused']}" for row in regex["refused"]]
    lines.append("")
    return lines


def write_markdown(results: dict[str, Any]) -> None:
    block = f"{BEGIN}\n{markdown_figures(results)}\n{END}"
    text = RESULTS_MD.read_text() if RESULTS_MD.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    RESULTS_MD.write_text(head + block + tail)


if __name__ == "__main__":
    sys.exit(main())
