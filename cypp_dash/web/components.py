"""The page's HTML pieces, drawn from the templates in cypp_dash/web/templates/ (every value escaped by the
template): charts as pictures, RAG badges, headline boxes, KPI tiles, facts, definitions, the status tables
and the Overview's table. Many small facts are drawn as one element (a page of Streamlit elements draws
slowly; see README Performance); st.html also sanitises what it is given."""
from __future__ import annotations

import base64
import re
from typing import Any, Callable

import pandas as pd
import streamlit as st

from cypp_dash import districts, overview, status
from cypp_dash.config import Config, Kpi, Plan
from cypp_dash.web.cache import chart_picture, memo
from cypp_dash.web.links import kpi_link
from cypp_dash.web.render import Markup, render
from cypp_dash.web.view import View

RAG_COLOURS = {"green": "green", "amber": "orange", "red": "red", "not rated": "gray"}  # Streamlit's badge colours


def rag_class(rag: str) -> str:
    """The RAG rating as it appears in a class name ("not rated" -> "not-rated")."""
    return rag.replace(" ", "-")


def chart(build: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Draw the Altair chart `build(*args, **kwargs)` (a cypp_dash.charts function) as a picture; False,
    drawing nothing, when the function gives no chart.

    The chart is drawn on the server (vl-convert, the engine behind the PNG and SVG downloads) and shown
    as an SVG picture labelled with its title: what the reader sees is exactly what goes into a board paper,
    and the browser has no charting library to load and run (a page with a chart opens about as fast as
    one without: see README Performance). The picture is cached on the chart's inputs, so a repeat view, or
    another session with the same figures, skips Altair and drawing; new figures are new inputs, so an
    upload can never show a stale chart."""
    picture = chart_picture(build, *args, **kwargs)
    if picture is None:
        return False
    title, svg = picture
    source = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    st.html(render("chart.html", title=title, source=source))
    return True


def paragraph(text: str, css: str = "") -> None:
    """One paragraph of words (escaped), with a class such as "cypp-small" or "cypp-intro"."""
    st.html(render("paragraph.html", text=text, css=css))


def rag_badge(rag: str) -> str:
    """Markdown for a RAG badge: colour, symbol and word (never colour alone)."""
    return f":{RAG_COLOURS[rag]}-badge[{status.RAG_SYMBOLS[rag]} {status.RAG_WORDS[rag]}]"


def rag_badge_html(rag: str) -> Markup:
    return render("badge.html", rag_class=rag_class(rag), symbol=status.RAG_SYMBOLS[rag], word=status.RAG_WORDS[rag])


def headline_boxes(counts: dict[str, int]) -> None:
    """DfE-style headline boxes: how many KPIs are on track, some concern, off track, not rated."""
    boxes = [{"rag_class": rag_class(r), "count": counts[r], "symbol": status.RAG_SYMBOLS[r],
              "word": status.RAG_WORDS[r]} for r in status.RAG_WORDS]
    st.html(render("headline.html", boxes=boxes))


def rag_and_reason(s: status.KpiStatus) -> None:
    """A KPI's RAG badge (word, symbol and tint) and the reason for it, in plain words."""
    st.html(render("reason.html", badge=rag_badge_html(s.rag), reason=s.reason))


def kpi_facts(s: status.KpiStatus, leave_out: tuple[str, ...] = ()) -> None:
    """What the statistics say of a KPI's latest figure (England, trend, SPC), its flags, and the note that
    came with it (shown exactly as uploaded); `leave_out` names facts said elsewhere (paper view says the
    flags once, under the summary)."""
    facts_list([(name, text) for name, text in s.facts if text and name not in leave_out])


def facts_list(facts: list[tuple[str, str]], colon: bool = True) -> None:
    """Facts as one list of "name: words" lines (`colon=False` when the names are codes)."""
    st.html(render("facts.html", facts=facts, colon=colon))


TREND_WORDS = {"up": "↑ up on the previous figure", "down": "↓ down on the previous figure",
               "same": "→ same as the previous figure"}


def kpi_tiles(statuses: list[status.KpiStatus], intro: str = "") -> None:
    """One tile per KPI (code and name, latest figure, period and direction, RAG badge, reason), as one element."""
    tiles = []
    for s in statuses:
        when = s.period or ("no published indicator" if s.relation == "none" else "no figure yet")
        meta = " · ".join(x for x in (when, TREND_WORDS.get(s.direction, ""),
                                     f"flags: {s.flags_words}" if s.flags else "") if x)
        tiles.append({"rag_class": rag_class(s.rag), "code": s.code, "kpi": s.kpi, "figure": s.figure_text,
                      "meta": meta, "related": s.relation_note if s.relation == "related" else "",
                      "badge": rag_badge_html(s.rag), "headline": s.headline, "reason": s.reason})
    st.html(render("tiles.html", tiles=tiles, intro=intro))


POLARITY_WORDS = {"higher": "higher", "lower": "lower", "none": "not stated in the plan"}


def kpi_definitions(kpis: list[Kpi]) -> None:
    """Each KPI's definition, unit, direction, baseline, England figure, target, owner and source, as one
    element: every word on show (and in print), none behind a click."""
    shown = []
    for kpi in kpis:
        facts = [("Definition", kpi.definition), ("Unit", kpi.unit_text),
                 ("Better", POLARITY_WORDS[kpi.polarity]),
                 ("Baseline (plan's words)", kpi.baseline.text + (f" · period {kpi.baseline.period}"
                                                                   if kpi.baseline.period else "")),
                 ("England (plan's words)", kpi.england.text),
                 ("Target", f"{kpi.target.text} · rules: "
                            + (", ".join(r.type.replace("_", " ") for r in kpi.target.rules) or "none")),
                 ("Owner of baseline and target", kpi.owner), ("Source", kpi.source)]
        shown.append({"anchor": kpi.code.lower(), "code": kpi.code, "name": kpi.name,
                      "facts": [(name, value) for name, value in facts if value]})
    st.html(render("definitions.html", kpis=shown))


def illustrative_notice(statuses_or_flag) -> None:
    flag = statuses_or_flag if isinstance(statuses_or_flag, bool) else any(s.illustrative for s in statuses_or_flag)
    if flag:
        st.warning("**Illustrative data.** The quarterly figures shown here are illustrative, generated to show "
                   "how the dashboard works; they are not Worcestershire's real figures. Baselines and England "
                   "figures are the plan's own, as published.", icon="ℹ️")


def source_line(statuses: list[status.KpiStatus]) -> str:
    sources = sorted({s.source for s in statuses if s.source})
    licences = sorted({s.licence for s in statuses if s.licence})
    text = "Source: " + "; ".join(sources) if sources else "Source: the plan"
    if licences:
        text += ". " + "; ".join(licences)
    return text


# --- tables ----------------------------------------------------------------------------------------

def rag_table(statuses: list[status.KpiStatus], columns: dict[str, str], caption: str = "") -> pd.DataFrame:
    """A status table with RAG as word + symbol + tint, drawn as one static HTML table (every word visible at
    paper size, no scrolling cells; every cell escaped, so text from an upload shows exactly as typed).
    Returns the table as shown, for its downloads. Made once per set of figures (cached), then reused."""
    shown, body = rag_table_parts(statuses, columns, caption)
    st.html(body)
    return shown


def rag_table_parts(statuses: list[status.KpiStatus], columns: dict[str, str],
                    caption: str = "") -> tuple[pd.DataFrame, str]:
    """`rag_table`'s table as shown and its HTML, made once per set of figures (cached), drawing nothing."""
    return memo(_rag_table, statuses, columns, caption)


def _rag_table(statuses: list[status.KpiStatus], columns: dict[str, str], caption: str) -> tuple[pd.DataFrame, str]:
    df = status.status_frame(statuses)
    df["rag_label"] = [f"{status.RAG_SYMBOLS[r]} {status.RAG_WORDS[r]}" for r in df["rag"]]
    for col in ("value", "england", "baseline"):
        if col in df:
            df[col + "_fmt"] = [status.fmt(v if pd.notna(v) else None, u) for v, u in zip(df[col], df["unit"])]
    df["value_fmt"] = [s.figure_text for s in statuses]  # "suppressed", not "no figure", for a withheld figure
    shown = df[list(columns)].rename(columns=columns)
    shown = shown.astype(object).where(shown.notna(), "–")
    body = table_body(shown, rag=list(df["rag"]) if "rag_label" in columns else None,
                      rag_column=columns.get("rag_label"), caption=caption)
    return shown, str(body)


def table_html(df: pd.DataFrame, rag: list[str] | None = None, rag_column: str | None = None,
               caption: str = "") -> None:
    """A data frame as one static, escaped HTML table; figures to one decimal place; the RAG column tinted.
    Kept by a digest of its inputs: a repeat view of a long table (Wider outcomes lists hundreds of
    indicators at national scale) does not escape every cell again."""
    st.html(memo(table_body, df, rag, rag_column, caption))


def table_body(df: pd.DataFrame, rag: list[str] | None = None, rag_column: str | None = None,
               caption: str = "") -> Markup:
    """`table_html`'s HTML, drawing nothing."""
    columns = [{"name": str(c), "slug": re.sub(r"[^a-z0-9]+", "-", str(c).lower()).strip("-")} for c in df.columns]
    rows = [[{"name": str(name), "text": f"{v:.1f}" if isinstance(v, float) else ("" if v is None else str(v)),
              "rag": rag_class(rag[i]) if rag is not None and name == rag_column else ""}
             for name, v in zip(df.columns, values)]
            for i, values in enumerate(df.itertuples(index=False))]
    return render("table.html", columns=columns, rows=rows, caption=caption)


def wider_outcomes_html(table: pd.DataFrame, area_name: str) -> Markup:
    """Wider outcomes on screen: the source and licence said once under the table, not on every row (the
    downloads keep them). Kept by a digest of its inputs, so the background preparation after a write
    makes it for the first viewer (hundreds of rows at national scale)."""
    return memo(table_body, table.drop(columns=["Source", "Licence"]), None, None,
                f"Other indicators held for {area_name}: latest figure each")


# --- the Overview's table ----------------------------------------------------------------------------

def overview_table(view: View, statuses: list[status.KpiStatus], caption: str,
                   columns: list[overview.Column] | None = None) -> None:
    """The Overview's table (cypp_dash.overview): one row per KPI, each opening its detail; flags said once
    under it."""
    every = view.spark_table([k.code for k in view.plan.kpis])  # one cached piece for the plan's tables
    values = {s.code: every.get(s.code, []) for s in statuses}
    rows = overview.rows_for(statuses, values, view.latest_period)
    st.html(overview_table_html(rows, lambda s: kpi_link(s.code), caption, columns, overview.flags_once(statuses)))


def overview_table_html(rows: list[overview.Row], link: Callable[[status.KpiStatus], str], caption: str,
                        columns: list[overview.Column] | None = None, flags: str = "") -> Markup:
    """The Overview's table (cypp_dash.overview works out each cell) as one escaped HTML element: each KPI's
    name a link to its detail (`link(status)`), the sparkline a picture with words for screen readers, RAG
    tinted with its symbol and word; the flags said once under it."""
    columns = columns or overview.OVERVIEW_COLUMNS
    headers = [{"name": c.header, "slug": c.header.lower().replace(" ", "-")} for c in columns]
    cells = [[dict(overview.cell(r, c), link=link(r.status)) if c.kind == "kpi" else overview.cell(r, c)
              for c in columns] for r in rows]
    for row in cells:
        for cell in row:
            if cell["kind"] == "spark":
                cell["picture"] = ("data:image/svg+xml;base64," + base64.b64encode(cell["svg"].encode()).decode()
                                   if cell["svg"] else "")
    return render("overview_table.html", headers=headers, rows=cells, caption=caption, flags=flags)


def district_matrix(cells: list[list[districts.Cell]], plan: Plan, config: Config, caption: str,
                    chosen: str | None = None) -> None:
    """The districts matrix as one escaped HTML table: a row per KPI, a column per district (the chosen one
    marked), each cell the comparison in word and symbol on its tint, with the figure."""
    columns = [{"name": config.area_name(d), "chosen": d == chosen} for d in plan.districts]
    st.html(render("matrix.html", columns=columns, rows=districts.matrix_rows(cells, plan, config), caption=caption))
