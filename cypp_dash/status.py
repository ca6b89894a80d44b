"""RAG status for every KPI: the plan's target rules applied to the stored figures, with the
confidence interval, comparison with England, trend and SPC verdicts, each said in words.

This module gathers the evidence from the store and decides; the row it fills in (cypp_dash.status_row) and
the board's words for it (cypp_dash.status_words) have modules of their own."""
from __future__ import annotations

from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd

from cypp_dash import benchmark, number, stats, store
from cypp_dash.config import Config, Kpi, Plan, Settings
from cypp_dash.periods import PeriodError, parse_period
from cypp_dash.rag_rules import ENGLAND_RULES, RAG_ORDER, RAG_SYMBOLS, RAG_WORDS, Evidence, fmt, rag_for
from cypp_dash.status_row import CONTRACT_COLUMNS, ENGLAND, KpiStatus, rag_counts, status_frame
from cypp_dash.status_words import (
    headline_words,
    parent_comparison,
    say_comparison,
    say_latest,
    say_spc,
    say_trend,
)

# Read through here as before: the row (cypp_dash.status_row), its words (cypp_dash.status_words) and the RAG
# words and rules (cypp_dash.rag_rules) pages, exports and tests name as status.<name>.
__all__ = ["CONTRACT_COLUMNS", "ENGLAND", "RAG_SYMBOLS", "RAG_WORDS", "YEARS_APART", "Evidence", "KpiStatus",
           "best_first", "district_table", "england_rows_for", "fmt", "funnel_centre", "headline_words",
           "interval_from_row", "is_suppressed", "kpi_status", "order_districts", "plan_status", "rag_counts",
           "rag_for", "spc_for", "status_frame", "withhold_suppressed", "years_apart"]


# --- building status rows from the store ------------------------------------------------------

def interval_from_row(row: pd.Series, kpi: Kpi) -> stats.Interval | None:
    """A figure's 95% interval: the one stored with it, else worked out from its value, numerator and
    denominator (None when neither can be had)."""
    low, high = number.finite(row.get("ci_low")), number.finite(row.get("ci_high"))
    if low is not None and high is not None:
        return stats.Interval(low, high, 0.95)
    return stats.interval_for(kpi.unit, number.finite(row.get("value")), number.finite(row.get("numerator")),
                              number.finite(row.get("denominator")))


def _same_frequency(rows: pd.DataFrame) -> pd.DataFrame:
    """The run of figures that share the latest figure's kind of period (quarters with quarters)."""
    if rows.empty:
        return rows
    kinds = rows["period"].map(lambda p: parse_period(p).kind)
    return rows[kinds == kinds.iloc[-1]]


def is_suppressed(row) -> bool:
    """True for a figure withheld at source (a suppression marker in the upload, or flagged so)."""
    return row is not None and "suppressed" in str(row.get("flags") or "").split(",")


def withhold_suppressed(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with value, numerator, denominator and intervals blanked where the figure is suppressed."""
    if rows.empty or "flags" not in rows.columns:
        return rows
    mask = rows["flags"].fillna("").astype(str).str.split(",").map(lambda f: "suppressed" in f)
    if not mask.any():
        return rows
    rows = rows.copy()
    for col in ("value", "numerator", "denominator", "ci_low", "ci_high", "ci99_low", "ci99_high"):
        if col in rows.columns:
            rows.loc[mask, col] = np.nan
    return rows


YEARS_APART = 2  # a comparator more than two years older is "out of date"


def years_apart(period: str | None, other: str | None) -> float | None:
    """Years between the ends of two periods, or None when either is missing or not a period."""
    try:
        a, b = parse_period(period).end, parse_period(other).end
    except (PeriodError, TypeError, ValueError):
        return None
    return abs((a - b).days) / 365.25


def _spc_series(kpi: Kpi, run: pd.DataFrame, target: float | None, settings: Settings,
                latest_missing: bool) -> stats.SpcResult:
    """SPC on a run of figures (missing ones kept as gaps), rebased at the plan's change points."""
    periods = run["period"].tolist()
    changes = [c for c in getattr(kpi, "spc_rebase", ()) or ()]
    positions, reasons = [], []
    for c in changes:
        period = c.get("period") if isinstance(c, dict) else getattr(c, "period", None)
        if period in periods:
            positions.append(periods.index(period))
            reasons.append((c.get("reason") if isinstance(c, dict) else getattr(c, "reason", "")) or "")
    return stats.xmr(run["value"].tolist(), kpi.polarity, target=target, min_points=settings.spc_min_points,
                     periods=periods, rebase=positions, rebase_reasons=reasons)


def kpi_status(kpi: Kpi, plan: Plan, config: Config, area_code: str, area_rows: pd.DataFrame,
               england_rows: pd.DataFrame, partnership_name: str, parent_rows: pd.DataFrame | None = None
               ) -> KpiStatus:
    """Status of one KPI for one area from its figures (oldest first), England's and (for a district) its
    parent's: the evidence gathered, RAG decided by rag_rules.rag_for, and the board's wording filled in."""
    s = config.settings
    area_name = config.area_name(area_code)
    area_rows = withhold_suppressed(area_rows)
    headline = area_rows[area_rows["value"].notna()]
    latest = area_rows.iloc[-1] if not area_rows.empty else None
    value = number.finite(latest["value"]) if latest is not None else None
    period = latest["period"] if latest is not None else None
    england, england_period, england_unit = _england_for(kpi, england_rows, latest)
    gap = years_apart(period, england_period)
    out_of_date = england is not None and gap is not None and gap > YEARS_APART
    is_district = area_code != plan.area and area_code in plan.districts
    baseline, baseline_period, baseline_label = _baseline_for(kpi, plan, area_code, area_name)
    ci = interval_from_row(latest, kpi) if latest is not None and value is not None else None
    run = _same_frequency(area_rows[area_rows["period"].notna()])
    yearly = not run.empty and parse_period(run["period"].iloc[-1]).kind in ("financial year", "calendar year")
    trend = _trend_for(kpi, run, s) if not headline.empty else None
    same_units = not england_unit or england_unit == kpi.unit
    target = _assurance_target(kpi, None if out_of_date else england, same_units)
    spc = _spc_series(kpi, run, target, s, value is None) if run["value"].notna().sum() >= 2 else None
    parent, parent_period = _parent_figure(parent_rows, period) if latest is not None else (None, None)
    ev = Evidence(kpi, area_name, value, period, ci, england, england_period, england_unit, baseline,
                  baseline_period, baseline_label, trend, s, england_out_of_date=out_of_date,
                  is_district=is_district, spc=spc, suppressed=is_suppressed(latest), parent=parent,
                  parent_name=config.area_name(plan.area), parent_period=parent_period)
    rag, reason = rag_for(ev)
    if area_code == ENGLAND:
        rag, reason = "not rated", (f"Not rated: England is the comparator the other areas are measured against "
                                    f"(latest figure {fmt(value, kpi.unit)}).")
    status = KpiStatus(
        code=kpi.code, kpi=kpi.name, partnership=partnership_name, partnership_id=kpi.partnership_id,
        area=area_code, area_name=area_name, period=period, value=value, unit=kpi.unit, england=england,
        england_period=england_period, target=kpi.target.text, rag=rag, reason=reason, baseline=baseline,
        baseline_period=baseline_period, baseline_text=kpi.baseline.text, england_text=kpi.england.text,
        polarity=kpi.polarity, relation=kpi.relation, relation_note=kpi.relation_note)
    status.england_out_of_date = out_of_date
    if ci is not None:
        status.ci_low, status.ci_high = round(ci.low, 3), round(ci.high, 3)
    say_comparison(status, kpi, latest, ci, same_units)
    if is_district:
        status.compared_with_parent, status.parent_text = parent_comparison(ev)
    say_trend(status, trend, yearly, latest, ev.suppressed)
    if spc is not None:
        say_spc(status, spc, run, target)
    say_latest(status, kpi, latest)
    if len(headline) >= 2 and value is not None:
        prev = number.finite(headline.iloc[-2]["value"])
        if prev is not None:
            status.direction = "up" if value > prev else "down" if value < prev else "same"
    status.headline = headline_words(status)
    return status


def _england_for(kpi: Kpi, england_rows: pd.DataFrame, latest: pd.Series | None
                 ) -> tuple[float | None, str | None, str | None]:
    """England: the store's figure for the same period; else its latest before, else the plan's figure; with
    its period and unit (the caller says "out of date" when it is more than two years older)."""
    england, england_period, england_unit = kpi.england.value, kpi.england.period, kpi.england.unit
    if not england_rows.empty:
        eng = england_rows[england_rows["value"].notna()]
        if latest is not None:
            same = eng[eng["period"] == latest["period"]]
            eng = same if not same.empty else eng[eng["period_end"] <= latest["period_end"]]
        if not eng.empty:
            # England figures in the store are always in the KPI's own unit (see bundled.plan_rows).
            england, england_period = number.finite(eng.iloc[-1]["value"]), eng.iloc[-1]["period"]
            england_unit = kpi.unit
    return england, england_period, england_unit


def _baseline_for(kpi: Kpi, plan: Plan, area_code: str, area_name: str) -> tuple[float | None, str | None, str]:
    """The plan's baseline, for the plan's area only: a district has one only where the plan gives one for
    it (`baseline.districts`)."""
    if area_code == plan.area:
        label = f"{kpi.baseline.period} baseline" if kpi.baseline.period else "baseline"
        return kpi.baseline.value, kpi.baseline.period, label
    own = kpi.baseline.for_area(area_code)
    label = f"{area_name} {kpi.baseline.period} baseline" if kpi.baseline.period else f"{area_name} baseline"
    return own, (kpi.baseline.period if own is not None else None), label


def _trend_for(kpi: Kpi, run: pd.DataFrame, s: Settings):
    """Fingertips' recent trend: proportions by the chi-squared test for trend on numerators and denominators;
    every other type (counts, rates) by weighted regression on 95% intervals, held or worked out from the counts."""
    proportion = kpi.unit == "percent"
    intervals = [interval_from_row(r, kpi) if number.finite(r.get("value")) is not None else None
                 for _, r in run.iterrows()]
    return stats.recent_trend(
        run["value"].tolist(), kpi.polarity,
        numerators=run["numerator"].tolist() if proportion and "numerator" in run else None,
        denominators=run["denominator"].tolist() if proportion and "denominator" in run else None,
        ci_low=[i.low if i else None for i in intervals], ci_high=[i.high if i else None for i in intervals],
        periods=run["period"].tolist(), points=s.trend_points)


def _parent_figure(parent_rows: pd.DataFrame | None, period: str | None) -> tuple[float | None, str | None]:
    """A district's parent (the plan's area): its figure for the same period, if held."""
    if parent_rows is None or parent_rows.empty:
        return None, None
    same = withhold_suppressed(parent_rows)
    same = same[(same["period"] == period) & same["value"].notna()]
    if same.empty:
        return None, None
    return number.finite(same.iloc[-1]["value"]), period


def spc_for(kpi: Kpi, area_rows: pd.DataFrame, st_row: KpiStatus, settings: Settings
            ) -> tuple[list[str], stats.SpcResult] | None:
    """The XmR chart data behind a status row: the periods and the SPC result (the same call status makes)."""
    rows = withhold_suppressed(area_rows)
    run = _same_frequency(rows[rows["period"].notna()])
    if run["value"].notna().sum() < 2:
        return None
    result = _spc_series(kpi, run, st_row.assurance_target, settings, st_row.value is None)
    return run["period"].tolist(), result


def funnel_centre(rows: list[KpiStatus], plan_area: str) -> tuple[float, str] | None:
    """The centre a district funnel is drawn around: the plan area's figure (its parent, then not plotted as a
    point), else the pooled figure of the districts plotted, else England's."""
    for r in rows:
        if r.area == plan_area and r.value is not None:
            return r.value, r.area_name
    pooled = [r for r in rows if r.area not in (plan_area, ENGLAND) and r.numerator is not None and r.denominator]
    if pooled:
        kind = stats.funnel_kind(rows[0].unit)
        if kind is not None:
            total = sum(r.denominator for r in pooled)
            return sum(r.numerator for r in pooled) / total * kind[1], "the districts pooled"
    for r in rows:
        if r.area == ENGLAND and r.value is not None:
            return r.value, "England"
    return None


def _assurance_target(kpi: Kpi, england: float | None, same_units: bool) -> float | None:
    """The line SPC assures against: the plan's goal, else England's figure where a rule compares with England."""
    if kpi.target.goal is not None:
        return kpi.target.goal
    for r in kpi.target.rules:
        if r.type in ENGLAND_RULES and same_units and england is not None:
            return england
    return None


def england_rows_for(conn, kpi: Kpi, stored: pd.DataFrame, up_to: date | None = None) -> pd.DataFrame:
    """England's figures for a KPI: those in the store (uploaded with the KPI's code, or the plan's own England
    figure) and, where the KPI's published measure is the plan's own measure (`published: relation: same`),
    England's published series (DfE), so the comparison is for the same period rather than with the plan's
    one old figure; for a period both hold, the store's figure comes last and so is the one used. A related
    measure is never the KPI's comparator."""
    published = benchmark.england_for_kpi(conn, kpi)
    rows = []
    for period, value in zip(published["period"], published["value"]):
        try:
            end = parse_period(str(period)).end
        except (PeriodError, ValueError):
            continue  # a period written in a form the plan's periods do not use (e.g. "2023-24 (OT)")
        if up_to is None or end <= up_to:
            rows.append({"indicator_id": kpi.indicator_id, "area_code": ENGLAND, "period": str(period),
                         "period_end": pd.Timestamp(end), "value": value})
    if not rows:
        return stored
    both = pd.concat([pd.DataFrame(rows).reindex(columns=stored.columns), stored], ignore_index=True)
    return both.sort_values("period_end", kind="stable").reset_index(drop=True)


def plan_status(conn: duckdb.DuckDBPyConnection, config: Config, plan: Plan, area_code: str,
                period: str | None = None, as_at: datetime | date | None = None,
                partnership_id: str | None = None) -> list[KpiStatus]:
    """One status row per KPI of the plan for an area: latest figure at or before `period`."""
    up_to = parse_period(period).end if period else None
    kpis = [k for k in plan.kpis if partnership_id in (None, k.partnership_id)]
    ids = sorted({k.indicator_id for k in kpis})
    rows = store.series(conn, ids, [area_code, ENGLAND], up_to=up_to, as_at=as_at)
    names = {p.id: p.name for p in plan.partnerships}
    out = []
    parents = (store.series(conn, ids, [plan.area], up_to=up_to, as_at=as_at) if area_code in plan.districts
               else None)
    for k in kpis:
        mine = rows[rows["indicator_id"] == k.indicator_id]
        parent = parents[parents["indicator_id"] == k.indicator_id] if parents is not None else None
        england = (england_rows_for(conn, k, mine[mine["area_code"] == ENGLAND], up_to) if area_code != ENGLAND
                   else mine.iloc[0:0])
        out.append(kpi_status(k, plan, config, area_code, mine[mine["area_code"] == area_code], england,
                              names[k.partnership_id], parent_rows=parent))
    return out


def district_table(conn: duckdb.DuckDBPyConnection, config: Config, plan: Plan, kpi: Kpi,
                   period: str | None = None, as_at: datetime | date | None = None) -> list[KpiStatus]:
    """The KPI for the plan's area, each district, its other comparators (e.g. the region) and England; a
    comparator with no figures is listed as such, not left out. Districts are rated as Fingertips rates
    sub-areas (by interval against England, else their parent) and compared with the plan's area."""
    up_to = parse_period(period).end if period else None
    areas = list(dict.fromkeys([plan.area, *plan.districts, *plan.comparators, ENGLAND]))
    areas.remove(ENGLAND)
    areas.append(ENGLAND)
    rows = store.series(conn, [kpi.indicator_id], areas, up_to=up_to, as_at=as_at)
    name = plan.partnership(kpi.partnership_id).name
    england_rows = england_rows_for(conn, kpi, rows[rows["area_code"] == ENGLAND], up_to)
    parent_rows = rows[rows["area_code"] == plan.area]
    out = [kpi_status(kpi, plan, config, a, rows[rows["area_code"] == a],
                      england_rows if a != ENGLAND else england_rows.iloc[0:0], name,
                      parent_rows=parent_rows if a in plan.districts else None) for a in areas]
    order_districts(out, plan, kpi)
    return out


def best_first(rows: list[KpiStatus], kpi: Kpi) -> list[KpiStatus]:
    """The rows in the order the districts table shows them: best figure first by the KPI's polarity (higher
    first unless lower is better), areas with no figure last; rows with equal figures keep their order."""
    sign = 1 if kpi.polarity == "lower" else -1
    return sorted(rows, key=lambda r: (r.value is None, (r.value or 0) * sign))


def order_districts(rows: list[KpiStatus], plan: Plan, kpi: Kpi) -> None:
    """The best district never looks worse than a worse one: among districts rated for the same period, one
    whose figure is better than another's (by the KPI's polarity) gets at least that one's rating, with the
    reason saying why. Interval comparisons can otherwise rank a small district with a better figure below a
    large one with a worse figure, only because its interval is wider."""
    if kpi.polarity not in ("higher", "lower"):
        return
    sign = 1 if kpi.polarity == "higher" else -1
    rated = [r for r in rows if r.area in plan.districts and r.value is not None and r.rag in RAG_ORDER]
    rated.sort(key=lambda r: r.value * sign)  # worst figure first
    for i, r in enumerate(rated):
        worse = [o for o in rated[:i] if o.period == r.period and (r.value - o.value) * sign > 0
                 and RAG_ORDER[o.rag] < RAG_ORDER[r.rag]]
        if not worse:
            continue
        best = min(worse, key=lambda o: RAG_ORDER[o.rag])
        r.rag = best.rag
        r.reason = (f"{RAG_WORDS[best.rag]}: {r.figure_text} is better than {best.area_name}'s "
                    f"{best.figure_text}, which is rated {RAG_WORDS[best.rag].lower()}; on its own: "
                    + r.reason[0].lower() + r.reason[1:])
