"""The quick path: a contract CSV in its plainest form, read by Arrow and checked as whole columns with
Arrow compute and numpy, handed to the store as an Arrow table in the store's own column types (no
pandas frame, no Python object per cell).

It never explains a problem: a file it cannot vouch for, including every file with a problem, gives
None and goes the careful path (`contract.py`), which names every problem by row and column. For the
files it takes, the careful path finds nothing to say, so both give the same rows
(tests/test_ingest_plain.py compares them).
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as arrow_csv

from cypp_dash.ingest.cells import flags_column, norm_name, normal_lookup, parse_periods
from cypp_dash.ingest.checked import Collector, UploadRules, Validated
from cypp_dash.ingest.contract import (
    CONTRACT_PERIOD_KINDS,
    NOTE_ESTIMATE,
    NOTE_PROVISIONAL,
    contract_columns,
    read_flags,
    unit_kind,
)
from cypp_dash.ingest.fingertips import is_fingertips
from cypp_dash.upload_limits import MAX_CELL_CHARS, MAX_COLUMNS, MAX_FIGURE_CHARS, MAX_ROWS

# Every byte but the control characters that mark a binary file (tab, CR, LF and FF are text): what is
# left after deleting these is the control characters (bytes.translate is one pass in C).
_NOT_CONTROL = bytes(b for b in range(256) if b not in {*range(0x01, 0x09), 0x0b, *range(0x0e, 0x20), 0x7f})
_DIGIT_OR_POINT = np.zeros(256, dtype=bool)
_DIGIT_OR_POINT[[*range(0x30, 0x3a), 0x2e]] = True
STORE_TYPES = {"indicator_id": pa.string(), "area_code": pa.string(), "period": pa.string(),
               "period_start": pa.date32(), "period_end": pa.date32(), "category": pa.string(),
               **{c: pa.float64() for c in ("value", "numerator", "denominator", "ci_low", "ci_high", "ci99_low",
                                              "ci99_high")},
               "note": pa.string(), "flags": pa.string(), "compared_with_england": pa.string()}


def store_table_quickly(data: bytes, rules: UploadRules, result: Validated) -> pa.Table | None:
    """The rows of a contract CSV in its plainest form as the store's Arrow table (`STORE_TYPES`); None
    when the file is anything else.

    Plainest form: UTF-8 without control characters or quotes; no blank lines, no spaces around cells, no
    unnamed column; every KPI, area and period known (and the period a past quarter or year); every value
    a plain figure (no markers, signs, % or thousands separators); numerator and denominator blank or
    plain figures; flags words only; and every figure passes every check."""
    found = _header(data)
    if found is None:
        return None
    body, names, columns, warnings = found
    table = _read(body, len(names))
    checked = None if table is None else _checked(table, columns, rules)
    if checked is not None:
        result.warnings.extend(warnings)  # unused columns: said the same way on either path
    return checked


def _header(data: bytes) -> tuple[bytes, list[str], dict[str, tuple[int, str]], list[str]] | None:
    if data.startswith((b"PK", b"\xd0\xcf\x11\xe0", b"\xff\xfe", b"\xfe\xff")) or b'"' in data or b"\x00" in data:
        return None
    body = data.removeprefix(b"\xef\xbb\xbf")
    if not body[:1].strip() or body.endswith(b"\x1a") or body.translate(None, _NOT_CONTROL):
        return None
    try:
        end = body.find(b"\n")
        header = (body if end < 0 else body[:end]).rstrip(b"\r").decode("utf-8").split(",")
    except UnicodeDecodeError:
        return None
    if (len(header) > MAX_COLUMNS or is_fingertips(header)
            or any(cell != cell.strip() or cell == "" or len(cell) > MAX_CELL_CHARS for cell in header)):
        return None
    problems, scratch = Collector(1), Validated()
    columns = contract_columns(header, 1, scratch, problems)
    if columns is None or problems.total:
        return None
    return body, header, columns, scratch.warnings


def _read(body: bytes, width: int) -> pa.Table | None:
    names = [f"c{i}" for i in range(width)]
    try:
        table = arrow_csv.read_csv(
            io.BytesIO(body), read_options=arrow_csv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=arrow_csv.ParseOptions(quote_char=False, ignore_empty_lines=False),
            convert_options=arrow_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                     strings_can_be_null=False))
    except (pa.ArrowException, UnicodeError, ValueError):
        return None
    if not 0 < table.num_rows <= MAX_ROWS:
        return None
    table = table.combine_chunks()
    for cells in table.columns:  # the careful path's limit: no cell longer than it allows (bytes >= characters)
        if pc.max(pc.binary_length(cells)).as_py() > MAX_CELL_CHARS and \
                pc.max(pc.utf8_length(cells)).as_py() > MAX_CELL_CHARS:
            return None
    return table


@dataclass
class _Coded:
    """A column as an index per row into a short list of distinct values."""

    index: np.ndarray
    values: list

    def array(self, type_: pa.DataType) -> pa.Array:
        return pa.array(self.values, type=type_).take(pa.array(self.index))


def _distinct(cells: pa.Array) -> tuple[np.ndarray, list[str]]:
    encoded = pc.dictionary_encode(cells)
    return encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary.to_pylist()


def _recoded(index: np.ndarray, meanings: list) -> _Coded:
    """Distinct texts that mean the same (case, aliases) folded to one index per meaning, sorted."""
    values = sorted(set(meanings))
    position = {v: i for i, v in enumerate(values)}
    return _Coded(np.array([position[m] for m in meanings], dtype=np.int32)[index], values)


def _unspaced(texts: list[str]) -> bool:  # no spaces around any cell (the careful path would strip them)
    return all(t == t.strip() for t in texts)


def _kpis(cells: pa.Array, rules: UploadRules) -> _Coded | None:
    units = {str(c).strip().upper(): u for c, u in rules.indicator_units.items()}
    index, texts = _distinct(cells)
    upper = [t.upper() for t in texts]
    if not _unspaced(texts) or not all(u in units or (rules.accept_unknown_indicators and u != "") for u in upper):
        return None
    return _recoded(index, upper)


def _areas(cells: pa.Array, rules: UploadRules) -> _Coded | None:
    lookup = normal_lookup(rules.area_lookup)
    index, texts = _distinct(cells)
    codes = [lookup.get(norm_name(t)) for t in texts]
    if not _unspaced(texts) or None in codes:
        return None
    return _recoded(index, codes)


def _periods(cells: pa.Array, rules: UploadRules) -> tuple[_Coded, pa.Array, pa.Array] | None:
    """(label, start, end): past quarters and financial years only."""
    index, texts = _distinct(cells)
    periods = parse_periods(pd.Series(texts, dtype=object), rules, CONTRACT_PERIOD_KINDS)
    if not _unspaced(texts) or not periods.ok.all():
        return None
    label = _recoded(index, list(periods.label))
    first = {lab: i for i, lab in reversed(list(enumerate(periods.label)))}
    start = [periods.start[first[lab]] for lab in label.values]
    end = [periods.end[first[lab]] for lab in label.values]
    return label, _Coded(label.index, start).array(pa.date32()), _Coded(label.index, end).array(pa.date32())


@dataclass
class _Figures:
    value: np.ndarray  # float64, NaN where blank
    decimals: np.ndarray  # decimal places as written


def _plain_figures(cells: pa.Array, blank_allowed: bool) -> _Figures | None:
    """Every cell digits, maybe a point and more digits (ASCII only); blank only where allowed."""
    offsets = np.frombuffer(cells.buffers()[1], dtype=np.int32)[cells.offset: cells.offset + len(cells) + 1]
    data = np.frombuffer(cells.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
    offsets = offsets - offsets[0]
    length = np.diff(offsets)
    if length.max() > MAX_FIGURE_CHARS or not _DIGIT_OR_POINT[data].all():
        return None
    blank = length == 0
    if blank.any() and not blank_allowed:
        return None
    filled = ~blank
    starts, ends = offsets[:-1][filled], offsets[1:][filled] - 1
    point = data == 0x2E
    if point[starts].any() or point[ends].any():  # ".5" and "5." are not plain
        return None
    where = np.flatnonzero(point)  # each point's cell, then how many points each cell has
    cell = np.searchsorted(offsets, where, side="right") - 1
    if len(cell) and (cell[1:] == cell[:-1]).any():  # two points in one cell
        return None
    decimals = np.zeros(len(cells), dtype=np.int64)
    decimals[cell] = offsets[1:][cell] - where - 1
    text = pc.if_else(pc.equal(cells, ""), None, cells) if blank.any() else cells
    value = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    return _Figures(value, decimals)


def _figures_pass(kpi: _Coded, rules: UploadRules, value: _Figures, n: np.ndarray, d: np.ndarray) -> bool:
    """value in range for its unit; numerator and denominator whole, numerator <= denominator > 0, and
    value = multiplier x numerator / denominator to its own rounding."""
    units = {str(c).strip().upper(): unit_kind(u) for c, u in rules.indicator_units.items()}
    kinds = [units.get(code, ("other", np.nan)) for code in kpi.values]
    kind = np.array([k for k, _ in kinds], dtype=object)[kpi.index]
    multiplier = np.array([m for _, m in kinds], dtype="float64")[kpi.index]
    v = value.value
    if ((kind == "percent") & (v > 100)).any() or ((kind == "count") & (v != np.floor(v))).any():
        return False
    for x in (n, d):
        if (x != np.floor(x))[~np.isnan(x)].any():
            return False
    if (d == 0).any():
        return False
    both = ~np.isnan(n) & ~np.isnan(d)
    with np.errstate(invalid="ignore", divide="ignore"):
        if (both & (n > d)).any():
            return False
        expected = multiplier * n / d
        tolerance = 0.5 * np.power(10.0, -value.decimals.astype("float64")) + 1e-9
        return not (both & ~np.isnan(multiplier) & ~(np.abs(expected - v) <= tolerance)).any()


def _flags(table: pa.Table, columns: dict[str, tuple[int, str]]) -> pa.Array | None:
    """The flags column from `flags` (words only) and `note` ("estimate", "provisional" in it)."""
    estimate = np.zeros(table.num_rows, dtype=bool)
    provisional = np.zeros(table.num_rows, dtype=bool)
    for name in ("flags", "note"):
        if name not in columns:
            continue
        index, texts = _distinct(table.column(columns[name][0]).chunk(0))
        if not _unspaced(texts):
            return None
        if name == "flags":
            meaning = [read_flags(t) for t in texts]
            if any(m[2] for m in meaning):
                return None
        else:
            meaning = [(bool(re.search(NOTE_ESTIMATE, t, re.I)), bool(re.search(NOTE_PROVISIONAL, t, re.I)))
                       for t in texts]
        estimate |= np.array([m[0] for m in meaning] or [False], dtype=bool)[index]
        provisional |= np.array([m[1] for m in meaning] or [False], dtype=bool)[index]
    code = estimate.astype(np.int32) | provisional.astype(np.int32) << 1
    words = list(flags_column(np.array([0, 1, 0, 1], dtype=bool), np.array([0, 0, 1, 1], dtype=bool),
                              np.zeros(4, dtype=bool)))
    return _Coded(code, words).array(pa.string())


def _repeats(kpi: _Coded, area: _Coded, label: _Coded) -> bool:
    """Whether any KPI/area/period comes twice (as one integer key per row, counted or sorted)."""
    key = (kpi.index.astype(np.int64) * len(area.values) + area.index) * len(label.values) + label.index
    space = len(kpi.values) * len(area.values) * len(label.values)
    if space <= 8 * len(key):
        return bool(np.bincount(key, minlength=space).max() > 1)
    ordered = np.sort(key)
    return bool((ordered[1:] == ordered[:-1]).any())


def _checked(table: pa.Table, columns: dict[str, tuple[int, str]], rules: UploadRules) -> pa.Table | None:
    def cells(name: str) -> pa.Array | None:
        return table.column(columns[name][0]).chunk(0) if name in columns else None

    kpi, area, period = _kpis(cells("kpi"), rules), _areas(cells("area"), rules), _periods(cells("period"), rules)
    value = _plain_figures(cells("value"), blank_allowed=False)
    if kpi is None or area is None or period is None or value is None:
        return None
    count = table.num_rows
    counts = {}
    for name in ("numerator", "denominator"):
        given = _plain_figures(cells(name), blank_allowed=True) if name in columns else _Figures(
            np.full(count, np.nan), np.zeros(count, dtype=np.int64))
        if given is None:
            return None
        counts[name] = given.value
    flags = _flags(table, columns)
    if flags is None or not _figures_pass(kpi, rules, value, counts["numerator"], counts["denominator"]) \
            or _repeats(kpi, area, period[0]):
        return None
    no_figure = pa.nulls(count, pa.float64())
    note = pc.if_else(pc.equal(cells("note"), ""), None, cells("note")) if "note" in columns else pa.nulls(
        count, pa.string())
    arrays = {
        "indicator_id": kpi.array(pa.string()), "area_code": area.array(pa.string()),
        "period": period[0].array(pa.string()), "period_start": period[1], "period_end": period[2],
        "category": pa.array([""], pa.string()).take(pa.array(np.zeros(count, dtype=np.int32))),
        "value": pa.array(value.value), "numerator": pa.array(counts["numerator"], from_pandas=True),
        "denominator": pa.array(counts["denominator"], from_pandas=True),
        "ci_low": no_figure, "ci_high": no_figure, "ci99_low": no_figure, "ci99_high": no_figure,
        "note": note, "flags": flags, "compared_with_england": pa.nulls(count, pa.string()),
    }
    return pa.table(arrays, schema=pa.schema(list(STORE_TYPES.items())))
