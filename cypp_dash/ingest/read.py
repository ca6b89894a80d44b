"""Reading an upload's bytes: the one text decoder (figures, actions and commentary uploads), CSV text
into a table of stripped text cells with their spreadsheet row numbers, and the small CSVs of the
action tracker and commentary as records.

Limits (bytes, rows, columns, cell length) are checked before a table is built
(`upload_limits`), so a hostile shape is refused cheaply.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pyarrow import csv as arrow_csv

from cypp_dash import upload_limits
from cypp_dash.ingest.checked import Collector, Problem, Refused, Validated
from cypp_dash.ingest.xlsx import FORMULA_WITHOUT_VALUE, NO_SAVED_VALUE
from cypp_dash.upload_limits import MAX_CELL_CHARS

column_letter = upload_limits.column_letter  # 0 -> A, 25 -> Z, 26 -> AA

# ---------------------------------------------------------------------------------------------
# The one text decoder


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # "utf-8" or "cp1252"
    note: str = ""  # a warning for the person uploading, or ""


# A multi-byte UTF-8 character: in a file that is otherwise Windows-1252 it means the file mixes the two.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0e-\x1f\x7f]")


def decode_text(data: bytes) -> Decoded:
    """UTF-8 (with or without BOM), strictly; else Windows-1252 when no byte of it is UTF-8 text.

    A file that mixes the two (some rows saved as UTF-8, others as Windows-1252) is refused
    (`Refused`) naming the first row whose bytes disagree with the encoding of the rows before it:
    decoding it either way would store some text garbled ("cafÃ©")."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Refused("the file is saved as UTF-16 text; save it as CSV UTF-8 (or plain CSV) and upload that")
    if b"\x00" in data:
        raise Refused("this is not a CSV or Excel file (it contains binary data)")
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text, encoding, note = data.decode("utf-8"), "utf-8", ""
    except UnicodeDecodeError as exc:
        _refuse_mixed(data, exc.start)
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as bad:
            raise Refused("this is not a CSV or Excel file (its bytes are not UTF-8 or Windows-1252 text)",
                          row=_row_at(data, bad.start)) from None
        encoding = "cp1252"
        note = "the file is not UTF-8; it was read as Windows-1252 (Excel's usual CSV encoding)"
    text = text.rstrip("\x1a")  # a DOS end-of-file mark
    sample = text[:65536]
    if len(_CONTROL.findall(sample)) > max(2, len(sample) // 100):
        raise Refused("this is not a CSV or Excel file (it contains binary data)")
    return Decoded(text, encoding, note)


def _refuse_mixed(data: bytes, first_bad: int) -> None:
    """Refuse a file holding UTF-8 text beside bytes that are not UTF-8, naming the first row (in the
    file's order) that breaks the pattern set by the first non-ASCII row."""
    utf8 = _UTF8_SEQUENCE.search(data)
    if utf8 is None:
        return
    offset = first_bad if utf8.start() < first_bad else _first_utf8_after(data, first_bad)
    first = "UTF-8" if utf8.start() < first_bad else "Windows-1252"
    other = "Windows-1252" if first == "UTF-8" else "UTF-8"
    raise Refused(
        f"this row is saved as {other} text but rows before it are {first}: the file mixes two "
        "encodings, so some text would be garbled; save the whole file again as CSV UTF-8 and upload "
        "that", row=_row_at(data, offset))


def _first_utf8_after(data: bytes, start: int) -> int:
    found = _UTF8_SEQUENCE.search(data, start)
    return found.start() if found else start


def _row_at(data: bytes, offset: int) -> int:
    """The spreadsheet row (CSV record, first = 1) that holds byte `offset`."""
    prefix = data[:offset].decode("latin-1")  # one character per byte: only line breaks and quotes matter
    records = sum(1 for _ in csv.reader(io.StringIO(prefix, newline="")))
    ends_in_record = prefix != "" and not prefix.endswith(("\n", "\r"))
    return max(1, records if ends_in_record else records + 1)


def read_text(data: bytes, warnings: list[str]) -> str:
    """The file's text through the one decoder; its note (read as Windows-1252) joins `warnings`.
    Raises `Refused` for bytes that are not text the dashboard reads."""
    decoded = decode_text(data)
    if decoded.note:
        warnings.append(decoded.note)
    return decoded.text


def read_records(data: bytes, checked: Validated | Any, max_bytes: int) -> list[list[str]] | None:
    """A small CSV (actions, commentary) as records, blank trailing records dropped; None, with the
    reason in `checked.problems`, for a file that is too large, a workbook, not text or empty.
    (`checked`: anything with `problems` and `warnings` lists, e.g. a `Validated`.)"""
    problems = checked.problems
    if len(data) > max_bytes:
        problems.append(Problem(None, None, f"the file is larger than the {max_bytes // (1024 * 1024)} MB allowed"))
        return None
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        problems.append(Problem(None, None, "this is an Excel workbook: save it as CSV (comma separated) and upload that"))
        return None
    try:
        text = read_text(data, checked.warnings)
        too_big = upload_limits.check_csv_shape(text)
        if too_big is not None:
            raise Refused(*too_big)
        records = list(csv.reader(io.StringIO(text, newline="")))
    except Refused as refused:
        problems.append(refused.problem)
        return None
    except csv.Error as e:
        problems.append(Problem(None, None, f"this is not a readable CSV file ({e})"))
        return None
    while records and not any(c.strip() for c in records[-1]):
        records.pop()
    if not records:
        problems.append(Problem(None, None, "the file is empty"))
        return None
    return records


def header_columns(header: list[str], known: tuple[str, ...], required: tuple[str, ...], must_have: str,
                   checked: Validated | Any) -> dict[str, int]:
    """A small CSV's columns by name (any case) -> position; a repeated or missing required column is a
    problem in `checked.problems` (missing: "the header row must have " + `must_have`), an unknown one
    a warning."""
    names = [h.strip().lower() for h in header]
    columns: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in known:
            if name in columns:
                checked.problems.append(Problem(1, header[i].strip(), "the column appears twice"))
            columns.setdefault(name, i)
        elif name:
            checked.warnings.append(f'column "{header[i].strip()[:40]}" is not used and was ignored')
    for name in required:
        if name not in columns:
            checked.problems.append(Problem(1, name, f"there is no {name} column; the header row must have "
                                                     + must_have))
    return columns


def data_rows(records: list[list[str]], checked: Validated | Any) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row, cells) of each record below the header that holds something; a record with
    filled cells beyond the header's width is a problem in `checked.problems` instead."""
    width = len(records[0])
    for number, cells in enumerate(records[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            checked.problems.append(Problem(number, None, f"this row has {len(cells)} cells but the header row has "
                                                          f"{width}"))
            continue
        yield number, cells


# ---------------------------------------------------------------------------------------------
# A figures CSV into a frame of text cells


def read_csv(text: str, problems: Collector) -> tuple[pd.DataFrame, np.ndarray] | None:
    """Parse CSV text into a frame of text cells with the spreadsheet row number of each record."""
    leading = re.match(r"(?:[ \t]*(?:\r\n|\n|\r))*", text)
    skipped = len(re.findall(r"\r\n|\n|\r", leading.group(0))) if leading else 0
    body = text[leading.end():] if leading else text
    if not body.strip():
        problems.file("the file is empty")
        return None
    too_big = upload_limits.check_csv_shape(text)
    if too_big is not None:
        raise Refused(*too_big)
    frame = _read_csv_fast(body)
    if frame is not None:
        return frame, np.arange(skipped + 1, skipped + 1 + len(frame))
    try:
        frame = pd.read_csv(
            io.StringIO(body), header=None, dtype=str, na_filter=False, keep_default_na=False,
            skip_blank_lines=False, engine="c",
        )
    except pd.errors.ParserError as exc:
        unclosed = re.search(r"EOF inside string starting at row (\d+)", str(exc))
        if unclosed:
            raise Refused('a cell starts with a quote (") that is never closed, so the rest of the file cannot be '
                          'read', row=skipped + int(unclosed.group(1)) + 1) from None
        return _read_csv_ragged(body, skipped, problems)  # rows of different lengths: this reader says which
    frame.columns = range(frame.shape[1])
    return frame, np.arange(skipped + 1, skipped + 1 + len(frame))


def _read_csv_fast(body: str) -> pd.DataFrame | None:
    """A well-formed CSV read by Arrow's multi-threaded reader (a million rows in a fraction of a second),
    as the same frame of text cells as pandas' reader gives; None for anything irregular (rows of
    different lengths, blank lines, an unclosed quote), which the careful readers handle and explain."""
    if body.count('"') % 2:  # a quote never closed: Arrow would read on to the end, the careful reader says where
        return None
    width = 1 + body.partition("\n")[0].count(",")  # an upper bound on the header's cells (commas in quotes)
    try:
        table = arrow_csv.read_csv(
            io.BytesIO(body.encode("utf-8")),
            read_options=arrow_csv.ReadOptions(autogenerate_column_names=True),
            parse_options=arrow_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=arrow_csv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(width)},
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowException, UnicodeError, ValueError):
        return None
    if any(not pa.types.is_string(t) for t in table.schema.types):
        return None
    frame = table.to_pandas()
    frame.columns = range(frame.shape[1])
    return frame.astype(str)


def _read_csv_ragged(body: str, skipped: int, problems: Collector) -> tuple[pd.DataFrame, np.ndarray] | None:
    records = list(csv.reader(io.StringIO(body, newline="")))
    width = next((len(r) for r in records if any(c.strip() for c in r)), 0)
    fixed = []
    for number, record in enumerate(records, start=skipped + 1):
        if len(record) > width:
            extra = record[width:]
            if any(c.strip() for c in extra):
                problems.file(f"this row has {len(record)} cells but the header row has {width}", row=number)
            record = record[:width]
        fixed.append(record + [""] * (width - len(record)))
    frame = pd.DataFrame(fixed, columns=range(width), dtype=str)
    return frame, np.arange(skipped + 1, skipped + 1 + len(frame))


# ---------------------------------------------------------------------------------------------
# Text cells (from CSV or a workbook) into a table with its header


@dataclass
class Table:
    header: list[str]  # stripped header cells, one per column position
    header_row: int  # spreadsheet row number of the header
    cells: pd.DataFrame  # stripped text of the data rows; columns are positions 0..n-1
    rows: np.ndarray  # spreadsheet row number of each data row


def to_table(frame: pd.DataFrame, numbers: np.ndarray, result: Validated, problems: Collector,
             from_workbook: bool = False) -> Table | None:
    """Find the header (the first non-blank row), drop blank rows and strip every cell."""
    frame = frame.fillna("").astype(str)
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    blank = (frame == "").all(axis=1).to_numpy()
    filled = np.flatnonzero(~blank)
    if len(filled) == 0:
        problems.file("the file is empty")
        return None
    head = filled[0]
    header = frame.iloc[head].tolist()
    data_positions = filled[1:]
    if len(data_positions) == 0:
        problems.file("the file has a header row but no data rows", row=int(numbers[head]))
        return None
    inner_blank = int(blank[head + 1: data_positions[-1]].sum())
    if inner_blank:
        result.warnings.append(f"{inner_blank:,} blank row{'s' if inner_blank != 1 else ''} skipped")
    if inner_blank == 0:  # the usual file: one run of rows, taken as a slice rather than row by row
        cells = frame.iloc[data_positions[0]: data_positions[-1] + 1].reset_index(drop=True)
    else:
        cells = frame.iloc[data_positions].reset_index(drop=True)
    for position, name in enumerate(header):
        if name == "" and (cells[position] != "").any():
            result.warnings.append(f"column {column_letter(position)} has figures but no heading; it was ignored")
    before = problems.total
    _check_cell_lengths(header, int(numbers[head]), cells, numbers[data_positions], problems, from_workbook)
    if problems.total > before:
        return None
    return Table(header=header, header_row=int(numbers[head]), cells=cells, rows=numbers[data_positions])


def _check_cell_lengths(header: list[str], header_row: int, cells: pd.DataFrame, rows: np.ndarray,
                        problems: Collector, from_workbook: bool) -> None:
    """No heading or cell longer than `MAX_CELL_CHARS`; no workbook formula without a saved value."""
    for position, written in enumerate(header):
        named = written or column_letter(position)
        if written == NO_SAVED_VALUE:
            problems.file(FORMULA_WITHOUT_VALUE, row=header_row, column=column_letter(position))
            continue
        if len(written) > MAX_CELL_CHARS:
            problems.file(f"the heading is {len(written):,} characters; at most {MAX_CELL_CHARS:,}",
                          row=header_row, column=column_letter(position))
            continue
        column = cells[position]
        if from_workbook:
            problems.cells(column == NO_SAVED_VALUE, rows, named, lambda i: FORMULA_WITHOUT_VALUE)
        lengths = column.str.len().to_numpy(dtype="int64")
        problems.cells(lengths > MAX_CELL_CHARS, rows, named,
                       lambda i, n=lengths: f"the cell holds {int(n[i]):,} characters; at most {MAX_CELL_CHARS:,}")
