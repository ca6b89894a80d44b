"""Charts for published benchmarks, in the house style of cypp_dash.charts: the area against its ten
statistical neighbours, its region and England (sorted bars, the area picked out), and the measure
over time for the area, England, the region and the neighbours' average."""
from __future__ import annotations

import altair as alt
import pandas as pd

from cypp_dash.chart_style import DARK_BLUE, DARK_PINK, GREY, ORANGE, TEXT, TURQUOISE, WIDTH, _titled

ROLE_COLOURS = {"area": DARK_BLUE, "neighbour": "#8FA9C2", "region": ORANGE, "England": TURQUOISE}
ROLE_WORDS = {"area": "the area", "neighbour": "statistical neighbour", "region": "region", "England": "England"}


def _fmt(v, decimals: int) -> str:
    return "no figure" if v is None or pd.isna(v) else f"{float(v):,.{decimals}f}"


def neighbour_bars(bars: pd.DataFrame, measure: str, period: str, polarity: str, area_name: str, source: str,
                   decimals: int = 1, unit_label: str = ""):
    """One bar per area (best first by polarity; no-figure areas last, labelled), the area in dark blue."""
    if bars.empty:
        return None
    df = bars.assign(label=[_fmt(v, decimals) for v in bars["value"]],
                     role_word=bars["role"].map(ROLE_WORDS), plotted=bars["value"].fillna(0))
    order = df["name"].tolist()
    y = alt.Y("name:N", sort=order, title=None,
              axis=alt.Axis(labelFontSize=13, labelLimit=200, ticks=False, domain=False,
                            labelFontWeight=alt.expr(f"datum.label == {area_name!r} ? 'bold' : 'normal'")))
    plot_width = WIDTH - 190
    base = alt.Chart(df)
    roles = list(ROLE_COLOURS)
    bars_layer = base.mark_bar(height=18).encode(
        y=y, x=alt.X("plotted:Q", title=unit_label or "Value", axis=alt.Axis(tickCount=6)),
        color=alt.Color("role_word:N", title=None,
                        scale=alt.Scale(domain=[ROLE_WORDS[r] for r in roles], range=[ROLE_COLOURS[r] for r in roles])),
        tooltip=[alt.Tooltip("name:N", title="Area"), alt.Tooltip("label:N", title=period),
                 alt.Tooltip("role_word:N", title="Is")])
    text = base.mark_text(align="left", baseline="middle", fontSize=13, color=TEXT).encode(
        y=y, x=alt.value(plot_width + 8), text=alt.Text("label:N"))
    chart = alt.layer(bars_layer, text, width=plot_width, height=max(200, 26 * len(df)))
    better = {"High": "Higher is better; sorted best first.", "Low": "Lower is better; sorted best first."}.get(
        polarity, "Neither higher nor lower is better; sorted highest first.")
    return _titled(chart, f"{measure}: {area_name} and its statistical neighbours",
                   [f"{period}. {area_name} (dark blue) against its ten statistical neighbours, its region and "
                    f"England. {better}"], source, False)


def benchmark_series(series: pd.DataFrame, measure: str, area_name: str, source: str, unit_label: str = ""):
    """The measure over the years for the area, England, the region and the neighbours' average;
    line style as well as colour tells them apart."""
    df = series.dropna(subset=["value"])
    if df.empty:
        return None
    order = series.drop_duplicates("period").sort_values("year")["period"].tolist()
    lines = [area_name, "England", *[x for x in df["line"].unique() if x not in (area_name, "England",
                                                                                  "Neighbour average")],
             "Neighbour average"]
    colours = [DARK_BLUE, TURQUOISE, ORANGE, DARK_PINK][:len(lines)] + [GREY] * max(0, len(lines) - 4)
    dashes = [[1, 0], [6, 3], [2, 2], [8, 2, 2, 2]][:len(lines)] + [[1, 0]] * max(0, len(lines) - 4)
    enc = dict(x=alt.X("period:N", sort=order, title=None, axis=alt.Axis(labelAngle=0 if len(order) <= 10 else -40)),
               y=alt.Y("value:Q", title=unit_label or "Value", scale=alt.Scale(zero=False)),
               color=alt.Color("line:N", title=None, sort=lines, scale=alt.Scale(domain=lines, range=colours)),
               strokeDash=alt.StrokeDash("line:N", title=None, sort=lines,
                                         scale=alt.Scale(domain=lines, range=dashes)))
    base = alt.Chart(df)
    chart = alt.layer(
        base.mark_line(strokeWidth=3).encode(**enc),
        base.mark_point(filled=True, size=60).encode(
            **enc, shape=alt.Shape("line:N", title=None, sort=lines, scale=alt.Scale(domain=lines)),
            tooltip=[alt.Tooltip("line:N", title="Line"), alt.Tooltip("period:N", title="Year"),
                     alt.Tooltip("value:Q", title="Value", format=",.1f")]),
        width=WIDTH, height=260)
    return _titled(chart, f"{measure}: {area_name} over time",
                   [f"{area_name}, England, its region and the average of its ten statistical neighbours."],
                   source, False)
