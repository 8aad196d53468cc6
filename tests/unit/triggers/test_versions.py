"""``PerVersion``: what is built from a stored trigger-file version, built once per (account,
version) and kept until it is the least recently used of more than ``size`` (the memory bound:
``test_pattern_memory.py``)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sms_automation.triggers import TriggerFileError, parse_trigger_text
from sms_automation.triggers.engine import Engine
from sms_automation.triggers.model import TriggerSet
from sms_automation.triggers.versions import PerVersion, engines, parsed_trigger_files

FILE = "version: 1\ntriggers: [{name: echo, actions: [{type: send_sms, body: echo}]}]\n"


@dataclass(frozen=True)
class Stored:
    version: int
    source: str = FILE
    fingerprint: str = "f"


class CountingBuild:
    def __init__(self) -> None:
        self.built: list[TriggerSet] = []

    def __call__(self, parsed: TriggerSet) -> int:
        self.built.append(parsed)
        return len(self.built)


def test_per_version_builds_each_account_version_once() -> None:
    build = CountingBuild()
    cache = PerVersion(build)
    assert cache.get("acme", Stored(1)) == cache.get("acme", Stored(1)) == 1
    assert cache.get("acme", Stored(2)) == 2
    assert cache.get("globex", Stored(1)) == 3
    assert [len(parsed.triggers) for parsed in build.built] == [1, 1, 1]


def test_per_version_drops_the_least_recently_used_beyond_its_size() -> None:
    build = CountingBuild()
    cache = PerVersion(build, size=2)
    cache.get("acme", Stored(1))
    cache.get("acme", Stored(2))
    cache.get("acme", Stored(1))  # used again: version 2 is now the oldest
    cache.get("acme", Stored(3))
    assert cache.get("acme", Stored(1)) == 1
    assert cache.get("acme", Stored(2)) == 4  # dropped, so built again
    assert len(build.built) == 4


def test_per_version_names_the_account_and_version_of_a_bad_file() -> None:
    with pytest.raises(TriggerFileError, match="acme v7"):
        PerVersion(CountingBuild()).get("acme", Stored(7, source="version: 1\ntriggers: 3\n"))


def test_the_two_caches_give_the_parsed_file_and_its_engine() -> None:
    assert isinstance(parsed_trigger_files().get("acme", Stored(1)), TriggerSet)
    assert isinstance(engines().get("acme", Stored(1)), Engine)


def test_a_stored_file_is_not_refused_by_checks_that_depend_on_the_clock() -> None:
    """A literal ``until`` past the longest wait is refused at validate and push time; a version
    stored before that check (or pushed as time went by) still loads at run time, where the
    engine skips that one wait, instead of failing every trigger of the account."""
    far = (
        "version: 1\ntriggers: [{name: ask, actions: "
        '[{type: wait_for_reply, until: "2999-01-01T00:00:00Z"}]}]\n'
    )
    with pytest.raises(TriggerFileError, match="more than 30 days ahead"):
        parse_trigger_text(far)
    [parsed] = [parsed_trigger_files().get("acme", Stored(1, far))]
    assert parsed.triggers[0].name == "ask"
