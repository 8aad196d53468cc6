"""Extraction into variables: regex named groups, between markers, split, JSON path.

Each extraction is compiled once into ``(EvalContext, target) -> None``: it reads its field
through the context (so it sees variables set before it) and writes variables into ``target``.
A value that is not found becomes the extraction's ``default`` (empty unless set), so later
templates never hit an unknown variable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, MutableMapping
from typing import Final

from sms_automation.triggers.context import EvalContext
from sms_automation.triggers.jsonpath import parse_json_path, select
from sms_automation.triggers.model import (
    BetweenExtraction,
    Extraction,
    JsonPathExtraction,
    RegexExtraction,
    SplitExtraction,
)
from sms_automation.triggers.patterns import UnsupportedPattern, bounded_subject, compile_pattern
from sms_automation.triggers.variables import MISSING, VariableRef, VarValue, _Missing, fold

Extractor = Callable[[EvalContext, MutableMapping[str, VarValue]], None]

_NOT_JSON: Final = MISSING


def compile_extractions(extractions: list[Extraction]) -> tuple[Extractor, ...]:
    return tuple(compile_extraction(extraction) for extraction in extractions)


def compile_extraction(extraction: Extraction) -> Extractor:
    source = VariableRef.parse(extraction.field)
    if isinstance(extraction, RegexExtraction):
        return _regex(source, extraction)
    if isinstance(extraction, BetweenExtraction):
        return _between(source, extraction)
    if isinstance(extraction, SplitExtraction):
        return _split(source, extraction)
    return _json_path(source, extraction)


def _finish(extraction: Extraction, value: str | None) -> str:
    if value is None:
        return extraction.default
    return value.strip() if extraction.trim else value


def _regex(source: VariableRef, extraction: RegexExtraction) -> Extractor:
    into = fold(extraction.into) if extraction.into else None
    try:
        pattern = compile_pattern(extraction.regex, case_sensitive=extraction.case_sensitive)
    except UnsupportedPattern as error:  # a version stored before the RE2 rules
        warning = f"extract regex cannot run, so nothing is extracted: {error}"
        return _cannot_run(warning, into, extraction.default)
    groups = tuple(pattern.groupindex)

    def extract(context: EvalContext, target: MutableMapping[str, VarValue]) -> None:
        subject, cut = bounded_subject(context.text(source))
        if cut:
            context.warn(f"extract regex: only the first {len(subject)} characters were searched")
        match = pattern.search(subject)
        for group in groups:
            target[fold(group)] = _finish(extraction, match.group(group) if match else None)
        if into is not None:
            target[into] = _finish(extraction, match.group(0) if match else None)

    return extract


def _cannot_run(warning: str, into: str | None, default: str) -> Extractor:
    def extract(context: EvalContext, target: MutableMapping[str, VarValue]) -> None:
        context.warn(warning)
        if into is not None:
            target[into] = default

    return extract


def _between(source: VariableRef, extraction: BetweenExtraction) -> Extractor:
    start, end = extraction.between.start, extraction.between.end
    if not extraction.case_sensitive:
        start, end = start.casefold(), end.casefold()
    into = fold(extraction.into)

    def extract(context: EvalContext, target: MutableMapping[str, VarValue]) -> None:
        text = context.text(source)
        searched = text if extraction.case_sensitive else context.folded_text(source)
        if len(searched) != len(text):  # casefold changed the length (e.g. 'ß'): search as is
            searched = text
        target[into] = _finish(extraction, _slice_between(text, searched, start, end))

    return extract


def _slice_between(text: str, searched: str, start: str, end: str) -> str | None:
    begin = searched.find(start)
    if begin < 0:
        return None
    begin += len(start)
    if not end:
        return text[begin:]
    finish = searched.find(end, begin)
    return text[begin:finish] if finish >= 0 else None


def _split(source: VariableRef, extraction: SplitExtraction) -> Extractor:
    delimiter, index = extraction.split.delimiter, extraction.split.index
    into = fold(extraction.into)

    def extract(context: EvalContext, target: MutableMapping[str, VarValue]) -> None:
        parts = context.text(source).split(delimiter)
        found = parts[index] if -len(parts) <= index < len(parts) else None
        target[into] = _finish(extraction, found)

    return extract


def _json_path(source: VariableRef, extraction: JsonPathExtraction) -> Extractor:
    steps = parse_json_path(extraction.json_path)
    into = fold(extraction.into)

    def extract(context: EvalContext, target: MutableMapping[str, VarValue]) -> None:
        document = _parsed_json(context, source)
        if isinstance(document, _Missing):
            context.warn(f"extract json_path: {extraction.field!r} is not JSON")
            target[into] = extraction.default
            return
        found = select(document, steps)
        if isinstance(found, _Missing):
            target[into] = extraction.default
        elif isinstance(found, str):
            target[into] = _finish(extraction, found)
        else:
            target[into] = found

    return extract


def _parsed_json(context: EvalContext, source: VariableRef) -> VarValue | _Missing:
    text = context.text(source)
    if text not in context.json_documents:
        try:
            document: VarValue | _Missing = json.loads(text)
        except (ValueError, RecursionError):  # not JSON, or nested too deeply to read
            document = _NOT_JSON
        context.json_documents[text] = document
    return context.json_documents[text]
