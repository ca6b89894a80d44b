"""Upload validation: read a CSV/XLSX upload or a Fingertips download into normalised rows, or list every problem.

This is the one validation engine behind the upload page and `python -m cypp_dash import`. It
never writes to the store: `store.load_batch` takes the `Validated` it returns. Checks run on
whole columns (pandas), so a million-row CSV takes seconds; Python loops run only over the rows
that fail, and at most `MAX_PROBLEMS` of those are reported.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import warnings
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pandas as pd

from cypp_dash import upload_limits
from cypp_dash.periods import Period, PeriodError, is_future, parse_period
from cypp_dash.upload_limits import MAX_CELL_CHARS, MAX_COLUMNS, MAX_FIGURE_CHARS, MAX_ROWS, MAX_XLSX_CELLS

# The columns of `Validated.rows`, in order. `area_name` is only filled by Fingertips downloads,
# so the store can add areas it has not seen before.
ROW_COLUMNS = (
    "indicator_id", "indicator_name", "area_code", "area_name", "period", "period_start",
    "period_end", "category", "value", "numerator", "denominator", "ci_low", "ci_high",
    "ci99_low", "ci99_high", "note", "flags", "compared_with_england", "source_row",
)
_FLOAT_COLUMNS = ("value", "numerator", "denominator", "ci_low", "ci_high", "ci99_low", "ci99_high")
MAX_PROBLEMS = 1000
# An XLSX is refused unopened when its parts would unpack to more than this (a zip bomb).
ZIP_UNPACKED_LIMIT = 200 * 1024 * 1024
ZIP_RATIO_LIMIT = 20

REQUIRED = ("kpi", "area", "period", "value")
OPTIONAL = ("numerator", "denominator", "note", "flags")
# Written in `value` for "no figure"; the contract's list, compared case-insensitively.
MISSING_MARKERS = frozenset({"", "c", "[c]", "x", "[x]", "*", "..", "-"})
FLAG_WORDS = {"estimate": "estimate", "estimated": "estimate", "provisional": "provisional"}
CONTRACT_PERIOD_KINDS = ("quarter", "financial year")

# Digits are ASCII only everywhere below: Python's \d (and int()) would take Arabic-Indic or
# full-width digits, and a code written with them would become a new area.
_DIGITS = r"(?:[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?|[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUMBER = rf"[+-]?{_DIGITS}"
_GSS = re.compile(r"[A-Za-z][0-9]{8}")
_WHOLE_ID = r"[0-9]{1,12}(?:\.0*)?"
_NOTE_PROVISIONAL = r"\bprovisional\b"
_NOTE_ESTIMATE = r"\bestimated?\b"


@dataclass(frozen=True)
class UploadRules:
    """What an upload is checked against: the plan's indicators and areas, and today's date."""

    indicator_units: Mapping[str, str]  # "EH01" -> "percent", "count", "weeks", "rate per 10,000", ...
    area_lookup: Mapping[str, str]  # lower-cased code, name or alias -> GSS code
    today: date
    max_bytes: int = 50 * 1024 * 1024
    accept_unknown_indicators: bool = False


@dataclass(frozen=True)
class Problem:
    """One reason a file is refused, with the spreadsheet row (header = 1) and column it is in."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is not None and self.column is not None:
            return f"row {self.row}, column {self.column}: {self.message}"
        if self.row is not None:
            return f"row {self.row}: {self.message}"
        if self.column is not None:
            return f"column {self.column}: {self.message}"
        return self.message


@dataclass
class Validated:
    """The outcome of checking one file: normalised rows when it is clean, else every problem."""

    kind: str
    rows: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    file_name: str = ""
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and len(self.rows) > 0


def empty_rows() -> pd.DataFrame:
    """A `Validated.rows` frame with no rows and the right columns and types."""
    return _assemble({name: [] for name in ROW_COLUMNS})


def validate_upload(data: bytes, file_name: str, rules: UploadRules) -> Validated:
    """Check an upload or a Fingertips download; never raises (a crash becomes a file-level problem)."""
    result = Validated(kind="upload", rows=empty_rows(), file_name=str(file_name or ""))
    collector = _Collector(MAX_PROBLEMS)
    try:
        data = bytes(data)
        result.sha256 = hashlib.sha256(data).hexdigest()
        rows = _validate(data, rules, result, collector)
    except Exception as exc:  # noqa: BLE001 - the page and the CLI must get a refusal, never a traceback
        collector.file(
            f"the file could not be checked because of an unexpected error ({type(exc).__name__}: {_show(str(exc))});"
            " nothing was loaded"
        )
        rows = None
    result.problems = collector.result()
    if not result.problems and rows is not None:
        result.rows = rows
    return result


# ---------------------------------------------------------------------------------------------
# Problems


class _Collector:
    """Gathers problems; keeps only the first `limit` rows of each check but counts them all."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: list[Problem] = []
        self.total = 0

    def file(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.total += 1
        if len(self.items) < 10 * self.limit:  # e.g. every row of a file with the wrong number of cells
            self.items.append(Problem(row, column, message))

    def cells(self, mask: Any, rows: np.ndarray, column: str, message: Callable[[int], str]) -> None:
        """One problem per True in `mask`; `message(i)` is given the position of the failing row."""
        positions = np.flatnonzero(_bool(mask))
        self.total += len(positions)
        for i in positions[: self.limit]:
            self.items.append(Problem(int(rows[i]), column, message(int(i))))

    def result(self) -> list[Problem]:
        ordered = sorted(
            self.items, key=lambda p: (p.row is not None, p.row or 0, p.column or "", p.message)
        )
        kept = ordered[: self.limit]
        more = self.total - len(kept)
        if more > 0:
            kept.append(Problem(None, None, f"... and {more:,} more problems not listed; nothing was loaded"))
        return kept


def _bool(mask: Any) -> np.ndarray:
    if isinstance(mask, pd.Series):
        return mask.to_numpy(dtype=bool, na_value=False)
    return np.asarray(mask, dtype=bool)


def _show(text: Any, limit: int = 60) -> str:
    """A cell's text made safe to quote in a one-line message."""
    text = re.sub(r"\s+", " ", str(text)).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} bytes"


# ---------------------------------------------------------------------------------------------
# Reading the file into a table of stripped text cells


@dataclass
class _Table:
    header: list[str]  # stripped header cells, one per column position
    header_row: int  # spreadsheet row number of the header
    cells: pd.DataFrame  # stripped text of the data rows; columns are positions 0..n-1
    rows: np.ndarray  # spreadsheet row number of each data row


def _validate(data: bytes, rules: UploadRules, result: Validated, problems: _Collector) -> pd.DataFrame | None:
    if len(data) > rules.max_bytes:
        problems.file(f"the file is {_size(len(data))}; the largest file accepted is {_size(rules.max_bytes)}")
        return None
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        problems.file("the file is empty")
        return None
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        grid = _read_xlsx(data, rules, problems)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        problems.file(
            "this is an old-style Excel (.xls) file or a password-protected workbook; "
            "save it as an Excel workbook (.xlsx) or CSV without a password and upload that"
        )
        return None
    else:
        text = _decode(data, result, problems)
        if text is not None and not result.warnings:  # UTF-8: the plainest file is checked as whole columns
            plain = _plain_contract_csv(data, rules, result)
            if plain is not None:
                return plain
        grid = None if text is None else _read_csv(text, problems)
    if grid is None:
        return None
    table = _to_table(*grid, result, problems, from_workbook=data.startswith((b"PK\x03\x04", b"PK\x05\x06")))
    if table is None:
        return None
    if _is_fingertips(table.header):
        result.kind = "fingertips"
        return _validate_fingertips(table, rules, result, problems)
    return _validate_contract(table, rules, result, problems)


def _decode(data: bytes, result: Validated, problems: _Collector) -> str | None:
    """UTF-8 (with or without BOM) first, strictly; else Windows-1252; refuse binary or mixed encodings
    (the one decoder, shared with the actions upload: `upload_limits.decode_text`)."""
    try:
        decoded = upload_limits.decode_text(data)
    except upload_limits.DecodeRefusal as refusal:
        problems.file(str(refusal), row=refusal.row)
        return None
    if decoded.note:
        result.warnings.append(decoded.note)
    return decoded.text


def _read_csv(text: str, problems: _Collector) -> tuple[pd.DataFrame, np.ndarray] | None:
    """Parse CSV text into a frame of text cells with the spreadsheet row number of each record."""
    leading = re.match(r"(?:[ \t]*(?:\r\n|\n|\r))*", text)
    skipped = len(re.findall(r"\r\n|\n|\r", leading.group(0))) if leading else 0
    body = text[leading.end():] if leading else text
    if not body.strip():
        problems.file("the file is empty")
        return None
    too_big = upload_limits.check_csv_shape(text)
    if too_big is not None:
        message, row, column = too_big
        problems.file(message, row=row, column=column)
        return None
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
            problems.file(
                'a cell starts with a quote (") that is never closed, so the rest of the file cannot be read',
                row=skipped + int(unclosed.group(1)) + 1,
            )
            return None
        frame = None  # rows of different lengths: the slower reader below says which
    if frame is None:
        return _read_csv_ragged(body, skipped, problems)
    frame.columns = range(frame.shape[1])
    return frame, np.arange(skipped + 1, skipped + 1 + len(frame))


def _read_csv_fast(body: str) -> pd.DataFrame | None:
    """A well-formed CSV read by Arrow's multi-threaded reader (a million rows in a fraction of a second),
    as the same frame of text cells as pandas' reader gives; None for anything irregular (rows of
    different lengths, blank lines, an unclosed quote), which the careful readers handle and explain."""
    import pyarrow as pa
    from pyarrow import csv as arrow_csv

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


def _read_csv_ragged(body: str, skipped: int, problems: _Collector) -> tuple[pd.DataFrame, np.ndarray] | None:
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


def _read_xlsx(data: bytes, rules: UploadRules, problems: _Collector) -> tuple[pd.DataFrame, np.ndarray] | None:
    """The first worksheet's cells as text; formulas are never evaluated nor external links followed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        problems.file("the file could not be opened as an Excel workbook (.xlsx): it is damaged or not a workbook")
        return None
    limit = min(ZIP_RATIO_LIMIT * rules.max_bytes, ZIP_UNPACKED_LIMIT)
    if unpacked > limit:
        problems.file(
            f"the workbook would unpack to {_size(unpacked)}, more than the {_size(limit)} allowed; it was not opened"
        )
        return None
    try:
        with warnings.catch_warnings():  # openpyxl's notes on styles and extensions are no use to the user
            warnings.simplefilter("ignore")
            book = _open_first_sheet(data)
    except Exception:  # noqa: BLE001 - any failure to open is the same refusal to the user
        problems.file("the file could not be opened as an Excel workbook (.xlsx): it is damaged or not a workbook")
        return None
    try:
        if not book.worksheets:
            problems.file("the workbook has no worksheet")
            return None
        return _stream_sheet(book, book.worksheets[0], problems)
    except _SheetRefused as refused:
        problems.file(refused.message, row=refused.row, column=refused.column)
        return None
    except Exception:  # noqa: BLE001 - a worksheet that cannot be read is a damaged workbook
        problems.file("the first worksheet of this workbook could not be read: it is damaged")
        return None
    finally:
        book.close()


def _open_first_sheet(data: bytes) -> Any:
    """The workbook read-only with only its first worksheet, whose size is read from its <dimension>
    alone. (openpyxl's own read-only loading reads every sheet's XML to the end when a sheet has no
    <dimension>, before a single cell is looked at: seconds for a padded hostile sheet.)"""
    from xml.etree.ElementTree import iterparse

    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet
    from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG

    class Sheet(ReadOnlyWorksheet):
        def _get_size(self) -> None:
            with self._get_source() as source:
                for _event, element in iterparse(source, events=("start",)):
                    if element.tag == DIMENSION_TAG:
                        try:
                            self._min_column, self._min_row, self._max_column, self._max_row = range_boundaries(
                                element.get("ref", ""))
                        except (ValueError, TypeError):
                            pass  # a size that cannot be read: the cells are checked as they stream
                        return
                    if element.tag == DATA_TAG:
                        return

    class Reader(ExcelReader):
        def read_worksheets(self) -> None:
            for sheet, rel in self.parser.find_sheets():
                if rel.target in self.valid_files and "chartsheet" not in rel.Type:
                    self.wb._sheets.append(Sheet(self.wb, sheet.name, rel.target, self.shared_strings))
                    return

    reader = Reader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)
    reader.read_worksheets()
    return reader.wb


# Stands in for a formula cell that has no saved value (a workbook written by a script or some exporters):
# the validation refuses it by name. NUL cannot occur in a worksheet's XML, so no real text looks like it.
NO_SAVED_VALUE = "\x00formula with no saved value\x00"
FORMULA_WITHOUT_VALUE = "a formula with no saved value; open the file in Excel and save it, or paste values"


class _SheetRefused(Exception):
    def __init__(self, message: str, row: int | None = None, column: str | None = None) -> None:
        super().__init__(message)
        self.message, self.row, self.column = message, row, column


def _stream_sheet(book: Any, sheet: Any, problems: _Collector) -> tuple[pd.DataFrame, np.ndarray] | None:
    """Read the worksheet's XML cell by cell (never openpyxl's row padding, which makes every row as wide
    as the widest: 60,000 rows with one cell in column XFD were a billion cells). The declared size is
    checked first and every cell as it streams past, so an oversized sheet is refused before a table
    exists. Only cells holding something are kept."""
    from openpyxl.cell.read_only import ReadOnlyCell
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

    declared_columns = getattr(sheet, "_max_column", None) or 0
    declared_rows = getattr(sheet, "_max_row", None) or 0
    if declared_columns > MAX_COLUMNS:
        raise _SheetRefused(
            f"the first worksheet says it runs to column {_letter(declared_columns - 1)} "
            f"({declared_columns:,} columns); a file may have at most {MAX_COLUMNS}: delete the unused columns "
            "(or copy the figures to a new workbook) and save it again", row=None, column=None)
    if declared_rows > MAX_ROWS + 1:
        raise _SheetRefused(
            f"the first worksheet says it has {declared_rows:,} rows; a file may have at most {MAX_ROWS:,} rows "
            "of figures: delete the unused rows or split the file")

    class Parser(WorkSheetParser):
        def parse_cell(self, element: Any) -> dict:
            cell = super().parse_cell(element)
            if cell["value"] is None and element.find(FORMULA_TAG) is not None:
                saved = element.find(VALUE_TAG)
                # No <v>, or an empty one on a cell that is not text (openpyxl and other scripts write
                # <v></v>): nothing was ever calculated. An empty text result (t="str", <v></v>) is
                # Excel's own answer "" (e.g. =IF(A2="","",A2)) and reads as a blank cell.
                if saved is None or (not saved.text and element.get("t", "n") != "str"):
                    cell["value"] = NO_SAVED_VALUE
            return cell

    numbers: list[int] = []
    records: list[dict[int, str]] = []
    width = 0
    filled = 0
    with sheet._get_source() as source:
        parser = Parser(source, sheet._shared_strings, data_only=True, epoch=book.epoch,
                        date_formats=book._date_formats, timedelta_formats=book._timedelta_formats)
        for number, cells in parser.parse():
            if number > MAX_ROWS + 1:
                raise _SheetRefused(f"the first worksheet has more than {MAX_ROWS:,} rows of figures; split the file",
                                    row=number)
            texts: dict[int, str] = {}
            for cell in cells:
                value = cell["value"]
                if value is None or value == "":
                    continue  # a cell with only formatting
                column = cell["column"]
                if column > MAX_COLUMNS:
                    raise _SheetRefused(f"a cell holds something beyond column {_letter(MAX_COLUMNS - 1)}; a file "
                                        f"may have at most {MAX_COLUMNS} columns", row=number,
                                        column=_letter(column - 1))
                if value == NO_SAVED_VALUE:
                    text = NO_SAVED_VALUE
                else:
                    text = _cell_text(ReadOnlyCell(sheet, number, column, value, cell["data_type"],
                                                   cell["style_id"]))
                texts[column - 1] = text
                width = max(width, column)
                filled += 1
                if filled > MAX_XLSX_CELLS:
                    raise _SheetRefused(f"the first worksheet has more than {MAX_XLSX_CELLS:,} filled cells; "
                                        "save a file this large as CSV and upload that", row=number)
            if texts:
                numbers.append(number)
                records.append(texts)
    if width == 0:
        problems.file("the file is empty (the first worksheet has no cells)")
        return None
    frame = pd.DataFrame([[r.get(i, "") for i in range(width)] for r in records], columns=range(width), dtype=str)
    return frame, np.asarray(numbers, dtype="int64")


def _cell_text(cell: Any) -> str:
    """An XLSX cell as the text a CSV export would hold; a %-formatted 0.876 becomes "87.6%"."""
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        if "%" in str(getattr(cell, "number_format", "") or ""):
            return _number_text(round(value * 100, 10)) + "%"
        return _number_text(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _number_text(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _to_table(frame: pd.DataFrame, numbers: np.ndarray, result: Validated, problems: _Collector,
              from_workbook: bool = False) -> _Table | None:
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
            result.warnings.append(f"column {_letter(position)} has figures but no heading; it was ignored")
    rows = numbers[data_positions]
    before = problems.total
    for position, written in enumerate(header):
        named = written or _letter(position)
        if written == NO_SAVED_VALUE:
            problems.file(FORMULA_WITHOUT_VALUE, row=int(numbers[head]), column=_letter(position))
            continue
        if len(written) > MAX_CELL_CHARS:
            problems.file(f"the heading is {len(written):,} characters; at most {MAX_CELL_CHARS:,}",
                          row=int(numbers[head]), column=_letter(position))
            continue
        column = cells[position]
        if from_workbook:
            problems.cells(column == NO_SAVED_VALUE, rows, named, lambda i: FORMULA_WITHOUT_VALUE)
        lengths = column.str.len().to_numpy(dtype="int64")
        problems.cells(lengths > MAX_CELL_CHARS, rows, named,
                       lambda i, n=lengths: f"the cell holds {int(n[i]):,} characters; at most {MAX_CELL_CHARS:,}")
    if problems.total > before:
        return None
    return _Table(header=header, header_row=int(numbers[head]), cells=cells, rows=numbers[data_positions])


_letter = upload_limits.column_letter  # 0 -> A, 25 -> Z, 26 -> AA


# ---------------------------------------------------------------------------------------------
# Cell parsers shared by both formats


def _distinct(text: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Factorise a text column: each row's position in the list of its distinct texts.

    Codes, names and periods repeat a lot, so they are worked out once per distinct text and
    spread back over the rows with `array[codes]`.
    """
    codes, uniques = pd.factorize(text)
    return codes, [str(u) for u in uniques]


def _spread(codes: np.ndarray, values: list[Any], dtype: Any = object) -> np.ndarray:
    table = np.empty(len(values), dtype=dtype)
    for position, value in enumerate(values):
        table[position] = value
    return table[codes]


@dataclass
class _Numbers:
    value: np.ndarray  # float; NaN where no figure or not a number
    marker: np.ndarray  # bool: blank or a suppression/missing marker
    bad: np.ndarray  # bool: text that is not a number
    percent: np.ndarray  # bool: written with a % sign
    decimals: np.ndarray  # int: decimal places as written (after any exponent)


def _parse_numbers(text: pd.Series, allow_percent: bool) -> _Numbers:
    """Read whole columns of numbers: "87.6%", "1,204" and " 12 " are numbers; markers are no figure."""
    codes, distinct = pd.factorize(text, use_na_sentinel=False)
    if len(distinct) < len(text):  # figures repeat: read each distinct text once, then spread it over the rows
        once = _parse_numbers(pd.Series(distinct, dtype=text.dtype), allow_percent)
        return _Numbers(once.value[codes], once.marker[codes], once.bad[codes], once.percent[codes],
                        once.decimals[codes])
    if not (text != "").any():  # an empty or missing column: no figures, and quickly
        nothing = np.zeros(len(text), dtype=bool)
        return _Numbers(np.full(len(text), np.nan), ~nothing, nothing, nothing, np.zeros(len(text), dtype="int64"))
    marker = text.str.lower().isin(MISSING_MARKERS).to_numpy(dtype=bool)
    percent = text.str.endswith("%").to_numpy(dtype=bool, na_value=False)
    body = text
    if percent.any():
        body = text.where(~percent, text.str.slice(stop=-1).str.rstrip())
    looks = body.str.fullmatch(_NUMBER).to_numpy(dtype=bool, na_value=False) & ~marker
    looks &= (text.str.len() <= MAX_FIGURE_CHARS).to_numpy(dtype=bool)
    if not allow_percent:
        looks &= ~percent
    cleaned = body.where(looks, "").str.replace(",", "", regex=False)
    try:
        value = cleaned.where(looks).astype("float64").to_numpy(dtype="float64", na_value=np.nan)
    except (ValueError, TypeError):
        value = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    finite = np.isfinite(value)
    bad = ~marker & ~(looks & finite)
    value = np.where(looks & finite, value, np.nan)
    point = cleaned.str.find(".").to_numpy(dtype="int64")
    length = cleaned.str.len().to_numpy(dtype="int64")
    decimals = np.where(point >= 0, length - point - 1, 0)
    exponent = cleaned.str.contains("e", case=False, regex=False).to_numpy(dtype=bool)
    if exponent.any():
        for i in np.flatnonzero(exponent):
            mantissa, _, power = cleaned.iat[i].lower().partition("e")
            places = len(mantissa.partition(".")[2])
            decimals[i] = max(places - int(power), 0) if power.lstrip("+-").isdigit() else 0
    return _Numbers(value, marker, bad, percent & looks, decimals)


def _not_a_number(text: str) -> str:
    if len(text) > MAX_FIGURE_CHARS:
        return f'"{_show(text)}" is too long to be a figure ({len(text):,} characters; at most {MAX_FIGURE_CHARS})'
    return f'"{_show(text)}" is not a number'


@dataclass
class _Periods:
    ok: np.ndarray  # bool per row
    label: np.ndarray  # canonical label per row (None where not ok)
    start: np.ndarray
    end: np.ndarray
    reason: Callable[[int], str]  # why row i's period was refused


def _parse_periods(text: pd.Series, rules: UploadRules, kinds: tuple[str, ...] | None) -> _Periods:
    """Parse each distinct period once; refuse other kinds (when `kinds` is given) and the future."""
    codes, distinct = _distinct(text)
    outcomes: list[Period | None] = []
    reasons: list[str] = []
    for label in distinct:
        period, reason = None, ""
        try:
            if label == "":
                reason = "no period given"
            else:
                period = parse_period(label)
        except PeriodError as exc:
            reason = str(exc)
        if period is not None and kinds is not None and period.kind not in kinds:
            reason = (f'"{_show(label)}" is a {period.kind}; write a quarter like "2023/24 Q1" '
                      'or a financial year like "2023/24"')
            period = None
        elif period is not None and is_future(period, rules.today):
            reason = f'"{_show(period.label)}" is in the future'
            period = None
        outcomes.append(period)
        reasons.append(reason)
    return _Periods(
        ok=_spread(codes, [p is not None for p in outcomes], bool),
        label=_spread(codes, [p.label if p else None for p in outcomes]),
        start=_spread(codes, [p.start if p else None for p in outcomes]),
        end=_spread(codes, [p.end if p else None for p in outcomes]),
        reason=lambda i: reasons[codes[i]],
    )


def _normal_lookup(area_lookup: Mapping[str, str]) -> dict[str, str]:
    lookup = {_norm_name(key): code for key, code in area_lookup.items()}
    for code in area_lookup.values():
        lookup.setdefault(_norm_name(code), code)
    return lookup


def _norm_name(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().lower()


def _flags_column(estimate: np.ndarray, provisional: np.ndarray, suppressed: np.ndarray) -> np.ndarray:
    """The `flags` text of each row: the words that apply, sorted and comma-joined."""
    names = ("estimate", "provisional", "suppressed")
    table = np.array(
        [",".join(n for bit, n in enumerate(names) if code >> bit & 1) for code in range(8)], dtype=object
    )
    return table[estimate.astype(int) | provisional.astype(int) << 1 | suppressed.astype(int) << 2]


def _text_or_none(text: pd.Series, tidy: Callable[[str], str] = str) -> np.ndarray:
    codes, distinct = _distinct(text)
    return _spread(codes, [tidy(t) or None for t in distinct])


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _assemble(columns: dict[str, Any]) -> pd.DataFrame:
    def dtype(name: str) -> Any:
        return "float64" if name in _FLOAT_COLUMNS else "int64" if name == "source_row" else object

    # Built column by column with explicit types: pandas would otherwise turn None into NaN.
    return pd.DataFrame({name: pd.Series(np.asarray(columns[name]), dtype=dtype(name), copy=False)
                         for name in ROW_COLUMNS}, copy=False)


def _key_codes(values: np.ndarray) -> np.ndarray:
    """Integer codes that are equal exactly when the values are (NaN equals NaN)."""
    return pd.factorize(values, use_na_sentinel=False)[0]


def _duplicates(parts: list[np.ndarray], usable: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Usable rows whose key (the `parts`, one code array each) repeats an earlier row; and that row."""
    repeat = np.zeros(len(rows), dtype=bool)
    first = np.zeros(len(rows), dtype="int64")
    positions = np.flatnonzero(usable)
    if len(positions) == 0:
        return repeat, first
    # One integer per distinct key, built part by part (re-numbered only if it would overflow).
    key = np.zeros(len(positions), dtype="int64")
    for part in parts:
        codes = _key_codes(part)[positions].astype("int64")
        width = int(codes.max()) + 1
        if int(key.max()) >= np.iinfo(np.int64).max // width - 1:
            key = pd.factorize(key)[0].astype("int64")
        key = key * width + codes
    seen = pd.Series(key).duplicated().to_numpy()
    if not seen.any():  # the usual file: no repeats, so no need to find which row came first
        return repeat, first
    _, first_index, group = np.unique(key, return_index=True, return_inverse=True)
    repeat[positions] = seen
    first[positions] = rows[positions[first_index[group.ravel()]]]
    return repeat, first


# ---------------------------------------------------------------------------------------------
# The contract upload format: kpi, area, period, value [, numerator, denominator, note, flags]


def _unit_kind(unit: str) -> tuple[str, float]:
    """("percent" | "count" | "rate" | "other", multiplier for numerator/denominator or NaN)."""
    u = str(unit).strip().lower()
    if u.startswith("%") or "percent" in u:
        return "percent", 100.0
    if u.startswith(("count", "number")):
        return "count", np.nan
    if m := re.search(r"per\s*([\d,]+)", u):
        return "rate", float(m.group(1).replace(",", ""))
    return "other", np.nan


def _contract_columns(table: _Table, result: Validated, problems: _Collector) -> dict[str, tuple[int, str]] | None:
    """Map canonical column names to (position, name as written); None when a required one is missing."""
    if len(table.header) == 1 and any(sep in table.header[0] for sep in (";", "\t")):
        problems.file(
            "the columns are separated by ; or tabs, not commas: save the file as CSV (comma delimited)",
            row=table.header_row,
        )
        return None
    found: dict[str, tuple[int, str]] = {}
    for position, written in enumerate(table.header):
        key = re.sub(r"\s+", " ", written).lower()
        if key in REQUIRED or key in OPTIONAL:
            if key in found:
                problems.file(
                    f"the column appears twice (columns {_letter(found[key][0])} and {_letter(position)})",
                    row=table.header_row, column=written,
                )
                continue
            found[key] = (position, written)
        elif written:
            result.warnings.append(f'column "{_show(written)}" is not used and was ignored')
    missing = [name for name in REQUIRED if name not in found]
    for name in missing:
        problems.file(
            f"there is no {name} column; the header row must have kpi, area, period and value",
            row=table.header_row, column=name,
        )
    return None if missing else found


def _validate_contract(
    table: _Table, rules: UploadRules, result: Validated, problems: _Collector
) -> pd.DataFrame | None:
    columns = _contract_columns(table, result, problems)
    if columns is None:
        return None
    cells, rows, count = table.cells, table.rows, len(table.cells)

    def col(name: str) -> pd.Series:
        return cells[columns[name][0]] if name in columns else pd.Series([""] * count, dtype=str)

    def written(name: str) -> str:
        return columns[name][1] if name in columns else name

    # kpi: a code in the plan, whatever its case
    units = {str(c).strip().upper(): _unit_kind(u) for c, u in rules.indicator_units.items()}
    kpi_text = col("kpi")
    kpi_codes, kpi_distinct = _distinct(kpi_text)
    upper = [t.upper() for t in kpi_distinct]
    known = [u in units or (rules.accept_unknown_indicators and u != "") for u in upper]
    kpi_ok = _spread(kpi_codes, known, bool)
    code = _spread(kpi_codes, upper)
    kind = _spread(kpi_codes, [units.get(u, ("other", np.nan))[0] for u in upper])
    multiplier = _spread(kpi_codes, [units.get(u, ("other", np.nan))[1] for u in upper], "float64")
    problems.cells(
        ~kpi_ok, rows, written("kpi"),
        lambda i: "no KPI given" if kpi_text.iat[i] == "" else f'"{_show(kpi_text.iat[i])}" is not a KPI in this plan',
    )

    # area: code, name or alias, whatever the case and spacing
    lookup = _normal_lookup(rules.area_lookup)
    area_text = col("area")
    area_codes, area_distinct = _distinct(area_text)
    area_code = _spread(area_codes, [lookup.get(_norm_name(t)) for t in area_distinct])
    area_ok = _spread(area_codes, [_norm_name(t) in lookup for t in area_distinct], bool)
    problems.cells(
        ~area_ok, rows, written("area"),
        lambda i: "no area given" if area_text.iat[i] == "" else f'"{_show(area_text.iat[i])}" is not a known area',
    )

    # period: a quarter or financial year, not in the future
    periods = _parse_periods(col("period"), rules, CONTRACT_PERIOD_KINDS)
    problems.cells(~periods.ok, rows, written("period"), periods.reason)

    # value: a number or a marker, in range for the KPI's unit
    value_text = col("value")
    value = _parse_numbers(value_text, allow_percent=True)
    problems.cells(value.bad, rows, written("value"), lambda i: _not_a_number(value_text.iat[i]))
    v = value.value
    has_value = ~np.isnan(v)
    value_ok = has_value.copy()
    is_percent, is_count = kind == "percent", kind == "count"
    checks = (
        (is_count & value.percent, lambda i: f"{_show(value_text.iat[i])} is a percentage but {code[i]} is a count"),
        (is_percent & ((v < 0) | (v > 100)),
         lambda i: f"{_show(value_text.iat[i])} is not a percentage between 0 and 100"),
        (is_count & ((v < 0) | (v != np.floor(v))),
         lambda i: f"{_show(value_text.iat[i])} is not a count (a whole number, 0 or more)"),
        (v < 0, lambda i: f"{_show(value_text.iat[i])} is negative"),
    )
    for failed, message in checks:
        failed = value_ok & failed
        problems.cells(failed, rows, written("value"), message)
        value_ok &= ~failed

    # numerator and denominator: whole numbers 0 or more if given, numerator <= denominator > 0
    given: dict[str, tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray]] = {}
    for name in ("numerator", "denominator"):
        text = col(name)
        parsed = _parse_numbers(text, allow_percent=False)
        problems.cells(parsed.bad, rows, written(name), lambda i, t=text: _not_a_number(t.iat[i]))
        x = parsed.value
        present = ~np.isnan(x)
        failed = present & ((x < 0) | (x != np.floor(x)))
        problems.cells(failed, rows, written(name),
                       lambda i, t=text: f"{_show(t.iat[i])} is not a whole number, 0 or more")
        usable = present & ~failed
        if name == "denominator":
            zero = usable & (x == 0)
            problems.cells(zero, rows, written(name), lambda i: "the denominator must be more than 0")
            usable &= ~zero
        given[name] = (text, x, present, usable)
    num_text, n, n_given, n_ok = given["numerator"]
    den_text, d, d_given, d_ok = given["denominator"]
    both = n_ok & d_ok
    with np.errstate(invalid="ignore"):
        over = both & (n > d)
    problems.cells(over, rows, written("numerator"),
                   lambda i: f"numerator {_show(num_text.iat[i])} is more than denominator {_show(den_text.iat[i])}")
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = multiplier * n / d
        tolerance = 0.5 * np.power(10.0, -value.decimals.astype("float64")) + 1e-9
        disagree = both & ~over & value_ok & ~np.isnan(multiplier) & ~(np.abs(expected - v) <= tolerance)
    problems.cells(
        disagree, rows, written("value"),
        lambda i: (
            f"{_show(value_text.iat[i])} does not agree with numerator and denominator: "
            f"{multiplier[i]:,.0f} x {_show(num_text.iat[i])} / {_show(den_text.iat[i])} = "
            f"{_round_text(expected[i], int(value.decimals[i]) + 2)}"
        ),
    )
    hidden = value.marker & (n_given | d_given)
    if hidden.any():
        listed = ", ".join(str(r) for r in rows[hidden][:10])
        result.warnings.append(
            f"{int(hidden.sum()):,} row(s) have no figure in value but a numerator or denominator; these were not "
            f"stored (rows {listed}{', ...' if hidden.sum() > 10 else ''}), so a suppressed figure cannot be worked out"
        )

    # flags and note
    estimate = np.zeros(count, dtype=bool)
    provisional = np.zeros(count, dtype=bool)
    if "flags" in columns:
        flag_codes, flag_distinct = _distinct(col("flags"))
        meaning = [_read_flags(t) for t in flag_distinct]
        wrong = _spread(flag_codes, [m[2] for m in meaning])
        problems.cells(wrong != "", rows, written("flags"), lambda i: wrong[i])
        estimate |= _spread(flag_codes, [m[0] for m in meaning], bool)
        provisional |= _spread(flag_codes, [m[1] for m in meaning], bool)
    note_text = col("note")
    if "note" in columns:
        estimate |= note_text.str.contains(_NOTE_ESTIMATE, case=False, regex=True).to_numpy(dtype=bool)
        provisional |= note_text.str.contains(_NOTE_PROVISIONAL, case=False, regex=True).to_numpy(dtype=bool)

    # a KPI/area/period repeated within the file
    repeat, first = _duplicates([code, area_code, periods.label], kpi_ok & area_ok & periods.ok, rows)
    problems.cells(repeat, rows, written("period"),
                   lambda i: f"{code[i]} / {area_code[i]} / {periods.label[i]} is already on row {first[i]}")

    if problems.total:
        return None
    return _assemble({
        "indicator_id": code,
        "indicator_name": np.full(count, None, dtype=object),
        "area_code": area_code,
        "area_name": np.full(count, None, dtype=object),
        "period": periods.label,
        "period_start": periods.start,
        "period_end": periods.end,
        "category": np.full(count, "", dtype=object),
        "value": v,
        # A suppressed or missing figure withholds its numerator and denominator too (issue 15).
        "numerator": np.where(value.marker, np.nan, n),
        "denominator": np.where(value.marker, np.nan, d),
        "ci_low": np.full(count, np.nan),
        "ci_high": np.full(count, np.nan),
        "ci99_low": np.full(count, np.nan),
        "ci99_high": np.full(count, np.nan),
        "note": _text_or_none(note_text),
        "flags": _flags_column(estimate, provisional, value.marker),
        "compared_with_england": np.full(count, None, dtype=object),
        "source_row": rows,
    })


def _round_text(x: float, places: int) -> str:
    text = f"{x:,.{max(places, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _read_flags(text: str) -> tuple[bool, bool, str]:
    """(estimate, provisional, problem message or "") for one `flags` cell."""
    words = [w.strip().lower() for w in re.split(r"[,;]", text) if w.strip()]
    wrong = [w for w in words if w not in FLAG_WORDS]
    if "suppressed" in wrong:
        message = '"suppressed" is not a flag you can set: write c or [c] in value for a suppressed figure'
    elif len(wrong) == 1:
        message = f'"{_show(wrong[0])}" is not a flag (use estimate or provisional)'
    elif wrong:
        message = " and ".join(f'"{_show(w)}"' for w in wrong) + " are not flags (use estimate or provisional)"
    else:
        message = ""
    found = {FLAG_WORDS[w] for w in words if w in FLAG_WORDS}
    return "estimate" in found, "provisional" in found, message


# ---------------------------------------------------------------------------------------------
# The plainest contract CSV, checked as whole columns with Arrow compute (a million rows in about a
# second); every other file, and every file with a problem, takes the careful path above

_CONTROL_BYTES = np.zeros(256, dtype=bool)  # the control characters that mark a binary file (not tab, CR, LF, FF)
_CONTROL_BYTES[[*range(0x01, 0x09), 0x0b, *range(0x0e, 0x20), 0x7f]] = True


def _plain_contract_csv(data: bytes, rules: UploadRules, result: Validated) -> pd.DataFrame | None:
    """The rows of a contract CSV in its plainest form, checked column by column with Arrow compute; None
    when the file is anything else, and the careful path (which explains every problem) reads it instead.

    Plainest form: UTF-8 without control characters or quotes; no blank lines, no spaces around cells, no
    unnamed column; every KPI, area and period known (and the period a past quarter or year); every value
    a plain figure (no markers, signs, % or thousands separators); numerator and denominator blank or
    plain figures; flags words only; and every figure passes every check. For such a file the careful
    path finds nothing to say, so both give the same rows."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as arrow_csv

    if data.startswith((b"PK", b"\xd0\xcf\x11\xe0", b"\xff\xfe", b"\xfe\xff")) or b'"' in data or b"\x00" in data:
        return None
    body = data.removeprefix(b"\xef\xbb\xbf")
    if not body[:1].strip() or body.endswith(b"\x1a"):
        return None
    if _CONTROL_BYTES[np.frombuffer(body, dtype=np.uint8)].any():
        return None
    try:
        header_line = body.partition(b"\n")[0].rstrip(b"\r").decode("utf-8")
    except UnicodeDecodeError:
        return None
    header = header_line.split(",")
    if (len(header) > MAX_COLUMNS or any(cell != cell.strip() or cell == "" or len(cell) > MAX_CELL_CHARS
                                         for cell in header) or _is_fingertips(header)):
        return None
    scratch = Validated(kind="upload", rows=result.rows)
    problems = _Collector(1)
    columns = _contract_columns(_Table(header=header, header_row=1, cells=pd.DataFrame(), rows=np.array([])),
                                scratch, problems)
    if columns is None or problems.total:
        return None
    try:
        table = arrow_csv.read_csv(
            io.BytesIO(body),
            read_options=arrow_csv.ReadOptions(column_names=[f"c{i}" for i in range(len(header))], skip_rows=1),
            parse_options=arrow_csv.ParseOptions(quote_char=False, ignore_empty_lines=False),
            convert_options=arrow_csv.ConvertOptions(column_types={f"c{i}": pa.string() for i in range(len(header))},
                                                     strings_can_be_null=False))
    except (pa.ArrowException, UnicodeError, ValueError):
        return None
    count = table.num_rows
    if count == 0 or count > MAX_ROWS:
        return None
    for cells in table.columns:  # the careful path's limits: no cell longer than it allows
        if count and pc.max(pc.utf8_length(cells)).as_py() > MAX_CELL_CHARS:
            return None

    def col(name: str):
        return table.column(f"c{columns[name][0]}").combine_chunks() if name in columns else None

    def plain_figures(text) -> bool:  # every cell digits, maybe a point and more digits (ASCII only)
        if pc.max(pc.utf8_length(text)).as_py() > MAX_FIGURE_CHARS:
            return False
        digits = pc.replace_substring(text, ".", "", max_replacements=1)
        return bool(pc.all(pc.and_(pc.ascii_is_decimal(digits), pc.invert(pc.or_(
            pc.starts_with(text, "."), pc.ends_with(text, "."))))).as_py())

    def unspaced(values) -> bool:  # no spaces around any cell (the careful path would strip them)
        return all(t == t.strip() for t in values)

    def distinct(array) -> tuple[np.ndarray, list[str]]:
        encoded = pc.dictionary_encode(array)
        return (encoded.indices.to_numpy(zero_copy_only=False).astype("int64"),
                encoded.dictionary.to_pylist())

    # kpi: known codes only
    units = {str(c).strip().upper(): _unit_kind(u) for c, u in rules.indicator_units.items()}
    kpi_index, kpi_texts = distinct(col("kpi"))
    upper = [t.upper() for t in kpi_texts]
    if not unspaced(kpi_texts) or not all(u in units or (rules.accept_unknown_indicators and u != "") for u in upper):
        return None
    code_names = sorted(set(upper))
    code_of_text = np.array([code_names.index(u) for u in upper], dtype="int64")
    code_index = code_of_text[kpi_index]
    code = np.asarray(code_names, dtype=object)[code_index]
    kind = np.asarray([units.get(u, ("other", np.nan))[0] for u in code_names], dtype=object)[code_index]
    multiplier = np.asarray([units.get(u, ("other", np.nan))[1] for u in code_names], dtype="float64")[code_index]

    # area: known codes, names or aliases
    lookup = _normal_lookup(rules.area_lookup)
    area_index, area_texts = distinct(col("area"))
    area_codes = [lookup.get(_norm_name(t)) for t in area_texts]
    if not unspaced(area_texts) or any(a is None for a in area_codes):
        return None
    area_names = sorted(set(area_codes))
    area_code_index = np.array([area_names.index(a) for a in area_codes], dtype="int64")[area_index]
    area_code = np.asarray(area_names, dtype=object)[area_code_index]

    # period: past quarters and financial years
    period_index, period_texts = distinct(col("period"))
    periods = _parse_periods(pd.Series(period_texts, dtype=object), rules, CONTRACT_PERIOD_KINDS)
    if not unspaced(period_texts) or not periods.ok.all():
        return None
    labels = sorted(set(periods.label))
    label_index = np.array([labels.index(lab) for lab in periods.label], dtype="int64")[period_index]
    label = periods.label[period_index]
    start, end = periods.start[period_index], periods.end[period_index]

    # value: plain figures in range
    value_text = col("value")
    if not plain_figures(value_text):
        return None
    v = pc.cast(value_text, pa.float64()).to_numpy(zero_copy_only=False)
    point = pc.find_substring(value_text, ".").to_numpy(zero_copy_only=False).astype("int64")
    length = pc.utf8_length(value_text).to_numpy(zero_copy_only=False).astype("int64")
    decimals = np.where(point >= 0, length - point - 1, 0)
    is_percent, is_count = kind == "percent", kind == "count"
    if (is_percent & (v > 100)).any() or (is_count & (v != np.floor(v))).any():
        return None

    # numerator and denominator: blank or whole figures, numerator <= denominator > 0, agreeing with value
    given = {}
    for name in ("numerator", "denominator"):
        text = col(name)
        if text is None:
            given[name] = np.full(count, np.nan)
            continue
        blank = pc.equal(text, "")
        if not plain_figures(pc.if_else(blank, "0", text)):
            return None
        x = pc.cast(pc.if_else(blank, None, text), pa.float64()).to_numpy(zero_copy_only=False)
        if (x != np.floor(x))[~np.isnan(x)].any():
            return None
        given[name] = x
    n, d = given["numerator"], given["denominator"]
    if (d == 0).any():
        return None
    both = ~np.isnan(n) & ~np.isnan(d)
    with np.errstate(invalid="ignore", divide="ignore"):
        if (both & (n > d)).any():
            return None
        expected = multiplier * n / d
        tolerance = 0.5 * np.power(10.0, -decimals.astype("float64")) + 1e-9
        if (both & ~np.isnan(multiplier) & ~(np.abs(expected - v) <= tolerance)).any():
            return None

    # flags (words only) and note
    estimate = np.zeros(count, dtype=bool)
    provisional = np.zeros(count, dtype=bool)
    if "flags" in columns:
        flag_index, flag_texts = distinct(col("flags"))
        meaning = [_read_flags(t) for t in flag_texts]
        if not unspaced(flag_texts) or any(m[2] for m in meaning):
            return None
        estimate |= np.asarray([m[0] for m in meaning], dtype=bool)[flag_index]
        provisional |= np.asarray([m[1] for m in meaning], dtype=bool)[flag_index]
    if "note" in columns:
        if not pc.all(pc.equal(col("note"), pc.utf8_trim_whitespace(col("note")))).as_py():
            return None
        note_text = pd.Series(col("note").to_numpy(zero_copy_only=False), dtype=object).astype(str)
        estimate |= note_text.str.contains(_NOTE_ESTIMATE, case=False, regex=True).to_numpy(dtype=bool)
        provisional |= note_text.str.contains(_NOTE_PROVISIONAL, case=False, regex=True).to_numpy(dtype=bool)
        note = _text_or_none(note_text)
    else:
        note = np.full(count, None, dtype=object)

    # no KPI/area/period twice
    key = (code_index * len(area_names) + area_code_index) * len(labels) + label_index
    ordered = np.sort(key)
    if (ordered[1:] == ordered[:-1]).any():
        return None

    result.warnings.extend(scratch.warnings)
    return _assemble({
        "indicator_id": code, "indicator_name": np.full(count, None, dtype=object),
        "area_code": area_code, "area_name": np.full(count, None, dtype=object),
        "period": label, "period_start": start, "period_end": end,
        "category": np.full(count, "", dtype=object),
        "value": v, "numerator": n, "denominator": d,
        "ci_low": np.full(count, np.nan), "ci_high": np.full(count, np.nan),
        "ci99_low": np.full(count, np.nan), "ci99_high": np.full(count, np.nan),
        "note": note, "flags": _flags_column(estimate, provisional, np.zeros(count, dtype=bool)),
        "compared_with_england": np.full(count, None, dtype=object),
        "source_row": np.arange(2, 2 + count),
    })


# ---------------------------------------------------------------------------------------------
# Fingertips downloads

_FINGERTIPS_NAMES = {
    "indicatorid": "Indicator ID", "indicatorname": "Indicator Name", "parentcode": "Parent Code",
    "parentname": "Parent Name", "areacode": "Area Code", "areaname": "Area Name", "areatype": "Area Type",
    "sex": "Sex", "age": "Age", "categorytype": "Category Type", "category": "Category",
    "timeperiod": "Time period", "value": "Value", "lowerci95limit": "Lower CI 95.0 limit",
    "upperci95limit": "Upper CI 95.0 limit", "lowerci998limit": "Lower CI 99.8 limit",
    "upperci998limit": "Upper CI 99.8 limit", "count": "Count", "denominator": "Denominator",
    "valuenote": "Value note", "recenttrend": "Recent Trend",
    "comparedtoenglandvalueorpercentiles": "Compared to England value or percentiles",
    "timeperiodsortable": "Time period Sortable", "newdata": "New data", "comparedtogoal": "Compared to goal",
    "timeperiodrange": "Time period range",
}
_FINGERTIPS_NEEDED = ("indicatorid", "areacode", "timeperiod", "value")
_FINGERTIPS_NUMBERS = {
    "value": "value", "lowerci95limit": "ci_low", "upperci95limit": "ci_high", "lowerci998limit": "ci99_low",
    "upperci998limit": "ci99_high", "count": "numerator", "denominator": "denominator",
}


def _fingertips_key(header: str) -> str:
    """A header folded so that case, spaces, _ . - and "95.0" against "95" do not matter."""
    text = re.sub(r"(\d)\.0+(?!\d)", r"\1", str(header).strip().lower())
    return re.sub(r"[\s_.\-]+", "", text)


def _is_fingertips(header: list[str]) -> bool:
    keys = {_fingertips_key(h) for h in header}
    return all(k in keys for k in _FINGERTIPS_NEEDED)


def _fingertips_indicator(text: str) -> str | None:
    """ "90886" (or "90886.0" from a spreadsheet) -> "90886"; anything else -> None."""
    if not re.fullmatch(_WHOLE_ID, text):
        return None
    return str(int(text.partition(".")[0]))


def _validate_fingertips(
    table: _Table, rules: UploadRules, result: Validated, problems: _Collector
) -> pd.DataFrame | None:
    columns: dict[str, tuple[int, str]] = {}
    for position, written in enumerate(table.header):
        key = _fingertips_key(written)
        if key in _FINGERTIPS_NAMES:
            if key in columns:
                result.warnings.append(f'column "{_show(written)}" repeats "{columns[key][1]}"; the first was used')
                continue
            columns[key] = (position, written)
        elif written and not key.startswith("comparedto"):
            result.warnings.append(f'column "{_show(written)}" is not a Fingertips column and was ignored')
    cells, rows, count = table.cells, table.rows, len(table.cells)

    def col(key: str) -> pd.Series:
        return cells[columns[key][0]] if key in columns else pd.Series([""] * count, dtype=str)

    def written(key: str) -> str:
        return columns[key][1] if key in columns else _FINGERTIPS_NAMES[key]

    # indicator: a whole number; any one unless the rules say only the plan's
    ind_text = col("indicatorid")
    ind_codes, ind_distinct = _distinct(ind_text)
    ids = [_fingertips_indicator(t) for t in ind_distinct]
    indicator = _spread(ind_codes, ids)
    ind_ok = _spread(ind_codes, [i is not None for i in ids], bool)
    problems.cells(
        ~ind_ok, rows, written("indicatorid"),
        lambda i: "no indicator ID given" if ind_text.iat[i] == ""
        else f'"{_show(ind_text.iat[i])}" is not a Fingertips indicator ID (a whole number of at most 12 digits)',
    )
    if not rules.accept_unknown_indicators:
        plan = {str(k).strip().upper() for k in rules.indicator_units}
        unknown = ind_ok & _spread(ind_codes, [i is not None and i not in plan for i in ids], bool)
        problems.cells(unknown, rows, written("indicatorid"),
                       lambda i: f'"{indicator[i]}" is not an indicator in this plan')
        ind_ok &= ~unknown

    # area: any GSS code as it is (Fingertips covers every English area); a name must be known
    lookup = _normal_lookup(rules.area_lookup)
    area_text = col("areacode")
    area_codes, area_distinct = _distinct(area_text)
    resolved = [t.upper() if _GSS.fullmatch(t) else lookup.get(_norm_name(t)) for t in area_distinct]
    area_code = _spread(area_codes, resolved)
    area_ok = _spread(area_codes, [r is not None for r in resolved], bool)
    problems.cells(
        ~area_ok, rows, written("areacode"),
        lambda i: "no area code given" if area_text.iat[i] == ""
        else f'"{_show(area_text.iat[i])}" is not an area code',
    )

    # period: any kind Fingertips uses (years, quarters, pooled ranges), not in the future
    periods = _parse_periods(col("timeperiod"), rules, None)
    problems.cells(~periods.ok, rows, written("timeperiod"), periods.reason)

    numbers: dict[str, np.ndarray] = {}
    for key, target in _FINGERTIPS_NUMBERS.items():
        text = col(key)
        parsed = _parse_numbers(text, allow_percent=True)
        problems.cells(parsed.bad, rows, written(key), lambda i, t=text: _not_a_number(t.iat[i]))
        numbers[target] = parsed.value

    note_text = col("valuenote")
    estimate = note_text.str.contains(r"modelled|estimate", case=False, regex=True).to_numpy(dtype=bool)
    provisional = note_text.str.contains("provisional", case=False, regex=False).to_numpy(dtype=bool)
    suppressed = note_text.str.contains("suppress", case=False, regex=False).to_numpy(dtype=bool)
    compared = _text_or_none(col("comparedtoenglandvalueorpercentiles"), lambda t: t.strip().lower())
    note = _text_or_none(note_text)
    category = _fingertips_category(indicator, col("sex"), col("age"), col("categorytype"), col("category"))

    # A download can hold the same row twice (an area listed under two parents): skip exact copies;
    # a repeat with different figures is a problem.
    usable = ind_ok & area_ok & periods.ok
    key = [indicator, area_code, periods.label, category]
    copy, _ = _duplicates(key + [note, compared, *numbers.values()], usable, rows)
    if copy.any():
        result.warnings.append(f"{int(copy.sum()):,} row(s) repeat an earlier row exactly and were skipped")
    repeat, first = _duplicates(key, usable & ~copy, rows)
    problems.cells(
        repeat, rows, written("timeperiod"),
        lambda i: " / ".join(str(k[i]) for k in key if k[i]) + f" is already on row {first[i]} with different figures",
    )

    if problems.total:
        return None
    keep = ~copy
    return _assemble({
        "indicator_id": indicator[keep],
        "indicator_name": _text_or_none(col("indicatorname"), _one_line)[keep],
        "area_code": area_code[keep],
        "area_name": _text_or_none(col("areaname"), _one_line)[keep],
        "period": periods.label[keep],
        "period_start": periods.start[keep],
        "period_end": periods.end[keep],
        "category": category[keep],
        **{target: values[keep] for target, values in numbers.items()},
        "note": note[keep],
        "flags": _flags_column(estimate, provisional, suppressed)[keep],
        "compared_with_england": compared[keep],
        "source_row": rows[keep],
    })


def _fingertips_category(
    indicator: np.ndarray, sex: pd.Series, age: pd.Series, category_type: pd.Series, category: pd.Series
) -> np.ndarray:
    """ "Sex: Female; Age: 0-4 yrs; Deprivation deciles: Most deprived" - empty for the headline row.

    Sex is named only when an indicator has more than one sex and the row is not "Persons"; age
    only when an indicator has more than one age and the row's is not the indicator's usual age
    (the commonest among its rows with no Category Type).
    """
    # Rows with a bad indicator ID (None) are grouped as "": they are refused anyway.
    indicator = np.where(pd.isna(indicator), "", indicator).astype(object)
    frame = pd.DataFrame({"ind": indicator, "sex": sex.to_numpy(dtype=object), "age": age.to_numpy(dtype=object),
                          "type": category_type.to_numpy(dtype=object), "cat": category.to_numpy(dtype=object)})
    groups = frame.groupby(list(frame.columns), sort=False, dropna=False)
    codes = groups.ngroup().to_numpy()
    combos = groups.size().reset_index(name="rows")  # in ngroup order because sort=False
    sexes: dict[Any, set[str]] = {}
    ages: dict[Any, dict[str, int]] = {}
    for ind, sx, ag, kind, rows_ in combos[["ind", "sex", "age", "type", "rows"]].itertuples(index=False):
        sexes.setdefault(ind, set()).add(sx)
        tally = ages.setdefault(ind, {})
        tally.setdefault(ag, 0)
        if kind == "":
            tally[ag] += rows_
    labels = []
    for ind, sx, ag, kind, cat in combos[["ind", "sex", "age", "type", "cat"]].itertuples(index=False):
        parts = []
        if len(sexes[ind]) > 1 and sx and sx.lower() != "persons":
            parts.append(f"Sex: {sx}")
        if len(ages[ind]) > 1 and ag and ag != max(ages[ind], key=ages[ind].get):
            parts.append(f"Age: {ag}")
        if kind:
            parts.append(f"{kind}: {cat}" if cat else kind)
        labels.append("; ".join(parts))
    return _spread(codes, labels)
