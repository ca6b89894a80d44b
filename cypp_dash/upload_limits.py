"""What an uploaded file may be, checked before it is parsed, and the one text decoder every CSV
upload goes through (figures and actions alike).

The limits keep any file the dashboard refuses cheap to refuse: a file is measured (bytes, rows,
columns) before a table is built from it, so a hostile shape (a CSV with 100,000 columns, a
workbook padded out to column XFD) is turned away in well under a second and a few megabytes.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from itertools import repeat

# Columns a file may have. The contract format has seven; a Fingertips download has about thirty.
MAX_COLUMNS = 200
# Data rows (below the header). A national Fingertips download is a few hundred thousand rows; the
# benchmark's upload is a million.
MAX_ROWS = 2_000_000
# Filled cells in a workbook's sheet (reading XML cell by cell is slower than CSV): 200,000 rows of
# ten columns. A larger file goes as CSV.
MAX_XLSX_CELLS = 2_000_000
# Characters in any one cell, notes included.
MAX_CELL_CHARS = 1_000
# Characters in a figure (value, numerator, denominator, confidence limits) and an identifier.
MAX_FIGURE_CHARS = 40


class DecodeRefusal(ValueError):
    """The bytes are not text the dashboard reads; `row` is the spreadsheet row to name, if any."""

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.row = row


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

    A file that mixes the two (some rows saved as UTF-8, others as Windows-1252) is refused naming
    the first row whose bytes disagree with the encoding of the rows before it: decoding it either
    way would store some text garbled ("cafÃ©")."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DecodeRefusal("the file is saved as UTF-16 text; save it as CSV UTF-8 (or plain CSV) and upload that")
    if b"\x00" in data:
        raise DecodeRefusal("this is not a CSV or Excel file (it contains binary data)")
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text, encoding, note = data.decode("utf-8"), "utf-8", ""
    except UnicodeDecodeError as exc:
        first_bad = exc.start
        utf8 = _UTF8_SEQUENCE.search(data)
        if utf8 is not None:
            # Both kinds are present: name the first row (in the file's order) that breaks the pattern
            # set by the first non-ASCII row.
            offset = first_bad if utf8.start() < first_bad else _first_utf8_after(data, first_bad)
            row = _row_at(data, offset)
            first = "UTF-8" if utf8.start() < first_bad else "Windows-1252"
            other = "Windows-1252" if first == "UTF-8" else "UTF-8"
            raise DecodeRefusal(
                f"this row is saved as {other} text but rows before it are {first}: the file mixes two "
                "encodings, so some text would be garbled; save the whole file again as CSV UTF-8 and upload "
                "that", row=row) from None
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as bad:
            raise DecodeRefusal("this is not a CSV or Excel file (its bytes are not UTF-8 or Windows-1252 text)",
                                row=_row_at(data, bad.start)) from None
        encoding = "cp1252"
        note = "the file is not UTF-8; it was read as Windows-1252 (Excel's usual CSV encoding)"
    text = text.rstrip("\x1a")  # a DOS end-of-file mark
    sample = text[:65536]
    if len(_CONTROL.findall(sample)) > max(2, len(sample) // 100):
        raise DecodeRefusal("this is not a CSV or Excel file (it contains binary data)")
    return Decoded(text, encoding, note)


def _first_utf8_after(data: bytes, start: int) -> int:
    found = _UTF8_SEQUENCE.search(data, start)
    return found.start() if found else start


def _row_at(data: bytes, offset: int) -> int:
    """The spreadsheet row (CSV record, first = 1) that holds byte `offset`."""
    prefix = data[:offset].decode("latin-1")  # one character per byte: only line breaks and quotes matter
    records = sum(1 for _ in csv.reader(io.StringIO(prefix, newline="")))
    ends_in_record = prefix != "" and not prefix.endswith(("\n", "\r"))
    return max(1, records if ends_in_record else records + 1)


def check_csv_shape(text: str) -> tuple[str, int | None, str | None] | None:
    """Refuse, before any table is built, a CSV with too many rows or columns: (message, row, column
    letter) or None. Cheap bounds first (line breaks and commas); an exact CSV reading only when a
    bound is exceeded (a quoted note can hold commas and line breaks)."""
    lines = text.split("\n")
    if len(lines) > MAX_ROWS + 2:
        records = 0
        for records, _ in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):  # noqa: B007
            if records > MAX_ROWS + 1:
                return (f"the file has more than {MAX_ROWS:,} rows of figures; split it into smaller files",
                        records, None)
    if text.count(",") >= MAX_COLUMNS and max(map(str.count, lines, repeat(","))) + 1 > MAX_COLUMNS:
        for number, record in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if len(record) > MAX_COLUMNS:
                return (f"this row has {len(record):,} cells; a file may have at most {MAX_COLUMNS} columns",
                        number, column_letter(MAX_COLUMNS))
    return None


def column_letter(position: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
