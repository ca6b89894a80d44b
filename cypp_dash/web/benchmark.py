"""The Streamlit side of published benchmarks: cached reads keyed on the store's version, and the small
self-contained panel other pages show beside a plan's KPIs (rank, band and neighbour average)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cypp_dash import benchmark, published_store, store
from cypp_dash.web.cache import memo
from cypp_dash.web.components import facts_list, table_body
from cypp_dash.web.render import Markup
from cypp_dash.web.resources import _connection


def _cursor():
    return _connection(str(store.db_path())).cursor()


@st.cache_data(show_spinner="Working out ranks and bands for every published measure…", max_entries=32)
def cached_rows(version: int, area: str) -> pd.DataFrame:
    return benchmark.benchmark_rows(_cursor(), area)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_rows_for(version: int, area: str, indicator_ids: tuple[str, ...]) -> pd.DataFrame:
    return benchmark.benchmark_rows(_cursor(), area, list(indicator_ids))


@st.cache_data(show_spinner=False, max_entries=256)
def cached_bars(version: int, area: str, indicator_id: str) -> pd.DataFrame:
    return benchmark.neighbour_frame(_cursor(), area, indicator_id)


@st.cache_data(show_spinner=False, max_entries=256)
def cached_series(version: int, area: str, indicator_id: str) -> pd.DataFrame:
    return benchmark.series_frame(_cursor(), area, indicator_id)


@st.cache_data(show_spinner=False, max_entries=32)
def cached_plan_rows(version: int, _plan, plan_id: str, area: str) -> pd.DataFrame:
    """The plan's KPIs with a published measure, from the area's rows (keyed on the plan's id)."""
    return benchmark.plan_rows(None, _plan, area, all_rows=cached_rows(version, area))


@st.cache_data(show_spinner=False, max_entries=64)
def topic_table(version: int, area: str, topic: str, region_name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The area's rows of one topic ("All topics": every row) and the same rows in the board's words. Made
    once per data version, so a repeat view (or another reader) does not redo the wording of every measure."""
    rows = cached_rows(version, area)
    chosen = rows if topic == "All topics" else rows[rows["topic"].str.split(" / ").map(lambda t: topic in t)]
    return chosen, benchmark.display_frame(chosen, region_name)


@st.cache_data(show_spinner=False, max_entries=256)
def series_table(version: int, area: str, indicator_id: str) -> pd.DataFrame:
    """The measure over time as a table (one column per line, one row per year) for its download."""
    series = cached_series(version, area, indicator_id)
    wide = series.pivot_table(index=["year", "period"], columns="line", values="value", aggfunc="first")
    return wide.reset_index().drop(columns=["year"])


@st.cache_data(show_spinner=False, max_entries=32)
def cached_place(version: int, area: str) -> benchmark.Place | None:
    try:
        return benchmark.place(_cursor(), area)
    except benchmark.BenchmarkError:
        return None


def panel_rows(view, kpis) -> tuple[pd.DataFrame, benchmark.Place | None]:
    """The benchmark rows of these KPIs' published measures for the plan's area (empty where none held)."""
    mapped = [k for k in kpis if getattr(k, "published", None) is not None]
    place = cached_place(view.version, view.plan.area) if mapped else None
    if place is None:
        return pd.DataFrame(), None
    return _panel_rows(view.version, view.plan, view.plan.id, view.plan.area, tuple(k.code for k in mapped)), place


@st.cache_data(show_spinner=False, max_entries=128)
def _panel_rows(version: int, _plan, plan_id: str, area: str, codes: tuple[str, ...]) -> pd.DataFrame:
    """panel_rows' frame, made once per data version (the Overview and every partnership show it)."""
    mapped = [k for k in _plan.kpis if k.code in codes]
    rows = cached_rows_for(version, area, tuple(sorted({k.published.measure for k in mapped})))
    if rows.empty:
        return pd.DataFrame()
    plan_rows = benchmark.plan_rows(None, _plan, area, all_rows=rows)
    return plan_rows[plan_rows["code"].isin(codes)]


def published_line(view, kpi) -> None:
    """Under one KPI (paper view): its published figure, England, region, neighbours, rank and band in a line."""
    plan_rows, place = panel_rows(view, [kpi])
    if plan_rows.empty:
        return
    st.caption(benchmark.published_sentence(plan_rows.iloc[0], place.region_name))


def published_panel(view, kpis) -> None:
    """Rank, quartile band and neighbour average for these KPIs' published measures, where held (in paper
    view one line per KPI, so the board paper prints short)."""
    plan_rows, place = panel_rows(view, kpis)
    if plan_rows.empty:
        return
    if view.paper:
        st.markdown("#### Published figures against England, region and statistical neighbours")
        facts_list([(code, benchmark.published_sentence(row, place.region_name))
                    for code, (_, row) in zip(plan_rows["code"], plan_rows.iterrows())], colon=False)
        st.caption("Rank 1 is the best of England's local authorities; quartile band A is the best quarter. A "
                   "related measure is for context only. Source: Department for Education, Local Authority "
                   "Interactive Tool. Open Government Licence v3.0.")
        return
    st.markdown("#### Published figures against England, region and statistical neighbours")
    st.caption("Real figures published by DfE (annual, latest year each), beside the council's own quarterly "
               "figures above; not illustrative.")
    st.html(panel_table_html(plan_rows, place))
    st.caption("Rank 1 is the best of England's local authorities; quartile band A is the best quarter. "
               "A related measure is shown for context and is not rated against the plan's aim. "
               "Source: Department for Education, Local Authority Interactive Tool. Open Government Licence v3.0.")


def panel_table_html(plan_rows: pd.DataFrame, place: benchmark.Place) -> Markup:
    """The published panel's table (kept by a digest of its inputs, so the preparation makes it once)."""
    shown = _kpi_measures(plan_rows, place.region_name, plan_rows["code"].to_numpy())
    return _table_html(shown, f"DfE published figures for {place.name} (LAIT), latest year each; "
                              f"region: {place.region_name}")


def plan_measures_table(plan_rows: pd.DataFrame, region_name: str) -> pd.DataFrame:
    """The Benchmarking page's first table: each plan KPI with a published measure, in the board's words."""
    return _kpi_measures(plan_rows, region_name, [f"{c} {k}" for c, k in zip(plan_rows["code"], plan_rows["kpi"])])


def plan_measures_html(shown: pd.DataFrame, plan_name: str, area_name: str) -> Markup:
    return _table_html(shown, f"{plan_name}: KPIs with a DfE published measure ({area_name})")


def _kpi_measures(plan_rows: pd.DataFrame, region_name: str, kpi_labels) -> pd.DataFrame:
    """Plan KPIs beside their published measures in the board's words: the KPI, then the measure, then how
    the two relate."""
    shown = benchmark.display_frame(plan_rows, region_name)
    shown.insert(0, "KPI", kpi_labels)
    shown.insert(2, "Is", plan_rows["relation_text"].to_numpy())
    return shown


def _table_html(shown: pd.DataFrame, caption: str) -> Markup:
    """A plan-measures table on screen (topic, direction and next update are for the downloads)."""
    return memo(table_body, shown.drop(columns=["Topic", "Better", "Next update"]), None, None, caption)


def topic_table_html(chosen: pd.DataFrame, table: pd.DataFrame, topic: str, area_name: str,
                     region_name: str) -> Markup:
    """The Benchmarking page's table of every measure (or one topic's), kept by a digest of its inputs."""
    return memo(table_body, table if topic == "All topics" else table.drop(columns=["Topic"]), None, None,
                f"{area_name}: {topic.lower() if topic == 'All topics' else topic}, {len(chosen)} measures, "
                f"latest year each; region: {region_name}")


def topics(rows: pd.DataFrame) -> list[str]:
    return sorted({t.strip() for ts in rows["topic"].dropna() for t in ts.split(" / ")})


def has_data(view) -> bool:
    return bool(len(published_store.measures(view.conn)))
