"""The view a page draws: the reader's choice of plan, area, period and as-at date (and paper view), with the
figures for it read through the cached reads (cypp_dash/web/cache.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd
import streamlit as st

from cypp_dash import freshness, status
from cypp_dash.config import Config, Kpi, Plan
from cypp_dash.periods import parse_period
from cypp_dash.web.cache import cached_district_table, cached_kpi_series, cached_plan_status, cached_wider_outcomes


@dataclass
class View:
    """What the reader has chosen: plan, area, period and as-at date, plus the paper-view switch."""

    config: Config
    plan: Plan
    area: str
    period: str | None
    as_at: date | None
    paper: bool
    conn: duckdb.DuckDBPyConnection
    version: int

    @property
    def area_name(self) -> str:
        return self.config.area_name(self.area)

    @property
    def period_text(self) -> str:
        """What the figures shown run to, in words: "figures to 2025/26 Q4" (the chosen period, else the latest
        period among the area's figures), with the as-at date when one is chosen."""
        words = freshness.figures_to([s.period for s in self.statuses()], self.period)
        return words + (f", as at {self.as_at:%d %B %Y}" if self.as_at else "")

    @property
    def latest_period(self) -> str | None:
        """The latest period among the area's figures (a KPI whose figures stop earlier lags behind it)."""
        return self.period or freshness.latest_period(s.period for s in self.statuses())

    @property
    def produced_line(self) -> str:
        """"Produced on <date> · figures to <period> · <as-at>", for paper view and exports."""
        return freshness.produced_line(freshness.figures_to([s.period for s in self.statuses()], self.period),
                                       self.as_at)

    def statuses(self, partnership_id: str | None = None) -> list[status.KpiStatus]:
        return cached_plan_status(self.version, self.plan.id, self.area, self.period, self.as_at, partnership_id)

    def districts(self, kpi: Kpi) -> list[status.KpiStatus]:
        return cached_district_table(self.version, self.plan.id, kpi.code, self.period, self.as_at)

    def wider_outcomes(self) -> pd.DataFrame:
        """Every other indicator held for the area, latest figure each (cypp_dash.plan_info.wider_outcomes)."""
        return cached_wider_outcomes(self.version, self.plan.id, self.area)

    def spark_table(self, codes: list[str]) -> dict[str, list[float]]:
        """Every listed KPI's sparkline figures at once (the Overview asks for the plan's), kept per data
        version and choice of view: a repeat Overview neither re-reads nor re-filters each KPI's series."""
        return _spark_table(self.version, self.plan.id, self.area, self.period, self.as_at, tuple(sorted(codes)), self)

    def series(self, kpi: Kpi, areas: list[str]) -> pd.DataFrame:
        # One read (cached) for every KPI of the plan in these areas, not one per KPI: a page that
        # draws each KPI's trend then reads the store once, which matters when a read scans a national table.
        ids = tuple(sorted({k.indicator_id for k in self.plan.kpis} | {kpi.indicator_id}))
        return cached_kpi_series(self.version, ids, kpi.indicator_id, tuple(areas), self.period, self.as_at)

    def spark_values(self, kpi: Kpi, points: int = 12) -> list[float]:
        """The last figures of the KPI's run in the area (same kind of period as its latest), oldest first,
        for a sparkline."""
        rows = self.series(kpi, [self.area])
        rows = rows[rows["value"].notna()]
        if rows.empty:
            return []
        kinds = rows["period"].map(lambda p: parse_period(p).kind)
        return [float(v) for v in rows[kinds == kinds.iloc[-1]]["value"].tail(points)]


@st.cache_data(show_spinner=False, max_entries=256)
def _spark_table(version: int, plan_id: str, area: str, period: str | None, as_at: date | None,
                 codes: tuple[str, ...], _view: View) -> dict[str, list[float]]:
    return {code: _view.spark_values(_view.plan.kpi(code)) for code in codes}
