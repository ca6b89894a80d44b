"""Words for places that render Markdown: uploaded text shown exactly as typed, and a KPI's label."""
from __future__ import annotations

import re

from cypp_dash.config import Kpi

_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# An invisible word joiner after ":" and before "." and "@": Markdown's automatic links need
# "http://", "www." or "name@host" unbroken, and escaping does not stop them.
_AUTOLINK_PARTS = re.compile(r"(:)|([.@])")
WORD_JOINER = "\u2060"


def markdown_literal(text: str | None) -> str:
    """Uploaded text for a place that renders Markdown (st.table cells): shown exactly as typed,
    never as a link, HTML or formatting (every ASCII punctuation mark backslash-escaped, and
    automatic links broken by invisible word joiners)."""
    text = _AUTOLINK_PARTS.sub(lambda m: m.group(1) + WORD_JOINER if m.group(1) else WORD_JOINER + m.group(2),
                               text or "")
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def kpi_label(kpi: Kpi) -> str:
    return f"{kpi.code} {kpi.name}"
