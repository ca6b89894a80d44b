"""Reading an Excel workbook (.xlsx): the first worksheet's cells as text, streamed cell by cell.

Formulas are never evaluated nor external links followed; a zip bomb, a sheet declared or found
larger than the limits (`upload_limits`) is refused before a table exists.
"""
from __future__ import annotations

import io
import warnings
import zipfile
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pandas as pd

from cypp_dash.ingest.checked import Collector, Refused, size_text
from cypp_dash.upload_limits import MAX_COLUMNS, MAX_ROWS, MAX_XLSX_CELLS, column_letter

# An XLSX is refused unopened when its parts would unpack to more than this (a zip bomb).
ZIP_UNPACKED_LIMIT = 200 * 1024 * 1024
ZIP_RATIO_LIMIT = 20


def read_xlsx(data: bytes, max_bytes: int, problems: Collector) -> tuple[pd.DataFrame, np.ndarray] | None:
    """The first worksheet's cells as text; formulas are never evaluated nor external links followed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        problems.file("the file could not be opened as an Excel workbook (.xlsx): it is damaged or not a workbook")
        return None
    limit = min(ZIP_RATIO_LIMIT * max_bytes, ZIP_UNPACKED_LIMIT)
    if unpacked > limit:
        problems.file(
            f"the workbook would unpack to {size_text(unpacked)}, more than the {size_text(limit)} allowed; "
            "it was not opened"
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
    except Refused:
        raise
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


def _stream_sheet(book: Any, sheet: Any, problems: Collector) -> tuple[pd.DataFrame, np.ndarray] | None:
    """Read the worksheet's XML cell by cell (never openpyxl's row padding, which makes every row as wide
    as the widest: 60,000 rows with one cell in column XFD were a billion cells). The declared size is
    checked first and every cell as it streams past, so an oversized sheet is refused before a table
    exists. Only cells holding something are kept. (The loop stays in one piece: the limits are checked
    inside the one loop over the XML, where splitting it would cost a call per cell.)"""
    from openpyxl.cell.read_only import ReadOnlyCell

    _refuse_oversized(sheet)
    Parser = _parser_class()
    numbers: list[int] = []
    records: list[dict[int, str]] = []
    width = 0
    filled = 0
    with sheet._get_source() as source:
        parser = Parser(source, sheet._shared_strings, data_only=True, epoch=book.epoch,
                        date_formats=book._date_formats, timedelta_formats=book._timedelta_formats)
        for number, cells in parser.parse():
            if number > MAX_ROWS + 1:
                raise Refused(f"the first worksheet has more than {MAX_ROWS:,} rows of figures; split the file",
                                    row=number)
            texts: dict[int, str] = {}
            for cell in cells:
                value = cell["value"]
                if value is None or value == "":
                    continue  # a cell with only formatting
                column = cell["column"]
                if column > MAX_COLUMNS:
                    raise Refused(f"a cell holds something beyond column {column_letter(MAX_COLUMNS - 1)}; a file "
                                        f"may have at most {MAX_COLUMNS} columns", row=number,
                                        column=column_letter(column - 1))
                if value == NO_SAVED_VALUE:
                    text = NO_SAVED_VALUE
                else:
                    text = _cell_text(ReadOnlyCell(sheet, number, column, value, cell["data_type"],
                                                   cell["style_id"]))
                texts[column - 1] = text
                width = max(width, column)
                filled += 1
                if filled > MAX_XLSX_CELLS:
                    raise Refused(f"the first worksheet has more than {MAX_XLSX_CELLS:,} filled cells; "
                                        "save a file this large as CSV and upload that", row=number)
            if texts:
                numbers.append(number)
                records.append(texts)
    if width == 0:
        problems.file("the file is empty (the first worksheet has no cells)")
        return None
    frame = pd.DataFrame([[r.get(i, "") for i in range(width)] for r in records], columns=range(width), dtype=str)
    return frame, np.asarray(numbers, dtype="int64")


def _refuse_oversized(sheet: Any) -> None:
    """Refused when the worksheet's declared size (its <dimension>) is over the limits, before a cell is read."""
    declared_columns = getattr(sheet, "_max_column", None) or 0
    declared_rows = getattr(sheet, "_max_row", None) or 0
    if declared_columns > MAX_COLUMNS:
        raise Refused(
            f"the first worksheet says it runs to column {column_letter(declared_columns - 1)} "
            f"({declared_columns:,} columns); a file may have at most {MAX_COLUMNS}: delete the unused columns "
            "(or copy the figures to a new workbook) and save it again", row=None, column=None)
    if declared_rows > MAX_ROWS + 1:
        raise Refused(
            f"the first worksheet says it has {declared_rows:,} rows; a file may have at most {MAX_ROWS:,} rows "
            "of figures: delete the unused rows or split the file")


def _parser_class() -> type:
    """openpyxl's worksheet parser, except that a formula cell with no saved value reads as NO_SAVED_VALUE
    (a formula is never run, so it has no figure), not as a blank."""
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

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

    return Parser


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
