"""The Word board report for one partnership (python-docx): a title page, a summary table, each KPI's charts
and figures, definitions, sources and a footer with page numbers. All text is written as text."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from cypp_dash import charts, commentary, freshness, report_words, status, store
from cypp_dash.config import Config, Kpi, Partnership, Plan
from cypp_dash.export_pictures import chart_png
from cypp_dash.periods import parse_period

_SECONDARY = RGBColor(0x50, 0x5A, 0x5F)
_PICTURE_WIDTH = Cm(16)  # A4 less 2.5 cm margins each side
SUMMARY_HEADERS = ["KPI", "Baseline", "Latest", "England", "Target", "RAG", "Reason"]
_SUMMARY_WIDTHS = (3.4, 1.9, 1.9, 1.9, 2.4, 1.7, 3.8)  # centimetres, in the order of SUMMARY_HEADERS


def _figure_text(value: float | None, unit: str, period: str | None, words: str = "") -> str:
    if value is None:
        return words or "no figure"
    return status.fmt(value, unit) + (f" ({period})" if period else "")


def _england_text(s: status.KpiStatus, kpi: Kpi) -> str:
    if s.england is None:
        return kpi.england.text or "no figure"
    unit = kpi.unit if (not kpi.england.unit or s.england_period != kpi.england.period) else kpi.england.unit
    text = _figure_text(s.england, unit, s.england_period)
    return text + (" - comparator out of date" if s.england_out_of_date else "")


def summary_rows(statuses: list[status.KpiStatus], plan: Plan) -> list[dict[str, str]]:
    """The report's summary table as plain rows: KPI, baseline, latest, England, target, RAG, reason."""
    rows = []
    for s in statuses:
        kpi = plan.kpi(s.code)
        rows.append({
            "KPI": f"{s.code} {s.kpi}",
            "Baseline": _figure_text(s.baseline, s.unit, s.baseline_period, kpi.baseline.text),
            "Latest": _figure_text(s.value, s.unit, s.period,
                                   f"suppressed ({s.period})" if s.figure_text == "suppressed" else ""),
            "England": _england_text(s, kpi),
            "Target": s.target,
            "RAG": s.rag_label,
            "Reason": s.reason,
        })
    return rows


def _shade(cell, hex_fill: str) -> None:
    props = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), hex_fill)
    props.append(shd)


def _repeat_header(row) -> None:
    """Mark a table row as a header row (repeats on each page; read as headers by screen readers)."""
    props = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    props.append(header)


def _text(paragraph, text: str, *, bold: bool = False, size: float | None = None, colour: RGBColor | None = None):
    run = paragraph.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    if colour is not None:
        run.font.color.rgb = colour
    return run


def _labelled(doc, label: str, text: str) -> None:
    p = doc.add_paragraph()
    _text(p, f"{label}: ", bold=True)
    _text(p, text)


def _picture(doc, png: bytes, alt_text: str) -> None:
    doc.add_picture(io.BytesIO(png), width=_PICTURE_WIDTH)
    shape = doc.inline_shapes[-1]
    # Alternative text for screen readers (Word's "Alt Text"), set on the drawing's properties.
    shape._inline.docPr.set("descr", alt_text)
    shape._inline.docPr.set("title", alt_text[:120])


def _period_words(period: str | None, as_at: date | None, shown: str | None = None) -> str:
    """The period in words, naming the quarter shown ("figures to 2025/26 Q4, ...")."""
    text = (f"figures to {shown}, " if shown else "") + (f"latest figures at or before {period}" if period
                                                          else "latest figures available")
    if as_at:
        text += f", as the store held them at the end of {as_at:%d %B %Y}"
    return text


def board_report(conn: duckdb.DuckDBPyConnection, config: Config, plan: Plan, partnership_id: str,
                 out_path: str | Path, period: str | None = None, *, area: str | None = None,
                 as_at: date | None = None, produced: datetime | None = None) -> Path:
    """Write the Word board report for one partnership of a plan to `out_path` (see `report_document`)."""
    doc = report_document(conn, config, plan, partnership_id, period, area=area, as_at=as_at, produced=produced)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out


def board_report_bytes(conn: duckdb.DuckDBPyConnection, config: Config, plan: Plan, partnership_id: str,
                       period: str | None = None, *, area: str | None = None, as_at: date | None = None) -> bytes:
    """The Word board report as bytes, for the page's download button."""
    buffer = io.BytesIO()
    report_document(conn, config, plan, partnership_id, period, area=area, as_at=as_at).save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class _Report:
    """What every part of the report reads: the plan, the partnership, the area, the period and its ratings."""
    conn: duckdb.DuckDBPyConnection
    config: Config
    plan: Plan
    partnership: Partnership
    area: str
    area_name: str
    period: str | None
    as_at: date | None
    produced: datetime
    statuses: list[status.KpiStatus]

    @property
    def illustrative(self) -> bool:
        return any(s.illustrative for s in self.statuses)


def report_document(conn: duckdb.DuckDBPyConnection, config: Config, plan: Plan, partnership_id: str,
                    period: str | None = None, *, area: str | None = None, as_at: date | None = None,
                    produced: datetime | None = None):
    """The Word board report for one partnership: title, plan, area, period, date, the illustrative label,
    a summary table (RAG in words and symbols), each KPI's trend and SPC charts side by side with figures,
    flags and notes as text, definitions, source and licence lines. All text is written as text; the footer's
    "Page X of Y" uses Word's PAGE and NUMPAGES fields (LibreOffice renders them too)."""
    partnership = plan.partnership(partnership_id)
    area = area or plan.area
    period = parse_period(period).label if period else None
    produced = produced or datetime.now()
    statuses = status.plan_status(conn, config, plan, area, period, as_at=as_at, partnership_id=partnership_id)
    report = _Report(conn, config, plan, partnership, area, config.area_name(area), period, as_at, produced, statuses)
    doc = _new_document(report)
    _title_page(doc, report)
    _summary(doc, report)
    _measures(doc, report)
    _definitions(doc, report)
    _sources(doc, report)
    _footer(doc.sections[0], report)
    return doc


def _new_document(report: _Report):
    """An A4 portrait document in Arial 11 with its title, subject, author and language set."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.5))
    section.top_margin = section.bottom_margin = Cm(2.0)
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(11)
    doc.core_properties.title = f"{report.partnership.name}: performance report"
    doc.core_properties.subject = report.plan.name
    doc.core_properties.author = report.plan.council or "CYPP performance dashboard"
    doc.core_properties.language = "en-GB"
    return doc


def _title_page(doc, report: _Report) -> None:
    """The title, plan, partnership, priority, area, period and date; the illustrative label; the sign-off."""
    partnership, plan = report.partnership, report.plan
    doc.add_heading(f"{partnership.name}: performance report", level=0)
    _labelled(doc, "Plan", plan.name)
    _labelled(doc, "Partnership", f"{partnership.name} ({partnership.board})" if partnership.board
              else partnership.name)
    if partnership.priority:
        _labelled(doc, "Priority", partnership.priority)
    _labelled(doc, "Area", report.area_name)
    shown = freshness.latest_period(s.period for s in report.statuses)
    _labelled(doc, "Period", _period_words(report.period, report.as_at, shown))
    _labelled(doc, "Date produced", f"{report.produced:%d %B %Y}")
    if report.illustrative:
        p = doc.add_paragraph()
        _text(p, "Illustrative data. ", bold=True, colour=RGBColor(0x80, 0x16, 0x50))
        _text(p, "The figures in this report are illustrative, generated to show how the dashboard works; they "
                 "are not real figures. Baselines and England figures are the plan's own, as published.")
    report_words.add_release_line(doc, report.conn, plan, report.period, report.as_at, _labelled)


def _summary(doc, report: _Report) -> None:
    """The narrative, the count of each RAG rating, and the summary table."""
    counts = status.rag_counts(report.statuses)
    doc.add_heading("Summary", level=1)
    report_words.add_narrative(doc, report.statuses, _text)
    doc.add_paragraph(" · ".join(f"{status.RAG_SYMBOLS[r]} {status.RAG_WORDS[r]}: {counts[r]}" for r in counts)
                      + ". RAG is written as a word and a symbol as well as a colour.")
    _summary_table(doc, report.statuses, summary_rows(report.statuses, report.plan))


def _summary_table(doc, statuses: list[status.KpiStatus], rows: list[dict[str, str]]) -> None:
    """One row a KPI under a repeating header row; the RAG cell tinted in the charts' colours."""
    headers = SUMMARY_HEADERS
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _repeat_header(table.rows[0])
    for cell, name in zip(table.rows[0].cells, headers):
        cell.text = ""
        _text(cell.paragraphs[0], name, bold=True, size=9)
        _shade(cell, "DEE0E2")
    for s, row in zip(statuses, rows):
        cells = table.add_row().cells
        for cell, name in zip(cells, headers):
            cell.text = ""
            _text(cell.paragraphs[0], row[name], bold=name == "RAG", size=9)
        _shade(cells[headers.index("RAG")], charts.RAG_TINTS[s.rag].lstrip("#"))
    for row in table.rows:
        for cell, width in zip(row.cells, _SUMMARY_WIDTHS):
            cell.width = Cm(width)


def _measures(doc, report: _Report) -> None:
    """Each KPI in turn: its rating and reason, its charts, its facts and its approved commentary."""
    doc.add_heading("Measures", level=1)
    approved = commentary.approved(report.conn, report.plan.id, report.area, report.as_at)
    for s in report.statuses:
        kpi = report.plan.kpi(s.code)
        doc.add_heading(f"{kpi.code} {kpi.name}", level=2)
        p = doc.add_paragraph()
        _text(p, "RAG: ", bold=True)
        _text(p, s.rag_label, bold=True)
        _text(p, f". {s.reason}")
        _measure_charts(doc, report, kpi, s)
        for label, text in s.facts:
            # A board paper always states the comparison with England and the flags ("none" when none).
            text = text or ("none" if label == "Flags" else "")
            if not text and label != "Compared with England":
                continue
            p = doc.add_paragraph(style="List Bullet")
            _text(p, f"{label}: ", bold=True)
            _text(p, text)
        report_words.add_commentary(doc, approved.get((s.code, s.period)), _text, _SECONDARY)


def _measure_charts(doc, report: _Report, kpi: Kpi, s: status.KpiStatus) -> None:
    """The trend and the SPC chart side by side, as on the paper view (the KPI is named once, above), or a
    line saying no figures are held yet."""
    period = report.period
    series = store.series(report.conn, [kpi.indicator_id], [report.area],
                          up_to=parse_period(period).end if period else None, as_at=report.as_at)
    if not series["value"].notna().any():
        doc.add_paragraph(f"No figures held for {report.area_name} yet ({kpi.baseline.text}).")
        return
    words = freshness.figures_to([s.period], period)
    trend = charts.trend_chart(kpi, series, s, words, target=kpi.target.value, **_SIDE_BY_SIDE, title="Trend")
    spc = status.spc_for(kpi, series, s, report.config.settings)
    spc_chart = (charts.spc_chart(kpi, spc[0], spc[1], s, words, s.assurance_target, **_SIDE_BY_SIDE,
                                  title="Statistical process control") if spc and spc[1].enough_data else None)
    _pictures_side_by_side(doc, [
        (chart_png(trend), f"Line chart of {kpi.code} {kpi.name} for {report.area_name}: latest "
                           f"{status.fmt(s.value, s.unit)} ({s.period}); {s.rag_label}."),
        *([(chart_png(spc_chart), f"SPC chart of {kpi.code} {kpi.name} for {report.area_name}: "
                                  f"{spc[1].variation_text}")] if spc_chart is not None else [])])


def _definitions(doc, report: _Report) -> None:
    """Each KPI's definition, unit, better direction, baseline, England and target in the plan's words, and how
    RAG is decided."""
    doc.add_heading("Definitions", level=1)
    polarity = {"higher": "higher is better", "lower": "lower is better", "none": "no better direction stated"}
    for s in report.statuses:
        kpi = report.plan.kpi(s.code)
        p = doc.add_paragraph()
        _text(p, f"{kpi.code} {kpi.name}. ", bold=True)
        _text(p, f"{kpi.definition} Unit: {kpi.unit_text}; {polarity.get(kpi.polarity, kpi.polarity)}. "
                 f"Baseline (plan's words): {kpi.baseline.text}. England (plan's words): {kpi.england.text}. "
                 f"Target: {kpi.target.text}.")
    p = doc.add_paragraph()
    _text(p, "How RAG is decided: ", bold=True)
    _text(p, "each KPI's target in the plan is turned into one or more rules and the rating is the worst of them: "
             "✔ On track (green), ▲ Some concern (amber), ✖ Off track (red), – Not rated (no figure, no comparator, "
             "or a comparator in different units). The reason column says which rule decided.")


def _sources(doc, report: _Report) -> None:
    """Every source and licence the figures carry, the plan document, and when the report was produced."""
    doc.add_heading("Source and licence", level=1)
    sources = sorted({s.source for s in report.statuses if s.source}) or ["the plan"]
    licences = sorted({s.licence for s in report.statuses if s.licence})
    for text in sources:
        _labelled(doc, "Source", text)
    for text in licences:
        _labelled(doc, "Licence", text)
    if report.plan.source_document:
        _labelled(doc, "Plan document", report.plan.source_document)
    _labelled(doc, "Produced by", f"CYPP performance dashboard on {report.produced:%d %B %Y at %H:%M}")


def _footer(section, report: _Report) -> None:
    """Partnership, area and plan (and the illustrative label) on every page; the date and "Page X of Y"."""
    footer = section.footer.paragraphs[0]
    footer.text = ""
    _text(footer, f"{report.partnership.name} · {report.area_name} · {report.plan.name}"
          + (" · ILLUSTRATIVE DATA" if report.illustrative else ""), size=8, colour=_SECONDARY)
    numbers = section.footer.add_paragraph()
    _text(numbers, f"Produced on {report.produced.day} {report.produced:%B %Y} · Page ", size=8, colour=_SECONDARY)
    _field(numbers, "PAGE")
    _text(numbers, " of ", size=8, colour=_SECONDARY)
    _field(numbers, "NUMPAGES")


_SIDE_BY_SIDE = {"width": 300, "height": 150}  # two charts across the page, text still legible


def _pictures_side_by_side(doc, pictures: list[tuple[bytes, str]]) -> None:
    """Chart pictures in one row of a borderless table (each with its alternative text)."""
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, (png, alt_text) in zip(table.rows[0].cells, pictures):
        cell.width = Cm(8.0)
        # 7.4 cm each: two pictures and the cells' own margins inside the 16 cm between the page margins.
        shape = cell.paragraphs[0].add_run().add_picture(io.BytesIO(png), width=Cm(7.4))
        shape._inline.docPr.set("descr", alt_text)
        shape._inline.docPr.set("title", alt_text[:120])


def _field(paragraph, code: str) -> None:
    """A Word field (PAGE, NUMPAGES) in a run of its own: Word and LibreOffice fill in the number."""
    run = paragraph.add_run()
    run.font.size = Pt(8)
    run.font.color.rgb = _SECONDARY
    for kind, text in (("begin", None), (None, f" {code} "), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text.strip() == "1":
            element = OxmlElement("w:t")
            element.text = text
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)
