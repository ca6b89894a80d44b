"""The contract upload format (kpi, area, period, value [, numerator, denominator, note, flags]): one
check per column, each naming the row, the column and the reason of every cell it refuses.

Every check works on whole columns and builds a message only for a failing row; the quick path
(`plain.py`) takes the plainest files and gives the same rows.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cypp_dash.ingest.cells import (
    Columns,
    Numbers,
    Periods,
    distinct_texts,
    duplicates,
    flags_column,
    norm_name,
    normal_lookup,
    not_a_number,
    parse_numbers,
    parse_periods,
    spread,
    text_or_none,
)
from cypp_dash.ingest.checked import Collector, UploadRules, Validated, assemble, show
from cypp_dash.ingest.read import Table, column_letter

REQUIRED = ("kpi", "area", "period", "value")
OPTIONAL = ("numerator", "denominator", "note", "flags")
FLAG_WORDS = {"estimate": "estimate", "estimated": "estimate", "provisional": "provisional"}
CONTRACT_PERIOD_KINDS = ("quarter", "financial year")
NOTE_PROVISIONAL = r"\bprovisional\b"
NOTE_ESTIMATE = r"\bestimated?\b"


def unit_kind(unit: str) -> tuple[str, float]:
    """("percent" | "count" | "rate" | "other", multiplier for numerator/denominator or NaN)."""
    u = str(unit).strip().lower()
    if u.startswith("%") or "percent" in u:
        return "percent", 100.0
    if u.startswith(("count", "number")):
        return "count", np.nan
    if m := re.search(r"per\s*([\d,]+)", u):
        return "rate", float(m.group(1).replace(",", ""))
    return "other", np.nan


def contract_columns(header: list[str], header_row: int, result: Validated,
                     problems: Collector) -> dict[str, tuple[int, str]] | None:
    """Map canonical column names to (position, name as written); None when a required one is missing."""
    if len(header) == 1 and any(sep in header[0] for sep in (";", "\t")):
        problems.file(
            "the columns are separated by ; or tabs, not commas: save the file as CSV (comma delimited)",
            row=header_row,
        )
        return None
    found: dict[str, tuple[int, str]] = {}
    for position, written in enumerate(header):
        key = re.sub(r"\s+", " ", written).lower()
        if key in REQUIRED or key in OPTIONAL:
            if key in found:
                problems.file(
                    f"the column appears twice (columns {column_letter(found[key][0])} and {column_letter(position)})",
                    row=header_row, column=written,
                )
                continue
            found[key] = (position, written)
        elif written:
            result.warnings.append(f'column "{show(written)}" is not used and was ignored')
    missing = [name for name in REQUIRED if name not in found]
    for name in missing:
        problems.file(
            f"there is no {name} column; the header row must have kpi, area, period and value",
            row=header_row, column=name,
        )
    return None if missing else found


@dataclass
class _Kpis:
    ok: np.ndarray  # bool per row
    code: np.ndarray  # the code upper-cased
    kind: np.ndarray  # "percent", "count", "rate" or "other"
    multiplier: np.ndarray  # for numerator / denominator, NaN when the unit has none


def check_kpi(file: Columns, rules: UploadRules) -> _Kpis:
    """kpi: a code in the plan, whatever its case."""
    units = {str(c).strip().upper(): unit_kind(u) for c, u in rules.indicator_units.items()}
    text = file.text("kpi")
    codes, texts = distinct_texts(text)
    upper = [t.upper() for t in texts]
    known = [u in units or (rules.accept_unknown_indicators and u != "") for u in upper]
    kpis = _Kpis(ok=spread(codes, known, bool), code=spread(codes, upper),
                 kind=spread(codes, [units.get(u, ("other", np.nan))[0] for u in upper]),
                 multiplier=spread(codes, [units.get(u, ("other", np.nan))[1] for u in upper], "float64"))
    file.refuse(~kpis.ok, "kpi",
                lambda i: "no KPI given" if text.iat[i] == "" else f'"{show(text.iat[i])}" is not a KPI in this plan')
    return kpis


def check_area(file: Columns, rules: UploadRules) -> tuple[np.ndarray, np.ndarray]:
    """area: a code, name or alias, whatever the case and spacing; (ok, GSS code) per row."""
    lookup = normal_lookup(rules.area_lookup)
    return file.codes("area", lambda t: lookup.get(norm_name(t)), "no area given", '"{}" is not a known area')


def check_period(file: Columns, rules: UploadRules) -> Periods:
    """period: a quarter or financial year, not in the future."""
    periods = parse_periods(file.text("period"), rules, CONTRACT_PERIOD_KINDS)
    file.refuse(~periods.ok, "period", periods.reason)
    return periods


def check_value(file: Columns, kpis: _Kpis) -> tuple[Numbers, np.ndarray]:
    """value: a number or a marker, in range for the KPI's unit; (the figures, which are usable)."""
    text = file.text("value")
    value = parse_numbers(text, allow_percent=True)
    file.refuse(value.bad, "value", lambda i: not_a_number(text.iat[i]))
    v = value.value
    ok = ~np.isnan(v)
    is_percent, is_count = kpis.kind == "percent", kpis.kind == "count"
    checks = (
        (is_count & value.percent, lambda i: f"{show(text.iat[i])} is a percentage but {kpis.code[i]} is a count"),
        (is_percent & ((v < 0) | (v > 100)), lambda i: f"{show(text.iat[i])} is not a percentage between 0 and 100"),
        (is_count & ((v < 0) | (v != np.floor(v))),
         lambda i: f"{show(text.iat[i])} is not a count (a whole number, 0 or more)"),
        (v < 0, lambda i: f"{show(text.iat[i])} is negative"),
    )
    for failed, message in checks:
        failed = ok & failed
        file.refuse(failed, "value", message)
        ok &= ~failed
    return value, ok


@dataclass
class _Whole:
    text: pd.Series
    value: np.ndarray  # float, NaN where blank
    given: np.ndarray  # bool: a figure was written
    ok: np.ndarray  # bool: given and passes


def check_whole_number(file: Columns, name: str) -> _Whole:
    """numerator, denominator: whole numbers 0 or more if given; a denominator more than 0."""
    text = file.text(name)
    parsed = parse_numbers(text, allow_percent=False)
    file.refuse(parsed.bad, name, lambda i: not_a_number(text.iat[i]))
    x = parsed.value
    given = ~np.isnan(x)
    failed = given & ((x < 0) | (x != np.floor(x)))
    file.refuse(failed, name, lambda i: f"{show(text.iat[i])} is not a whole number, 0 or more")
    ok = given & ~failed
    if name == "denominator":
        zero = ok & (x == 0)
        file.refuse(zero, name, lambda i: "the denominator must be more than 0")
        ok &= ~zero
    return _Whole(text, x, given, ok)


def check_agreement(file: Columns, kpis: _Kpis, value: Numbers, value_ok: np.ndarray, n: _Whole, d: _Whole) -> None:
    """numerator <= denominator, and value = multiplier x numerator / denominator to the value's own rounding."""
    both = n.ok & d.ok
    with np.errstate(invalid="ignore"):
        over = both & (n.value > d.value)
    file.refuse(over, "numerator",
                lambda i: f"numerator {show(n.text.iat[i])} is more than denominator {show(d.text.iat[i])}")
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = kpis.multiplier * n.value / d.value
        tolerance = 0.5 * np.power(10.0, -value.decimals.astype("float64")) + 1e-9
        disagree = (both & ~over & value_ok & ~np.isnan(kpis.multiplier)
                    & ~(np.abs(expected - value.value) <= tolerance))
    value_text = file.text("value")
    file.refuse(disagree, "value", lambda i: (
        f"{show(value_text.iat[i])} does not agree with numerator and denominator: "
        f"{kpis.multiplier[i]:,.0f} x {show(n.text.iat[i])} / {show(d.text.iat[i])} = "
        f"{round_text(expected[i], int(value.decimals[i]) + 2)}"))


def warn_withheld(file: Columns, value: Numbers, n: _Whole, d: _Whole, result: Validated) -> None:
    """A warning (not a problem) for rows with no figure but a numerator or denominator: both are dropped."""
    hidden = value.marker & (n.given | d.given)
    if hidden.any():
        listed = ", ".join(str(r) for r in file.rows[hidden][:10])
        result.warnings.append(
            f"{int(hidden.sum()):,} row(s) have no figure in value but a numerator or denominator; these were not "
            f"stored (rows {listed}{', ...' if hidden.sum() > 10 else ''}), so a suppressed figure cannot be worked out"
        )


def check_flags_and_note(file: Columns) -> tuple[np.ndarray, np.ndarray]:
    """flags: the words estimate and provisional only; a note saying either sets it too. (estimate, provisional)."""
    count = len(file.rows)
    estimate = np.zeros(count, dtype=bool)
    provisional = np.zeros(count, dtype=bool)
    if "flags" in file.columns:
        codes, texts = distinct_texts(file.text("flags"))
        meaning = [read_flags(t) for t in texts]
        wrong = spread(codes, [m[2] for m in meaning])
        file.refuse(wrong != "", "flags", lambda i: wrong[i])
        estimate |= spread(codes, [m[0] for m in meaning], bool)
        provisional |= spread(codes, [m[1] for m in meaning], bool)
    if "note" in file.columns:
        note = file.text("note")
        estimate |= note.str.contains(NOTE_ESTIMATE, case=False, regex=True).to_numpy(dtype=bool)
        provisional |= note.str.contains(NOTE_PROVISIONAL, case=False, regex=True).to_numpy(dtype=bool)
    return estimate, provisional


def check_repeats(file: Columns, kpis: _Kpis, area: tuple[np.ndarray, np.ndarray], periods: Periods) -> None:
    """No KPI/area/period twice in the file (named on the later row, with the earlier one)."""
    area_ok, area_code = area
    repeat, first = duplicates([kpis.code, area_code, periods.label], kpis.ok & area_ok & periods.ok, file.rows)
    file.refuse(repeat, "period",
                lambda i: f"{kpis.code[i]} / {area_code[i]} / {periods.label[i]} is already on row {first[i]}")


def validate_contract(table: Table, rules: UploadRules, result: Validated, problems: Collector) -> pd.DataFrame | None:
    """The rows of a contract file, or None with every problem in `problems`."""
    columns = contract_columns(table.header, table.header_row, result, problems)
    if columns is None:
        return None
    file = Columns(table, columns, problems)
    kpis = check_kpi(file, rules)
    area = check_area(file, rules)
    periods = check_period(file, rules)
    value, value_ok = check_value(file, kpis)
    n, d = check_whole_number(file, "numerator"), check_whole_number(file, "denominator")
    check_agreement(file, kpis, value, value_ok, n, d)
    warn_withheld(file, value, n, d, result)
    estimate, provisional = check_flags_and_note(file)
    check_repeats(file, kpis, area, periods)
    if problems.total:
        return None
    return contract_rows(
        code=kpis.code, area_code=area[1], periods=(periods.label, periods.start, periods.end), value=value.value,
        # A suppressed or missing figure withholds its numerator and denominator too (issue 15).
        numerator=np.where(value.marker, np.nan, n.value), denominator=np.where(value.marker, np.nan, d.value),
        note=text_or_none(file.text("note")), flags=flags_column(estimate, provisional, value.marker),
        source_row=file.rows)


def contract_rows(*, code, area_code, periods, value, numerator, denominator, note, flags,
                  source_row) -> pd.DataFrame:
    """The store's rows for a contract file (which has no names, category, intervals or comparisons)."""
    count = len(code)
    nothing, no_figure = np.full(count, None, dtype=object), np.full(count, np.nan)
    label, start, end = periods
    return assemble({
        "indicator_id": code, "indicator_name": nothing, "area_code": area_code, "area_name": nothing,
        "period": label, "period_start": start, "period_end": end, "category": np.full(count, "", dtype=object),
        "value": value, "numerator": numerator, "denominator": denominator,
        "ci_low": no_figure, "ci_high": no_figure, "ci99_low": no_figure, "ci99_high": no_figure,
        "note": note, "flags": flags, "compared_with_england": nothing, "source_row": source_row,
    })


def round_text(x: float, places: int) -> str:
    text = f"{x:,.{max(places, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def read_flags(text: str) -> tuple[bool, bool, str]:
    """(estimate, provisional, problem message or "") for one `flags` cell."""
    words = [w.strip().lower() for w in re.split(r"[,;]", text) if w.strip()]
    wrong = [w for w in words if w not in FLAG_WORDS]
    if "suppressed" in wrong:
        message = '"suppressed" is not a flag you can set: write c or [c] in value for a suppressed figure'
    elif len(wrong) == 1:
        message = f'"{show(wrong[0])}" is not a flag (use estimate or provisional)'
    elif wrong:
        message = " and ".join(f'"{show(w)}"' for w in wrong) + " are not flags (use estimate or provisional)"
    else:
        message = ""
    found = {FLAG_WORDS[w] for w in words if w in FLAG_WORDS}
    return "estimate" in found, "provisional" in found, message
