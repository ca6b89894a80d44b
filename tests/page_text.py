"""What a reader sees of a page run under AppTest, as one text to search (shared by the page tests)."""
from __future__ import annotations

import html
import io
import re

import pandas as pd

TEXT_ELEMENTS = ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error",
                 "success")
_TAG = re.compile(r"<[^>]+>")


def html_text(body: str) -> str:
    """The words of an st.html element, as a browser shows them (tags dropped, entities read); styles left out."""
    body = re.sub(r"<style>.*?</style>", "", body, flags=re.S)
    return html.unescape(_TAG.sub(" ", body))


def texts(at, tables: bool = False) -> str:
    """Every title, heading, paragraph, message, metric and HTML piece of the page; tables too if asked."""
    parts = []
    for kind in TEXT_ELEMENTS:
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [str(m.label) + " " + str(m.value) for m in at.metric]
    parts += [html_text(e.value) for e in at.get("html")]
    if tables:
        parts += [t.to_string() for t in all_tables(at)]
    return "\n".join(parts)


def chart_pictures(at) -> list[str]:
    """The charts the page shows: SVG pictures drawn by cypp_dash.web.components.chart (the text inside each <figure>)."""
    return [e.value for e in at.get("html") if 'class="cypp-chart"' in e.value]


def all_tables(at) -> list[pd.DataFrame]:
    """Every table the page shows: st.table and st.dataframe values, and the tables inside st.html pieces
    (read as a browser shows them: entities decoded, cells as text)."""
    frames = [t.value for t in at.table] + [d.value for d in at.dataframe]
    for e in at.get("html"):
        if "<table" in e.value:
            frames += [t.astype(str) for t in pd.read_html(io.StringIO(e.value), keep_default_na=False,
                                                           na_values=[], flavor="lxml")]
    return frames
