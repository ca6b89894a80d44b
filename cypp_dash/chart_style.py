"""The charts' house style (Government Analysis Function colours, colour-blind safe): the palette, the plot
size, the theme, and the frame every chart is drawn in (title, subtitle naming area and period, the word
"Illustrative" where the data are, a source line)."""
from __future__ import annotations

import textwrap

import altair as alt
import pandas as pd

from cypp_dash.status import KpiStatus

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


def _source(r: KpiStatus) -> str:
    text = f"Source: {r.source}" if r.source else "Source: the plan"
    if r.licence:
        text += f". {r.licence}"
    return text


def better_words(polarity: str) -> str:
    """"higher is better" / "lower is better" / "no better direction set", as the subtitles say it."""
    return {"higher": "higher is better", "lower": "lower is better"}.get(polarity, "no better direction set")
