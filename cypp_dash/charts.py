"""Altair charts in one house style (Government Analysis Function colours, colour-blind safe):
every chart carries a title, a subtitle naming area and period, a source line and, where the
data are, the word "Illustrative". RAG is shown by shape and word as well as colour.

The front door for every chart (charts.<name>): the trend, SPC and funnel charts live in chart_trend.py,
chart_spc.py and chart_funnel.py, the house style in chart_style.py, the shared period axis in
chart_periods.py; the district comparison, the districts' small multiples and the Voice charts are here."""
from __future__ import annotations

import json

import altair as alt
import pandas as pd

from cypp_dash.chart_funnel import FUNNEL_MARKERS, FUNNEL_MEANING_COLOURS, _funnel_meaning, funnel_chart
from cypp_dash.chart_periods import england_label
from cypp_dash.chart_spc import SPC_STYLES, spc_chart
from cypp_dash.chart_style import (
    DARK_BLUE,
    DARK_PINK,
    FONT,
    GREY,
    HEIGHT,
    ORANGE,
    RAG_COLOURS,
    RAG_SHAPES,
    RAG_TINTS,
    SECONDARY_TEXT,
    TEXT,
    TURQUOISE,
    WIDTH,
    _source,
    _titled,
    better_words,
)
from cypp_dash.chart_trend import trend_chart
from cypp_dash.config import Kpi
from cypp_dash.status import RAG_SYMBOLS, RAG_WORDS, KpiStatus, fmt

__all__ = [  # every name pages, exports and tests reach as charts.<name>
    "DARK_BLUE", "DARK_PINK", "FONT", "FUNNEL_MARKERS", "FUNNEL_MEANING_COLOURS", "GREY", "HEIGHT", "ORANGE",
    "RAG_COLOURS", "RAG_SHAPES", "RAG_TINTS", "SECONDARY_TEXT", "SPC_STYLES", "TEXT", "TURQUOISE", "WIDTH",
    "_funnel_meaning", "_titled", "district_chart", "district_trends_chart", "england_label", "funnel_chart",
    "spc_chart", "trend_chart", "voice_answers_chart", "voice_counts_chart",
]


def district_chart(kpi: Kpi, rows: list[KpiStatus], period_text: str):
    """Areas side by side: value with 95% interval, RAG by shape, colour and word, England as a line."""
    data = [r for r in rows if r.value is not None and r.area != "E92000001"]
    df = pd.DataFrame([{"area": r.area_name, "value": r.value, "ci_low": r.ci_low, "ci_high": r.ci_high,
                        "rag": r.rag, "rag_word": RAG_WORDS[r.rag],
                        "label": f"{fmt(r.value, kpi.unit)}  {RAG_WORDS[r.rag]}",
                        "tip": f"{fmt(r.value, kpi.unit)} {RAG_SYMBOLS[r.rag]} {RAG_WORDS[r.rag]}",
                        "period": r.period} for r in data])
    if df.empty:
        df = pd.DataFrame(columns=["area", "value", "ci_low", "ci_high", "rag", "rag_word", "label", "tip", "period"])
    ascending = kpi.polarity == "lower"
    order = df.sort_values("value", ascending=ascending)["area"].tolist()
    home = rows[0].area_name if rows else ""
    # The plan's own area is picked out in bold among its districts.
    y = alt.Y("area:N", sort=order, title=None,
              axis=alt.Axis(labelFontSize=13, labelLimit=220, ticks=False, domain=False,
                            labelFontWeight=alt.expr(f"datum.label == {json.dumps(home)} ? 'bold' : 'normal'")))
    rag_domain = list(RAG_COLOURS)
    plot_width = WIDTH - 170
    base = alt.Chart(df)
    layers = [
        base.mark_rule(color=GREY, strokeWidth=2).encode(y=y, x=alt.X("ci_low:Q"), x2=alt.X2("ci_high")),
        base.mark_point(filled=True, size=150, opacity=1, stroke="white", strokeWidth=1).encode(
            y=y, x=alt.X("value:Q", title=kpi.unit_text if kpi.unit != "count" else "Number",
                         scale=alt.Scale(zero=False), axis=alt.Axis(tickCount=8)),
            color=alt.Color("rag:N", legend=None,
                            scale=alt.Scale(domain=rag_domain, range=[RAG_COLOURS[r] for r in rag_domain])),
            shape=alt.Shape("rag:N", legend=None,
                            scale=alt.Scale(domain=rag_domain, range=[RAG_SHAPES[r] for r in rag_domain])),
            tooltip=[alt.Tooltip("area:N", title="Area"), alt.Tooltip("tip:N", title="Latest"),
                     alt.Tooltip("period:N", title="Period")]),
        # Value and RAG word in a column to the right of the plot, never on top of the intervals.
        base.mark_text(align="left", baseline="middle", fontSize=13, color=TEXT).encode(
            y=y, x=alt.value(plot_width + 12), text=alt.Text("label:N")),
    ]
    eng_row = next((r for r in rows if r.england is not None), None)
    england = eng_row.england if eng_row else None
    if england is not None and (not kpi.england.unit or kpi.england.unit == kpi.unit):
        when = f" {eng_row.england_period}" if eng_row.england_period else ""
        eng = pd.DataFrame({"x": [england], "t": [f"England{when}: {fmt(england, kpi.unit)}"]})
        layers.append(alt.Chart(eng).mark_rule(color=TURQUOISE, strokeDash=[6, 3], strokeWidth=2).encode(x=alt.X("x:Q")))
        layers.append(alt.Chart(eng).mark_text(align="center", baseline="bottom", dy=-4, color=TURQUOISE,
                                               fontWeight="bold", fontSize=13).encode(
            x=alt.X("x:Q"), text=alt.Text("t:N"), y=alt.value(0)))
    chart = alt.layer(*layers, width=plot_width, height=max(180, 36 * len(df)))
    better = {"higher": "Higher is better", "lower": "Lower is better"}.get(kpi.polarity, "No better direction set")
    sorting = "sorted best first" if kpi.polarity in ("higher", "lower") else "sorted highest first"
    subtitle = [f"{home} and its districts, {period_text}. {better}; {sorting}.",
                "Circle: on track; triangle: some concern; cross: off track; square: not rated. "
                "Lines: 95% confidence intervals."]
    illustrative = any(r.illustrative for r in rows)
    return _titled(chart, f"{kpi.code} {kpi.name}: districts compared", subtitle,
                   _source(rows[0]) if rows else "", illustrative)


# --- the voice of children and young people (consultation results) -----------------------------

def voice_counts_chart(rows: pd.DataFrame, title: str, label: str, subtitle: list[str], source: str):
    """Respondents by one breakdown (type, district, ...): a bar per group with its count written on it."""
    df = rows.rename(columns={"label": "group"}).copy()
    df["text"] = [f"{c:,}" for c in df["count"]]
    order = df["group"].tolist()
    y = alt.Y("group:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))
    base = alt.Chart(df)
    bars = base.mark_bar(color=DARK_BLUE).encode(
        y=y, x=alt.X("count:Q", title="Respondents"),
        tooltip=[alt.Tooltip("group:N", title=label), alt.Tooltip("count:Q", title="Respondents", format=",")])
    text = base.mark_text(align="left", dx=4, color=TEXT).encode(y=y, x="count:Q", text="text:N")
    chart = alt.layer(bars, text).properties(width=WIDTH - 160, height=max(80, 30 * len(df)))
    return _titled(chart, title, subtitle, source, False)


def voice_answers_chart(long: pd.DataFrame, groups: list[str], title: str, subtitle: list[str], source: str):
    """Which groups raised each answer: a grid with a tick and the word, not colour alone."""
    df = long.copy()
    df["mark"] = df["raised"].map({True: "✓", False: ""})
    answers = list(dict.fromkeys(df.sort_values("groups_raising", ascending=False, kind="stable")["answer"]))
    x = alt.X("group:N", sort=groups, title=None,
              axis=alt.Axis(orient="top", labelAngle=0, labelLimit=140, labelOverlap=False))
    y = alt.Y("answer:N", sort=answers, title=None, axis=alt.Axis(labelLimit=460))
    base = alt.Chart(df)
    cells = base.mark_rect(stroke="white", strokeWidth=2).encode(
        x=x, y=y,
        color=alt.Color("raised_text:N", title=None,
                        scale=alt.Scale(domain=["raised", "not raised"], range=[TURQUOISE, "#F3F2F1"])),
        tooltip=[alt.Tooltip("answer:N", title="Answer"), alt.Tooltip("group:N", title="Group"),
                 alt.Tooltip("raised_text:N", title="This group")])
    ticks = base.mark_text(fontSize=16, fontWeight="bold", color=TEXT).encode(x=x, y=y, text="mark:N")
    chart = alt.layer(cells, ticks).properties(width=min(WIDTH, 125 * len(groups)),
                                               height=max(60, 30 * len(answers)))
    return _titled(chart, title, subtitle, source, False)


def district_trends_chart(kpi: Kpi, rows: pd.DataFrame, county_code: str, period_text: str, source: str = "",
                          illustrative: bool = False):
    """Small multiples: one small trend per district, each with the county's line behind it for comparison
    (rows: cypp_dash.districts.trends_frame). None when there are no district figures."""
    county = rows[rows["area_code"] == county_code]
    districts = rows[rows["area_code"] != county_code]
    if districts.empty:
        return None
    county_name = county["area_name"].iloc[0] if not county.empty else "County"
    panels = list(dict.fromkeys(districts["area_name"]))
    frames = [districts.assign(panel=districts["area_name"], series="District")]
    frames += [county.assign(panel=p, series=county_name) for p in panels]
    df = pd.concat(frames, ignore_index=True)[["panel", "series", "period", "period_end", "value"]]
    df["period_end"] = pd.to_datetime(df["period_end"])
    df["label"] = [fmt(v, kpi.unit) for v in df["value"]]
    series = [county_name, "District"]
    base = alt.Chart(df).encode(
        x=alt.X("period_end:T", title=None, axis=alt.Axis(format="%Y", tickCount=4, labelFontSize=11)),
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False), axis=alt.Axis(tickCount=4, labelFontSize=11)),
        color=alt.Color("series:N", title=None, scale=alt.Scale(domain=series, range=["#A0A0A0", DARK_BLUE])),
        strokeDash=alt.StrokeDash("series:N", title=None, scale=alt.Scale(domain=series, range=[[4, 3], [1, 0]])),
        tooltip=[alt.Tooltip("panel:N", title="Area"), alt.Tooltip("series:N", title="Line"),
                 alt.Tooltip("period:N", title="Period"), alt.Tooltip("label:N", title="Value")])
    chart = alt.layer(base.mark_line(strokeWidth=2), width=150, height=90).facet(
        facet=alt.Facet("panel:N", title=None, sort=panels,
                        header=alt.Header(labelFontSize=13, labelFontWeight="bold", labelAnchor="start")),
        columns=3, spacing=14)
    better = better_words(kpi.polarity)
    subtitle = [f"Each district of {county_name}, {period_text}; the dashed grey line is {county_name}. "
                f"{kpi.unit_text if kpi.unit != 'count' else 'Number'}; {better}."]
    themed = _titled(chart, f"{kpi.code} {kpi.name}: districts over time", subtitle, source, illustrative)
    return themed
