"""A broadcast file read as a stream and checked row by row: the rows to start, every bad row
with its line number, opted-out and repeated contacts counted, every bound enforced."""

from __future__ import annotations

import json

import pytest

from sms_automation.automations.start import BULK_PRIORITY, PinnedTriggers, build_origin
from sms_automation.broadcasts import rows as rows_module
from sms_automation.broadcasts.rows import (
    MAX_LINE_BYTES,
    FileFormat,
    FileRejected,
    Row,
    RowChecker,
    file_format,
    read_rows,
    row_request,
)
from sms_automation.triggers.model import Automation

OURS = "+15005550006"
STOPPED = "+14155550199"
NOTIFY = Automation.model_validate(
    {
        "name": "notify",
        "from": OURS,
        "inputs": [
            {"name": "patient", "required": True},
            {"name": "slot", "type": "datetime", "required": True},
            {"name": "clinic", "default": "Main St"},
        ],
        "actions": [{"type": "send_sms", "body": "Hi %patient%"}],
    }
)


def check(
    text: str | bytes, fmt: FileFormat = FileFormat.CSV, chunk: int = 7
) -> tuple[list[Row], RowChecker]:
    data = text.encode() if isinstance(text, str) else text
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    checker = RowChecker("acme", NOTIFY, lambda sender, to: (sender, to) == (OURS, STOPPED))
    return list(read_rows(chunks, fmt, checker)), checker


def test_csv_rows_bad_rows_by_line_opted_out_and_repeated_contacts() -> None:
    rows, checker = check(
        "\ufeffTo,Patient,slot,clinic\n"
        "+14155550001,Ann,2026-12-01T10:00:00Z,\n"
        "+14155550002,Bob,tomorrow,North\n"
        "\n"
        f"{STOPPED},Cy,2026-12-01T10:00:00Z,\n"
        "+14155550001,Ann twice,2026-12-01T10:00:00Z,\n"
        '+14155550003,"Dee, Jr.",2026-12-01T10:00:00Z,South\n'
        "+1415,Eve,2026-12-01T10:00:00Z\n"
    )
    assert [(r.line, r.to, dict(r.variables)) for r in rows] == [
        (2, "+14155550001", {"Patient": "Ann", "slot": "2026-12-01T10:00:00Z"}),
        (
            7,
            "+14155550003",
            {"Patient": "Dee, Jr.", "slot": "2026-12-01T10:00:00Z", "clinic": "South"},
        ),
    ]
    assert checker.checked.counts() == {
        "rows": 6,
        "valid": 2,
        "invalid": 2,
        "duplicates": 1,
        "opted_out": 1,
    }
    bad = {b.line: b.problems for b in checker.checked.bad_rows}
    assert list(bad) == [3, 8]
    assert bad[3][0].startswith("variables.slot")
    assert bad[8] == ("3 cells; the header has 4 columns",)


def test_json_lines_rows_and_their_problems() -> None:
    lines = [
        {"to": "+14155550001", "variables": {"patient": "Ann", "slot": "2026-12-01T10:00:00Z"}},
        {"to": "+14155550002", "variables": {"patient": "Bob"}},
        "not json",
        ["a", "list"],
        {"to": "+14155550003", "colour": "red"},
        {
            "to": "+14155550004",
            "from": "nope",
            "variables": {"patient": "Di", "slot": "2026-12-01"},
        },
    ]
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    rows, checker = check(text, FileFormat.JSONL)
    assert [r.line for r in rows] == [1]
    bad = {b.line: b.problems for b in checker.checked.bad_rows}
    assert bad[2] == ("variables.slot: required (datetime)",)
    assert bad[3][0].startswith("not JSON")
    assert bad[4][0].startswith("expected an object")
    assert bad[5] == ("not fields of a row (to, from, variables): colour",)
    assert bad[6][0].startswith("from:")


def test_a_long_line_or_bytes_that_are_not_utf8_are_bad_rows_and_the_rest_is_read() -> None:
    header = b"to,patient,slot\n"
    long_line = b"+14155550001," + b"x" * (MAX_LINE_BYTES + 10) + b",2026-12-01T10:00:00Z\n"
    latin = "+14155550002,Jos\xe9,2026-12-01T10:00:00Z\n".encode("latin-1")
    good = b"+14155550003,Ann,2026-12-01T10:00:00Z"
    rows, checker = check(header + long_line + latin + good, chunk=1000)
    assert [r.line for r in rows] == [4]
    assert [(b.line, b.problems) for b in checker.checked.bad_rows] == [
        (2, (f"the line is longer than {MAX_LINE_BYTES} bytes",)),
        (3, ("the line is not UTF-8",)),
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "no header row"),
        ("patient,slot\n+14155550001,Ann\n", "no 'to' column"),
        ("to,To\n", "names a column twice"),
        ("to,,slot\n", "empty column name"),
    ],
)
def test_a_file_without_a_usable_header_is_refused_whole(text: str, says: str) -> None:
    with pytest.raises(FileRejected, match=says):
        check(text)


def test_files_past_the_size_or_row_bounds_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rows_module, "MAX_FILE_BYTES", 100)
    with pytest.raises(FileRejected, match="larger than"):
        check("to,patient,slot\n" + "+14155550001,Ann,2026-12-01T10:00:00Z\n" * 5)
    monkeypatch.setattr(rows_module, "MAX_FILE_BYTES", 10_000)
    monkeypatch.setattr(rows_module, "MAX_ROWS", 3)
    with pytest.raises(FileRejected, match="more than 3 rows"):
        check("to,patient,slot\n" + "".join(f"+1415555000{n},A,2026-12-01\n" for n in range(5)))


def test_file_formats_by_name() -> None:
    assert file_format("list.CSV") is FileFormat.CSV
    assert file_format("a/b.jsonl") is FileFormat.JSONL
    with pytest.raises(FileRejected):
        file_format("list.xlsx")


def test_a_row_starts_as_a_bulk_broadcast_run_keyed_by_broadcast_and_line() -> None:
    row = Row(7, "+14155550001", None, {"patient": "Ann", "slot": "2026-12-01T10:00:00Z"})
    request = row_request("acme", "notify", row, "BC" + "1" * 32)
    assert request.idempotency_key == "broadcast:BC11111111111111111111111111111111:7"
    origin = build_origin(
        NOTIFY, request, pinned=PinnedTriggers(1, "f"), run_id="RU" + "0" * 32, requested_at="t"
    )
    assert origin["source"] == "broadcast"
    assert origin["priority"] == BULK_PRIORITY


def test_a_quoted_cell_broken_across_lines_is_a_bad_row_not_a_cut_off_start() -> None:
    rows, checker = check(
        "to,patient,slot\n"
        '+14155550001,"Ann\n'
        'Smith",2026-12-01T10:00:00Z\n'
        "+14155550002,Bob,2026-12-01T10:00:00Z\n"
    )
    assert [(r.line, dict(r.variables)) for r in rows] == [
        (4, {"patient": "Bob", "slot": "2026-12-01T10:00:00Z"})
    ]
    bad = {b.line: b.problems for b in checker.checked.bad_rows}
    assert bad[2][0].startswith("not CSV:")


def test_csv_columns_that_are_not_inputs_are_one_file_problem_not_one_per_row() -> None:
    extra = ",".join(f"note{n}" for n in range(40))
    text = f"to,patient,slot,{extra}\n" + "".join(
        f"+1415555{n:04d},P,2026-12-01T10:00:00Z,{','.join(['x' * 50] * 40)}\n" for n in range(300)
    )
    with pytest.raises(FileRejected, match="not inputs of the automation") as refused:
        check(text, chunk=4096)
    assert len(str(refused.value)) < 1000


def test_the_problems_kept_are_bounded_in_length_and_in_total() -> None:
    variables = {f"v{n}-{'x' * 200}": "1" for n in range(40)}
    text = "".join(
        json.dumps({"to": f"+1415555{n:04d}", "variables": variables}) + "\n" for n in range(300)
    )
    _, checker = check(text, FileFormat.JSONL, chunk=4096)
    assert checker.checked.invalid == 300
    kept = [bad.as_dict() for bad in checker.checked.bad_rows]
    assert all(len(p) <= rows_module.MAX_PROBLEM_CHARS for b in kept for p in b["problems"])
    assert len(json.dumps(kept)) <= rows_module.MAX_PROBLEM_BYTES
    assert kept[0]["line"] == 1


def test_a_lone_surrogate_in_a_json_lines_row_is_a_bad_row_with_its_line() -> None:
    """JSON's \\ud800 escape decodes to a lone surrogate, a str UTF-8 has no bytes for: the
    row's start (DynamoDB) and the record of its problem would fail on it. A paired escape
    (an emoji) is text."""
    slot = '"slot": "2026-12-01T10:00:00Z"'
    text = "\n".join(
        [
            '{"to": "+14155550001", "variables": {"patient": "Ann \\ud83d\\ude00", ' + slot + "}}",
            '{"to": "+14155550002", "variables": {"patient": "Bob \\ud800", ' + slot + "}}",
            '{"to": "+1415555\\udfff0003", "variables": {"patient": "Cy", ' + slot + "}}",
            '{"to": "+14155550004", "variables": {"\\udc80": "x", "patient": "Di", ' + slot + "}}",
        ]
    )
    rows, checker = check(text, FileFormat.JSONL)
    assert [(r.line, r.variables["patient"]) for r in rows] == [(1, "Ann \U0001f600")]
    bad = {b.line: b.problems for b in checker.checked.bad_rows}
    assert list(bad) == [2, 3, 4]
    assert all("surrogate" in problems[0] for problems in bad.values())
    kept = json.dumps([b.as_dict() for b in checker.checked.bad_rows], ensure_ascii=False)
    assert kept.encode("utf-8")  # the problems are storable text


def test_the_checker_refuses_the_row_past_the_bound_so_the_contacts_it_keeps_stay_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rows_module, "MAX_ROWS", 3)
    checker = RowChecker("acme", NOTIFY, lambda sender, to: False)
    fields = {"variables": {"patient": "A", "slot": "2026-12-01T10:00:00Z"}}
    for n in range(3):
        assert checker.check(n + 2, {**fields, "to": f"+1415555000{n}"}) is not None
    with pytest.raises(FileRejected, match="more than 3 rows"):
        checker.check(5, {**fields, "to": "+14155550009"})
    assert checker.checked.rows == 3
