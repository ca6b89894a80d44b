"""Upload validation: read a CSV/XLSX upload or a Fingertips download into normalised rows, or list every problem.

This is the one validation engine behind the upload page and `python -m cypp_dash import`. It
never writes to the store: `store.load_batch` takes the `Validated` it returns. By job:

- `checked.py`: what checking gives: `Problem` (row, column, reason), `Validated` (the checked file,
  also the action tracker's), the rules a file is checked against;
- `read.py`: the one text decoder (figures, actions, commentary), CSV text into a table of cells;
  `xlsx.py`: a workbook's first sheet streamed cell by cell;
- `cells.py`: whole columns of numbers, periods, areas, flags and repeated keys;
- `contract.py`: the contract format, one check per column; `fingertips.py`: the Fingertips reader;
- `plain.py`: the quick path, the plainest contract CSV checked with Arrow and handed to the store as
  Arrow (a million rows in about DuckDB's own time to read the file).

Checks run on whole columns, so a million-row CSV takes seconds on the careful path; Python loops
run only over the rows that fail, and at most `MAX_PROBLEMS` of those are reported.
"""
from __future__ import annotations

import hashlib

from cypp_dash.ingest import contract, fingertips, plain, read, xlsx
from cypp_dash.ingest.cells import MISSING_MARKERS
from cypp_dash.ingest.checked import (
    MAX_PROBLEMS,
    ROW_COLUMNS,
    Collector,
    Problem,
    Refused,
    UploadRules,
    Validated,
    empty_rows,
    show,
    size_text,
)
from cypp_dash.ingest.contract import unit_kind
from cypp_dash.ingest.xlsx import FORMULA_WITHOUT_VALUE

__all__ = ["FORMULA_WITHOUT_VALUE", "MAX_PROBLEMS", "MISSING_MARKERS", "ROW_COLUMNS", "Problem", "UploadRules",
           "Validated", "empty_rows", "unit_kind", "validate_upload"]

_WORKBOOK = (b"PK\x03\x04", b"PK\x05\x06")


def _blank(data: bytes) -> bool:
    """Nothing but a byte-order mark and white space (without copying a large file)."""
    rest = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    return not rest or rest.isspace()


def validate_upload(data: bytes, file_name: str, rules: UploadRules) -> Validated:
    """Check an upload or a Fingertips download; never raises (a crash becomes a file-level problem)."""
    result = Validated(kind="upload", rows=empty_rows(), file_name=str(file_name or ""))
    collector = Collector(MAX_PROBLEMS)
    try:
        data = bytes(data)
        result.sha256 = hashlib.sha256(data).hexdigest()
        rows = _validate(data, rules, result, collector)
    except Refused as refused:
        collector.add(refused.problem)
        rows = None
    except Exception as exc:  # noqa: BLE001 - the page and the CLI must get a refusal, never a traceback
        collector.file(
            f"the file could not be checked because of an unexpected error ({type(exc).__name__}: {show(str(exc))});"
            " nothing was loaded"
        )
        rows = None
    result.problems = collector.result()
    if not result.problems and rows is not None:
        result.rows = rows
    return result


def _validate(data: bytes, rules: UploadRules, result: Validated, problems: Collector):
    """The rows (a frame, or the quick path's store table), or None with the problems in `problems`."""
    if len(data) > rules.max_bytes:
        problems.file(f"the file is {size_text(len(data))}; the largest file accepted is {size_text(rules.max_bytes)}")
        return None
    if _blank(data):
        problems.file("the file is empty")
        return None
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        problems.file(
            "this is an old-style Excel (.xls) file or a password-protected workbook; "
            "save it as an Excel workbook (.xlsx) or CSV without a password and upload that"
        )
        return None
    if data.startswith(_WORKBOOK):
        grid = xlsx.read_xlsx(data, rules.max_bytes, problems)
    else:
        quick = plain.store_table_quickly(data, rules, result)  # UTF-8 and plain: checked as whole columns
        if quick is not None:
            return quick
        grid = read.read_csv(read.read_text(data, result.warnings), problems)
    if grid is None:
        return None
    table = read.to_table(*grid, result, problems, from_workbook=data.startswith(_WORKBOOK))
    if table is None:
        return None
    if fingertips.is_fingertips(table.header):
        result.kind = "fingertips"
        return fingertips.validate_fingertips(table, rules, result, problems)
    return contract.validate_contract(table, rules, result, problems)
