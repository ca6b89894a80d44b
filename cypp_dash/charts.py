"""Altair charts in one house style (Government Analysis Function colours, colour-blind safe):
every chart carries a title, a subtitle naming area and period, a source line and, where the
data are, the word "Illustrative". RAG is shown by shape and word as well as colour."""
from __future__ import annotations

import altair as alt
import pandas as pd

from cypp_dash import stats
from cypp_dash.config import Kpi
from cypp_dash.periods import parse_period
from cypp_dash.status import RAG_SYMBOLS, RAG_WORDS, KpiStatus, fmt

# Analysis Function categorical palette (dark blue, turquoise, dark pink, orange, ...).
DARK_BLUE, TURQUOISE, DARK_PINK, ORANGE, GREY = "#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D"
RAG_COLOURS = {"green": "#00703C", "amber": "#B35900", "red": "#D4351C", "not rated": "#505A5F"}
RAG_SHAPES = {"green": "circle", "amber": "triangle-up", "red": "cross", "not rated": "square"}
WIDTH, HEIGHT = 620, 260
FONT = "Arial"


def _theme(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (chart.configure(font=FONT)
            .configure_axis(labelFontSize=12, titleFontSize=12, labelColor="#0B0C0C", titleColor="#0B0C0C",
                            gridColor="#E5E5E5")
            .configure_title(fontSize=16, subtitleFontSize=12, anchor="start", color="#0B0C0C",
                             subtitleColor="#505A5F")
            .configure_legend(labelFontSize=12, titleFontSize=12, orient="bottom")
            .configure_view(stroke=None))


def _titled(chart, title: str, subtitle: list[str], source: str, illustrative: bool):
    lines = list(subtitle)
    if illustrative:
        lines.append("ILLUSTRATIVE DATA: not real figures")
    footer = alt.Chart(pd.DataFrame({"t": [source]})).mark_text(
        align="left", baseline="top", fontSize=11, color="#505A5F", font=FONT, limit=WIDTH + 80
    ).encode(text="t:N").properties(width=WIDTH, height=16)
    combined = alt.vconcat(chart, footer, spacing=6).properties(
        title=alt.Title(title, subtitle=lines))
    return _theme(combined)


def _order(periods: list[str]) -> list[str]:
    return sorted(set(periods), key=lambda p: (parse_period(p).end, parse_period(p).start))


def trend_chart(kpi: Kpi, rows: pd.DataFrame, st_row: KpiStatus, period_text: str, target: float | None = None):
    """The KPI's figures for one area over time, with the baseline, England and target marked."""
    df = rows[rows["value"].notna()].copy()
    df["label"] = [fmt(v, kpi.unit) for v in df["value"]]
    lows, highs = [], []
    for _, r in df.iterrows():
        ci = None
        if pd.notna(r.get("ci_low")) and pd.notna(r.get("ci_high")):
            ci = stats.Interval(r["ci_low"], r["ci_high"], 0.95)
        else:
            ci = stats.interval_for(kpi.unit, r["value"], r.get("numerator"), r.get("denominator"))
        lows.append(ci.low if ci else None)
        highs.append(ci.high if ci else None)
    df["ci_low"], df["ci_high"] = lows, highs
    order = _order(df["period"].tolist()) if not df.empty else []
    x = alt.X("period:N", sort=order, title=None, axis=alt.Axis(labelAngle=-45, labelOverlap=True))
    y_title = kpi.unit_text if kpi.unit != "count" else "Number"
    base = alt.Chart(df)
    layers = [
        base.mark_rule(color=DARK_BLUE, opacity=0.45).encode(x=x, y="ci_low:Q", y2="ci_high:Q"),
        base.mark_line(color=DARK_BLUE, strokeWidth=2).encode(x=x, y=alt.Y("value:Q", title=y_title,
                                                                           scale=alt.Scale(zero=False))),
        base.mark_point(color=DARK_BLUE, filled=True, size=45).encode(
            x=x, y="value:Q", tooltip=[alt.Tooltip("period:N", title="Period"), alt.Tooltip("label:N", title="Value"),
                                       alt.Tooltip("flags:N", title="Flags")]),
    ]
    refs = []
    if st_row.baseline is not None and st_row.area == st_row.area and kpi.baseline.value is not None:
        refs.append(("Baseline " + fmt(kpi.baseline.value, kpi.unit), kpi.baseline.value, GREY, [2, 2]))
    if st_row.england is not None and (not kpi.england.unit or kpi.england.unit == kpi.unit or
                                       st_row.england_period != kpi.england.period):
        refs.append(("England " + fmt(st_row.england, kpi.unit), st_row.england, TURQUOISE, [6, 3]))
    if target is not None:
        refs.append(("Target " + fmt(target, kpi.unit), target, DARK_PINK, [8, 4]))
    if refs:
        ref_df = pd.DataFrame([{"name": n, "y": v} for n, v, _, _ in refs])
        for name, _value, colour, dash in refs:
            one = ref_df[ref_df["name"] == name]
            layers.append(alt.Chart(one).mark_rule(color=colour, strokeDash=dash, strokeWidth=2).encode(y="y:Q"))
            layers.append(alt.Chart(one).mark_text(align="left", dx=4, dy=-7, color=colour, fontSize=12,
                                                   fontWeight="bold").encode(y="y:Q", text="name:N",
                                                                             x=alt.value(4)))
    chart = alt.layer(*layers).properties(width=WIDTH, height=HEIGHT)
    subtitle = [f"{st_row.area_name}, {period_text}. {kpi.unit_text}; "
                + ("higher is better" if kpi.polarity == "higher" else
                   "lower is better" if kpi.polarity == "lower" else "no better direction set"),
                "Vertical bars: 95% confidence intervals where numerator and denominator are known"]
    return _titled(chart, f"{kpi.code} {kpi.name}", subtitle, _source(st_row), st_row.illustrative)


def district_chart(kpi: Kpi, rows: list[KpiStatus], period_text: str):
    """Areas side by side: value with 95% interval, RAG by shape, colour and word, England as a line."""
    data = [r for r in rows if r.value is not None and r.area != "E92000001"]
    df = pd.DataFrame([{"area": r.area_name, "value": r.value, "ci_low": r.ci_low, "ci_high": r.ci_high,
                        "rag": r.rag, "rag_label": f"{RAG_SYMBOLS[r.rag]} {RAG_WORDS[r.rag]}",
                        "label": f"{fmt(r.value, kpi.unit)}  {RAG_SYMBOLS[r.rag]} {RAG_WORDS[r.rag]}",
                        "period": r.period} for r in data])
    if df.empty:
        df = pd.DataFrame(columns=["area", "value", "ci_low", "ci_high", "rag", "rag_label", "label", "period"])
    ascending = kpi.polarity == "lower"
    order = df.sort_values("value", ascending=ascending)["area"].tolist()
    y = alt.Y("area:N", sort=order, title=None, axis=alt.Axis(labelFontSize=12, labelLimit=200))
    rag_domain = list(RAG_COLOURS)
    base = alt.Chart(df)
    layers = [
        base.mark_rule(color=GREY, strokeWidth=2).encode(y=y, x="ci_low:Q", x2="ci_high:Q"),
        base.mark_point(filled=True, size=140, opacity=1).encode(
            y=y, x=alt.X("value:Q", title=kpi.unit_text, scale=alt.Scale(zero=False)),
            color=alt.Color("rag_label:N", title="RAG",
                            scale=alt.Scale(domain=[f"{RAG_SYMBOLS[r]} {RAG_WORDS[r]}" for r in rag_domain],
                                            range=[RAG_COLOURS[r] for r in rag_domain])),
            shape=alt.Shape("rag_label:N", title="RAG",
                            scale=alt.Scale(domain=[f"{RAG_SYMBOLS[r]} {RAG_WORDS[r]}" for r in rag_domain],
                                            range=[RAG_SHAPES[r] for r in rag_domain])),
            tooltip=["area:N", "label:N", "period:N"]),
        base.mark_text(align="left", dx=12, fontSize=12, color="#0B0C0C").encode(y=y, x="value:Q", text="label:N"),
    ]
    england = next((r.england for r in rows if r.england is not None), None)
    if england is not None and (not kpi.england.unit or kpi.england.unit == kpi.unit):
        eng = pd.DataFrame({"x": [england], "t": [f"England {fmt(england, kpi.unit)}"]})
        layers.append(alt.Chart(eng).mark_rule(color=TURQUOISE, strokeDash=[6, 3], strokeWidth=2).encode(x="x:Q"))
        layers.append(alt.Chart(eng).mark_text(align="left", dx=4, dy=-6, color=TURQUOISE, fontWeight="bold",
                                               fontSize=12).encode(x="x:Q", text="t:N", y=alt.value(0)))
    chart = alt.layer(*layers).properties(width=WIDTH - 120, height=max(180, 34 * len(df)))
    subtitle = [f"{rows[0].area_name if rows else ''} and its districts, {period_text}. "
                + ("Higher is better" if kpi.polarity == "higher" else
                   "Lower is better" if kpi.polarity == "lower" else "No better direction set")
                + "; bars are 95% confidence intervals"]
    illustrative = any(r.illustrative for r in rows)
    return _titled(chart, f"{kpi.code} {kpi.name}: districts compared", subtitle,
                   _source(rows[0]) if rows else "", illustrative)


def _source(r: KpiStatus) -> str:
    text = f"Source: {r.source}" if r.source else "Source: the plan"
    if r.licence:
        text += f". {r.licence}"
    return text
