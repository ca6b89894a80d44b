"""Altair charts in one house style (Government Analysis Function colours, colour-blind safe):
every chart carries a title, a subtitle naming area and period, a source line and, where the
data are, the word "Illustrative". RAG is shown by shape and word as well as colour."""
from __future__ import annotations

import json
import math
import textwrap

import altair as alt
import pandas as pd

from cypp_dash import stats
from cypp_dash.config import Kpi
from cypp_dash.periods import parse_period
from cypp_dash.status import RAG_SYMBOLS, RAG_WORDS, KpiStatus, fmt

# Analysis Function categorical palette (dark blue, turquoise, dark pink, orange, ...).
DARK_BLUE, TURQUOISE, DARK_PINK, ORANGE, GREY = "#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D"
RAG_COLOURS = {"green": "#00703C", "amber": "#B35900", "red": "#D4351C", "not rated": "#505A5F"}
# Tints for table cells (dashboard and Word report): dark text on a light tint keeps WCAG AA contrast.
RAG_TINTS = {"green": "#CCE2D8", "amber": "#FFF7BF", "red": "#F4CDC6", "not rated": "#F3F2F1"}
RAG_SHAPES = {"green": "circle", "amber": "triangle-up", "red": "cross", "not rated": "square"}
WIDTH, HEIGHT = 540, 260  # plot area in pixels: with axes and labels about 700 wide, legible at A4
TEXT, SECONDARY_TEXT = "#0B0C0C", "#505A5F"
FONT = "Arial, 'Liberation Sans', Helvetica, sans-serif"


def _theme(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The house style: Arial, dark text on white, light grid, left-aligned titles (Analysis Function guidance)."""
    # One configuration object set at once: each configure_* call would copy the whole chart again.
    themed = chart.copy(deep=False)
    themed.config = alt.Config(
        font=FONT, background="white", padding={"left": 6, "top": 6, "right": 12, "bottom": 6},
        axis=alt.AxisConfig(labelFontSize=13, titleFontSize=13, labelColor=TEXT, titleColor=TEXT,
                            titleFontWeight="normal", gridColor="#E5E5E5", domainColor="#6F777B",
                            tickColor="#6F777B"),
        title=alt.TitleConfig(fontSize=18, subtitleFontSize=13, anchor="start", color=TEXT,
                              subtitleColor=SECONDARY_TEXT, subtitlePadding=6, offset=12),
        # Legends above the plot (under the subtitle), never below the source line; whole labels, two a row.
        legend=alt.LegendConfig(labelFontSize=13, titleFontSize=13, orient="top", labelColor=TEXT, titleColor=TEXT,
                                labelLimit=0, columns=2, columnPadding=16, rowPadding=4),
        text=alt.MarkConfig(fontSize=13, color=TEXT),
        view=alt.ViewConfig(stroke=None))
    return themed


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters, so long KPI names and sources stay inside the picture."""
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def _titled(chart, title: str, subtitle: list[str], source: str, illustrative: bool, width: int = WIDTH):
    """Title, subtitle lines, the illustrative label and a source line: what a chart needs on paper."""
    chars = max(40, round(92 * width / WIDTH))
    lines = [wrapped for line in subtitle for wrapped in _wrap(line, chars)]
    if illustrative:
        lines.append("ILLUSTRATIVE DATA: not real figures")
    source_lines = _wrap(source, round(chars * 100 / 92)) if source else [""]
    footer = alt.Chart(pd.DataFrame({"t": ["\n".join(source_lines)]})).mark_text(
        align="left", baseline="top", fontSize=12, color=SECONDARY_TEXT, font=FONT, lineBreak="\n", lineHeight=16
    ).encode(text=alt.Text("t:N"), x=alt.value(0), y=alt.value(0)).properties(width=width, height=16 * len(source_lines))
    # Keyword arguments rather than .properties(): each Altair method call deep-copies the whole chart.
    combined = alt.vconcat(chart, footer, spacing=14,
                           title=alt.Title(_wrap(title, max(30, round(64 * width / WIDTH))), subtitle=lines))
    return _theme(combined)


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
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(parsed):
        groups.setdefault(p.label.rsplit(" ", 1)[0] if p.kind == "quarter" else p.label, []).append(i)
    year_y = 34 if show_quarter else 20
    years = []
    last_right = -1e9
    for year, idx in groups.items():
        centre = step * ((idx[0] + idx[-1]) / 2 + 0.5)
        if centre - 26 < last_right:  # a year label too close to the previous one is left out rather than overlap
            continue
        last_right = centre + 26
        years.append({"t": year, "px": centre})
    # One text layer on its own pixel scale (domain = range = 0..width), resolved independently of the periods.
    layers = [alt.Chart(pd.DataFrame(years)).mark_text(baseline="top", align="center", fontSize=13, color=TEXT).encode(
        text=alt.Text("t:N"), x=alt.X("px:Q", scale=alt.Scale(domain=[0, width], nice=False, zero=False), axis=None),
        y=alt.value(height + year_y))] if years else []
    axis = alt.Axis(labelAngle=0, labelOverlap=False, title=None, labelPadding=6,
                    labelExpr=f"({json.dumps(labels)})[datum.label]")
    return axis, layers


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


def trend_chart(kpi: Kpi, rows: pd.DataFrame, st_row: KpiStatus, period_text: str, target: float | None = None,
                width: int = WIDTH, height: int = HEIGHT, title: str | None = None):
    """The KPI's figures for one area over time, with the baseline, England and target marked and labelled.

    England: its own series when `rows` holds England's figures (area E92000001), drawn as a line; otherwise
    its single figure, labelled with its period and drawn only across that period (never flat across years
    it does not describe). `width`/`height` size the plot (paper view draws two charts side by side); `title`
    replaces the KPI's name as the title where the page has already named it."""
    england_rows = rows[rows["area_code"] == "E92000001"] if "area_code" in rows else rows.iloc[0:0]
    if "area_code" in rows:
        rows = rows[rows["area_code"] != "E92000001"]
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
    order = _order(df["period"].tolist()) if not df.empty else []
    WIDTH, HEIGHT = width, height  # noqa: N806 (the chart's own size from here on)
    axis, year_layers = _period_axis(order, WIDTH, HEIGHT)
    x = alt.X("period:N", sort=order, title=None, axis=axis, scale=alt.Scale(padding=0.5))
    # The reference lines the rating uses: this area's baseline, England (same units only) and the target.
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
    elif st_row.england is not None and same_units and not eng_span:
        # England's one figure is for a period before (or outside) the axis: named in the subtitle instead.
        eng_line = None
    # A fixed y domain (with a margin) so the labels of the reference lines can be placed in pixels.
    values = [v for v in [*df["value"], *df["ci_low"], *df["ci_high"], *(v for _, v, _, _ in refs),
                          *(eng_line["value"] if eng_line is not None else [])]
              if v is not None and pd.notna(v)]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    margin = (hi - lo) * 0.08 or max(abs(hi) * 0.1, 1.0)
    lo, hi = lo - margin, hi + margin
    if kpi.unit in ("percent", "count") or kpi.unit.startswith("rate"):
        lo = max(lo, 0.0)
    if kpi.unit == "percent":
        hi = min(hi, 100.0)
    y_title = kpi.unit_text if kpi.unit != "count" else "Number"
    y_scale = alt.Scale(domain=[lo, hi], nice=False, zero=False)
    y_axis = alt.Axis(title=y_title, titleAngle=0, titleAnchor="end", titleAlign="left", titleBaseline="bottom",
                      titleX=-44, titleY=-10, tickCount=6)
    base = alt.Chart(df)
    layers = [
        base.mark_rule(color=DARK_BLUE, opacity=0.5, strokeWidth=2).encode(x=x, y=alt.Y("ci_low:Q", scale=y_scale),
                                                                         y2=alt.Y2("ci_high")),
        base.mark_line(color=DARK_BLUE, strokeWidth=2.5).encode(x=x, y=alt.Y("value:Q", title=y_title, scale=y_scale,
                                                                             axis=y_axis)),
        base.mark_point(color=DARK_BLUE, filled=True, size=55, opacity=1).encode(
            x=x, y=alt.Y("value:Q", scale=y_scale), tooltip=[alt.Tooltip("period:N", title="Period"), alt.Tooltip("label:N", title="Value"),
                                       alt.Tooltip("flags:N", title="Flags")]),
    ]
    if refs:
        # Labels sit to the right of the plot, nudged apart so that close lines keep readable labels.
        pixels = _spread([HEIGHT * (1 - (v - lo) / (hi - lo)) for _, v, _, _ in refs], 16, 0, HEIGHT)
        ref_df = pd.DataFrame({"name": [n for n, _, _, _ in refs], "y": [v for _, v, _, _ in refs],
                               "label_y": [hi - px / HEIGHT * (hi - lo) for px in pixels]})
        names = ref_df["name"].tolist()
        colour = alt.Color("name:N", legend=None, scale=alt.Scale(domain=names, range=[c for _, _, c, _ in refs]))
        full = ref_df[~ref_df["name"].str.startswith("England")]
        dash = alt.StrokeDash("name:N", legend=None, scale=alt.Scale(domain=names, range=[d for _, _, _, d in refs]))
        layers.append(alt.Chart(full).mark_rule(strokeWidth=2).encode(y=alt.Y("y:Q", scale=y_scale), color=colour,
                                                                      strokeDash=dash))
        if eng_span and eng_line is None:
            span = pd.DataFrame({"period": eng_span, "y": st_row.england, "name": england_label(st_row)})
            layers.append(alt.Chart(span).mark_line(strokeWidth=3, point=alt.OverlayMarkDef(size=30)).encode(
                x=x, y=alt.Y("y:Q", scale=y_scale), color=colour, strokeDash=dash))
        if eng_line is not None:
            eng_line["name"] = refs[-1][0]
            layers.append(alt.Chart(eng_line).mark_line(strokeWidth=2).encode(
                x=x, y=alt.Y("value:Q", scale=y_scale), color=colour, strokeDash=dash))
        layers.append(alt.Chart(ref_df).mark_text(align="left", baseline="middle", fontSize=13, fontWeight="bold")
                      .encode(text=alt.Text("name:N"), x=alt.value(WIDTH + 8), y=alt.Y("label_y:Q", scale=y_scale),
                              color=colour))
    if year_layers:  # the year labels keep their own pixel scale; the data layers share the period scale
        chart = alt.layer(alt.layer(*layers), *year_layers, width=WIDTH, height=HEIGHT,
                          resolve=alt.Resolve(scale=alt.ScaleResolveMap(x="independent")))
    else:
        chart = alt.layer(*layers, width=WIDTH, height=HEIGHT)
    better = {"higher": "higher is better", "lower": "lower is better"}.get(kpi.polarity, "no better direction set")
    span = f"{order[0]} to {order[-1]}" if len(order) > 1 else (order[0] if order else "no figures")
    as_at = period_text.split(", ", 1)[1] if ", as at" in period_text else ""
    subtitle = [f"{st_row.area_name}, {span}{'; figures ' + as_at if as_at else ''}. {y_title}; {better}.",
                "Vertical bars: 95% confidence intervals where numerator and denominator are known."]
    if st_row.england is not None and same_units and not eng_span and eng_line is None:
        subtitle.append(f"{england_label(st_row)}: a figure for a period outside this chart, so not drawn.")
    return _titled(chart, title or f"{kpi.code} {kpi.name}", subtitle, _source(st_row), st_row.illustrative,
                   width=WIDTH)


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


def _source(r: KpiStatus) -> str:
    text = f"Source: {r.source}" if r.source else "Source: the plan"
    if r.licence:
        text += f". {r.licence}"
    return text


# --- statistical charts (SPC, funnel) ---------------------------------------------------------------

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
    pts = spc.points.copy()
    pts["period"] = list(periods)[: len(pts)]
    order = list(pts["period"])
    pts = pts[pts["value"].notna()]
    pts["kind"] = pts["special_cause"].fillna("")
    pts["kind_label"] = pts["kind"].map(lambda k: SPC_STYLES[k][0])
    pts["label"] = [fmt(v, kpi.unit) for v in pts["value"]]
    pts["rules"] = pts["rules"].fillna("")
    WIDTH, HEIGHT = width, height  # noqa: N806 (the chart's own size from here on)
    compact = width < 400
    axis, year_layers = _period_axis(order, WIDTH, HEIGHT)  # the trend chart's period axis
    x = alt.X("period:N", sort=order, title=None, axis=axis, scale=alt.Scale(padding=0.5))
    domain = [SPC_STYLES[k][0] for k in SPC_STYLES]
    layers = [
        alt.Chart(pts).mark_line(color="#A0A0A0", strokeWidth=1.5).encode(
            x=x, y=alt.Y("value:Q", title=kpi.unit_text, scale=alt.Scale(zero=False))),
    ]
    # Centre line and limits, drawn per group so a recalculation shows as a step, never joined across it.
    lines = pts.melt(id_vars=["period", "group"], value_vars=["mean", "upper_limit", "lower_limit"],
                     var_name="line", value_name="y").dropna(subset=["y"])
    lines["line_name"] = lines["line"].map({"mean": "Mean", "upper_limit": "Process limits",
                                            "lower_limit": "Process limits"})
    lines["series"] = lines["line"] + lines["group"].astype(str)
    if not lines.empty:
        layers.append(alt.Chart(lines).mark_line(strokeWidth=1.5, interpolate="step-after").encode(
            x=x, y="y:Q", detail="series:N",
            strokeDash=alt.StrokeDash("line_name:N", title=None, scale=alt.Scale(
                domain=["Mean", "Process limits"], range=[[1, 0], [4, 3]]),
                # A half-width chart says it in its subtitle: two legends side by side would widen the picture.
                legend=None if compact else alt.Legend()),
            color=alt.value("#505A5F")))
    layers.append(alt.Chart(pts).mark_point(filled=True, size=80, opacity=1).encode(
        x=x, y="value:Q",
        color=alt.Color("kind_label:N", title=None, scale=alt.Scale(domain=domain,
                        range=[SPC_STYLES[k][1] for k in SPC_STYLES])),
        shape=alt.Shape("kind_label:N", title=None, scale=alt.Scale(domain=domain,
                        range=[SPC_STYLES[k][2] for k in SPC_STYLES])),
        tooltip=[alt.Tooltip("period:N", title="Period"), alt.Tooltip("label:N", title="Value"),
                 alt.Tooltip("rules:N", title="Rules")]))
    if target is not None:
        # The assurance line is the plan's target figure, or England's where the target is to match England.
        is_target = any(r.type in ("absolute", "improving_vs_target") and r.value == target for r in kpi.target.rules)
        name = "Target " + fmt(target, kpi.unit) if is_target else england_label(st_row, target)
        colour, dash = (DARK_PINK, [8, 4]) if is_target else (TURQUOISE, [6, 3])
        one = pd.DataFrame({"y": [target], "t": [name]})
        layers.append(alt.Chart(one).mark_rule(color=colour, strokeDash=dash, strokeWidth=1.5).encode(y="y:Q"))
        layers.append(alt.Chart(one).mark_text(align="right", dy=-6, color=colour, fontSize=11).encode(
            y="y:Q", text="t:N", x=alt.value(WIDTH - 2)))
    rebased = [(order[i], why) for i, why in spc.rebases if i < len(order)]
    if rebased:
        marks = pd.DataFrame({"period": [p for p, _ in rebased],
                              "t": [f"Change point: limits recalculated from {p}" for p, _ in rebased]})
        layers.append(alt.Chart(marks).mark_rule(color=DARK_BLUE, strokeDash=[2, 2], strokeWidth=1.5).encode(x=x))
        layers.append(alt.Chart(marks).mark_text(align="left", dx=4, dy=-3, baseline="bottom", color=DARK_BLUE,
                                                 fontSize=11).encode(x=x, y=alt.value(0), text="t:N"))
    if year_layers:  # the year labels keep their own pixel scale, as on the trend chart
        chart = alt.layer(alt.layer(*layers), *year_layers, width=WIDTH, height=HEIGHT,
                          resolve=alt.Resolve(scale=alt.ScaleResolveMap(x="independent")))
    else:
        chart = alt.layer(*layers, width=WIDTH, height=HEIGHT)
    last = spc.points.dropna(subset=["mean"])
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
    if last.empty:
        subtitle.append(spc.reason)
    return _titled(chart, title or f"{kpi.code} {kpi.name}: statistical process control", subtitle,
                   _source(st_row), st_row.illustrative, width=WIDTH)


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
    limits = stats.funnel_limits(centre, df["denominator"].tolist(), multiplier, method)
    long = limits.melt("denominator", var_name="limit", value_name="y")
    long["band"] = long["limit"].map(lambda s: "99.8% limits" if "998" in s else "95% limits")
    long["series"] = long["limit"]
    low, high = float(limits["denominator"].min()), float(limits["denominator"].max())
    x = alt.X("denominator:Q", title="Denominator (number of children in the measure)",
              scale=alt.Scale(type="log", nice=False, domain=[low, high]))
    markers = list(FUNNEL_MARKERS.values())
    meanings = list(FUNNEL_MEANING_COLOURS)
    layers = [
        alt.Chart(long).mark_line(strokeWidth=1.5).encode(
            x=x, y=alt.Y("y:Q", title=kpi.unit_text, scale=alt.Scale(zero=False)), detail="series:N",
            strokeDash=alt.StrokeDash("band:N", title=None, scale=alt.Scale(domain=["95% limits", "99.8% limits"],
                                                                             range=[[4, 3], [1, 0]])),
            color=alt.value("#505A5F")),
        alt.Chart(pd.DataFrame({"y": [centre]})).mark_rule(color=TURQUOISE, strokeWidth=2).encode(y="y:Q"),
        alt.Chart(df).mark_point(filled=True, size=110, opacity=1).encode(
            x=x, y="value:Q",
            shape=alt.Shape("marker:N", title=None, scale=alt.Scale(domain=[m[0] for m in markers],
                                                                    range=[m[1] for m in markers])),
            color=alt.Color("meaning:N", title=None, scale=alt.Scale(
                domain=meanings, range=[FUNNEL_MEANING_COLOURS[m] for m in meanings])),
            tooltip=["area:N", alt.Tooltip("value:Q", format=",.1f"), "denominator:Q", "position:N"]),
    ]
    # Labels: neighbours by value alternate above and below their points; points in the right quarter of the
    # axis are labelled to their left so no label runs off the picture.
    df = df.sort_values("value").reset_index(drop=True)
    span = math.log(high / low) if high > low else 1.0
    # A label goes to the left of its point only where it would otherwise run past the plot's right edge
    # (about 6.5 pixels a character at 11 px).
    df["right_side"] = [WIDTH * math.log(d / low) / span + 9 + 6.5 * len(t) > WIDTH
                        for d, t in zip(df["denominator"], df["label"])]
    for parity, dy in ((0, -10), (1, 10)):
        for right in (False, True):
            part = df[(df.index % 2 == parity) & (df["right_side"] == right)]
            if part.empty:
                continue
            layers.append(alt.Chart(part).mark_text(
                align="right" if right else "left", dx=-9 if right else 9, dy=dy, fontSize=11,
                color="#0B0C0C").encode(x=x, y="value:Q", text="label:N"))
    chart = alt.layer(*layers).properties(width=WIDTH, height=HEIGHT + 40)
    how = "Wilson score limits" if method == "proportion" else "exact Poisson limits on the rate's scale"
    subtitle = [f"Districts, {period_text}, against {centre_name} ({fmt(centre, kpi.unit)}, the line). Points "
                f"outside the lines differ from it by more than chance would explain ({how}, 95% and 99.8%)",
                "Marker shape: position against the limits; colour: better or worse by the measure's direction"]
    source = _source(rows[0]) if rows else ""
    return _titled(chart, f"{kpi.code} {kpi.name}: funnel plot", subtitle, source,
                   any(r.illustrative for r in rows))


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
    better = {"higher": "higher is better", "lower": "lower is better"}.get(kpi.polarity, "no better direction set")
    subtitle = [f"Each district of {county_name}, {period_text}; the dashed grey line is {county_name}. "
                f"{kpi.unit_text if kpi.unit != 'count' else 'Number'}; {better}."]
    themed = _titled(chart, f"{kpi.code} {kpi.name}: districts over time", subtitle, source, illustrative)
    return themed
