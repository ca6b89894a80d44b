"""The Districts page's drill-down: each district against its county for every KPI (the districts-by-KPI
matrix), and each district's figures over time (small multiples).

A district is compared with the county the way Fingertips compares a sub-area with its parent area: the
district's 95% confidence interval against the county's figure for the same period (stats.compare_with_england
with the county's figure as the comparator). "Better" or "worse" when the whole interval lies on one side,
judged by the KPI's polarity; "similar" when it includes the county's figure; "not compared" when either
figure, the interval or a better direction is missing, or the KPI is a count (a district's count is part of
the county's)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import pandas as pd

from cypp_dash import number, stats, store
from cypp_dash.config import Config, Kpi, Plan
from cypp_dash.periods import parse_period
from cypp_dash.status import fmt, interval_from_row

COMPARISON_WORDS = {"better": "▲ Better", "similar": "● Similar", "worse": "▼ Worse", "not compared": "– Not compared"}
COMPARISON_TINTS = {"better": "#CCE2D8", "similar": "#F3F2F1", "worse": "#F4CDC6", "not compared": "#FFFFFF"}


@dataclass(frozen=True)
class Cell:
    """One district's latest figure for one KPI, compared with the county's figure for the same period."""

    kpi: str
    area: str
    period: str | None
    value: float | None
    unit: str
    comparison: str  # "better", "similar", "worse", "not compared"

    @property
    def text(self) -> str:
        return f"{COMPARISON_WORDS[self.comparison]} ({fmt(self.value, self.unit)})" if self.value is not None \
            else "– No figure"


def compare_with_county(kpi: Kpi, district_row: pd.Series | None, county_value: float | None) -> str:
    """The district's 95% interval against the county's figure: better, similar, worse or not compared."""
    if district_row is None or county_value is None or kpi.unit == "count":
        return "not compared"  # a district's count is a part of the county's, not a figure to compare with it
    value = number.finite(district_row.get("value"))
    ci = interval_from_row(district_row, kpi) if value is not None else None
    if ci is None:
        return "not compared"
    return stats.compare_with_england(value, ci.low, ci.high, county_value, kpi.polarity)


def matrix(conn: duckdb.DuckDBPyConnection, config: Config, plan: Plan, period: str | None = None,
           as_at: datetime | date | None = None) -> list[list[Cell]]:
    """One row per KPI of the plan, one cell per district: the district's figure for the county's latest period
    (at or before `period`) and how it compares with the county's."""
    up_to = parse_period(period).end if period else None
    ids = sorted({k.indicator_id for k in plan.kpis})
    rows = store.series(conn, ids, [plan.area, *plan.districts], up_to=up_to, as_at=as_at)
    rows = rows[rows["value"].notna()]
    out = []
    for kpi in plan.kpis:
        mine = rows[rows["indicator_id"] == kpi.indicator_id]
        county = mine[mine["area_code"] == plan.area]
        latest = county.iloc[-1] if not county.empty else None
        county_value = number.finite(latest["value"]) if latest is not None else None
        cells = []
        for d in plan.districts:
            theirs = mine[mine["area_code"] == d]
            if latest is not None:
                theirs = theirs[theirs["period"] == latest["period"]]
            row = theirs.iloc[-1] if not theirs.empty else None
            cells.append(Cell(kpi.code, d, row["period"] if row is not None else None,
                              number.finite(row["value"]) if row is not None else None, kpi.unit,
                              compare_with_county(kpi, row, county_value)))
        out.append(cells)
    return out


def matrix_frame(cells: list[list[Cell]], plan: Plan, config: Config) -> pd.DataFrame:
    """The matrix as a table: KPI, then one column per district (word, symbol and figure), for the downloads."""
    return pd.DataFrame([{"KPI": f"{row[0].kpi} {plan.kpi(row[0].kpi).name}" if row else "",
                          **{config.area_name(c.area): c.text for c in row}} for row in cells])


def trends_frame(conn: duckdb.DuckDBPyConnection, config: Config, plan: Plan, kpi: Kpi, period: str | None = None,
                 as_at: datetime | date | None = None) -> pd.DataFrame:
    """The county's and each district's figures for a KPI over time (the small multiples' data): one row per
    area and period, with the area's name, the run of the county's kind of period only."""
    up_to = parse_period(period).end if period else None
    rows = store.series(conn, [kpi.indicator_id], [plan.area, *plan.districts], up_to=up_to, as_at=as_at)
    rows = rows[rows["value"].notna()].copy()
    if rows.empty:
        return rows.assign(area_name=pd.Series(dtype=str))
    kinds = rows["period"].map(lambda p: parse_period(p).kind)
    county = rows[rows["area_code"] == plan.area]
    kind = kinds[county.index[-1]] if not county.empty else kinds.iloc[-1]
    rows = rows[kinds == kind]
    rows["area_name"] = rows["area_code"].map(config.area_name)
    return rows[["area_code", "area_name", "period", "period_end", "value"]].reset_index(drop=True)


def matrix_rows(cells: list[list[Cell]], plan: Plan, config: Config) -> list[dict]:
    """The matrix's rows as the page frame draws them (cypp_dash/web/templates/matrix.html): a row per KPI,
    each cell the comparison in word and symbol on its tint, with the figure and its period."""
    return [{"kpi": f"{plan.kpi(row[0].kpi).code} {plan.kpi(row[0].kpi).name}",
             "cells": [{"area": config.area_name(c.area), "tint": COMPARISON_TINTS[c.comparison],
                        "words": COMPARISON_WORDS[c.comparison],
                        "figure": fmt(c.value, c.unit) if c.value is not None else "no figure", "period": c.period}
                       for c in row]}
            for row in cells if row]
