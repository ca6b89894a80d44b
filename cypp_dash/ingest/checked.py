"""What checking a file gives: every problem named by row and column, and the checked file itself.

One result type for every upload (figures, Fingertips, LAIT, EES and the action tracker's CSV):
`Validated` holds the rows when the file is clean, else every problem; a file with any problem
loads nothing.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

# The columns of a figures file's `Validated.rows`, in order. `area_name` is only filled by Fingertips
# downloads, so the store can add areas it has not seen before.
ROW_COLUMNS = (
    "indicator_id", "indicator_name", "area_code", "area_name", "period", "period_start",
    "period_end", "category", "value", "numerator", "denominator", "ci_low", "ci_high",
    "ci99_low", "ci99_high", "note", "flags", "compared_with_england", "source_row",
)
FLOAT_COLUMNS = ("value", "numerator", "denominator", "ci_low", "ci_high", "ci99_low", "ci99_high")
MAX_PROBLEMS = 1000


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


class Refused(Exception):
    """A file turned away whole before its rows are checked (not text, a damaged or oversized sheet)."""

    def __init__(self, message: str, row: int | None = None, column: str | None = None) -> None:
        super().__init__(message)
        self.problem = Problem(row, column, message)

    @property
    def row(self) -> int | None:
        return self.problem.row


class Validated:
    """A checked file: its rows when it is clean, else every problem. `rows` is a frame of `ROW_COLUMNS`
    for figures (Fingertips, LAIT, EES and contract uploads: `kind` says which), a list of
    `actions.ActionRow` for the action tracker (`kind` "actions") and of `commentary_upload.UploadRow` for
    a CSV of commentary (`kind` "commentary").

    A file read by the quick path (`plain.py`) carries `store_table`, its rows already in the store's
    Arrow column types, which the store loads as they are; `rows` is then made from it only when asked
    for (a preview, a test), so a million-row upload never builds a Python object per cell.
    """

    def __init__(self, kind: str = "upload", rows: Any = None, problems: list[Problem] | None = None,
                 warnings: list[str] | None = None, file_name: str = "", sha256: str = "",
                 store_table: pa.Table | None = None) -> None:
        self.kind, self.file_name, self.sha256, self.store_table = kind, file_name, sha256, store_table
        self._rows = [] if rows is None and store_table is None else rows
        self.problems: list[Problem] = [] if problems is None else problems
        self.warnings: list[str] = [] if warnings is None else warnings

    @property
    def rows(self) -> Any:
        if self._rows is None:
            self._rows = rows_from_store_table(self.store_table)
        return self._rows

    @rows.setter
    def rows(self, rows: Any) -> None:
        """Rows as a frame or list; or the store's Arrow table, from which a frame is made when asked for."""
        if isinstance(rows, pa.Table):
            self._rows, self.store_table = None, rows
        else:
            self._rows, self.store_table = rows, None

    @property
    def ok(self) -> bool:
        if self.problems:
            return False
        return self.store_table.num_rows > 0 if self._rows is None else len(self._rows) > 0

    def __repr__(self) -> str:
        count = self.store_table.num_rows if self._rows is None else len(self._rows)
        return (f"Validated(kind={self.kind!r}, file_name={self.file_name!r}, rows={count}, "
                f"problems={len(self.problems)}, warnings={len(self.warnings)})")


def rows_from_store_table(table: pa.Table) -> pd.DataFrame:
    """`Validated.rows` from a contract file's store table (which holds no names and no source rows)."""
    count = table.num_rows
    columns: dict[str, Any] = {"indicator_name": np.full(count, None, dtype=object),
                               "area_name": np.full(count, None, dtype=object),
                               "source_row": np.arange(2, 2 + count)}
    for name in ROW_COLUMNS:
        if name in columns:
            continue
        cells = table.column(name)
        if name in FLOAT_COLUMNS:
            columns[name] = cells.to_numpy().astype("float64")  # nulls are NaN
        elif pa.types.is_date32(cells.type):
            columns[name] = np.asarray(cells.to_pylist(), dtype=object)
        else:
            columns[name] = cells.to_numpy(zero_copy_only=False).astype(object)
    return assemble(columns)


def empty_rows() -> pd.DataFrame:
    """A `Validated.rows` frame with no rows and the right columns and types."""
    return assemble({name: [] for name in ROW_COLUMNS})


def assemble(columns: dict[str, Any]) -> pd.DataFrame:
    """The rows frame from one array per column of `ROW_COLUMNS`."""
    def dtype(name: str) -> Any:
        return "float64" if name in FLOAT_COLUMNS else "int64" if name == "source_row" else object

    # Built column by column with explicit types: pandas would otherwise turn None into NaN.
    return pd.DataFrame({name: pd.Series(np.asarray(columns[name]), dtype=dtype(name), copy=False)
                         for name in ROW_COLUMNS}, copy=False)


class Collector:
    """Gathers problems; keeps only the first `limit` rows of each check but counts them all."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: list[Problem] = []
        self.total = 0

    def file(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.add(Problem(row, column, message))

    def add(self, problem: Problem) -> None:
        self.total += 1
        if len(self.items) < 10 * self.limit:  # e.g. every row of a file with the wrong number of cells
            self.items.append(problem)

    def cells(self, mask: Any, rows: np.ndarray, column: str, message: Callable[[int], str]) -> None:
        """One problem per True in `mask`; `message(i)` is given the position of the failing row."""
        positions = np.flatnonzero(as_bool(mask))
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


def as_bool(mask: Any) -> np.ndarray:
    if isinstance(mask, pd.Series):
        return mask.to_numpy(dtype=bool, na_value=False)
    return np.asarray(mask, dtype=bool)


def show(text: Any, limit: int = 60) -> str:
    """A cell's text made safe to quote in a one-line message."""
    text = re.sub(r"\s+", " ", str(text)).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def size_text(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} bytes"
