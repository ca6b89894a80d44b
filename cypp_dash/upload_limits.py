"""What an uploaded file may be, checked before it is parsed (the one text decoder every CSV upload
goes through is `ingest.read.decode_text`).

The limits keep any file the dashboard refuses cheap to refuse: a file is measured (bytes, rows,
columns) before a table is built from it, so a hostile shape (a CSV with 100,000 columns, a
workbook padded out to column XFD) is turned away in well under a second and a few megabytes.
"""
from __future__ import annotations

import csv
import io
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
