"""User patterns on RE2: linear time on hostile input, Python's meaning kept, what RE2 lacks
refused by name at load, long subjects cut at evaluation."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import re2

from sms_automation.triggers import TriggerFileError, parse_trigger_text
from sms_automation.triggers.patterns import (
    MAX_FILE_PATTERN_MEMORY,
    MAX_PATTERN_CHARS,
    MAX_SUBJECT_CHARS,
    UnsupportedPattern,
    bounded_subject,
    compile_pattern,
    pattern_memory,
)
from sms_automation.triggers.regex_syntax import to_re2
from tests.unit.triggers.builders import evaluate, message

ROOT = Path(__file__).resolve().parents[3]
HANG_GUARD_SECONDS = 20
FROM, TO = "+15005550006", "+15005550007"
"""Not a timing assert: on a backtracking engine these never finish, and the test must fail
rather than hang the suite. On RE2 each takes milliseconds (bench: regex_worst_case)."""

HOSTILE_BODIES = {
    "x": "x" * 1_600,
    "words then a bang": "a" * 1_599 + "!",
    "accented then a bang": "é" * 1_599 + "!",
    "spaced words": "ab " * 533 + "!",
}


_CHILD = """
import contextlib, io, json, sys
from sms_automation_cli.main import main
results = []
for argv in json.loads(sys.stdin.read()):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


def _cli(*commands: list[str]) -> list[tuple[int, str, str]]:
    """``sms-automation`` commands run in a fresh interpreter, with a hang guard: (exit code,
    standard output, standard error) of each."""
    path = os.pathsep.join(str(ROOT / folder) for folder in ("layers/common", "cli", "local", "."))
    try:
        child = subprocess.run(  # noqa: S603 (our own interpreter and CLI)
            [sys.executable, "-c", _CHILD],
            input=json.dumps(commands),
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": path},
            timeout=HANG_GUARD_SECONDS,
            check=True,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the commands did not finish in {HANG_GUARD_SECONDS} s")
    return [tuple(result) for result in json.loads(child.stdout)]


def _trigger_file(tmp_path: Path, *, condition: str, extract: str) -> Path:
    path = tmp_path / "hostile.yaml"
    path.write_text(
        "version: 1\n"
        "triggers:\n"
        "  - name: hostile\n"
        f"    when: {{field: Body, regex: '{condition}'}}\n"
        f"    extract: [{{regex: '{extract}', into: found}}]\n"
        "    actions: [{type: send_sms, body: 'found %found%'}]\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("pattern", "matching_body", "hostile_matches"),
    [
        (r"(x+x+)+y", "x" * 1_599 + "y", set()),
        (r"^(\w+\s?){1,40}$", "café au lait", {"x"}),
        (r"(\w+\s?)*$", "every word", set(HOSTILE_BODIES)),
        (r"(a|aa)+$", "aa", set()),
        (r"(.*a){12}", "a" * 12, {"words then a bang", "spaced words"}),
    ],
)
def test_pattern_the_issue_s_redos_shapes_answer_on_hostile_bodies_via_the_cli(
    tmp_path: Path, pattern: str, matching_body: str, hostile_matches: set[str]
) -> None:
    """Issue 13 (1): ``^(\\w+\\s?){1,40}$`` on 1,600 characters never finished on Python's
    backtracking ``re`` (and ``(x+x+)+y`` was refused by the old nesting heuristic); through
    ``triggers validate`` and ``triggers test`` each answers now, on every hostile body."""
    path = _trigger_file(tmp_path, condition=pattern, extract=pattern)
    tests = [
        ["triggers", "test", str(path), "--from", FROM, "--to", TO, "--body", body]
        for body in [*HOSTILE_BODIES.values(), matching_body]
    ]
    validate, *results = _cli(["triggers", "validate", str(path)], *tests)

    assert validate[:2] == (0, f"{path}: ok: 1 trigger(s), 1 enabled, 1 top-level action(s)\n")
    assert [code for code, _, _ in results] == [0] * len(results), results
    matched = {
        name
        for name, (_, out, _) in zip(HOSTILE_BODIES, results, strict=False)
        if "matched: hostile" in out
    }
    assert matched == hostile_matches
    assert "matched: hostile" in results[-1][1]


@pytest.mark.parametrize(
    ("pattern", "feature"),
    [
        (r"stop(?=\s)", "lookahead (?=...) is not supported"),
        (r"stop(?!\w)", "negative lookahead (?!...) is not supported"),
        (r"(?<=#)\d+", "lookbehind (?<=...) is not supported"),
        (r"(?<!\d)\d{4}", "negative lookbehind (?<!...) is not supported"),
        (r"(\w)\1", "a backreference (\\1) is not supported"),
        (r"(?P<a>x)(?P=a)", "a named backreference (?P=name) is not supported"),
        (r"(?>a+)b", "an atomic group (?>...) is not supported"),
        (r"a++b", "a possessive quantifier"),
        (r"a{2}+", "a possessive quantifier"),
        (r"(<)?a(?(1)>)", "a conditional group"),
        (r"a(?#note)", "a comment group (?#...) is not supported"),
        (r"(?x) a b", "verbose mode (?x) is not supported"),
        (r"(?a)\w", "the ASCII flag (?a) is not supported"),
        (r"[\W_]", "\\W inside a character class"),
        (r"\bстоп\b", "\\b next to the non-ASCII letter 'с' is not supported"),  # noqa: RUF001
        (r"café\b", "\\b next to the non-ASCII letter 'é'"),
        (r"\C", "\\C (one byte) is not supported"),
    ],
)
def test_pattern_a_feature_re2_lacks_is_refused_by_name(pattern: str, feature: str) -> None:
    with pytest.raises(UnsupportedPattern) as refused:
        compile_pattern(pattern, case_sensitive=False)
    assert feature in str(refused.value)
    if "RE2" in str(refused.value):
        assert "a linear-time engine (docs/triggers.md#regular-expressions)" in str(refused.value)


def test_pattern_refusals_reach_validate_with_the_feature_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sms_automation_cli.main import main

    path = _trigger_file(tmp_path, condition=r"^(?=.*\d)\w+$", extract=r"(?P<n>\d+)")
    assert main(["triggers", "validate", str(path)]) == 1
    assert "lookahead (?=...) is not supported: patterns run on RE2" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (r"(\w{1,100}){1,3}", "too large to run within 4 MiB"),
        (r"a{1,301}", "a repetition count above 300 ({1,301}) is not supported: each counted"),
        (r"(a{1,100}){1,10}", "repetition counts nested to a product above 300 (1000)"),
        (r"(?:(?:a{2}b){3}){51}c", "nested to a product above 300 (306)"),
        ("(", "invalid regular expression: missing )"),
        ("a" * (MAX_PATTERN_CHARS + 1), "at most 1000"),
    ],
)
def test_pattern_over_the_engine_s_limits_is_a_clear_error(pattern: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        compile_pattern(pattern, case_sensitive=True)


@pytest.mark.parametrize(
    ("pattern", "body", "found"),
    [
        (r"\bstop\b", "please STOP now", "STOP"),
        (r"\bstop\b", "unstoppable", None),
        (r"\bp[12]\b", "alert p1 db down", "p1"),
        (r"^(\w+\s?){1,40}$", "three short words", "three short words"),
        (r"^\s*(yes|y)\s*$", "  Yes ", "  Yes "),
        (r"order\s+(?P<order_id>\d{6})", "order 123456", "order 123456"),
        (r"(?<code>[A-Z]{3})-\d+", "ref ABC-42", "ABC-42"),
        (r"(\d+,)*\d+", "1,2,3", "1,2,3"),
        (r"a{,2}b", "aaab", "aab"),
        (r"^(?:\d{1,3}(?:,\d{3}){0,100})$", "1,234,567", "1,234,567"),
        (r"^.{1,160}$", "é" * 160, "é" * 160),
        (r"^stop$", "stop\n", "stop\n"),
        (r"stop\Z", "stop", "stop"),
        (r"\u00e9t\N{LATIN SMALL LETTER E WITH ACUTE}", "un été", "été"),
        (r"[[:digit:]]+", "no 42", "42"),
        (r"\x{1F600}|\p{Greek}+", "γεια", "γεια"),
    ],
)
def test_pattern_everyday_patterns_keep_working(pattern: str, body: str, found: str | None) -> None:
    compiled = compile_pattern(pattern, case_sensitive=False)
    match = compiled.search(body)
    assert (match.group(0) if match else None) == found
    assert compiled.matches(body) is (found is not None)


def test_pattern_case_sensitivity_folds_every_script() -> None:
    cases = [("abc", "ABC"), ("café", "CAFÉ"), ("стоп", "СТОП"), ("σ", "Σ")]  # noqa: RUF001
    for pattern, body in cases:
        assert compile_pattern(pattern, case_sensitive=False).matches(body)
        assert not compile_pattern(pattern, case_sensitive=True).matches(body)


def test_pattern_named_groups_hold_non_ascii_text_and_spans() -> None:
    compiled = compile_pattern(r"(?P<greeting>\w+),\s+(?P<name>\w+)", case_sensitive=True)
    match = compiled.search("😀 Привет,  Zoë! ok")
    assert match is not None
    assert (match.group("greeting"), match.group("name")) == ("Привет", "Zoë")
    assert compiled.groupindex == {"greeting": 1, "name": 2}


def test_pattern_unnamed_groups_capture_nothing_named_groups_and_the_match_do() -> None:
    """Only named groups and the whole match are read (extract's variables and ``into``), and
    every group RE2 must report sends it to its slowest engine over the match: an unnamed group
    is rewritten to ``(?:...)``, a named one (and ``(?i:...)``, ``(?:...)``) is kept."""
    assert to_re2(r"(a|b)(?P<code>\d+)(?i:x)(?:y)") == r"(?:a|b)(?P<code>\p{Nd}+)(?i:x)(?:y)"
    compiled = compile_pattern(r"(\w+\s?){1,3}(?P<code>\d{4})(.)", case_sensitive=True)
    match = compiled.search("see you 1234!")
    assert match is not None
    assert (match.group(0), match.group("code")) == ("see you 1234!", "1234")
    assert compiled.groupindex == {"code": 1}


def _all_characters() -> str:
    return "".join(chr(cp) for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF)


@pytest.mark.parametrize(
    ("escape", "examples"),
    [
        ("w", "é ж 中 ٣ _ Z 9"),
        ("d", "٣ ৭ 9"),  # noqa: RUF001 (Arabic-Indic three, Bengali seven)
        ("s", "\u00a0 \u2003 \u3000 \t"),
        ("W", "! ? -"),
        ("D", "a é"),
        ("S", "a é !"),
    ],
)
def test_pattern_perl_classes_keep_python_s_unicode_meaning(escape: str, examples: str) -> None:
    """Over every code point: ``\\w``, ``\\d``, ``\\s`` and their negations match what Python's
    ``re`` matched (RE2's own are ASCII), apart from characters this Python's Unicode tables
    do not assign yet (RE2's tables are newer)."""
    everything = _all_characters()
    translated = f"(?:{to_re2(f'\\{escape}')})+"  # runs: far fewer matches than characters
    ours = set("".join(re2.findall(translated, everything)))
    python = set("".join(re.findall(f"\\{escape}+", everything)))
    differ = ours ^ python
    assert {unicodedata.category(char) for char in differ} <= {"Cn"}
    assert set(examples.split(" ")) - {""} <= ours | ({" "} if escape == "s" else set())


def test_pattern_word_boundary_is_ascii_as_documented() -> None:
    """RE2's ``\\b`` counts only ``[0-9A-Za-z_]`` as word characters (docs/triggers.md): beside
    accented or non-Latin letters it falls where Python's did not, and the docs say so."""
    assert compile_pattern(r"\bstop\b", case_sensitive=False).matches("Stop!")
    ascii_boundary = compile_pattern(r"\b\w+\b", case_sensitive=True).search("café")
    assert ascii_boundary is not None
    assert ascii_boundary.group(0) == "caf"
    unicode_spelling = compile_pattern(r"(?:^|\W)(?P<word>\w+)(?:\W|$)", case_sensitive=True)
    found = unicode_spelling.search("café")
    assert found is not None
    assert found.group("word") == "café"


def test_pattern_a_lone_surrogate_in_the_subject_is_matched_not_raised() -> None:
    compiled = compile_pattern(r"(?P<word>\w+)\W+end", case_sensitive=True)
    match = compiled.search("\ud800 word \udfff end")
    assert match is not None
    assert match.group("word") == "word"


def test_pattern_extraction_puts_non_ascii_groups_into_variables() -> None:
    evaluation = evaluate(
        {
            "name": "t",
            "extract": [{"regex": r"nom\s*:\s*(?P<nom>\w+)", "into": "all"}],
            "actions": [{"type": "send_sms", "body": "Bonjour %nom% (%all%)"}],
        },
        message(Body="NOM : Zoé-Ängström"),
    )
    assert evaluation.variables["nom"] == "Zoé"
    assert evaluation.variables["all"] == "NOM : Zoé"


def _conditions_file(patterns: list[str]) -> str:
    conditions = "".join(f"        - {{field: Body, regex: '{pattern}'}}\n" for pattern in patterns)
    return (
        "version: 1\ntriggers:\n  - name: many\n    when:\n      any:\n"
        f"{conditions}    actions: [{{type: send_sms, body: hi}}]\n"
    )


def test_pattern_budget_refuses_a_file_whose_patterns_would_exhaust_memory() -> None:
    """Each \\w{1,150} compiles to ~200,000 RE2 instructions and runs with the most memory a
    pattern gets (40 MiB): six different ones fit MAX_FILE_PATTERN_MEMORY (256 MiB), the
    seventh is refused, on its line."""
    patterns = [f"\\w{{1,150}}{index}" for index in range(7)]
    with pytest.raises(TriggerFileError) as refused:
        parse_trigger_text(_conditions_file(patterns), filename="t.yaml")
    (problem,) = refused.value.problems
    assert problem.line == 12
    assert f"at most {MAX_FILE_PATTERN_MEMORY >> 20} MiB for one file" in problem.message
    assert "need 280 MiB to run with this one (40 MiB, 201,754 RE2 instructions)" in (
        problem.message
    )


def test_pattern_budget_lets_a_file_of_a_thousand_ordinary_patterns_load() -> None:
    """A small program runs with little memory (64 KiB), so routing on many senders fits."""
    patterns = [f"^\\+1{index:04d}" for index in range(1_000)]
    trigger_set = parse_trigger_text(_conditions_file(patterns), filename="t.yaml")
    assert len(trigger_set.triggers) == 1


def test_pattern_memory_grows_with_the_program_within_bounds() -> None:
    """A large program's automaton needs more memory than a flat 4 MiB (in less, RE2 falls back
    to its slow NFA: bench/RESULTS.md), a small one's little; each is charged to its file, twice
    when named groups make ``matches`` run a second program without them."""
    small = compile_pattern(r"^\+1555", case_sensitive=True)
    counted = compile_pattern(r"a{1,300}$", case_sensitive=True)
    word_run = compile_pattern(r"\w{1,10}!", case_sensitive=True)
    issue_s = compile_pattern(r"^(\w+\s?){1,40}$", case_sensitive=True)
    named = compile_pattern(r"(?P<name>\w+)\s+(?P<code>\d{4,8})", case_sensitive=True)
    assert small.memory == small.memory_held == 64 << 10
    assert 1 << 20 <= counted.memory < 4 << 20
    assert 8 << 20 <= word_run.memory == word_run.memory_held < 40 << 20
    assert 32 << 20 <= issue_s.memory == issue_s.memory_held <= 40 << 20
    assert named.memory_held == 2 * named.memory
    assert pattern_memory(10**9) == 40 << 20
    body = "é" * 1_599 + "!"
    found = word_run.search(body)
    assert found is not None
    assert found.group(0) == "é" * 10 + "!"
    assert word_run.matches(body)
    assert not issue_s.matches(body)
    assert issue_s.matches("see you at 10 ok")


def test_pattern_budget_charges_a_repeated_pattern_once() -> None:
    trigger_set = parse_trigger_text(_conditions_file(["\\w{1,150}"] * 12), filename="t.yaml")
    assert len(trigger_set.triggers) == 1


STORED_BEFORE_RE2 = r"""version: 1
triggers:
  - name: lookahead
    when: {field: Body, regex: 'stop(?=\s|$)'}
    actions: [{type: send_sms, body: stopped}]
  - name: extracts
    extract: [{regex: '(\w)\1', into: double, default: none}]
    actions: [{type: send_sms, body: 'double %double%'}]
"""


def test_pattern_a_version_stored_before_re2_loads_and_skips_what_cannot_run() -> None:
    """A file published when patterns ran on Python's ``re`` may hold a lookahead: refused at
    publish now, but the stored version still runs (the account's other triggers with it); the
    pattern's condition is false and its extraction the default, each with the reason."""
    with pytest.raises(TriggerFileError, match=r"lookahead \(\?=\.\.\.\) is not supported"):
        parse_trigger_text(STORED_BEFORE_RE2, filename="t.yaml")
    stored = parse_trigger_text(STORED_BEFORE_RE2, filename="acme v1", stored=True)

    evaluation = evaluate(stored, message(Body="stop now"))

    assert evaluation.matched == ("extracts",)
    assert evaluation.variables["double"] == "none"
    warnings = [warning.message for warning in evaluation.warnings]
    assert any(
        "regex on 'Body' cannot run, so the condition is false: lookahead" in w for w in warnings
    )
    assert any("nothing is extracted: a backreference (\\1)" in w for w in warnings)


def test_pattern_subject_is_bounded() -> None:
    assert bounded_subject("abc") == ("abc", False)
    cut, was_cut = bounded_subject("a" * (MAX_SUBJECT_CHARS + 5))
    assert (len(cut), was_cut) == (MAX_SUBJECT_CHARS, True)


def test_pattern_condition_on_a_huge_value_searches_the_start_and_warns() -> None:
    huge = "x" * MAX_SUBJECT_CHARS + "needle"
    evaluation = evaluate(
        {"name": "t", "when": {"field": "Body", "regex": "needle"}}, message(Body=huge)
    )
    assert evaluation.matched == ()
    assert "first 65536 characters" in evaluation.warnings[0].message
