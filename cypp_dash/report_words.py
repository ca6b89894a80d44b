"""The Word report's words beside the figures: the narrative written from the figures, each KPI's
approved commentary with its author, approver and dates, and whether the period is signed off. All of it
goes into the document as plain text runs (commentary is user text: never a field, link or style)."""
from __future__ import annotations

from datetime import date
from typing import Callable

import duckdb

from cypp_dash import narrative, release
from cypp_dash.commentary import Commentary
from cypp_dash.config import Plan
from cypp_dash.periods import parse_period
from cypp_dash.status import KpiStatus


def add_narrative(doc, statuses: list[KpiStatus], text: Callable) -> None:
    """The partnership's narrative paragraph, labelled as written from the figures."""
    words = narrative.paragraph(statuses)
    if not words:
        return
    p = doc.add_paragraph()
    text(p, f"{narrative.LABEL}: ", bold=True)
    text(p, words)
    text(doc.add_paragraph(), f"({narrative.LABEL_NOTE}.)", size=9)


def add_commentary(doc, c: Commentary | None, text: Callable, secondary) -> None:
    """A KPI's approved commentary (what the board reads), or a line saying there is none."""
    p = doc.add_paragraph()
    text(p, "Officer commentary: ", bold=True)
    if c is None:
        text(p, "none approved for this period.")
        return
    for i, line in enumerate(c.body.split("\n")):
        if i:
            p = doc.add_paragraph()
        text(p, line)
    text(doc.add_paragraph(), c.byline, size=9, colour=secondary)


def add_release_line(doc, conn: duckdb.DuckDBPyConnection, plan: Plan, period: str | None,
                     as_at: date | None, labelled: Callable) -> None:
    """Whether the figures in the report are signed off for release (as at the report's date)."""
    shown = release.public_release(conn, plan.id, as_at)
    if shown is None:
        labelled(doc, "Sign-off", f"these figures are {release.NOT_SIGNED_OFF}: no period of this plan has "
                                  "been signed off for release yet")
        return
    wanted = parse_period(period).end if period else None
    if wanted is not None and wanted <= shown.period_end:
        labelled(doc, "Sign-off", f"figures up to {shown.words}")
    else:
        labelled(doc, "Sign-off", f"figures after {shown.period} are {release.NOT_SIGNED_OFF} "
                                  f"(the latest signed off is {shown.words})")
