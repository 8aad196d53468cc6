"""RE2 memory in a warm processor: what the kept engines hold stays within
``PROCESS_PATTERN_MEMORY``, and an engine dropped from ``PerVersion`` frees its patterns (no cache
of ours, nor google-re2's own, keeps them).

Memory is counted with the figures the code itself uses (``UserPattern.memory_held``: what RE2
may grow each compiled pattern to as bodies drive it), summed over the patterns really alive in
the process (found with ``gc``), not over what a cache says it keeps."""

from __future__ import annotations

import gc
import weakref
from dataclasses import dataclass

import pytest
import re2

from sms_automation.triggers import DryRunPort, Engine, TriggerFileError, parse_trigger_text
from sms_automation.triggers.patterns import (
    MAX_FILE_PATTERN_MEMORY,
    PROCESS_PATTERN_MEMORY,
    UserPattern,
    compile_pattern,
)
from sms_automation.triggers.plan import SendSms
from sms_automation.triggers.versions import engines
from tests.unit.triggers.builders import ACCOUNT, NOW, message

MiB = 1 << 20
BIG_NAMED = 80 * MiB
"""A pattern of ~38,000 RE2 instructions with a named group: twice the most a pattern gets."""


@dataclass(frozen=True)
class Stored:
    version: int
    source: str
    fingerprint: str = "f"


def _big(tag: str) -> str:
    """A distinct pattern of ``BIG_NAMED`` (\\w is a class of every letter and digit)."""
    return f"(?P<word>\\w{{1,28}})!{tag}"


def _file(*patterns: str) -> str:
    conditions = "".join(f"        - {{field: Body, regex: '{pattern}'}}\n" for pattern in patterns)
    return (
        "version: 1\ntriggers:\n  - name: routed\n    when:\n      any:\n"
        f"{conditions}    actions: [{{type: send_sms, body: 'got %Body%'}}]\n"
    )


def _alive_memory(tag: str) -> int:
    """What the compiled patterns alive in this process whose text has ``tag`` may hold."""
    gc.collect()
    return sum(
        found.memory_held
        for found in gc.get_objects()
        if isinstance(found, UserPattern) and tag in found.pattern
    )


def test_a_big_named_pattern_holds_what_the_tests_count_on() -> None:
    assert compile_pattern(_big("size"), case_sensitive=False).memory_held == BIG_NAMED


def test_engines_of_many_accounts_near_the_file_budget_stay_within_the_process_bound() -> None:
    """Five accounts, each a file of three big patterns (240 MiB, under the 256 MiB a file may
    need): without the bound a warm processor kept all five (1,200 MiB, over its 512 MB)."""
    cache = engines()
    for account in range(5):
        patterns = [_big(f"bound{account}x{index}") for index in range(3)]
        engine = cache.get(f"account-{account}", Stored(1, _file(*patterns)))
        assert engine.memory_held == 3 * BIG_NAMED <= MAX_FILE_PATTERN_MEMORY
        del engine  # the message is handled: nothing but the cache holds it now
        assert cache.memory_held <= PROCESS_PATTERN_MEMORY
        assert _alive_memory("!bound") <= PROCESS_PATTERN_MEMORY
    assert _alive_memory("!bound") == 3 * BIG_NAMED  # only the last account's


def test_smaller_files_share_the_bound_least_recently_used_first() -> None:
    cache = engines()
    for account in range(4):  # 80 MiB each: three fit in 256 MiB
        cache.get(f"account-{account}", Stored(1, _file(_big(f"share{account}"))))
    cache.get("account-1", Stored(1, _file(_big("share1"))))  # used again: 2 is the oldest
    cache.get("account-4", Stored(1, _file(_big("share4"))))
    assert cache.memory_held == 3 * BIG_NAMED == _alive_memory("!share")
    gc.collect()
    kept = {p.pattern for p in gc.get_objects() if isinstance(p, UserPattern)}
    assert {_big("share1"), _big("share3"), _big("share4")} <= kept
    assert not {_big("share0"), _big("share2")} & kept


def test_a_stored_file_over_the_bound_still_loads_alone_and_is_never_the_one_dropped() -> None:
    """A stored version skips the file budget (it must load): four big patterns (320 MiB)."""
    over = _file(*(_big(f"over{index}") for index in range(4)))
    with pytest.raises(TriggerFileError, match="at most 256 MiB for one file"):
        parse_trigger_text(over)
    cache = engines()
    small = cache.get("small", Stored(1, _file(_big("small"))))
    engine = cache.get("big", Stored(1, over))
    assert engine.memory_held == 4 * BIG_NAMED > PROCESS_PATTERN_MEMORY
    assert cache.get("big", Stored(1, over)) is engine  # kept, not rebuilt
    assert cache.memory_held == 4 * BIG_NAMED  # alone: the small file was dropped
    assert _bodies(engine, "word!over3") == ["got word!over3"]
    assert small.memory_held == BIG_NAMED  # still usable by whoever was using it
    del small, engine
    assert _alive_memory("!small") == 0


def test_an_evicted_version_frees_its_patterns_and_compiles_again_with_the_same_results() -> None:
    cache = engines()
    source = _file(_big("again"), "^\\+44")
    first = cache.get("acme", Stored(1, source))
    before = _bodies(first, "hi!again")
    assert before == ["got hi!again"]
    engine_ref = weakref.ref(first)
    pattern_ref = weakref.ref(compile_pattern(_big("again"), case_sensitive=False))
    del first
    for index in range(3):  # three other accounts' 80 MiB files push it out
        cache.get(f"other-{index}", Stored(1, _file(_big(f"again-other{index}"))))
    gc.collect()
    assert engine_ref() is None
    assert pattern_ref() is None
    again = cache.get("acme", Stored(1, source))
    assert again is not engine_ref()  # built again (the old one is gone)
    assert _bodies(again, "hi!again") == before
    assert _bodies(again, "no match") == []


def test_validation_and_the_engine_built_from_it_compile_a_pattern_once() -> None:
    """The parsed file keeps what its validation compiled, the engine shares it, and once
    neither is left the pattern is gone."""
    pattern = _big("once")
    parsed = parse_trigger_text(_file(pattern))
    validated = weakref.ref(compile_pattern(pattern, case_sensitive=False))
    assert validated() is not None
    engine = Engine(parsed)
    del parsed
    assert compile_pattern(pattern, case_sensitive=False) is validated()
    assert engine.memory_held == BIG_NAMED
    del engine
    gc.collect()
    assert validated() is None


def test_an_engine_owns_its_extract_and_expect_patterns_which_conversations_share() -> None:
    source = (
        "version: 1\ntriggers:\n  - name: ask\n    actions:\n"
        "      - {type: extract, extract: [{regex: 'ref (?P<ref>\\w+)'}]}\n"
        "      - {type: wait_for_reply, prompt: 'Day', expect: [{regex: '^\\d{1,2}$owned'}]}\n"
    )
    engine = engines().get("acme", Stored(1, source))
    extract = compile_pattern("ref (?P<ref>\\w+)", case_sensitive=False)
    expect = compile_pattern("^\\d{1,2}$owned", case_sensitive=False)  # what accepts() asks
    assert engine.memory_held == extract.memory_held + expect.memory_held
    expect_ref = weakref.ref(expect)
    del engine, extract, expect
    gc.collect()
    assert expect_ref() is None


def test_google_re2s_own_cache_keeps_no_compiled_pattern() -> None:
    """``re2.compile`` keeps the last 128 patterns it compiled in an LRU cache of its own (up
    to 40 MiB of automaton each here): a dropped pattern must be gone from it too."""
    regexp_type = type(re2.compile("x"))
    re2.purge()

    def alive() -> int:
        gc.collect()
        return sum(isinstance(found, regexp_type) for found in gc.get_objects())

    baseline = alive()
    pattern = compile_pattern("(?P<n>\\d+) regexmem-own-cache", case_sensitive=True)
    assert pattern.matches("12 regexmem-own-cache")
    assert alive() > baseline
    del pattern
    assert alive() == baseline


def _bodies(engine: Engine, body: str) -> list[str]:
    found = engine.evaluate(message(Body=body), now=NOW, account=ACCOUNT, port=DryRunPort())
    return [step.body for step in found.plan if isinstance(step, SendSms)]
