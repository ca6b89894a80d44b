"""A status row in the board's words: the comparison with England (and a district's with its parent), the
recent trend, SPC, the latest figure's flags and note, and the tile's headline. Filled in by cypp_dash.status."""
from __future__ import annotations

import pandas as pd

from cypp_dash import number, stats
from cypp_dash.config import Kpi
from cypp_dash.rag_rules import Evidence, ci_text, fmt
from cypp_dash.status_row import ENGLAND, KpiStatus


def say_comparison(status: KpiStatus, kpi: Kpi, latest: pd.Series | None, ci, same_units: bool) -> None:
    """Compared with England: by interval where one is held, else as published for the same period."""
    if status.england_out_of_date or status.area == ENGLAND:
        status.compared_with_england = "not compared"
    elif same_units and ci is not None:
        status.compared_with_england = stats.compare_with_england(status.value, ci.low, ci.high, status.england,
                                                                  kpi.polarity)
    elif latest is not None and isinstance(latest.get("compared_with_england"), str) and same_units \
            and status.england_period == status.period:
        status.compared_with_england = published_comparison(latest["compared_with_england"])
    status.comparison_text = comparison_text(status, ci, same_units)


def say_trend(status: KpiStatus, trend, yearly: bool, latest: pd.Series | None, suppressed: bool) -> None:
    if trend is not None:
        if not yearly:
            status.trend = ""
            status.trend_text = ("Quarterly figures: Fingertips tests trends on yearly figures only, so read the "
                                 "statistical process control verdict for signal and noise.")
        else:
            status.trend = f"{trend.trend}, {trend.direction}" if trend.direction else trend.trend
            status.trend_text = trend.text
    if status.value is None and latest is not None:
        status.trend = "" if not status.trend.startswith("cannot") else status.trend
        status.trend_text = (f"No trend verdict: the latest figure ({status.period}) is "
                             f"{'suppressed' if suppressed else 'missing'}.")


def say_spc(status: KpiStatus, spc, run: pd.DataFrame, target) -> None:
    status.spc_variation, status.spc_assurance = spc.variation, spc.assurance
    status.spc_text = spc.variation_text + (f" {spc.assurance_text}" if spc.assurance_text else "")
    status.assurance_target = target
    if spc.rebases:
        status.spc_rebase = "; ".join(f"limits recalculated from {run['period'].iloc[i]}"
                                      + (f" ({why})" if why else "") for i, why in spc.rebases)
        status.spc_text += f" SPC {status.spc_rebase}."


def say_latest(status: KpiStatus, kpi: Kpi, latest: pd.Series | None) -> None:
    """The latest figure's flags, note, counts, source and licence (the KPI's own where nothing is held)."""
    if latest is None:
        status.source, status.licence = kpi.source, kpi.licence
        return
    flags = [f for f in str(latest.get("flags") or "").split(",") if f]
    if bool(latest.get("illustrative")):
        flags.append("illustrative")
    status.flags = ",".join(sorted(set(flags)))
    status.note = latest.get("note") if isinstance(latest.get("note"), str) else None
    if status.value is not None:
        status.numerator = number.finite(latest.get("numerator"))
        status.denominator = number.finite(latest.get("denominator"))
    status.illustrative = bool(latest.get("illustrative"))
    status.source = str(latest.get("source") or kpi.source)
    status.licence = str(latest.get("licence") or kpi.licence or "")


def headline_words(st: KpiStatus) -> str:
    """The board's words for a tile: the comparison with England (naming its period), the trend and SPC, with
    no p-values or intervals ("significantly better than England (2024/25) · no significant change")."""
    if st.value is None:
        return "suppressed" if "suppressed" in st.flags.split(",") else ""
    parts = []
    when = f" ({st.england_period})" if st.england_period else ""
    if st.england_out_of_date:
        parts.append(f"comparator out of date (England{when})")
    elif st.compared_with_england == "better":
        parts.append(f"significantly better than England{when}")
    elif st.compared_with_england == "worse":
        parts.append(f"significantly worse than England{when}")
    elif st.compared_with_england == "similar":
        parts.append(f"not significantly different from England{when}")
    if "too few to tell" in st.reason:
        parts.append("too few to tell")
    if st.trend and not st.trend.startswith("cannot"):
        parts.append(st.trend.split(",")[0] if st.trend.startswith("no significant") else st.trend)
    elif st.spc_variation:
        parts.append({"common cause": "no significant change"}.get(st.spc_variation, st.spc_variation))
    return " · ".join(dict.fromkeys(parts))


def parent_comparison(ev: Evidence) -> tuple[str, str]:
    if ev.parent is None:
        return "not compared", f"Not compared: no {ev.parent_name} figure for {ev.period}."
    if ev.ci is None:
        return "not compared", f"Not compared with {ev.parent_name}: no confidence interval."
    verdict = stats.compare_with_england(ev.value, ev.ci.low, ev.ci.high, ev.parent, ev.kpi.polarity)
    words = {"better": "Significantly better than", "worse": "Significantly worse than",
             "similar": "Not significantly different from", "not compared": "Not compared with"}[verdict]
    return verdict, (f"{words} {ev.parent_name} ({ev.parent_period}: {fmt(ev.parent, ev.kpi.unit)}); 95% "
                     f"confidence interval {ci_text(ev.ci, ev.kpi.unit)}.")


def published_comparison(text: str) -> str:
    t = text.strip().lower()
    for word in ("better", "similar", "worse"):
        if t.startswith(word):
            return word
    return "not compared"


def comparison_text(st: KpiStatus, ci, same_units: bool) -> str:
    if not same_units:
        return "Not compared: England's figure is in different units."
    if st.area == ENGLAND:
        return ""
    if st.england is None:
        return "Not compared: no England figure."
    eng = f"England {st.england_period}: {fmt(st.england, st.unit)}" if st.england_period \
        else f"England: {fmt(st.england, st.unit)}"
    if st.england_out_of_date:
        return (f"Comparator out of date: the England figure held is for {st.england_period} ({eng}), more than "
                f"two years before {st.period}; not called better or worse.")
    if ci is None:
        if st.compared_with_england != "not compared":
            word = {"better": "Better than", "worse": "Worse than", "similar": "Similar to"}[st.compared_with_england]
            return f"{word} England, as published ({eng})."
        return f"Not compared: no confidence interval (no numerator and denominator). {eng}."
    words = {"better": "Significantly better than England", "worse": "Significantly worse than England",
             "similar": "Similar to England (not significantly different)", "not compared": "Not compared"}
    return f"{words[st.compared_with_england]} ({eng}); 95% confidence interval {fmt(ci.low, st.unit)} to " \
           f"{fmt(ci.high, st.unit)}."
