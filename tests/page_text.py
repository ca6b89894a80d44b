"""What a reader sees of a page run under AppTest, as one text to search (shared by the page tests)."""
from __future__ import annotations

import html
import re

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
        parts += [t.value.to_string() for t in at.table]
    return "\n".join(parts)
