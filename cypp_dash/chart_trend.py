"""The trend chart: a KPI's figures for one area over time with their 95% intervals, and the lines its rating
uses (the area's baseline, England, the target), each labelled beside the plot."""
from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import pandas as pd

from cypp_dash import stats
from cypp_dash.chart_periods import _england_span, _on_period_axis, _order, _period_axis, england_label
from cypp_dash.chart_style import DARK_BLUE, DARK_PINK, GREY, HEIGHT, TURQUOISE, WIDTH, _source, _titled, better_words
from cypp_dash.config import Kpi
from cypp_dash.status import KpiStatus, fmt

ENGLAND = "E92000001"


@dataclass
class _References:
    """The reference lines a trend chart draws and how England is shown on it."""
    lines: list[tuple[str, float, str, list[int]]]  # (label, value, colour, dash), in drawing order
    england_span: list[str]  # the axis periods England's one figure covers (drawn over those only)
    england_series: pd.DataFrame | None  # England's own figures, where two or more are on the axis
    england_left_out: bool  # England's one figure is for a period outside the axis: named in the subtitle


def trend_chart(kpi: Kpi, rows: pd.DataFrame, st_row: KpiStatus, period_text: str, target: float | None = None,
                width: int = WIDTH, height: int = HEIGHT, title: str | None = None):
    """The KPI's figures for one area over time, with the baseline, England and target marked and labelled.

    England: its own series when `rows` holds England's figures (area E92000001), drawn as a line; otherwise
    its single figure, labelled with its period and drawn only across that period (never flat across years
    it does not describe). `width`/`height` size the plot (paper view draws two charts side by side); `title`
    replaces the KPI's name as the title where the page has already named it."""
    area_rows, england_rows = _split_england(rows)
    df = _trend_points(kpi, area_rows)
    order = _order(df["period"].tolist()) if not df.empty else []
    axis, year_layers = _period_axis(order, width, height)
    x = alt.X("period:N", sort=order, title=None, axis=axis, scale=alt.Scale(padding=0.5))
    refs = _reference_lines(kpi, st_row, england_rows, order, target)
    lo, hi = _y_domain(kpi, df, refs)
    y_title = kpi.unit_text if kpi.unit != "count" else "Number"
    y_scale = alt.Scale(domain=[lo, hi], nice=False, zero=False)
    layers = _figure_layers(df, x, y_scale, y_title)
    if refs.lines:
        layers += _reference_layers(refs, st_row, x, y_scale, (lo, hi), width, height)
    chart = _on_period_axis(layers, year_layers, width, height)
    return _titled(chart, title or f"{kpi.code} {kpi.name}", _trend_subtitle(kpi, st_row, order, period_text, refs),
                   _source(st_row), st_row.illustrative, width=width)


def _split_england(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The area's rows and England's (none when the rows carry no area code)."""
    if "area_code" not in rows:
        return rows, rows.iloc[0:0]
    return rows[rows["area_code"] != ENGLAND], rows[rows["area_code"] == ENGLAND]


def _trend_points(kpi: Kpi, rows: pd.DataFrame) -> pd.DataFrame:
    """The figures to draw: period, value, its words, its 95% interval (given, or worked out from numerator and
    denominator) and its flags."""
    # Only the columns the chart draws: Altair copies its data at every layer, so less is faster.
    keep = [c for c in ("period", "value", "ci_low", "ci_high", "numerator", "denominator", "flags") if c in rows]
    df = rows.loc[rows["value"].notna(), keep].copy()
    df["label"] = [fmt(v, kpi.unit) for v in df["value"]]
    lows, highs = [], []
    for _, r in df.iterrows():
        if pd.notna(r.get("ci_low")) and pd.notna(r.get("ci_high")):
            ci = stats.Interval(r["ci_low"], r["ci_high"], 0.95)
        else:
            ci = stats.interval_for(kpi.unit, r["value"], r.get("numerator"), r.get("denominator"))
        lows.append(ci.low if ci else None)
        highs.append(ci.high if ci else None)
    df["ci_low"], df["ci_high"] = lows, highs
    df = df.drop(columns=[c for c in ("numerator", "denominator") if c in df])
    if "flags" not in df:
        df["flags"] = ""
    df["flags"] = df["flags"].fillna("").astype(str).str.replace(",", ", ")
    return df


def _reference_lines(kpi: Kpi, st_row: KpiStatus, england_rows: pd.DataFrame, order: list[str],
                     target: float | None) -> _References:
    """The lines the rating uses: this area's baseline, England (same units only) and the target. England is
    its own series where two or more of its figures are on the axis, else its one figure over its own period."""
    refs = []
    if st_row.baseline is not None:
        refs.append(("Baseline " + fmt(st_row.baseline, kpi.unit), st_row.baseline, GREY, [2, 2]))
    same_units = (not kpi.england.unit or kpi.england.unit == kpi.unit or st_row.england_period != kpi.england.period)
    eng_series = england_rows[england_rows["value"].notna() & england_rows["period"].isin(order)] \
        if not england_rows.empty else england_rows
    eng_span: list[str] = []
    if st_row.england is not None and same_units and len(eng_series) < 2:
        eng_span = _england_span(order, st_row.england_period)
        if eng_span:  # drawn over its own period only
            refs.append((england_label(st_row), st_row.england, TURQUOISE, [6, 3]))
    if target is not None:
        refs.append(("Target " + fmt(target, kpi.unit), target, DARK_PINK, [8, 4]))
    eng_line = None
    if len(eng_series) >= 2 and same_units:
        last = eng_series.iloc[-1]
        eng_line = pd.DataFrame({"period": eng_series["period"], "value": eng_series["value"].astype(float)})
        refs.append((f"England ({last['period']}) {fmt(float(last['value']), kpi.unit)}", float(last["value"]),
                     TURQUOISE, [6, 3]))
    # England's one figure for a period before (or outside) the axis is named in the subtitle instead.
    left_out = st_row.england is not None and same_units and not eng_span and eng_line is None
    return _References(refs, eng_span, eng_line, left_out)


def _y_domain(kpi: Kpi, df: pd.DataFrame, refs: _References) -> tuple[float, float]:
    """A fixed y domain (with a margin) holding every figure, interval and line, so the labels of the reference
    lines can be placed in pixels; never below 0 for percentages, counts and rates, never above 100%."""
    england = refs.england_series["value"] if refs.england_series is not None else []
    values = [v for v in [*df["value"], *df["ci_low"], *df["ci_high"], *(v for _, v, _, _ in refs.lines), *england]
              if v is not None and pd.notna(v)]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    margin = (hi - lo) * 0.08 or max(abs(hi) * 0.1, 1.0)
    lo, hi = lo - margin, hi + margin
    if kpi.unit in ("percent", "count") or kpi.unit.startswith("rate"):
        lo = max(lo, 0.0)
    if kpi.unit == "percent":
        hi = min(hi, 100.0)
    return lo, hi


def _figure_layers(df: pd.DataFrame, x: alt.X, y_scale: alt.Scale, y_title: str) -> list:
    """The area's figures: interval bars, the line and the points (with their tooltips)."""
    y_axis = alt.Axis(title=y_title, titleAngle=0, titleAnchor="end", titleAlign="left", titleBaseline="bottom",
                      titleX=-44, titleY=-10, tickCount=6)
    base = alt.Chart(df)
    return [
        base.mark_rule(color=DARK_BLUE, opacity=0.5, strokeWidth=2).encode(x=x, y=alt.Y("ci_low:Q", scale=y_scale),
                                                                         y2=alt.Y2("ci_high")),
        base.mark_line(color=DARK_BLUE, strokeWidth=2.5).encode(x=x, y=alt.Y("value:Q", title=y_title, scale=y_scale,
                                                                             axis=y_axis)),
        base.mark_point(color=DARK_BLUE, filled=True, size=55, opacity=1).encode(
            x=x, y=alt.Y("value:Q", scale=y_scale), tooltip=[alt.Tooltip("period:N", title="Period"),
                                                             alt.Tooltip("label:N", title="Value"),
                                                             alt.Tooltip("flags:N", title="Flags")]),
    ]


def _reference_layers(refs: _References, st_row: KpiStatus, x: alt.X, y_scale: alt.Scale,
                      domain: tuple[float, float], width: int, height: int) -> list:
    """The reference lines (full width; England over its own period or as its own series) and their labels to
    the right of the plot, nudged apart so that close lines keep readable labels."""
    lo, hi = domain
    lines = refs.lines
    pixels = _spread([height * (1 - (v - lo) / (hi - lo)) for _, v, _, _ in lines], 16, 0, height)
    ref_df = pd.DataFrame({"name": [n for n, _, _, _ in lines], "y": [v for _, v, _, _ in lines],
                           "label_y": [hi - px / height * (hi - lo) for px in pixels]})
    names = ref_df["name"].tolist()
    colour = alt.Color("name:N", legend=None, scale=alt.Scale(domain=names, range=[c for _, _, c, _ in lines]))
    full = ref_df[~ref_df["name"].str.startswith("England")]
    dash = alt.StrokeDash("name:N", legend=None, scale=alt.Scale(domain=names, range=[d for _, _, _, d in lines]))
    layers = [alt.Chart(full).mark_rule(strokeWidth=2).encode(y=alt.Y("y:Q", scale=y_scale), color=colour,
                                                              strokeDash=dash)]
    if refs.england_span and refs.england_series is None:
        span = pd.DataFrame({"period": refs.england_span, "y": st_row.england, "name": england_label(st_row)})
        layers.append(alt.Chart(span).mark_line(strokeWidth=3, point=alt.OverlayMarkDef(size=30)).encode(
            x=x, y=alt.Y("y:Q", scale=y_scale), color=colour, strokeDash=dash))
    if refs.england_series is not None:
        england = refs.england_series.assign(name=lines[-1][0])  # England's series is the last line added
        layers.append(alt.Chart(england).mark_line(strokeWidth=2).encode(
            x=x, y=alt.Y("value:Q", scale=y_scale), color=colour, strokeDash=dash))
    layers.append(alt.Chart(ref_df).mark_text(align="left", baseline="middle", fontSize=13, fontWeight="bold")
                  .encode(text=alt.Text("name:N"), x=alt.value(width + 8), y=alt.Y("label_y:Q", scale=y_scale),
                          color=colour))
    return layers


def _spread(positions: list[float], gap: float, low: float, high: float) -> list[float]:
    """Nudge label positions (pixels, top = 0) apart by at least `gap`, keeping them within [low, high]."""
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    placed = [positions[i] for i in order]
    for i in range(1, len(placed)):
        placed[i] = max(placed[i], placed[i - 1] + gap)
    overflow = placed[-1] - high if placed else 0
    if overflow > 0:
        placed = [p - overflow for p in placed]
        for i in range(len(placed) - 2, -1, -1):
            placed[i] = min(placed[i], placed[i + 1] - gap)
    placed = [max(low, p) for p in placed]
    out = [0.0] * len(positions)
    for i, p in zip(order, placed):
        out[i] = p
    return out


def _trend_subtitle(kpi: Kpi, st_row: KpiStatus, order: list[str], period_text: str, refs: _References) -> list[str]:
    """Area, the periods shown (and "as at" where the view is as at a date), units, the better direction, and
    England's figure where it is for a period outside the chart."""
    y_title = kpi.unit_text if kpi.unit != "count" else "Number"
    span = f"{order[0]} to {order[-1]}" if len(order) > 1 else (order[0] if order else "no figures")
    as_at = period_text.split(", ", 1)[1] if ", as at" in period_text else ""
    subtitle = [f"{st_row.area_name}, {span}{'; figures ' + as_at if as_at else ''}. {y_title}; "
                f"{better_words(kpi.polarity)}.",
                "Vertical bars: 95% confidence intervals where numerator and denominator are known."]
    if refs.england_left_out:
        subtitle.append(f"{england_label(st_row)}: a figure for a period outside this chart, so not drawn.")
    return subtitle
