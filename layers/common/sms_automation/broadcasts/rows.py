"""A broadcast's file, read once as a stream and checked row by row. Pure.

Two formats, told apart by the file's name (``.csv`` or ``.jsonl``):

- **CSV** (UTF-8, a header row first): a ``to`` column (the contact), an optional ``from``
  column (our number; default the automation's), and one column per input of the automation,
  named as the input (any case). An empty cell is an input not given (its default applies).
  One row a line: a quoted cell holding a line break makes its line a bad row.
- **JSON Lines**: one object a line, the automations API's start body:
  ``{"to": "+14155550101", "from": "+15005550006", "variables": {"patient": "Ann"}}``.
  A ``\\ud800``-style escape with no pair (a lone surrogate, not text) makes its line a bad row.

Each row is checked exactly as a start request is (``automations.start.build_origin``: the
contact, our number, every input against its declared type), so a row that passes here is a
row the start path accepts. Bad rows come back with their line number and every problem; a
contact that appears twice is started once (the later line is skipped and counted).

Bounded: the file (``MAX_FILE_BYTES``), the rows (``MAX_ROWS``), one line (``MAX_LINE_BYTES``;
a longer line is a bad row, read no further than the bound), the problems kept
(``MAX_PROBLEM_ROWS`` rows, each problem ``MAX_PROBLEM_CHARS`` characters, ``MAX_PROBLEM_BYTES``
in all; the rest only counted). A CSV column that is not an input refuses the file once (not a
problem on every row). Nothing here holds the whole file.

Memory: the contacts seen so far (to skip a repeated one) are the one thing that grows with the
file: a set of at most ``MAX_ROWS`` numbers (``RowChecker.check`` refuses the row past it, as
``bounded_lines`` does the line). 200,000 E.164 numbers take about 19 MB (measured with
tracemalloc: ~95 bytes a number, the set's table included), within the steps function's 1 GB.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from sms_automation.automations.start import (
    PinnedTriggers,
    StartRejected,
    StartRequest,
    StartSource,
    build_origin,
)

if TYPE_CHECKING:
    from sms_automation.triggers.model import Automation

MAX_FILE_BYTES: Final = 64 * 1024 * 1024
MAX_ROWS: Final = 200_000
MAX_LINE_BYTES: Final = 16 * 1024
MAX_PROBLEM_ROWS: Final = 200
MAX_PROBLEM_CHARS: Final = 300
MAX_PROBLEM_BYTES: Final = 64 * 1024
"""The bad rows kept, as JSON, stay within this: the broadcast's record (one DynamoDB item,
400 KB at most) holds them."""
CHECK_ONLY_RUN: Final = "RU" + "0" * 32
_ROW_FIELDS: Final = frozenset({"to", "from", "variables"})
_CHECK_PINNED: Final = PinnedTriggers(0, "")


class FileFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class FileRejected(ValueError):
    """The file as a whole cannot be read (format, header, size): no row is started."""


def file_format(name: str) -> FileFormat:
    lowered = name.lower()
    if lowered.endswith(".csv"):
        return FileFormat.CSV
    if lowered.endswith((".jsonl", ".ndjson")):
        return FileFormat.JSONL
    raise FileRejected(f"{name[-80:]!r}: a broadcast file is .csv or .jsonl (JSON Lines)")


@dataclass(frozen=True, slots=True)
class Row:
    """A valid row, as the engine starts it: the same request each time it is read."""

    line: int
    to: str
    from_: str | None
    variables: Mapping[str, Any]

    def as_item(self) -> dict[str, Any]:
        """The row in the engine's rows file (one JSON object a line)."""
        return {"row": self.line, "to": self.to, "from": self.from_, "variables": self.variables}


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    problems: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "problems": list(self.problems)}


@dataclass
class Checked:
    """What one pass over the file found. ``rows`` counts every data row (valid or not)."""

    rows: int = 0
    valid: int = 0
    invalid: int = 0
    duplicates: int = 0
    opted_out: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "valid": self.valid,
            "invalid": self.invalid,
            "duplicates": self.duplicates,
            "opted_out": self.opted_out,
        }

    problem_bytes: int = 0

    def bad(self, line: int, problems: Iterable[str]) -> None:
        self.invalid += 1
        if len(self.bad_rows) >= MAX_PROBLEM_ROWS:
            return
        kept = BadRow(line, tuple(_shortened(problem) for problem in problems))
        size = len(json.dumps(kept.as_dict())) + 2  # with the list's ", "
        if self.problem_bytes + size <= MAX_PROBLEM_BYTES:
            self.problem_bytes += size
            self.bad_rows.append(kept)


def _shortened(problem: str) -> str:
    if len(problem) <= MAX_PROBLEM_CHARS:
        return problem
    return problem[: MAX_PROBLEM_CHARS - 1] + "…"


def row_request(account: str, automation: str, row: Row, broadcast_id: str) -> StartRequest:
    """The start request of one row: its idempotency key is the broadcast and the row, so a
    retried or redriven broadcast (or two workers on the row at once) starts one run."""
    return StartRequest(
        account=account,
        automation=automation,
        to=row.to,
        variables=dict(row.variables),
        from_=row.from_,
        idempotency_key=row_key(broadcast_id, row.line),
        source=StartSource.BROADCAST,
        requested_by=f"broadcast:{broadcast_id}",
    )


def row_key(broadcast_id: str, line: int) -> str:
    return f"broadcast:{broadcast_id}:{line}"


class RowChecker:
    """Checks rows against one automation; ``opted_out(sender, contact)`` says whether the
    contact refused our number (the row is then skipped and counted, not started)."""

    def __init__(self, account: str, automation: Automation, opted_out: Any) -> None:
        self._account = account
        self._automation = automation
        self._opted_out = opted_out
        self._seen: set[str] = set()
        self.checked = Checked()

    def not_inputs(self, columns: Iterable[str]) -> list[str]:
        """The columns that are neither ``to``, ``from`` nor an input of the automation."""
        return [
            name
            for name in columns
            if name.casefold() not in ("to", "from") and self._automation.input(name) is None
        ]

    def inputs(self) -> str:
        return ", ".join(item.name for item in self._automation.inputs) or "none"

    def check(self, line: int, fields: Mapping[str, Any] | None, problem: str = "") -> Row | None:
        """The row if it should be started; counted either way. ``FileRejected`` past
        ``MAX_ROWS`` rows (what bounds the contacts kept to tell a repeated one)."""
        if self.checked.rows >= MAX_ROWS:
            raise FileRejected(f"the file has more than {MAX_ROWS} rows")
        self.checked.rows += 1
        if fields is None:
            self.checked.bad(line, [problem])
            return None
        request = StartRequest(
            account=self._account,
            automation=self._automation.name,
            to=fields.get("to"),
            variables=fields.get("variables") or {},
            from_=fields.get("from"),
            source=StartSource.BROADCAST,
        )
        try:
            origin = build_origin(
                self._automation,
                request,
                pinned=_CHECK_PINNED,
                run_id=CHECK_ONLY_RUN,
                requested_at="",
            )
        except StartRejected as rejected:
            problems = [f"{p.field}: {p.message}" for p in rejected.problems]
            self.checked.bad(line, problems or [rejected.message])
            return None
        to, sender = str(origin["to"]), str(origin["from"])
        if to in self._seen:
            self.checked.duplicates += 1
            return None
        self._seen.add(to)
        if self._opted_out(sender, to):
            self.checked.opted_out += 1
            return None
        self.checked.valid += 1
        return Row(line, to, request.from_, dict(request.variables))


def read_rows(chunks: Iterable[bytes], fmt: FileFormat, checker: RowChecker) -> Iterator[Row]:
    """Every row to start, in file order; the checker keeps the counts and bad rows."""
    lines = bounded_lines(chunks)
    if fmt is FileFormat.JSONL:
        yield from _jsonl_rows(lines, checker)
    else:
        yield from _csv_rows(lines, checker)


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    text: str | None
    """``None``: not UTF-8, or longer than ``MAX_LINE_BYTES`` (``problem`` says which)."""
    problem: str = ""


def bounded_lines(chunks: Iterable[bytes]) -> Iterator[Line]:
    """The file's lines (their ``\\n`` kept, a BOM dropped), never holding more than
    ``MAX_LINE_BYTES`` of one line; ``FileRejected`` past ``MAX_FILE_BYTES`` or ``MAX_ROWS``."""
    total = 0
    number = 0
    pending = bytearray()
    overflow = False
    for chunk in chunks:
        total += len(chunk)
        if total > MAX_FILE_BYTES:
            raise FileRejected(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start : end + 1]
            if not overflow:
                pending += piece
                overflow = len(pending) > MAX_LINE_BYTES
            if end < 0:
                break
            number += 1
            if number > MAX_ROWS + 1:
                raise FileRejected(f"the file has more than {MAX_ROWS} rows")
            yield _line(number, bytes(pending), overflow)
            pending.clear()
            overflow = False
            start = end + 1
    if pending or overflow:
        yield _line(number + 1, bytes(pending), overflow)


def _line(number: int, raw: bytes, overflow: bool) -> Line:
    if overflow:
        return Line(number, None, f"the line is longer than {MAX_LINE_BYTES} bytes")
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return Line(number, raw.decode("utf-8"))
    except UnicodeDecodeError:
        return Line(number, None, "the line is not UTF-8")


def _jsonl_rows(lines: Iterable[Line], checker: RowChecker) -> Iterator[Row]:
    for line in lines:
        if line.text is not None and not line.text.strip():
            continue
        fields, problem = _json_fields(line)
        row = checker.check(line.number, fields, problem)
        if row is not None:
            yield row


def _json_fields(line: Line) -> tuple[dict[str, Any] | None, str]:
    if line.text is None:
        return None, line.problem
    try:
        document = json.loads(line.text)
    except json.JSONDecodeError as error:
        return None, f"not JSON: {error.msg} at column {error.colno}"
    if not isinstance(document, dict):
        return None, 'expected an object: {"to": ..., "variables": {...}}'
    try:  # a \ud800 escape decodes to a lone surrogate: not text UTF-8 (or DynamoDB) can hold
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        return None, f"a lone surrogate escape (\\u{ord(error.object[error.start]):04x}): not text"
    unknown = sorted(str(name)[:40] for name in set(document) - _ROW_FIELDS)
    if unknown:
        return None, f"not fields of a row (to, from, variables): {', '.join(unknown)}"
    return document, ""


def _csv_rows(lines: Iterable[Line], checker: RowChecker) -> Iterator[Row]:
    iterator = iter(lines)
    header_line = next(iterator, None)
    if header_line is None or header_line.text is None or not header_line.text.strip():
        raise FileRejected("the CSV file has no header row (to, from and the inputs' names)")
    try:
        header = [name.strip() for name in next(csv.reader([header_line.text], strict=True))]
    except csv.Error as error:
        raise FileRejected(f"the CSV header is not CSV: {error}") from None
    _check_header(header)
    unknown = checker.not_inputs(header)
    if unknown:
        named = ", ".join(repr(name[:40]) for name in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise FileRejected(
            f"the CSV header names columns that are not inputs of the automation: {named}{more} "
            f"(columns: to, from, and the inputs: {_shortened(checker.inputs())})"
        )
    for line in iterator:
        if line.text is None:
            checker.check(line.number, None, line.problem)
            continue
        if not line.text.strip():
            continue
        try:
            # strict: a quoted cell broken across lines (each line is read alone) is a bad row,
            # never a row holding the text before the break.
            cells = next(csv.reader([line.text], strict=True))
        except csv.Error as error:
            checker.check(line.number, None, f"not CSV: {error}")
            continue
        fields, problem = _csv_fields(header, cells)
        row = checker.check(line.number, fields, problem)
        if row is not None:
            yield row


def _check_header(header: list[str]) -> None:
    folded = [name.casefold() for name in header]
    if "to" not in folded:
        raise FileRejected("the CSV header has no 'to' column (the contact's number)")
    if any(not name for name in header):
        raise FileRejected("the CSV header has an empty column name")
    if len(set(folded)) != len(folded):
        raise FileRejected("the CSV header names a column twice (names ignore case)")


def _csv_fields(header: list[str], cells: list[str]) -> tuple[dict[str, Any] | None, str]:
    if len(cells) != len(header):
        return None, f"{len(cells)} cells; the header has {len(header)} columns"
    fields: dict[str, Any] = {}
    variables: dict[str, str] = {}
    for name, cell in zip(header, cells, strict=True):
        folded = name.casefold()
        if folded in ("to", "from"):
            fields[folded] = cell.strip() or None
        elif cell != "":
            variables[name] = cell
    fields["variables"] = variables
    return fields, ""
