"""The SPC chart: an XmR chart as NHSRplotthedots draws it, on the trend chart's period axis."""
from __future__ import annotations

import altair as alt
import pandas as pd

from cypp_dash import stats
from cypp_dash.chart_periods import _on_period_axis, _period_axis, england_label
from cypp_dash.chart_style import DARK_BLUE, DARK_PINK, HEIGHT, TURQUOISE, WIDTH, _source, _titled
from cypp_dash.config import Kpi
from cypp_dash.status import KpiStatus, fmt

SPC_STYLES = {  # point kind -> (legend label, colour, shape): shape and word as well as colour
    "improvement": ("Special cause: improvement", "#12436D", "triangle-up"),
    "concern": ("Special cause: concern", "#F46A25", "triangle-down"),
    "neither": ("Special cause: neither better nor worse", "#801650", "diamond"),
    "": ("Common cause", "#A0A0A0", "circle"),
}


def spc_chart(kpi: Kpi, periods: list[str], spc: stats.SpcResult, st_row: KpiStatus, period_text: str,
              target: float | None = None, width: int = WIDTH, height: int = HEIGHT, title: str | None = None):
    """An XmR chart as NHSRplotthedots draws it: mean and process limits for each period between change points
    (recalculated where the plan names one, marked and explained), special causes by shape and colour, the
    target line and the verdicts as words. `width`/`height`/`title` as for trend_chart; the period axis is the
    trend chart's."""
    pts, order = _spc_points(kpi, periods, spc)
    compact = width < 400
    axis, year_layers = _period_axis(order, width, height)  # the trend chart's period axis
    x = alt.X("period:N", sort=order, title=None, axis=axis, scale=alt.Scale(padding=0.5))
    layers = [
        alt.Chart(pts).mark_line(color="#A0A0A0", strokeWidth=1.5).encode(
            x=x, y=alt.Y("value:Q", title=kpi.unit_text, scale=alt.Scale(zero=False))),
        *_limit_layers(pts, x, compact),
        _point_layer(pts, x),
    ]
    if target is not None:
        layers += _target_layers(kpi, st_row, target, width)
    rebased = [(order[i], why) for i, why in spc.rebases if i < len(order)]
    if rebased:
        layers += _change_point_layers(rebased, x)
    chart = _on_period_axis(layers, year_layers, width, height)  # the year labels as on the trend chart
    return _titled(chart, title or f"{kpi.code} {kpi.name}: statistical process control",
                   _spc_subtitle(kpi, st_row, spc, period_text, compact, rebased), _source(st_row),
                   st_row.illustrative, width=width)


def _spc_points(kpi: Kpi, periods: list[str], spc: stats.SpcResult) -> tuple[pd.DataFrame, list[str]]:
    """The points with a figure (kind of cause, its legend words, the figure's words, the rules that fired) and
    every period on the axis."""
    pts = spc.points.copy()
    pts["period"] = list(periods)[: len(pts)]
    order = list(pts["period"])
    pts = pts[pts["value"].notna()]
    pts["kind"] = pts["special_cause"].fillna("")
    pts["kind_label"] = pts["kind"].map(lambda k: SPC_STYLES[k][0])
    pts["label"] = [fmt(v, kpi.unit) for v in pts["value"]]
    pts["rules"] = pts["rules"].fillna("")
    return pts, order


def _limit_layers(pts: pd.DataFrame, x: alt.X, compact: bool) -> list:
    """Centre line and limits, drawn per group so a recalculation shows as a step, never joined across it."""
    lines = pts.melt(id_vars=["period", "group"], value_vars=["mean", "upper_limit", "lower_limit"],
                     var_name="line", value_name="y").dropna(subset=["y"])
    lines["line_name"] = lines["line"].map({"mean": "Mean", "upper_limit": "Process limits",
                                            "lower_limit": "Process limits"})
    lines["series"] = lines["line"] + lines["group"].astype(str)
    if lines.empty:
        return []
    return [alt.Chart(lines).mark_line(strokeWidth=1.5, interpolate="step-after").encode(
        x=x, y="y:Q", detail="series:N",
        strokeDash=alt.StrokeDash("line_name:N", title=None, scale=alt.Scale(
            domain=["Mean", "Process limits"], range=[[1, 0], [4, 3]]),
            # A half-width chart says it in its subtitle: two legends side by side would widen the picture.
            legend=None if compact else alt.Legend()),
        color=alt.value("#505A5F"))]


def _point_layer(pts: pd.DataFrame, x: alt.X) -> alt.Chart:
    """The figures, special causes by colour and shape (with their legend words)."""
    domain = [SPC_STYLES[k][0] for k in SPC_STYLES]
    return alt.Chart(pts).mark_point(filled=True, size=80, opacity=1).encode(
        x=x, y="value:Q",
        color=alt.Color("kind_label:N", title=None, scale=alt.Scale(domain=domain,
                        range=[SPC_STYLES[k][1] for k in SPC_STYLES])),
        shape=alt.Shape("kind_label:N", title=None, scale=alt.Scale(domain=domain,
                        range=[SPC_STYLES[k][2] for k in SPC_STYLES])),
        tooltip=[alt.Tooltip("period:N", title="Period"), alt.Tooltip("label:N", title="Value"),
                 alt.Tooltip("rules:N", title="Rules")])


def _target_layers(kpi: Kpi, st_row: KpiStatus, target: float, width: int) -> list:
    """The assurance line: the plan's target figure, or England's where the target is to match England."""
    is_target = any(r.type in ("absolute", "improving_vs_target") and r.value == target for r in kpi.target.rules)
    name = "Target " + fmt(target, kpi.unit) if is_target else england_label(st_row, target)
    colour, dash = (DARK_PINK, [8, 4]) if is_target else (TURQUOISE, [6, 3])
    one = pd.DataFrame({"y": [target], "t": [name]})
    return [alt.Chart(one).mark_rule(color=colour, strokeDash=dash, strokeWidth=1.5).encode(y="y:Q"),
            alt.Chart(one).mark_text(align="right", dy=-6, color=colour, fontSize=11).encode(
                y="y:Q", text="t:N", x=alt.value(width - 2))]


def _change_point_layers(rebased: list[tuple[str, str]], x: alt.X) -> list:
    """A dotted rule and a note at each period the limits were recalculated from."""
    marks = pd.DataFrame({"period": [p for p, _ in rebased],
                          "t": [f"Change point: limits recalculated from {p}" for p, _ in rebased]})
    return [alt.Chart(marks).mark_rule(color=DARK_BLUE, strokeDash=[2, 2], strokeWidth=1.5).encode(x=x),
            alt.Chart(marks).mark_text(align="left", dx=4, dy=-3, baseline="bottom", color=DARK_BLUE,
                                       fontSize=11).encode(x=x, y=alt.value(0), text="t:N")]


def _spc_subtitle(kpi: Kpi, st_row: KpiStatus, spc: stats.SpcResult, period_text: str, compact: bool,
                  rebased: list[tuple[str, str]]) -> list[str]:
    """The method, the latest limits, the verdicts in words, the change points, and why there are no limits."""
    limits = (f"latest limits {fmt(spc.lower_limit, kpi.unit)} to {fmt(spc.upper_limit, kpi.unit)}, mean "
              f"{fmt(spc.mean, kpi.unit)}" if spc.mean is not None else "")
    subtitle = [f"{st_row.area_name}, {period_text}. XmR chart as NHSRplotthedots: mean ± 2.66 × mean moving range "
                f"(moving ranges over 3.267 × their mean left out){'; ' + limits if limits else ''}",
                f"Variation: {spc.icon_variation or 'no verdict'}"
                + (f"   Assurance: {spc.icon_assurance}" if spc.icon_assurance else "")]
    if compact:
        subtitle.append("Solid grey line: mean; dashed: process limits.")
    for p, why in rebased:
        subtitle.append(f"Limits recalculated from {p}" + (f": {why}" if why else "")
                        + " (the plan's change point; earlier points keep their own limits)")
    if spc.points.dropna(subset=["mean"]).empty:
        subtitle.append(spc.reason)
    return subtitle
