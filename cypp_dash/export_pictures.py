"""Chart pictures for board papers: PNG and SVG drawn without a browser (vl-convert)."""
from __future__ import annotations

import json
import re

import altair as alt
import vl_convert as vlc

from cypp_dash.chart_style import FONT

_SYMBOLS = re.compile("[\u2190-\u2bff]")  # arrows, geometric shapes, dingbats
SYMBOL_FONT = "'DejaVu Sans', Arial, 'Liberation Sans', sans-serif"


def chart_png(chart: alt.TopLevelMixin, scale: float = 2) -> bytes:
    """The chart as a PNG picture (2x by default, sharp when printed), drawn without a browser."""
    return vlc.vegalite_to_png(_for_picture(chart.to_dict()), scale=scale)


def _for_picture(spec: dict) -> dict:
    """The spec with a font that has every symbol it uses. Liberation Sans (Arial's stand-in on Linux) has
    no geometric shapes or dingbats (● ▲ ✓ ✔); for a line with one, the renderer picks whatever font has it
    (a serif, or a bold), so such pictures are drawn in DejaVu Sans, which has them all."""
    text = json.dumps(spec, ensure_ascii=False)
    if not _SYMBOLS.search(text):
        return spec
    return json.loads(text.replace(json.dumps(FONT)[1:-1], SYMBOL_FONT))


def chart_svg(chart: alt.TopLevelMixin | dict) -> str:
    """The chart (or its Vega-Lite spec) as SVG text (scales to any size; text stays text)."""
    return vlc.vegalite_to_svg(chart if isinstance(chart, dict) else chart.to_dict())
