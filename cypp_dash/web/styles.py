"""The page's styles, kept as CSS files in cypp_dash/web/styles/ and sent by `inject`: the house styles on
every page (house.css, plus the RAG tints and edges from cypp_dash.charts, so a badge and a chart never
disagree), paper view's when the address asks for it (paper.css), and the commentary boxes' (commentary.css)."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit as st

from cypp_dash import charts

STYLES = Path(__file__).parent / "styles"


def _rag_rules() -> str:
    """RAG edges in the charts' colours, badges in the tables' tints (a badge's word and symbol carry the meaning)."""
    return "".join(f".cypp-rag-{r.replace(' ', '-')} {{border-color: {charts.RAG_COLOURS[r]};}}\n"
                   f".cypp-badge-{r.replace(' ', '-')} {{background: {charts.RAG_TINTS[r]};}}\n"
                   for r in charts.RAG_TINTS)


@cache
def stylesheet(name: str) -> str:
    """The CSS file `name` (house, paper, commentary) as one <style> element, read once per process."""
    css = (STYLES / f"{name}.css").read_text(encoding="utf-8")
    if name == "house":
        css += _rag_rules()
    return f"<style>\n{css}</style>"


def inject(name: str) -> None:
    """Send the stylesheet `name` to the page (one element)."""
    st.html(stylesheet(name))


def house_styles() -> None:
    """The page's own styles, sent once per page as one element: a visible keyboard focus on the menu's links
    and the look of the HTML pieces (KPI tiles, headline boxes, tables, definitions)."""
    inject("house")


def apply_paper_view() -> None:
    """Paper view (`?view=paper`): no sidebar, header, toolbar, controls or download buttons; an A4-wide
    page that scrolls as one document (so a full-page screenshot takes it all) and prints cleanly, each
    heading kept on the page of what it heads."""
    inject("paper")
