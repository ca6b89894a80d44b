"""The Fingertips reader: a download from OHID Fingertips (Public Health Profiles) checked and read
into the store's rows: any indicator (or the plan's only), any English area code, any period kind
Fingertips uses, confidence limits, counts and its value notes as flags.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from cypp_dash.ingest.cells import (
    Columns,
    duplicates,
    flags_column,
    norm_name,
    normal_lookup,
    not_a_number,
    one_line,
    parse_numbers,
    parse_periods,
    spread,
    text_or_none,
)
from cypp_dash.ingest.checked import Collector, UploadRules, Validated, assemble, show
from cypp_dash.ingest.read import Table

_GSS = re.compile(r"[A-Za-z][0-9]{8}")
_WHOLE_ID = r"[0-9]{1,12}(?:\.0*)?"

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


def is_fingertips(header: list[str]) -> bool:
    keys = {_fingertips_key(h) for h in header}
    return all(k in keys for k in _FINGERTIPS_NEEDED)


def _fingertips_indicator(text: str) -> str | None:
    """ "90886" (or "90886.0" from a spreadsheet) -> "90886"; anything else -> None."""
    if not re.fullmatch(_WHOLE_ID, text):
        return None
    return str(int(text.partition(".")[0]))


def _fingertips_columns(header: list[str], result: Validated) -> dict[str, tuple[int, str]]:
    columns: dict[str, tuple[int, str]] = {}
    for position, written in enumerate(header):
        key = _fingertips_key(written)
        if key in _FINGERTIPS_NAMES:
            if key in columns:
                result.warnings.append(f'column "{show(written)}" repeats "{columns[key][1]}"; the first was used')
                continue
            columns[key] = (position, written)
        elif written and not key.startswith("comparedto"):
            result.warnings.append(f'column "{show(written)}" is not a Fingertips column and was ignored')
    return columns


def check_indicator(file: Columns, rules: UploadRules) -> tuple[np.ndarray, np.ndarray]:
    """Indicator ID: a whole number; any one unless the rules say only the plan's. (ok, id) per row."""
    ok, indicator = file.codes("indicatorid", _fingertips_indicator, "no indicator ID given",
                               '"{}" is not a Fingertips indicator ID (a whole number of at most 12 digits)')
    if not rules.accept_unknown_indicators:
        plan = {str(k).strip().upper() for k in rules.indicator_units}
        unknown = ok & ~pd.Series(indicator, dtype=object).isin(plan).to_numpy()
        file.refuse(unknown, "indicatorid", lambda i: f'"{indicator[i]}" is not an indicator in this plan')
        ok &= ~unknown
    return ok, indicator


def check_area(file: Columns, rules: UploadRules) -> tuple[np.ndarray, np.ndarray]:
    """Area Code: any GSS code as it is (Fingertips covers every English area); a name must be known."""
    lookup = normal_lookup(rules.area_lookup)
    return file.codes("areacode", lambda t: t.upper() if _GSS.fullmatch(t) else lookup.get(norm_name(t)),
                      "no area code given", '"{}" is not an area code')


def validate_fingertips(
    table: Table, rules: UploadRules, result: Validated, problems: Collector
) -> pd.DataFrame | None:
    """The rows of a Fingertips download, or None with every problem in `problems`."""
    file = Columns(table, _fingertips_columns(table.header, result), problems, _FINGERTIPS_NAMES)
    ind_ok, indicator = check_indicator(file, rules)
    area_ok, area_code = check_area(file, rules)
    # period: any kind Fingertips uses (years, quarters, pooled ranges), not in the future
    periods = parse_periods(file.text("timeperiod"), rules, None)
    file.refuse(~periods.ok, "timeperiod", periods.reason)
    numbers: dict[str, np.ndarray] = {}
    for key, target in _FINGERTIPS_NUMBERS.items():
        text = file.text(key)
        parsed = parse_numbers(text, allow_percent=True)
        file.refuse(parsed.bad, key, lambda i, t=text: not_a_number(t.iat[i]))
        numbers[target] = parsed.value
    category = _fingertips_category(indicator, *(file.text(k) for k in ("sex", "age", "categorytype", "category")))
    compared = text_or_none(file.text("comparedtoenglandvalueorpercentiles"), lambda t: t.strip().lower())
    note = text_or_none(file.text("valuenote"))
    # A download can hold the same row twice (an area listed under two parents): skip exact copies;
    # a repeat with different figures is a problem.
    usable, rows = ind_ok & area_ok & periods.ok, file.rows
    key = [indicator, area_code, periods.label, category]
    copy, _ = duplicates(key + [note, compared, *numbers.values()], usable, rows)
    if copy.any():
        result.warnings.append(f"{int(copy.sum()):,} row(s) repeat an earlier row exactly and were skipped")
    repeat, first = duplicates(key, usable & ~copy, rows)
    file.refuse(repeat, "timeperiod", lambda i: " / ".join(str(k[i]) for k in key if k[i])
                + f" is already on row {first[i]} with different figures")
    if problems.total:
        return None
    keep = ~copy
    return assemble({
        "indicator_id": indicator[keep], "indicator_name": text_or_none(file.text("indicatorname"), one_line)[keep],
        "area_code": area_code[keep], "area_name": text_or_none(file.text("areaname"), one_line)[keep],
        "period": periods.label[keep], "period_start": periods.start[keep], "period_end": periods.end[keep],
        "category": category[keep], **{target: values[keep] for target, values in numbers.items()},
        "note": note[keep], "flags": _flags(file.text("valuenote"))[keep],
        "compared_with_england": compared[keep], "source_row": rows[keep],
    })


def _flags(note: pd.Series) -> np.ndarray:
    """Flags from Fingertips' value note: modelled or estimated, provisional, suppressed."""
    estimate = note.str.contains(r"modelled|estimate", case=False, regex=True).to_numpy(dtype=bool)
    provisional = note.str.contains("provisional", case=False, regex=False).to_numpy(dtype=bool)
    suppressed = note.str.contains("suppress", case=False, regex=False).to_numpy(dtype=bool)
    return flags_column(estimate, provisional, suppressed)


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
    return spread(codes, labels)
