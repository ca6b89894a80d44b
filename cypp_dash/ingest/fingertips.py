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
    distinct_texts,
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


def validate_fingertips(
    table: Table, rules: UploadRules, result: Validated, problems: Collector
) -> pd.DataFrame | None:
    columns: dict[str, tuple[int, str]] = {}
    for position, written in enumerate(table.header):
        key = _fingertips_key(written)
        if key in _FINGERTIPS_NAMES:
            if key in columns:
                result.warnings.append(f'column "{show(written)}" repeats "{columns[key][1]}"; the first was used')
                continue
            columns[key] = (position, written)
        elif written and not key.startswith("comparedto"):
            result.warnings.append(f'column "{show(written)}" is not a Fingertips column and was ignored')
    cells, rows, count = table.cells, table.rows, len(table.cells)

    def col(key: str) -> pd.Series:
        return cells[columns[key][0]] if key in columns else pd.Series([""] * count, dtype=str)

    def written(key: str) -> str:
        return columns[key][1] if key in columns else _FINGERTIPS_NAMES[key]

    # indicator: a whole number; any one unless the rules say only the plan's
    ind_text = col("indicatorid")
    ind_codes, ind_distinct = distinct_texts(ind_text)
    ids = [_fingertips_indicator(t) for t in ind_distinct]
    indicator = spread(ind_codes, ids)
    ind_ok = spread(ind_codes, [i is not None for i in ids], bool)
    problems.cells(
        ~ind_ok, rows, written("indicatorid"),
        lambda i: "no indicator ID given" if ind_text.iat[i] == ""
        else f'"{show(ind_text.iat[i])}" is not a Fingertips indicator ID (a whole number of at most 12 digits)',
    )
    if not rules.accept_unknown_indicators:
        plan = {str(k).strip().upper() for k in rules.indicator_units}
        unknown = ind_ok & spread(ind_codes, [i is not None and i not in plan for i in ids], bool)
        problems.cells(unknown, rows, written("indicatorid"),
                       lambda i: f'"{indicator[i]}" is not an indicator in this plan')
        ind_ok &= ~unknown

    # area: any GSS code as it is (Fingertips covers every English area); a name must be known
    lookup = normal_lookup(rules.area_lookup)
    area_text = col("areacode")
    area_codes, area_distinct = distinct_texts(area_text)
    resolved = [t.upper() if _GSS.fullmatch(t) else lookup.get(norm_name(t)) for t in area_distinct]
    area_code = spread(area_codes, resolved)
    area_ok = spread(area_codes, [r is not None for r in resolved], bool)
    problems.cells(
        ~area_ok, rows, written("areacode"),
        lambda i: "no area code given" if area_text.iat[i] == ""
        else f'"{show(area_text.iat[i])}" is not an area code',
    )

    # period: any kind Fingertips uses (years, quarters, pooled ranges), not in the future
    periods = parse_periods(col("timeperiod"), rules, None)
    problems.cells(~periods.ok, rows, written("timeperiod"), periods.reason)

    numbers: dict[str, np.ndarray] = {}
    for key, target in _FINGERTIPS_NUMBERS.items():
        text = col(key)
        parsed = parse_numbers(text, allow_percent=True)
        problems.cells(parsed.bad, rows, written(key), lambda i, t=text: not_a_number(t.iat[i]))
        numbers[target] = parsed.value

    note_text = col("valuenote")
    estimate = note_text.str.contains(r"modelled|estimate", case=False, regex=True).to_numpy(dtype=bool)
    provisional = note_text.str.contains("provisional", case=False, regex=False).to_numpy(dtype=bool)
    suppressed = note_text.str.contains("suppress", case=False, regex=False).to_numpy(dtype=bool)
    compared = text_or_none(col("comparedtoenglandvalueorpercentiles"), lambda t: t.strip().lower())
    note = text_or_none(note_text)
    category = _fingertips_category(indicator, col("sex"), col("age"), col("categorytype"), col("category"))

    # A download can hold the same row twice (an area listed under two parents): skip exact copies;
    # a repeat with different figures is a problem.
    usable = ind_ok & area_ok & periods.ok
    key = [indicator, area_code, periods.label, category]
    copy, _ = duplicates(key + [note, compared, *numbers.values()], usable, rows)
    if copy.any():
        result.warnings.append(f"{int(copy.sum()):,} row(s) repeat an earlier row exactly and were skipped")
    repeat, first = duplicates(key, usable & ~copy, rows)
    problems.cells(
        repeat, rows, written("timeperiod"),
        lambda i: " / ".join(str(k[i]) for k in key if k[i]) + f" is already on row {first[i]} with different figures",
    )

    if problems.total:
        return None
    keep = ~copy
    return assemble({
        "indicator_id": indicator[keep],
        "indicator_name": text_or_none(col("indicatorname"), one_line)[keep],
        "area_code": area_code[keep],
        "area_name": text_or_none(col("areaname"), one_line)[keep],
        "period": periods.label[keep],
        "period_start": periods.start[keep],
        "period_end": periods.end[keep],
        "category": category[keep],
        **{target: values[keep] for target, values in numbers.items()},
        "note": note[keep],
        "flags": flags_column(estimate, provisional, suppressed)[keep],
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
    return spread(codes, labels)
