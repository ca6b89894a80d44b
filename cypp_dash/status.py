"""RAG status for every KPI: the plan's target rules applied to the stored figures, with the
confidence interval, comparison with England, trend and SPC verdicts, each said in words."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date, datetime

import duckdb
import pandas as pd

from cypp_dash import stats, store
from cypp_dash.config import Config, Kpi, Plan, Settings, TargetRule
from cypp_dash.periods import parse_period

RAG_ORDER = {"green": 0, "amber": 1, "red": 2}
RAG_WORDS = {"green": "On track", "amber": "Some concern", "red": "Off track", "not rated": "Not rated"}
RAG_SYMBOLS = {"green": "✔", "amber": "▲", "red": "✖", "not rated": "–"}
ENGLAND = "E92000001"
_UNIT_WORDS = {"percent": "a percentage", "count": "a count", "weeks": "weeks", "days": "days"}
_NEED_ENGLAND = {"above_england", "in_line_with_england"}
_NEED_DIRECTION = {"above_england", "in_line_with_england", "improving_vs_baseline", "improving_vs_target",
                   "improving_trend", "absolute"}


@dataclass
class Judgement:
    """One rule's verdict: a RAG colour, or None when the rule cannot be judged, and why."""

    rag: str | None
    reason: str


@dataclass
class KpiStatus:
    """One row of `status`: a KPI's latest figure for an area and what the board should make of it."""

    code: str
    kpi: str
    partnership: str
    partnership_id: str
    area: str
    area_name: str
    period: str | None
    value: float | None
    unit: str
    england: float | None
    england_period: str | None
    target: str
    rag: str
    reason: str
    baseline: float | None = None
    baseline_period: str | None = None
    baseline_text: str = ""
    england_text: str = ""
    ci_low: float | None = None
    ci_high: float | None = None
    compared_with_england: str = "not compared"
    comparison_text: str = ""
    trend: str = ""
    trend_text: str = ""
    spc_variation: str = ""
    spc_assurance: str = ""
    spc_text: str = ""
    flags: str = ""
    note: str | None = None
    numerator: float | None = None
    denominator: float | None = None
    illustrative: bool = False
    source: str = ""
    licence: str = ""
    direction: str = ""
    polarity: str = ""
    relation: str = "measure"
    relation_note: str = ""
    assurance_target: float | None = None

    @property
    def rag_label(self) -> str:
        return f"{RAG_SYMBOLS[self.rag]} {RAG_WORDS[self.rag]}"

    @property
    def flags_words(self) -> str:
        """The flags as a reader sees them ("illustrative, provisional"); "" when there are none."""
        return self.flags.replace(",", ", ")

    @property
    def facts(self) -> list[tuple[str, str]]:
        """What is known of the latest figure besides its RAG, as (label, text) in reading order: the
        comparison with England, the recent trend, SPC, the flags and the note uploaded with it ("" where
        there is nothing to say). The page and the Word report list the same facts under the same labels."""
        return [("Compared with England", self.comparison_text), ("Recent trend", self.trend_text),
                ("Statistical process control", self.spc_text), ("Flags", self.flags_words),
                ("Note with the latest figure (as uploaded)", self.note or "")]

    def as_row(self) -> dict:
        return asdict(self)


CONTRACT_COLUMNS = ["code", "kpi", "partnership", "area", "period", "value", "unit", "england", "target", "rag",
                    "reason", "ci_low", "ci_high", "compared_with_england", "trend", "spc_variation",
                    "spc_assurance", "flags"]


# --- small helpers ----------------------------------------------------------------------------

def _num(x) -> float | None:
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def fmt(value: float | None, unit: str) -> str:
    """A figure as a board reads it: 87.6%, 1,204, 46 weeks."""
    if value is None:
        return "no figure"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "count":
        return f"{value:,.0f}"
    if unit in ("weeks", "days"):
        return f"{value:g} {unit}"
    return f"{value:,.1f} ({unit})"


def _gap_text(gap: float, unit: str) -> str:
    return f"{abs(gap):.1f} percentage points" if unit == "percent" else fmt(abs(gap), unit)


def _good_sign(polarity: str) -> int:
    return 1 if polarity == "higher" else -1


def worst(rags: list[str]) -> str:
    return max(rags, key=lambda r: RAG_ORDER[r])


# --- the rules --------------------------------------------------------------------------------

@dataclass
class Evidence:
    """What the rules look at for one KPI and area."""

    kpi: Kpi
    area_name: str
    value: float | None
    period: str | None
    ci: stats.Interval | None
    england: float | None
    england_period: str | None
    england_unit: str | None
    baseline: float | None
    baseline_period: str | None
    baseline_label: str
    trend: stats.Trend | None
    settings: Settings


def _rule_above_england(ev: Evidence, rule: TargetRule) -> Judgement:
    kpi, s = ev.kpi, ev.settings
    eng = fmt(ev.england, kpi.unit)
    if ev.ci is not None:
        verdict = stats.compare_with_england(ev.value, ev.ci.low, ev.ci.high, ev.england, kpi.polarity)
        ci = f"{fmt(ev.ci.low, kpi.unit)} to {fmt(ev.ci.high, kpi.unit)}"
        if verdict == "better":
            return Judgement("green", f"significantly better than England ({eng}): the 95% confidence interval "
                                      f"({ci}) lies wholly on the better side")
        if verdict == "worse":
            return Judgement("red", f"significantly worse than England ({eng}): the 95% confidence interval ({ci}) "
                                    "lies wholly on the worse side")
        return Judgement("amber", f"not significantly different from England ({eng}): the 95% confidence interval "
                                  f"({ci}) includes England's figure")
    gap = (ev.value - ev.england) * _good_sign(kpi.polarity)
    tol = s.in_line_tolerance
    if gap > tol:
        return Judgement("green", f"better than England ({eng}) by {_gap_text(gap, kpi.unit)}, more than the "
                                  f"{tol:g}-point tolerance (no confidence interval)")
    if gap < -tol:
        return Judgement("red", f"worse than England ({eng}) by {_gap_text(gap, kpi.unit)}, more than the "
                                f"{tol:g}-point tolerance (no confidence interval)")
    return Judgement("amber", f"within {tol:g} points of England ({eng}), so not clearly above it "
                              "(no confidence interval)")


def _rule_in_line_with_england(ev: Evidence, rule: TargetRule) -> Judgement:
    kpi, s = ev.kpi, ev.settings
    eng = fmt(ev.england, kpi.unit)
    gap = (ev.value - ev.england) * _good_sign(kpi.polarity)
    if ev.ci is not None:
        verdict = stats.compare_with_england(ev.value, ev.ci.low, ev.ci.high, ev.england, kpi.polarity)
        ci = f"{fmt(ev.ci.low, kpi.unit)} to {fmt(ev.ci.high, kpi.unit)}"
        if verdict == "similar":
            return Judgement("green", f"in line with England ({eng}): the 95% confidence interval ({ci}) includes it")
        if verdict == "better":
            return Judgement("green", f"significantly better than England ({eng}); 95% confidence interval {ci}")
        if -gap <= s.in_line_tolerance * s.amber_multiple:
            return Judgement("amber", f"significantly worse than England ({eng}) but by only "
                                      f"{_gap_text(gap, kpi.unit)}; 95% confidence interval {ci}")
        return Judgement("red", f"significantly worse than England ({eng}), by {_gap_text(gap, kpi.unit)}; "
                                f"95% confidence interval {ci}")
    tol = s.in_line_tolerance
    if gap >= -tol:
        words = "in line with" if gap <= tol else "better than"
        return Judgement("green", f"{words} England ({eng}): the gap is {_gap_text(gap, kpi.unit)} "
                                  f"(tolerance {tol:g} points, no confidence interval)")
    if -gap <= tol * s.amber_multiple:
        return Judgement("amber", f"below England ({eng}) by {_gap_text(gap, kpi.unit)}, outside the {tol:g}-point "
                                  "tolerance but close (no confidence interval)")
    return Judgement("red", f"well short of England ({eng}): worse by {_gap_text(gap, kpi.unit)} "
                            "(no confidence interval)")


def _rule_improving_vs_baseline(ev: Evidence, rule: TargetRule) -> Judgement:
    kpi, s = ev.kpi, ev.settings
    if ev.baseline is None:
        return Judgement(None, f"there is no baseline figure to compare with (the plan says: \"{kpi.baseline.text}\")")
    change = (ev.value - ev.baseline) * _good_sign(kpi.polarity)
    threshold = s.improvement_threshold * abs(ev.baseline)
    base = f"{ev.baseline_label} of {fmt(ev.baseline, kpi.unit)}"
    if change > threshold:
        return Judgement("green", f"an improvement on the {base}")
    if change < -threshold:
        return Judgement("red", f"worse than the {base}")
    return Judgement("amber", f"little changed from the {base} (within {s.improvement_threshold:.0%})")


def _rule_improving_vs_target(ev: Evidence, rule: TargetRule) -> Judgement:
    kpi, s = ev.kpi, ev.settings
    target = fmt(rule.value, kpi.unit)
    if (ev.value - rule.value) * _good_sign(kpi.polarity) >= 0:
        return Judgement("green", f"meeting the target of {target}")
    if ev.baseline is None:
        return Judgement("red", f"short of the target of {target}, with no baseline to show progress")
    change = (ev.value - ev.baseline) * _good_sign(kpi.polarity)
    base = f"{ev.baseline_label} of {fmt(ev.baseline, kpi.unit)}"
    if change > s.improvement_threshold * abs(ev.baseline):
        return Judgement("amber", f"better than the {base} but short of the target of {target}")
    return Judgement("red", f"not improving on the {base} towards the target of {target}")


def _rule_improving_trend(ev: Evidence, rule: TargetRule) -> Judgement:
    t = ev.trend
    if t is None or t.direction == "not enough data":
        return Judgement(None, t.text if t else "there are not enough figures for a trend")
    if t.meaning == "getting better":
        return Judgement("green", t.text[0].lower() + t.text[1:])
    if t.meaning == "getting worse":
        return Judgement("red", t.text[0].lower() + t.text[1:])
    return Judgement("amber", t.text[0].lower() + t.text[1:])


def _rule_absolute(ev: Evidence, rule: TargetRule) -> Judgement:
    kpi, s = ev.kpi, ev.settings
    gap = (ev.value - rule.value) * _good_sign(kpi.polarity)
    target = fmt(rule.value, kpi.unit)
    if gap >= 0:
        return Judgement("green", f"meeting the target of {target}")
    if -gap <= s.absolute_amber_gap:
        return Judgement("amber", f"close to the target of {target}: {_gap_text(gap, kpi.unit)} short")
    return Judgement("red", f"well short of the target of {target}: {_gap_text(gap, kpi.unit)} short")


_RULES = {"above_england": _rule_above_england, "in_line_with_england": _rule_in_line_with_england,
          "improving_vs_baseline": _rule_improving_vs_baseline, "improving_vs_target": _rule_improving_vs_target,
          "improving_trend": _rule_improving_trend, "absolute": _rule_absolute}


def rag_for(ev: Evidence) -> tuple[str, str]:
    """Apply a KPI's target rules to the evidence: (rag, reason in plain English)."""
    kpi = ev.kpi
    figure = fmt(ev.value, kpi.unit)
    if kpi.relation == "none" and ev.value is None:  # a local figure uploaded later is judged as usual
        return "not rated", "Not rated: no published indicator for this measure."
    if kpi.relation == "related" and not kpi.target.rules:
        # A related indicator is context, not the measure: judging it by the measure's aim
        # would present it as the measure itself.
        held = f"latest figure {figure}" if ev.value is not None else f"no figure held for {ev.area_name}"
        return "not rated", ("Not rated: a related indicator, not the plan's measure itself, so it is not judged "
                             f"against the plan's aim ({held}).")
    if ev.value is None:
        return "not rated", (f"Not rated: no figure for {ev.area_name} yet"
                             + (f" ({kpi.baseline.text})" if kpi.baseline.value is None else "") + ".")
    if not kpi.target.rules:
        return "not rated", f"Not rated: the plan sets no target for this measure. Latest figure {figure}."
    uses_england = [r for r in kpi.target.rules if r.type in _NEED_ENGLAND]
    if uses_england and ev.england is not None and ev.england_unit and ev.england_unit != kpi.unit:
        return "not rated", (
            f"Not rated: England's figure ({fmt(ev.england, ev.england_unit)}) is in "
            f"{_UNIT_WORDS.get(ev.england_unit, ev.england_unit)} but this measure is "
            f"{_UNIT_WORDS.get(kpi.unit, kpi.unit)} ({figure}), so the two cannot be compared (unit mismatch).")
    if kpi.polarity == "none" and any(r.type in _NEED_DIRECTION for r in kpi.target.rules):
        return "not rated", (f"Not rated: the plan does not say whether a higher or lower figure is better. "
                             f"Latest figure {figure}.")
    rated: list[Judgement] = []
    unjudged: list[str] = []
    for rule in kpi.target.rules:
        if rule.type in _NEED_ENGLAND and ev.england is None:
            msg = f"there is no England figure to compare with (the plan says: \"{kpi.england.text}\")"
            if rule.required:
                unjudged.append(msg)
            continue
        j = _RULES[rule.type](ev, rule)
        if j.rag is None:
            if rule.required:
                unjudged.append(j.reason)
            continue
        rated.append(j)
    if unjudged:
        reasons = "; ".join(unjudged)
        return "not rated", f"Not rated: {figure}, but {reasons}."
    if not rated:
        return "not rated", f"Not rated: {figure}; no rule of the target could be applied."
    rag = worst([j.rag for j in rated])
    body = ", and ".join(j.reason for j in rated)
    return rag, f"{RAG_WORDS[rag]}: {figure} is {body}."


# --- building status rows from the store ------------------------------------------------------

def _interval_from_row(row: pd.Series, kpi: Kpi) -> stats.Interval | None:
    low, high = _num(row.get("ci_low")), _num(row.get("ci_high"))
    if low is not None and high is not None:
        return stats.Interval(low, high, 0.95)
    return stats.interval_for(kpi.unit, _num(row.get("value")), _num(row.get("numerator")),
                              _num(row.get("denominator")))


def _same_frequency(rows: pd.DataFrame) -> pd.DataFrame:
    """The run of figures that share the latest figure's kind of period (quarters with quarters)."""
    if rows.empty:
        return rows
    kinds = rows["period"].map(lambda p: parse_period(p).kind)
    return rows[kinds == kinds.iloc[-1]]


def kpi_status(kpi: Kpi, plan: Plan, config: Config, area_code: str, area_rows: pd.DataFrame,
               england_rows: pd.DataFrame, partnership_name: str) -> KpiStatus:
    """Status of one KPI for one area from its figures (oldest first) and England's."""
    s = config.settings
    area_name = config.area_name(area_code)
    headline = area_rows[area_rows["value"].notna()]
    latest = area_rows.iloc[-1] if not area_rows.empty else None
    value = _num(latest["value"]) if latest is not None else None
    # England: the store's figure for the latest period at or before the area's, else the plan's.
    england, england_period, england_unit = kpi.england.value, kpi.england.period, kpi.england.unit
    if not england_rows.empty:
        eng = england_rows[england_rows["value"].notna()]
        if latest is not None:
            eng = eng[eng["period_end"] <= latest["period_end"]]
        if not eng.empty:
            # England figures in the store are always in the KPI's own unit (see bundled.plan_rows).
            england, england_period = _num(eng.iloc[-1]["value"]), eng.iloc[-1]["period"]
            england_unit = kpi.unit
    # Baseline: the plan's for its own area; a district's own figure at the baseline period, else its first.
    baseline, baseline_period, baseline_label = kpi.baseline.value, kpi.baseline.period, "baseline"
    if kpi.baseline.period:
        baseline_label = f"{kpi.baseline.period} baseline"
    if area_code != plan.area and not headline.empty:
        at_base = headline[headline["period"] == kpi.baseline.period] if kpi.baseline.period else headline.iloc[0:0]
        first = at_base.iloc[0] if not at_base.empty else headline.iloc[0]
        baseline, baseline_period = _num(first["value"]), first["period"]
        baseline_label = f"{area_name} {baseline_period} figure"
    ci = _interval_from_row(latest, kpi) if latest is not None and value is not None else None
    run = _same_frequency(headline)
    trend = None
    if not run.empty:
        trend = stats.recent_trend(run["value"].tolist(), kpi.polarity,
                                   numerators=run["numerator"].tolist() if run["numerator"].notna().all() else None,
                                   denominators=run["denominator"].tolist() if run["denominator"].notna().all()
                                   else None, points=s.trend_points)
    ev = Evidence(kpi, area_name, value, latest["period"] if latest is not None else None, ci, england,
                  england_period, england_unit, baseline, baseline_period, baseline_label, trend, s)
    rag, reason = rag_for(ev)
    if area_code == ENGLAND:
        rag, reason = "not rated", (f"Not rated: England is the comparator the other areas are measured against "
                                    f"(latest figure {fmt(value, kpi.unit)}).")
    status = KpiStatus(
        code=kpi.code, kpi=kpi.name, partnership=partnership_name, partnership_id=kpi.partnership_id,
        area=area_code, area_name=area_name, period=ev.period, value=value, unit=kpi.unit, england=england,
        england_period=england_period, target=kpi.target.text, rag=rag, reason=reason, baseline=baseline,
        baseline_period=baseline_period, baseline_text=kpi.baseline.text, england_text=kpi.england.text,
        polarity=kpi.polarity, relation=kpi.relation, relation_note=kpi.relation_note)
    if ci is not None:
        status.ci_low, status.ci_high = round(ci.low, 3), round(ci.high, 3)
    same_units = not england_unit or england_unit == kpi.unit
    if same_units and ci is not None:
        status.compared_with_england = stats.compare_with_england(value, ci.low, ci.high, england, kpi.polarity)
    elif latest is not None and isinstance(latest.get("compared_with_england"), str) and same_units:
        status.compared_with_england = _published_comparison(latest["compared_with_england"])
    status.comparison_text = _comparison_text(status, ci, same_units)
    if trend is not None:
        status.trend, status.trend_text = (f"{trend.direction}, {trend.meaning}" if trend.meaning
                                           else trend.direction), trend.text
    if len(run) >= 2:
        spc = stats.xmr(run["value"].tolist(), kpi.polarity, target=_assurance_target(kpi, england, same_units),
                        min_points=s.spc_min_points)
        status.spc_variation, status.spc_assurance = spc.variation, spc.assurance
        status.spc_text = spc.variation_text + (f" {spc.assurance_text}" if spc.assurance_text else "")
        status.assurance_target = _assurance_target(kpi, england, same_units)
    if latest is not None:
        flags = [f for f in str(latest.get("flags") or "").split(",") if f]
        if bool(latest.get("illustrative")):
            flags.append("illustrative")
        status.flags = ",".join(sorted(set(flags)))
        status.note = latest.get("note") if isinstance(latest.get("note"), str) else None
        status.numerator, status.denominator = _num(latest.get("numerator")), _num(latest.get("denominator"))
        status.illustrative = bool(latest.get("illustrative"))
        status.source = str(latest.get("source") or kpi.source)
        status.licence = str(latest.get("licence") or kpi.licence or "")
    else:
        status.source, status.licence = kpi.source, kpi.licence
    if len(headline) >= 2:
        prev = _num(headline.iloc[-2]["value"])
        if value is not None and prev is not None:
            status.direction = "up" if value > prev else "down" if value < prev else "same"
    return status


def spc_for(kpi: Kpi, area_rows: pd.DataFrame, st_row: KpiStatus, settings: Settings
            ) -> tuple[list[str], stats.SpcResult] | None:
    """The XmR chart data behind a status row: the periods and the SPC result, or None."""
    run = _same_frequency(area_rows[area_rows["value"].notna()])
    if len(run) < 2:
        return None
    return run["period"].tolist(), stats.xmr(run["value"].tolist(), kpi.polarity, target=st_row.assurance_target,
                                             min_points=settings.spc_min_points)


def funnel_centre(rows: list[KpiStatus], plan_area: str) -> tuple[float, str] | None:
    """The centre a district funnel is drawn around: the plan area's figure, else England's."""
    for r in rows:
        if r.area == plan_area and r.value is not None:
            return r.value, r.area_name
    for r in rows:
        if r.area == "E92000001" and r.value is not None:
            return r.value, "England"
    return None


def _published_comparison(text: str) -> str:
    t = text.strip().lower()
    for word in ("better", "similar", "worse"):
        if t.startswith(word):
            return word
    return "not compared"


def _comparison_text(st: KpiStatus, ci, same_units: bool) -> str:
    if not same_units:
        return "Not compared: England's figure is in different units."
    if st.england is None:
        return "Not compared: no England figure."
    if ci is None:
        if st.compared_with_england != "not compared":
            return f"{st.compared_with_england.capitalize()} than England, as published." \
                if st.compared_with_england != "similar" else "Similar to England, as published."
        return "Not compared: no confidence interval (no numerator and denominator)."
    words = {"better": "Significantly better than England", "worse": "Significantly worse than England",
             "similar": "Similar to England (not significantly different)", "not compared": "Not compared"}
    return f"{words[st.compared_with_england]} (95% confidence interval {fmt(ci.low, st.unit)} to " \
           f"{fmt(ci.high, st.unit)})."


def _assurance_target(kpi: Kpi, england: float | None, same_units: bool) -> float | None:
    for r in kpi.target.rules:
        if r.type in ("absolute", "improving_vs_target") and r.value is not None:
            return r.value
    for r in kpi.target.rules:
        if r.type in _NEED_ENGLAND and same_units and england is not None:
            return england
    return None


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
    for k in kpis:
        mine = rows[rows["indicator_id"] == k.indicator_id]
        out.append(kpi_status(k, plan, config, area_code, mine[mine["area_code"] == area_code],
                              mine[mine["area_code"] == ENGLAND] if area_code != ENGLAND else mine.iloc[0:0],
                              names[k.partnership_id]))
    return out


def district_table(conn: duckdb.DuckDBPyConnection, config: Config, plan: Plan, kpi: Kpi,
                   period: str | None = None, as_at: datetime | date | None = None) -> list[KpiStatus]:
    """The KPI for the plan's area, each district, its other comparators (e.g. the region) and
    England, by the same rules; a comparator with no figures is listed as such, not left out."""
    up_to = parse_period(period).end if period else None
    areas = list(dict.fromkeys([plan.area, *plan.districts, *plan.comparators, ENGLAND]))
    areas.remove(ENGLAND)
    areas.append(ENGLAND)
    rows = store.series(conn, [kpi.indicator_id], areas, up_to=up_to, as_at=as_at)
    name = plan.partnership(kpi.partnership_id).name
    england_rows = rows[rows["area_code"] == ENGLAND]
    return [kpi_status(kpi, plan, config, a, rows[rows["area_code"] == a],
                       england_rows if a != ENGLAND else england_rows.iloc[0:0], name) for a in areas]


def rag_counts(statuses: list[KpiStatus]) -> dict[str, int]:
    counts = {r: 0 for r in ("green", "amber", "red", "not rated")}
    for s in statuses:
        counts[s.rag] += 1
    return counts


def status_frame(statuses: list[KpiStatus]) -> pd.DataFrame:
    """Status rows as a table with the contract's columns first."""
    df = pd.DataFrame([s.as_row() for s in statuses])
    if df.empty:
        return pd.DataFrame(columns=CONTRACT_COLUMNS)
    rest = [c for c in df.columns if c not in CONTRACT_COLUMNS]
    return df[CONTRACT_COLUMNS + rest]
