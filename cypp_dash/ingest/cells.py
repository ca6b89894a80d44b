"""Reading whole columns of cells: numbers, periods, area names, flags and repeated keys, shared by the
contract format, Fingertips downloads and the quick path.

Codes, names and periods repeat a lot, so each distinct text is worked out once and spread back
over the rows (`distinct`, `spread`); checks return arrays, and messages are built only for the
rows that fail (`checked.Collector.cells`).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cypp_dash.ingest.checked import Collector, UploadRules, show
from cypp_dash.ingest.read import Table
from cypp_dash.periods import Period, PeriodError, is_future, parse_period
from cypp_dash.upload_limits import MAX_FIGURE_CHARS

# Written in `value` for "no figure"; the contract's list, compared case-insensitively.
MISSING_MARKERS = frozenset({"", "c", "[c]", "x", "[x]", "*", "..", "-"})

# Digits are ASCII only everywhere below: Python's \d (and int()) would take Arabic-Indic or
# full-width digits, and a code written with them would become a new area.
_DIGITS = r"(?:[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?|[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUMBER = rf"[+-]?{_DIGITS}"


def distinct_texts(text: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Factorise a text column: each row's position in the list of its distinct texts.

    Codes, names and periods repeat a lot, so they are worked out once per distinct text and
    spread back over the rows with `array[codes]`.
    """
    codes, uniques = pd.factorize(text)
    return codes, [str(u) for u in uniques]


def spread(codes: np.ndarray, values: list[Any], dtype: Any = object) -> np.ndarray:
    table = np.empty(len(values), dtype=dtype)
    for position, value in enumerate(values):
        table[position] = value
    return table[codes]


@dataclass
class Numbers:
    value: np.ndarray  # float; NaN where no figure or not a number
    marker: np.ndarray  # bool: blank or a suppression/missing marker
    bad: np.ndarray  # bool: text that is not a number
    percent: np.ndarray  # bool: written with a % sign
    decimals: np.ndarray  # int: decimal places as written (after any exponent)


def parse_numbers(text: pd.Series, allow_percent: bool) -> Numbers:
    """Read whole columns of numbers: "87.6%", "1,204" and " 12 " are numbers; markers are no figure."""
    codes, distinct = pd.factorize(text, use_na_sentinel=False)
    if len(distinct) < len(text):  # figures repeat: read each distinct text once, then spread it over the rows
        once = parse_numbers(pd.Series(distinct, dtype=text.dtype), allow_percent)
        return Numbers(once.value[codes], once.marker[codes], once.bad[codes], once.percent[codes],
                        once.decimals[codes])
    if not (text != "").any():  # an empty or missing column: no figures, and quickly
        nothing = np.zeros(len(text), dtype=bool)
        return Numbers(np.full(len(text), np.nan), ~nothing, nothing, nothing, np.zeros(len(text), dtype="int64"))
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
    return Numbers(value, marker, bad, percent & looks, decimals)


def not_a_number(text: str) -> str:
    if len(text) > MAX_FIGURE_CHARS:
        return f'"{show(text)}" is too long to be a figure ({len(text):,} characters; at most {MAX_FIGURE_CHARS})'
    return f'"{show(text)}" is not a number'


@dataclass
class Periods:
    ok: np.ndarray  # bool per row
    label: np.ndarray  # canonical label per row (None where not ok)
    start: np.ndarray
    end: np.ndarray
    reason: Callable[[int], str]  # why row i's period was refused


def parse_periods(text: pd.Series, rules: UploadRules, kinds: tuple[str, ...] | None) -> Periods:
    """Parse each distinct period once; refuse other kinds (when `kinds` is given) and the future."""
    codes, distinct = distinct_texts(text)
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
            reason = (f'"{show(label)}" is a {period.kind}; write a quarter like "2023/24 Q1" '
                      'or a financial year like "2023/24"')
            period = None
        elif period is not None and is_future(period, rules.today):
            reason = f'"{show(period.label)}" is in the future'
            period = None
        outcomes.append(period)
        reasons.append(reason)
    return Periods(
        ok=spread(codes, [p is not None for p in outcomes], bool),
        label=spread(codes, [p.label if p else None for p in outcomes]),
        start=spread(codes, [p.start if p else None for p in outcomes]),
        end=spread(codes, [p.end if p else None for p in outcomes]),
        reason=lambda i: reasons[codes[i]],
    )


def normal_lookup(area_lookup: Mapping[str, str]) -> dict[str, str]:
    lookup = {norm_name(key): code for key, code in area_lookup.items()}
    for code in area_lookup.values():
        lookup.setdefault(norm_name(code), code)
    return lookup


def norm_name(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().lower()


def flags_column(estimate: np.ndarray, provisional: np.ndarray, suppressed: np.ndarray) -> np.ndarray:
    """The `flags` text of each row: the words that apply, sorted and comma-joined."""
    names = ("estimate", "provisional", "suppressed")
    table = np.array(
        [",".join(n for bit, n in enumerate(names) if code >> bit & 1) for code in range(8)], dtype=object
    )
    return table[estimate.astype(int) | provisional.astype(int) << 1 | suppressed.astype(int) << 2]


def text_or_none(text: pd.Series, tidy: Callable[[str], str] = str) -> np.ndarray:
    codes, distinct = distinct_texts(text)
    return spread(codes, [tidy(t) or None for t in distinct])


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def key_codes(values: np.ndarray) -> np.ndarray:
    """Integer codes that are equal exactly when the values are (NaN equals NaN)."""
    return pd.factorize(values, use_na_sentinel=False)[0]


def duplicates(parts: list[np.ndarray], usable: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Usable rows whose key (the `parts`, one code array each) repeats an earlier row; and that row."""
    repeat = np.zeros(len(rows), dtype=bool)
    first = np.zeros(len(rows), dtype="int64")
    positions = np.flatnonzero(usable)
    if len(positions) == 0:
        return repeat, first
    # One integer per distinct key, built part by part (re-numbered only if it would overflow).
    key = np.zeros(len(positions), dtype="int64")
    for part in parts:
        codes = key_codes(part)[positions].astype("int64")
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


@dataclass
class Columns:
    """A table's cells by canonical column name (`columns`: name -> (position, name as written)), and
    where the problems go. A column the file lacks reads as blank and is named by `names` or itself."""

    table: Table
    columns: dict[str, tuple[int, str]]
    problems: Collector
    names: Mapping[str, str] | None = None

    @property
    def rows(self) -> np.ndarray:
        return self.table.rows

    def text(self, name: str) -> pd.Series:
        if name in self.columns:
            return self.table.cells[self.columns[name][0]]
        return pd.Series([""] * len(self.table.cells), dtype=str)

    def written(self, name: str) -> str:
        return self.columns[name][1] if name in self.columns else (self.names or {}).get(name, name)

    def refuse(self, failed: np.ndarray, name: str, message: Callable[[int], str]) -> None:
        self.problems.cells(failed, self.rows, self.written(name), message)

    def codes(self, name: str, resolve: Callable[[str], str | None], blank: str,
              wrong: str) -> tuple[np.ndarray, np.ndarray]:
        """(ok, code) per row: each distinct text resolved once; a blank cell or one that `resolve` gives
        None for is refused with `blank`, or `wrong` (formatted with the cell's text as {})."""
        text = self.text(name)
        codes, texts = distinct_texts(text)
        resolved = [resolve(t) for t in texts]
        ok = spread(codes, [r is not None for r in resolved], bool)
        self.refuse(~ok, name, lambda i: blank if text.iat[i] == "" else wrong.format(show(text.iat[i])))
        return ok, spread(codes, resolved)

