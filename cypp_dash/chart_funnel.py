"""The funnel plot: each district's figure against its denominator inside 95% and 99.8% limits (as PHE draws
them), markers keeping one meaning on every chart."""
from __future__ import annotations

import math

import altair as alt
import pandas as pd

from cypp_dash import stats
from cypp_dash.chart_style import DARK_BLUE, DARK_PINK, HEIGHT, ORANGE, TURQUOISE, WIDTH, _source, _titled
from cypp_dash.config import Kpi
from cypp_dash.status import KpiStatus, fmt

FUNNEL_MARKERS = {  # position -> (legend words, shape): fixed by meaning on every funnel chart
    "above 99.8% limit": ("Above the 99.8% limit", "triangle-up"),
    "above 95% limit": ("Above the 95% limit", "square"),
    "within 95% limits": ("Within the 95% limits", "circle"),
    "below 95% limit": ("Below the 95% limit", "diamond"),
    "below 99.8% limit": ("Below the 99.8% limit", "triangle-down"),
}
FUNNEL_MEANING_COLOURS = {"Better": DARK_BLUE, "Similar": "#A0A0A0", "Worse": ORANGE, "No better direction": DARK_PINK}


def _funnel_meaning(position: str, polarity: str) -> str:
    """better / worse by the KPI's polarity, "similar" inside the 95% limits, "neither" with no polarity."""
    if position.startswith("within"):
        return "Similar"
    if polarity not in ("higher", "lower"):
        return "No better direction"
    return "Better" if position.startswith("above") == (polarity == "higher") else "Worse"


def funnel_chart(kpi: Kpi, rows: list[KpiStatus], centre: float, centre_name: str, period_text: str):
    """Each district's figure against its denominator inside 95% and 99.8% limits around a centre, as PHE draws
    funnel plots: Wilson limits for percentages, exact Poisson limits for rates, none for plain counts. The centre
    (its parent, or the districts pooled) is a line, not a point; markers keep one meaning on every chart."""
    kind = stats.funnel_kind(kpi.unit)
    if kind is None:
        return None
    method, multiplier = kind
    df = _funnel_points(kpi, rows, centre, centre_name, multiplier, method)
    if df is None:
        return None
    limits = stats.funnel_limits(centre, df["denominator"].tolist(), multiplier, method)
    low, high = float(limits["denominator"].min()), float(limits["denominator"].max())
    x = alt.X("denominator:Q", title="Denominator (number of children in the measure)",
              scale=alt.Scale(type="log", nice=False, domain=[low, high]))
    layers = [_limit_layer(kpi, limits, x),
              alt.Chart(pd.DataFrame({"y": [centre]})).mark_rule(color=TURQUOISE, strokeWidth=2).encode(y="y:Q"),
              _marker_layer(df, x),
              *_label_layers(df, x, low, high)]
    chart = alt.layer(*layers).properties(width=WIDTH, height=HEIGHT + 40)
    how = "Wilson score limits" if method == "proportion" else "exact Poisson limits on the rate's scale"
    subtitle = [f"Districts, {period_text}, against {centre_name} ({fmt(centre, kpi.unit)}, the line). Points "
                f"outside the lines differ from it by more than chance would explain ({how}, 95% and 99.8%)",
                "Marker shape: position against the limits; colour: better or worse by the measure's direction"]
    source = _source(rows[0]) if rows else ""
    return _titled(chart, f"{kpi.code} {kpi.name}: funnel plot", subtitle, source,
                   any(r.illustrative for r in rows))


def _funnel_points(kpi: Kpi, rows: list[KpiStatus], centre: float, centre_name: str, multiplier: float,
                   method: str) -> pd.DataFrame | None:
    """The districts compared with their parent: figure, denominator, position against the limits, its meaning
    and marker words, and a label. None when no district can be placed."""
    data = [r for r in rows if r.value is not None and r.numerator is not None and r.denominator
            and r.area != "E92000001" and r.area_name != centre_name and r.compared_with_parent]
    df = pd.DataFrame([{"area": r.area_name, "value": r.value, "denominator": r.denominator,
                        "position": stats.funnel_position(r.value, r.denominator, centre, multiplier, method),
                        "label": f"{r.area_name} {fmt(r.value, kpi.unit)}"} for r in data])
    if df.empty:
        return None
    df = df[df["position"] != "not compared"]
    if df.empty:
        return None
    df["meaning"] = df["position"].map(lambda p: _funnel_meaning(p, kpi.polarity))
    df["marker"] = df["position"].map(lambda p: FUNNEL_MARKERS[p][0])
    return df


def _limit_layer(kpi: Kpi, limits: pd.DataFrame, x: alt.X) -> alt.Chart:
    """The 95% (dashed) and 99.8% (solid) limit lines."""
    long = limits.melt("denominator", var_name="limit", value_name="y")
    long["band"] = long["limit"].map(lambda s: "99.8% limits" if "998" in s else "95% limits")
    long["series"] = long["limit"]
    return alt.Chart(long).mark_line(strokeWidth=1.5).encode(
        x=x, y=alt.Y("y:Q", title=kpi.unit_text, scale=alt.Scale(zero=False)), detail="series:N",
        strokeDash=alt.StrokeDash("band:N", title=None, scale=alt.Scale(domain=["95% limits", "99.8% limits"],
                                                                         range=[[4, 3], [1, 0]])),
        color=alt.value("#505A5F"))


def _marker_layer(df: pd.DataFrame, x: alt.X) -> alt.Chart:
    """The districts: shape by position against the limits, colour by better or worse."""
    markers = list(FUNNEL_MARKERS.values())
    meanings = list(FUNNEL_MEANING_COLOURS)
    return alt.Chart(df).mark_point(filled=True, size=110, opacity=1).encode(
        x=x, y="value:Q",
        shape=alt.Shape("marker:N", title=None, scale=alt.Scale(domain=[m[0] for m in markers],
                                                                range=[m[1] for m in markers])),
        color=alt.Color("meaning:N", title=None, scale=alt.Scale(
            domain=meanings, range=[FUNNEL_MEANING_COLOURS[m] for m in meanings])),
        tooltip=["area:N", alt.Tooltip("value:Q", format=",.1f"), "denominator:Q", "position:N"])


def _label_layers(df: pd.DataFrame, x: alt.X, low: float, high: float) -> list:
    """Labels: neighbours by value alternate above and below their points; a label goes to the left of its point
    only where it would otherwise run past the plot's right edge (about 6.5 pixels a character at 11 px)."""
    df = df.sort_values("value").reset_index(drop=True)
    span = math.log(high / low) if high > low else 1.0
    df["right_side"] = [WIDTH * math.log(d / low) / span + 9 + 6.5 * len(t) > WIDTH
                        for d, t in zip(df["denominator"], df["label"])]
    layers = []
    for parity, dy in ((0, -10), (1, 10)):
        for right in (False, True):
            part = df[(df.index % 2 == parity) & (df["right_side"] == right)]
            if part.empty:
                continue
            layers.append(alt.Chart(part).mark_text(
                align="right" if right else "left", dx=-9 if right else 9, dy=dy, fontSize=11,
                color="#0B0C0C").encode(x=x, y="value:Q", text="label:N"))
    return layers
