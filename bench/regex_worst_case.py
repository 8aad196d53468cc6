"""User regexes on RE2, worst case: an adversarial corpus of patterns x 1,600-character bodies.

Each pattern is one a ReDoS write-up, issue 13 or a careless user would offer (nested and
overlapping repeats, the issue's ``(x+x+)+y`` and ``^(\\w+\\s?){1,40}$``, big alternations,
counted repeats up to the limit of 300, Unicode classes); each body is 1,600 characters (an SMS's
maximum) built to make a backtracking engine try every split: one repeated character, the same
with a non-matching last character, accented and Cyrillic words, emoji and CJK, near-misses.

For every (pattern, body) and both paths the triggers use (``search``: groups, for ``extract``;
``matches``: yes or no, for ``when`` and ``expect``), the figure is the median of a few matches,
each on a freshly compiled pattern (``re2.purge()``), so RE2's lazily built automaton starts
empty every time: the cold case, the one a new body can force. A pattern's figure is its worst
body. Compilation is timed apart (it happens once, when the trigger file is loaded).

Beside it, the kept automaton: a pattern compiled once, as the processor keeps it, that has
already run on every body of the corpus; then each body again (median of a few), worst body on
either path. RE2 keeps the automaton it built as long as it fits the pattern's memory; when it
does not, the DFA starts over or gives up for the NFA, and every message pays the cold price.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.common import LAYER

TARGET_MS = 5.0
"""Issue 13: "a few ms per pattern", worst case, on a 1,600-character body."""
BODY_CHARS = 1_600

_WORDS = " ".join(f"w{index}" for index in range(100))
PATTERNS: tuple[tuple[str, bool], ...] = (
    # (pattern, case_sensitive)
    (r"(a+)+$", True),
    (r"(a*)*$", True),
    (r"(a|a)*$", True),
    (r"(a|aa)+$", True),
    (r"(.*a){12}", True),
    (r"(x+x+)+y", True),
    (r"^(\w+\s?){1,40}$", True),
    (r"(\w+\s?)*$", True),
    (r"^(\d+)*$", True),
    (r"^([a-zA-Z]+)*$", True),
    (r"\s*(\S+\s*)*!", True),
    (r"^([a-zA-Z0-9._%+-]+)+@example\.com$", True),
    (r"(?s)^(.*?,){11}P", True),
    (r"(\p{L}+\p{Zs}?)+\d$", True),
    (r"(stop|quit|end|cancel|unsubscribe)+x$", False),
    (r"\b(?:" + _WORDS.replace(" ", "|") + r")\b", False),
    (r"(?:" + "|".join(f"[a-z]{{{count}}}\\d" for count in range(1, 40)) + ")+$", True),
    (r"a{1,300}$", True),
    (r"(a{1,30}){1,10}$", True),
    (r"^.{1,160}$", True),
    (r"(.*){1,100}x", True),
    (r"\w{1,10}!", True),
    (r"(?P<name>\w+)\s+(?P<code>\d{4,8})\b", False),
)
REFUSED: tuple[str, ...] = (
    r"(\w{1,100}){1,3}",
    r"a{1,1000}",
    r"(a{1,100}){1,10}",
    r"^(?=.*\d)(?=.*[a-z]).{8,}$",
    r"(\w+)\s+\1",
)
"""Patterns refused at load (the message says why): no figure, nothing runs."""


def bodies() -> dict[str, str]:
    def fill(unit: str, last: str = "") -> str:
        return (unit * BODY_CHARS)[: BODY_CHARS - len(last)] + last

    return {
        "a x1600": fill("a"),
        "a x1599 + !": fill("a", "!"),
        "x x1600": fill("x"),
        "é x1599 + !": fill("é", "!"),
        "Cyrillic words": fill("стоп "),
        "emoji, CJK, digits": fill("😀中é1 "),
        "'ab ' repeated + !": fill("ab ", "!"),
        "email near-miss": fill("a", "@example.co"),
        "'a,' repeated": fill("a,"),
        "no-break spaces + x": fill("\u00a0", "x"),
        "digits + x": fill("1", "x"),
        "words, 1 2 3 ...": fill("word 1 "),
    }


def _cold_match_ms(pattern: str, case_sensitive: bool, body: str, *, groups: bool) -> float:
    import re2

    from sms_automation.triggers.patterns import UserPattern

    re2.purge()  # re2 caches compiled patterns: a fresh one has an empty automaton
    user = UserPattern(pattern, case_sensitive=case_sensitive)
    if groups:
        started = time.perf_counter()
        user.search(body)
    else:
        user.matches("")  # compiles the yes-or-no program (its automaton barely started)
        started = time.perf_counter()
        user.matches(body)
    return (time.perf_counter() - started) * 1000


def _kept_automaton_ms(pattern: str, case_sensitive: bool, repeats: int) -> tuple[float, str]:
    import re2

    from sms_automation.triggers.patterns import UserPattern

    re2.purge()
    user = UserPattern(pattern, case_sensitive=case_sensitive)
    corpus = bodies()
    for body in corpus.values():
        user.search(body)
        user.matches(body)
    figures = []
    for name, body in corpus.items():
        for run in (user.search, user.matches):
            samples = []
            for _ in range(repeats):
                started = time.perf_counter()
                run(body)
                samples.append((time.perf_counter() - started) * 1000)
            figures.append((statistics.median(samples), name))
    return max(figures)


def _compile_ms(pattern: str, case_sensitive: bool) -> float:
    import re2

    from sms_automation.triggers.patterns import UserPattern

    re2.purge()
    started = time.perf_counter()
    UserPattern(pattern, case_sensitive=case_sensitive)
    return (time.perf_counter() - started) * 1000


def measure(pattern: str, case_sensitive: bool, repeats: int) -> dict[str, Any]:
    worst: dict[str, tuple[float, str]] = {}
    for path in ("groups", "yes_no"):
        figures = []
        for name, body in bodies().items():
            samples = [
                _cold_match_ms(pattern, case_sensitive, body, groups=path == "groups")
                for _ in range(repeats)
            ]
            figures.append((statistics.median(samples), name))
        worst[path] = max(figures)
    worst_ms = max(figure for figure, _ in worst.values())
    kept_ms, kept_body = _kept_automaton_ms(pattern, case_sensitive, repeats)
    return {
        "pattern": pattern,
        "case_sensitive": case_sensitive,
        "compile_ms": round(
            statistics.median(_compile_ms(pattern, case_sensitive) for _ in range(repeats)), 2
        ),
        "worst_groups_ms": round(worst["groups"][0], 3),
        "worst_groups_body": worst["groups"][1],
        "worst_yes_no_ms": round(worst["yes_no"][0], 3),
        "worst_yes_no_body": worst["yes_no"][1],
        "kept_automaton_ms": round(kept_ms, 3),
        "kept_automaton_body": kept_body,
        "target_ms": TARGET_MS,
        "pass": worst_ms <= TARGET_MS,
    }


def refusals() -> list[dict[str, str]]:
    from sms_automation.triggers.patterns import compile_pattern

    rows = []
    for pattern in REFUSED:
        try:
            compile_pattern(pattern, case_sensitive=True)
        except ValueError as error:
            rows.append({"pattern": pattern, "refused": str(error)})
        else:
            raise AssertionError(f"{pattern!r} was expected to be refused")
    return rows


def import_ms(runs: int = 7) -> float:
    """``import re2`` in a fresh interpreter (``-X importtime``, bytecode caches on): median."""
    samples = []
    for _ in range(runs):
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        stderr = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import re2"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stderr
        line = next(line for line in stderr.splitlines() if line.rstrip().endswith("| re2"))
        samples.append(int(line.split("|")[1]) / 1000)
    return round(statistics.median(samples), 1)


def run(repeats: int = 5) -> dict[str, Any]:
    if str(LAYER) not in sys.path:
        sys.path.insert(0, str(LAYER))
    rows = [measure(pattern, case_sensitive, repeats) for pattern, case_sensitive in PATTERNS]
    return {
        "body_chars": BODY_CHARS,
        "bodies": list(bodies()),
        "repeats": repeats,
        "target_ms": TARGET_MS,
        "patterns": rows,
        "worst_ms": max(max(row["worst_groups_ms"], row["worst_yes_no_ms"]) for row in rows),
        "kept_automaton_worst_ms": max(row["kept_automaton_ms"] for row in rows),
        "passed": sum(row["pass"] for row in rows),
        "refused": refusals(),
        "import_re2_ms": import_ms(),
    }


if __name__ == "__main__":
    import json

    json.dump(run(), sys.stdout, indent=2, ensure_ascii=False)
