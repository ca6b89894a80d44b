"""The period axis the trend and SPC charts share (quarters as Q1..Q4 with each year written once beneath
them), a chart's layers put together over it, and England's figure named with its period."""
from __future__ import annotations

import json

import altair as alt
import pandas as pd

from cypp_dash.chart_style import HEIGHT, TEXT
from cypp_dash.periods import parse_period
from cypp_dash.status import KpiStatus, fmt


def _order(periods: list[str]) -> list[str]:
    return sorted(set(periods), key=lambda p: (parse_period(p).end, parse_period(p).start))


def _period_axis(order: list[str], width: float, height: float = HEIGHT) -> tuple[alt.Axis, list]:
    """Period labels that fit at A4 width: quarters as "Q1".."Q4" with each year written once beneath its
    quarters (a separate text layer), whole years as they are. Returns the x axis and the year layers."""
    parsed = [parse_period(p) for p in order]
    if not order or all(p.kind != "quarter" for p in parsed):
        angle = 0 if width / max(len(order), 1) >= 60 else -45
        return alt.Axis(labelAngle=angle, labelOverlap=True, title=None), []
    step = width / len(order)  # point scale with padding 0.5: item i sits at step * (i + 0.5)
    show_quarter = step >= 22
    labels = {p.label: (p.label.rsplit(" ", 1)[1] if show_quarter else "") if p.kind == "quarter" else ""
              for p in parsed}
    years = _year_labels(parsed, step)
    # One text layer on its own pixel scale (domain = range = 0..width), resolved independently of the periods.
    layers = [alt.Chart(pd.DataFrame(years)).mark_text(baseline="top", align="center", fontSize=13, color=TEXT).encode(
        text=alt.Text("t:N"), x=alt.X("px:Q", scale=alt.Scale(domain=[0, width], nice=False, zero=False), axis=None),
        y=alt.value(height + (34 if show_quarter else 20)))] if years else []
    axis = alt.Axis(labelAngle=0, labelOverlap=False, title=None, labelPadding=6,
                    labelExpr=f"({json.dumps(labels)})[datum.label]")
    return axis, layers


def _year_labels(parsed: list, step: float) -> list[dict]:
    """Each year once, centred under its periods (pixels); a year too close to the one before is left out."""
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(parsed):
        groups.setdefault(p.label.rsplit(" ", 1)[0] if p.kind == "quarter" else p.label, []).append(i)
    years = []
    last_right = -1e9
    for year, idx in groups.items():
        centre = step * ((idx[0] + idx[-1]) / 2 + 0.5)
        if centre - 26 < last_right:  # a year label too close to the previous one is left out rather than overlap
            continue
        last_right = centre + 26
        years.append({"t": year, "px": centre})
    return years


def _on_period_axis(layers: list, year_layers: list, width: int, height: int):
    """The chart's layers over the period axis; the year labels keep their own pixel scale."""
    if year_layers:  # the data layers share the period scale; the year layer is resolved independently
        return alt.layer(alt.layer(*layers), *year_layers, width=width, height=height,
                         resolve=alt.Resolve(scale=alt.ScaleResolveMap(x="independent")))
    return alt.layer(*layers, width=width, height=height)


def england_label(st_row: KpiStatus, value: float | None = None) -> str:
    """"England (2021/22) 81.0%": England's figure always named with its period, on every chart (and said to be
    out of date where the status says so)."""
    figure = fmt(st_row.england if value is None else value, st_row.unit)
    stale = " (out of date)" if getattr(st_row, "england_out_of_date", False) else ""
    return (f"England ({st_row.england_period}) {figure}" if st_row.england_period else f"England {figure}") + stale


def _england_span(order: list[str], england_period: str | None) -> list[str]:
    """The periods on the axis that fall within England's period (a year's quarters for a yearly figure)."""
    try:
        eng = parse_period(england_period) if england_period else None
    except ValueError:
        return []
    if eng is None:
        return []
    inside = [p for p in order if eng.start <= parse_period(p).end <= eng.end]
    return inside
