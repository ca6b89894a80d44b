"""Exports for board papers: chart pictures (PNG, SVG), safe tables (CSV, XLSX) and the Word report."""
from __future__ import annotations

import io
import json
import numbers
import re
from datetime import date, datetime
from pathlib import Path

import altair as alt
import duckdb
import pandas as pd
import vl_convert as vlc
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from cypp_dash import charts, commentary, freshness, report_words, status, store
from cypp_dash.config import Config, Kpi, Plan
from cypp_dash.periods import parse_period

# Spreadsheet programs run a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_SECONDARY = RGBColor(0x50, 0x5A, 0x5F)
_PICTURE_WIDTH = Cm(16)  # A4 less 2.5 cm margins each side
_SYMBOLS = re.compile("[\u2190-\u2bff]")  # arrows, geometric shapes, dingbats
SYMBOL_FONT = "'DejaVu Sans', Arial, 'Liberation Sans', sans-serif"


# --- charts --------------------------------------------------------------------------------------------

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
    return json.loads(text.replace(json.dumps(charts.FONT)[1:-1], SYMBOL_FONT))


def chart_svg(chart: alt.TopLevelMixin | dict) -> str:
    """The chart (or its Vega-Lite spec) as SVG text (scales to any size; text stays text)."""
    return vlc.vegalite_to_svg(chart if isinstance(chart, dict) else chart.to_dict())


# --- tables ------------------------------------------------------------------------------------------

def neutralise(value):
    """A cell as a spreadsheet should show it: text that could start a formula gets a leading apostrophe;
    numbers (negative ones too) stay numbers, and a lone "-" (LAIT's "no polarity", a blank in many tables)
    is no formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and value != "-":
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of the table with every text cell (and column name) neutralised; number columns untouched."""
    out = df.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        out[col] = series.map(lambda v: v if isinstance(v, numbers.Number) else neutralise(v)).astype(object)
    return out


def table_csv(df: pd.DataFrame) -> bytes:
    """The table as CSV, UTF-8 with a byte-order mark so Excel shows symbols (✔ ▲ ✖) correctly."""
    return safe_frame(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def table_xlsx(df: pd.DataFrame, sheet: str = "Table") -> bytes:
    """The table as an Excel workbook; text cells are stored as text, never as formulas."""
    return workbook_xlsx({sheet: df})


def workbook_xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    """Several tables as the sheets of one workbook, each neutralised like `table_xlsx`."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for sheet, df in sheets.items():
        safe = safe_frame(df)
        ws = wb.create_sheet(sheet[:31])
        ws.append([str(c) for c in safe.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.data_type = "s"
        for row in safe.itertuples(index=False):
            ws.append([_xlsx_value(v) for v in row])
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # belt and braces: openpyxl would otherwise read "=..." as a formula
        ws.freeze_panes = "A2"
        for i, col in enumerate(safe.columns, start=1):
            width = max([len(str(col))] + [len(str(v)) for v in safe[col].head(200)]) + 2
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(max(width, 8), 60)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _xlsx_value(v):
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if hasattr(v, "item") and not isinstance(v, str):
        return v.item()  # numpy scalar -> Python number
    return v


# --- the Word board report -----------------------------------------------------------------------------

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
    area_name = config.area_name(area)
    illustrative = any(s.illustrative for s in statuses)

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
    doc.core_properties.title = f"{partnership.name}: performance report"
    doc.core_properties.subject = plan.name
    doc.core_properties.author = plan.council or "CYPP performance dashboard"
    doc.core_properties.language = "en-GB"

    doc.add_heading(f"{partnership.name}: performance report", level=0)
    _labelled(doc, "Plan", plan.name)
    _labelled(doc, "Partnership", f"{partnership.name} ({partnership.board})" if partnership.board
              else partnership.name)
    if partnership.priority:
        _labelled(doc, "Priority", partnership.priority)
    _labelled(doc, "Area", area_name)
    shown = freshness.latest_period(s.period for s in statuses)
    _labelled(doc, "Period", _period_words(period, as_at, shown))
    _labelled(doc, "Date produced", f"{produced:%d %B %Y}")
    if illustrative:
        p = doc.add_paragraph()
        _text(p, "Illustrative data. ", bold=True, colour=RGBColor(0x80, 0x16, 0x50))
        _text(p, "The figures in this report are illustrative, generated to show how the dashboard works; they "
                 "are not real figures. Baselines and England figures are the plan's own, as published.")

    report_words.add_release_line(doc, conn, plan, period, as_at, _labelled)
    counts = status.rag_counts(statuses)
    doc.add_heading("Summary", level=1)
    report_words.add_narrative(doc, statuses, _text)
    doc.add_paragraph(" · ".join(f"{status.RAG_SYMBOLS[r]} {status.RAG_WORDS[r]}: {counts[r]}" for r in counts)
                      + ". RAG is written as a word and a symbol as well as a colour.")
    rows = summary_rows(statuses, plan)
    headers = ["KPI", "Baseline", "Latest", "England", "Target", "RAG", "Reason"]
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
        for cell, width in zip(row.cells, (3.4, 1.9, 1.9, 1.9, 2.4, 1.7, 3.8)):
            cell.width = Cm(width)

    doc.add_heading("Measures", level=1)
    approved = commentary.approved(conn, plan.id, area, as_at)
    for s in statuses:
        kpi = plan.kpi(s.code)
        doc.add_heading(f"{kpi.code} {kpi.name}", level=2)
        p = doc.add_paragraph()
        _text(p, "RAG: ", bold=True)
        _text(p, s.rag_label, bold=True)
        _text(p, f". {s.reason}")
        series = store.series(conn, [kpi.indicator_id], [area], up_to=parse_period(period).end if period else None,
                              as_at=as_at)
        if series["value"].notna().any():
            # The trend and the SPC chart side by side, as on the paper view: the KPI is named once, above.
            words = freshness.figures_to([s.period], period)
            trend = charts.trend_chart(kpi, series, s, words, target=kpi.target.value, **_SIDE_BY_SIDE,
                                       title="Trend")
            spc = status.spc_for(kpi, series, s, config.settings)
            spc_chart = (charts.spc_chart(kpi, spc[0], spc[1], s, words, s.assurance_target, **_SIDE_BY_SIDE,
                                          title="Statistical process control") if spc and spc[1].enough_data
                         else None)
            _pictures_side_by_side(doc, [
                (chart_png(trend), f"Line chart of {kpi.code} {kpi.name} for {area_name}: latest "
                                   f"{status.fmt(s.value, s.unit)} ({s.period}); {s.rag_label}."),
                *([(chart_png(spc_chart), f"SPC chart of {kpi.code} {kpi.name} for {area_name}: "
                                          f"{spc[1].variation_text}")] if spc_chart is not None else [])])
        else:
            doc.add_paragraph(f"No figures held for {area_name} yet ({kpi.baseline.text}).")
        for label, text in s.facts:
            # A board paper always states the comparison with England and the flags ("none" when none).
            text = text or ("none" if label == "Flags" else "")
            if not text and label != "Compared with England":
                continue
            p = doc.add_paragraph(style="List Bullet")
            _text(p, f"{label}: ", bold=True)
            _text(p, text)
        report_words.add_commentary(doc, approved.get((s.code, s.period)), _text, _SECONDARY)

    doc.add_heading("Definitions", level=1)
    polarity = {"higher": "higher is better", "lower": "lower is better", "none": "no better direction stated"}
    for s in statuses:
        kpi = plan.kpi(s.code)
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

    doc.add_heading("Source and licence", level=1)
    sources = sorted({s.source for s in statuses if s.source}) or ["the plan"]
    licences = sorted({s.licence for s in statuses if s.licence})
    for text in sources:
        _labelled(doc, "Source", text)
    for text in licences:
        _labelled(doc, "Licence", text)
    if plan.source_document:
        _labelled(doc, "Plan document", plan.source_document)
    _labelled(doc, "Produced by", f"CYPP performance dashboard on {produced:%d %B %Y at %H:%M}")

    footer = section.footer.paragraphs[0]
    footer.text = ""
    _text(footer, f"{partnership.name} · {area_name} · {plan.name}" + (" · ILLUSTRATIVE DATA" if illustrative
                                                                        else ""), size=8, colour=_SECONDARY)
    numbers = section.footer.add_paragraph()
    _text(numbers, f"Produced on {produced.day} {produced:%B %Y} · Page ", size=8, colour=_SECONDARY)
    _field(numbers, "PAGE")
    _text(numbers, " of ", size=8, colour=_SECONDARY)
    _field(numbers, "NUMPAGES")
    return doc


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
