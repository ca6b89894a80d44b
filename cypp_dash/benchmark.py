"""Benchmarking published figures as DfE's LAIT does (R/fn_analysis.R and the mod_*_table.R modules of
dfe-analytical-services/local-authority-interactive-tool): an area against England, its region and
the mean of its ten statistical neighbours, with its national rank and quartile band.

The rules, function by function (each vectorised over a frame of every area's figures):
- `rank`: among local authorities (LA number below 970) in the measure's latest year, 1 is best by
  polarity (`High`: largest first, `Low`: smallest first), ties share the lower rank (R's
  ties.method = "min"), an authority with no figure has no rank; `rank_of` counts those with a figure.
- `quartile_band`: R's default (type 7) quantiles of every authority's figure that year; for `High`
  a figure in (Q3, max] is A, (median, Q3] B, (Q1, median] C, [min, Q1] D; for `Low` the reverse.
- a measure whose polarity is `-` (or which the dictionary marks "no quartiles") gets neither, and says why.
- `neighbours_average`: the mean of the ten neighbours that have a figure that year.
- `change_from_previous`: the latest year's figure less the year before's (no figure if either is missing).
- the region is the one the neighbour file gives; for a London borough, Inner or Outer London,
  or London as a whole when the half has no figure in the measure's latest year (clean_ldn_region).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cypp_dash import published_store

COLUMNS = ["indicator_id", "name", "period", "value", "england", "region", "neighbours_average", "neighbours",
           "rank", "rank_of", "quartile_band", "polarity", "change_from_previous"]
EXTRA = ["topic", "region_name", "england_period", "why_no_rank", "next_update", "last_update", "decimals",
         "unit_label", "source", "licence", "note"]
ENGLAND = "E92000001"


class BenchmarkError(ValueError):
    """An area or measure the published data does not hold (the message says which)."""


# --- LAIT's rules, each over plain arrays --------------------------------------------------------

def rank(values: pd.Series, polarity: str) -> pd.Series:
    """calculate_rank: 1 = best by polarity, ties share the lower rank, no figure no rank."""
    if polarity not in ("High", "Low"):
        return pd.Series(pd.NA, index=values.index, dtype="Int64")
    return values.rank(method="min", ascending=polarity == "Low", na_option="keep").astype("Int64")


def quantiles(values) -> list[float] | None:
    """R's quantile(x, na.rm = TRUE) with its default type 7, computed as R computes it
    (x[lo] * (1 - h) + x[hi] * h, only where x[hi] differs), for the 0, 25, 50, 75 and 100% points."""
    x = np.sort(np.asarray([v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))],
                           dtype=float))
    n = len(x)
    if n == 0:
        return None
    out = []
    for p in (0.0, 0.25, 0.5, 0.75, 1.0):
        index = (n - 1) * p  # zero-based: R's 1 + (n - 1) * p
        lo, hi = math.floor(index), math.ceil(index)
        q = x[lo]
        if index > lo and x[hi] != q:
            h = index - lo
            q = (1 - h) * q + h * x[hi]
        out.append(float(q))
    return out


def quartile_band(value, bands: list[float] | None, polarity: str, no_quartile: bool = False) -> str:
    """calculate_quartile_band: A the best quarter by polarity; "" where there is no band."""
    if no_quartile or polarity not in ("High", "Low") or bands is None or value is None or pd.isna(value):
        return ""
    q0, q25, q50, q75, q100 = bands
    order = "ABCD" if polarity == "Low" else "DCBA"
    if q0 <= value <= q25:
        return order[0]
    if q25 < value <= q50:
        return order[1]
    if q50 < value <= q75:
        return order[2]
    if q75 < value <= q100:
        return order[3]
    return ""


def change_from_previous(series: pd.DataFrame) -> float | None:
    """calculate_change_from_prev_yr: the newest row's figure less the one before it (by year)."""
    if len(series) < 2:
        return None
    ordered = series.sort_values("year", ascending=False, kind="stable")
    a, b = ordered["value"].iloc[0], ordered["value"].iloc[1]
    return None if pd.isna(a) or pd.isna(b) else float(a - b)


def neighbours_average(figures: pd.DataFrame, neighbour_codes: list[str]) -> pd.DataFrame:
    """The mean of the neighbours with a figure, per year (no figure when none has one)."""
    sn = figures[figures["area_code"].isin(neighbour_codes)]
    out = sn.groupby(["indicator_id", "period", "year"], as_index=False).agg(
        value=("value", "mean"), count=("value", "count"))
    return out


SHORT_WHY = {"not ranked or banded": "none (no better direction)", "not banded": "none (DfE shows no bands)"}


def why_no_rank(polarity: str, no_quartile: bool) -> str:
    if polarity not in ("High", "Low"):
        return "not ranked or banded: the measure has no polarity (neither higher nor lower is better)"
    if no_quartile:
        return "not banded: DfE shows no quartile bands for this measure (its range is too small)"
    return ""


# --- an area's benchmarks -------------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    """The area benchmarked, with its region and statistical neighbours as the published data has them."""

    code: str
    name: str
    region_name: str
    region_code: str | None
    neighbours: tuple[tuple[str, str], ...]  # (code, name), closest first


def place(conn, area_code: str) -> Place:
    areas = published_store.areas(conn)
    row = areas[areas["code"] == area_code]
    if row.empty or row["kind"].iloc[0] != "la":
        raise BenchmarkError(f"{area_code} is not a local authority in the published (LAIT) data")
    region_name = row["region_name"].iloc[0] or ""
    region = areas[(areas["kind"] == "region") & (areas["name"] == region_name)]
    sn = published_store.neighbours(conn, area_code)
    return Place(area_code, row["name"].iloc[0], region_name, region["code"].iloc[0] if len(region) else None,
                 tuple(zip(sn["code"], sn["name"])))


def _with_year(figures: pd.DataFrame) -> pd.DataFrame:
    return figures.assign(year=pd.to_datetime(figures["period_start"]).dt.year)


def benchmark_rows(conn, area_code: str, indicator_ids: list[str] | None = None) -> pd.DataFrame:
    """One row per published measure held for the area (or only those asked for) at its latest year:
    the contract's `benchmark` columns, then topic, region name, next update and why a rank is missing.
    Ranks, quantiles and averages are worked out by the store in SQL (`published_store.area_benchmarks`);
    here they are put in the board's columns and the band is read off the quantiles."""
    where = place(conn, area_code)
    measures = published_store.measures(conn, indicator_ids)
    if indicator_ids is not None:
        unknown = sorted(set(indicator_ids) - set(measures["indicator_id"]))
        if unknown:
            raise BenchmarkError(f"no published measure {', '.join(unknown)}")
    found = published_store.area_benchmarks(conn, area_code, where.region_code,
                                            list(measures["indicator_id"]) if indicator_ids is not None else None)
    if found.empty:
        return pd.DataFrame(columns=COLUMNS + EXTRA)
    meta = measures.set_index("indicator_id").reindex(found["indicator_id"])
    polarity = meta["polarity"].fillna("-").to_numpy()
    no_q = meta["no_quartile"].fillna(False).astype(bool).to_numpy()
    ranked = np.isin(polarity, ["High", "Low"])
    region_codes = _region_codes(found, where)
    out = pd.DataFrame({
        "indicator_id": found["indicator_id"], "name": meta["name"].to_numpy(), "period": found["period"],
        "value": found["value"].astype(float),
        "england": found["england"].astype(float),
        "region": np.where(region_codes == "E12000007", found["london"].astype(float),
                           found["region"].astype(float)),
        # to 10 places: a mean's last bit depends on the order each engine adds in; the board sees 1 to 3
        "neighbours_average": found["neighbours_average"].astype(float).round(10),
        "neighbours": "; ".join(n for _, n in where.neighbours),
        "rank": pd.array(found["rank"], dtype="Int64"), "rank_of": pd.array(found["rank_of"], dtype="Int64"),
        "polarity": polarity,
        # to 10 places: 75 - 70.4 is 4.6, not 4.600000000000001
        "change_from_previous": (found["value"].astype(float) - found["previous"].astype(float)).round(10)})
    out["rank"] = out["rank"].where(ranked).astype("Int64")
    out["rank_of"] = out["rank_of"].where(ranked).astype("Int64")
    bands = found[["q0", "q1", "q2", "q3", "q4"]].astype(float).to_numpy()
    out["quartile_band"] = [quartile_band(v, None if np.isnan(b[0]) else b.tolist(), p, nq)
                            for v, b, p, nq in zip(out["value"], bands, polarity, no_q)]
    out["topic"] = meta["topic"].to_numpy()
    out["region_name"] = [_region_name(c, where) for c in region_codes]
    out["england_period"] = out["period"]
    out["why_no_rank"] = [why_no_rank(p, nq) for p, nq in zip(polarity, no_q)]
    for col in ("next_update", "last_update", "decimals", "unit_label"):
        out[col] = meta[col].to_numpy()
    out["source"] = found["source"].to_numpy()
    out["licence"] = found["licence"].to_numpy()
    out["note"] = found["note"].fillna("").to_numpy()
    for col in ("value", "england", "region", "neighbours_average", "change_from_previous"):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out[COLUMNS + EXTRA].sort_values(["topic", "name"], kind="stable").reset_index(drop=True)


def _region_codes(found: pd.DataFrame, where: Place) -> np.ndarray:
    """clean_ldn_region: a London half with no figure in a measure's latest year gives way to London."""
    if not where.region_name.startswith("London") or where.region_code is None:
        return np.full(len(found), where.region_code or "", dtype=object)
    return np.where(found["region_has_latest"].astype(bool), where.region_code, "E12000007").astype(object)


def _num(v):
    return None if v is None or pd.isna(v) else float(v)


def _region_name(code: str | None, where: Place) -> str:
    return {"E12000007": "London", "E13000001": "London (Inner)", "E13000002": "London (Outer)"}.get(
        code or "", where.region_name)


def _region_latest(figures: pd.DataFrame, where: Place) -> dict[str, str]:
    """clean_ldn_region: a London half with no figure in a measure's latest year gives way to London."""
    if not where.region_name.startswith("London") or where.region_code is None:
        return {}
    latest = figures.groupby("indicator_id")["year"].max()
    half = figures[(figures["area_code"] == where.region_code)]
    half = half[half["year"] == half["indicator_id"].map(latest)]
    has = set(half.loc[half["value"].notna(), "indicator_id"])
    return {iid: (where.region_code if iid in has else "E12000007") for iid in latest.index}


def series_frame(conn, area_code: str, indicator_id: str) -> pd.DataFrame:
    """The measure over time for the area, England, its region and its neighbours' average:
    columns `period, year, line, value` (line is the area's name, "England", the region, "Neighbour average")."""
    where = place(conn, area_code)
    figures = _with_year(published_store.figures(conn, [indicator_id]))
    region = _region_latest(figures, where).get(indicator_id, where.region_code)
    parts = []
    for code, label in ((area_code, where.name), (ENGLAND, "England"), (region, _region_name(region, where))):
        if code:
            parts.append(figures[figures["area_code"] == code][["period", "year", "value"]].assign(line=label))
    avg = neighbours_average(figures, [c for c, _ in where.neighbours])
    parts.append(avg[["period", "year", "value"]].assign(line="Neighbour average"))
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["year", "line"]).reset_index(drop=True)[["period", "year", "line", "value"]]


def neighbour_frame(conn, area_code: str, indicator_id: str, period: str | None = None) -> pd.DataFrame:
    """One bar each for the area, its ten neighbours, its region and England in a year (the latest
    by default), sorted best first by polarity: columns `name, value, role` (area, neighbour, region, England)."""
    where = place(conn, area_code)
    figures = _with_year(published_store.figures(conn, [indicator_id]))
    meta = published_store.measures(conn, [indicator_id])
    polarity = meta["polarity"].iloc[0] if len(meta) else "-"
    if period is None:
        own = figures[figures["area_code"] == area_code].sort_values("year")
        period = own["period"].iloc[-1] if len(own) else None
    year = figures[figures["period"] == period]
    region = _region_latest(figures, where).get(indicator_id, where.region_code)
    roles = {area_code: (where.name, "area"), ENGLAND: ("England", "England")}
    if region:
        roles[region] = (_region_name(region, where), "region")
    for code, name in where.neighbours:
        roles[code] = (name, "neighbour")
    rows = [{"name": roles[c][0], "value": _num(v), "role": roles[c][1], "code": c}
            for c, v in zip(year["area_code"], year["value"]) if c in roles]
    out = pd.DataFrame(rows, columns=["name", "value", "role", "code"])
    out = out.sort_values("value", ascending=polarity == "Low", na_position="last", kind="stable")
    return out.reset_index(drop=True)


# --- a plan's KPIs beside their published measures ---------------------------------------------------

RELATION_WORDS = {"same": "same measure", "related": "related only (not rated)"}


def plan_rows(conn, plan, area_code: str | None = None, all_rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per KPI of the plan that has a published measure (config `published:`): the KPI, how the
    measure relates to it, and the measure's benchmark for the plan's area. A related measure is shown
    for context only: it is never rated against the plan's aim."""
    area_code = area_code or plan.area
    kpis = [k for k in plan.kpis if k.published is not None]
    cols = ["code", "kpi", "relation", "relation_text", "relation_note", *COLUMNS, *EXTRA]
    if not kpis:
        return pd.DataFrame(columns=cols)
    ids = sorted({k.published.measure for k in kpis})
    rows = all_rows if all_rows is not None else benchmark_rows(conn, area_code, ids)
    rows = rows.set_index("indicator_id")
    out = []
    for k in kpis:
        base = {"code": k.code, "kpi": k.name, "relation": k.published.relation,
                "relation_text": RELATION_WORDS[k.published.relation], "relation_note": k.published.note}
        if k.published.measure in rows.index:
            r = rows.loc[k.published.measure]
            base |= {"indicator_id": k.published.measure, **{c: r[c] for c in COLUMNS[1:] + EXTRA}}
        else:
            base |= {"indicator_id": k.published.measure}
        out.append(base)
    return pd.DataFrame(out).reindex(columns=cols)


def published_sentence(row: pd.Series, region_name: str = "") -> str:
    """One plan KPI's published figure in a line (paper view says it under the KPI instead of a table):
    "DfE LAIT 2025 (same measure): 70 · England 90 · West Midlands 84 · statistical neighbours 90.5 ·
    rank 148 of 151 · band D"."""
    value = row.get("value")
    if value is None or pd.isna(value):
        return f"DfE LAIT ({row['relation_text']}): no published figure held for this area."
    d = row.get("decimals")
    parts = [figure_text(value, d), f"England {figure_text(row['england'], d)}",
             f"{region_name or 'region'} {figure_text(row['region'], d)}",
             f"statistical neighbours {figure_text(row['neighbours_average'], d)}",
             f"rank {rank_text(row['rank'], row['rank_of'], row.get('why_no_rank') or '')}"]
    if row.get("quartile_band"):
        parts.append(f"band {row['quartile_band']}")
    return f"DfE LAIT {row['period']} ({row['relation_text']}): " + " · ".join(parts)


def first_plan_measure(plan_rows: pd.DataFrame, ids: list[str]) -> list[str]:
    """The plan's published measures among `ids`, those that are the plan's own measure first."""
    if plan_rows.empty:
        return []
    ordered = plan_rows.sort_values("relation", key=lambda r: r.ne("same"), kind="stable")
    return [i for i in ordered["indicator_id"] if i in ids]


def figure_text(value, decimals: int | None = 1) -> str:
    """A published figure as LAIT shows it (its measure's decimal places); "no figure" when none."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "no figure"
    d = 1 if decimals is None or pd.isna(decimals) else int(decimals)
    return f"{float(value):,.{d}f}"


def rank_text(rank_value, rank_of, why: str = "") -> str:
    if rank_value is None or pd.isna(rank_value):
        return "not ranked" if why else "no figure"
    return f"{int(rank_value)} of {int(rank_of)}"


def display_frame(rows: pd.DataFrame, region_name: str = "") -> pd.DataFrame:
    """The benchmark rows in the board's words, figures to each measure's decimal places; a region other
    than `region_name` (London for a London half with no figure) is named beside its figure."""
    d = rows["decimals"]
    return pd.DataFrame({
        "Measure": rows["name"], "Topic": rows["topic"], "Year": rows["period"],
        "Value": [figure_text(v, n) for v, n in zip(rows["value"], d)],
        "England": [figure_text(v, n) for v, n in zip(rows["england"], d)],
        "Region": [f"{figure_text(v, n)} ({r})" if r and r != region_name else figure_text(v, n)
                   for v, n, r in zip(rows["region"], d, rows["region_name"])],
        "Neighbour average": [figure_text(v, n) for v, n in zip(rows["neighbours_average"], d)],
        "Rank": [rank_text(r, o, w) for r, o, w in zip(rows["rank"], rows["rank_of"], rows["why_no_rank"])],
        "Quartile band": [b or (SHORT_WHY.get(w.split(":")[0], "none") if w else "no figure")
                          for b, w in zip(rows["quartile_band"], rows["why_no_rank"])],
        "Better": rows["polarity"].map({"High": "higher", "Low": "lower"}).fillna("neither"),
        "Change from previous year": [figure_text(v, n) if v is not None and not pd.isna(v) else "no figure"
                                      for v, n in zip(rows["change_from_previous"], d)],
        "Next update": rows["next_update"].fillna(""),
    })


def england_series(conn, indicator_id: str) -> pd.DataFrame:
    """England's own published series of a measure (`period, year, value`, oldest first): the comparator
    for the same period, where a plan KPI's published measure is the plan's own (`relation: same`)."""
    figures = published_store.figures(conn, [indicator_id])
    figures = _with_year(figures[figures["area_code"] == ENGLAND]) if not figures.empty else figures
    if figures.empty:
        return pd.DataFrame(columns=["period", "year", "value"])
    return figures.sort_values("year")[["period", "year", "value"]].reset_index(drop=True)


def england_for_kpi(conn, kpi) -> pd.DataFrame:
    """England's published series for a KPI whose published measure is the same measure; empty otherwise
    (a related measure is never the KPI's comparator)."""
    published = getattr(kpi, "published", None)
    if published is None or published.relation != "same":
        return pd.DataFrame(columns=["period", "year", "value"])
    return england_series(conn, published.measure)
