"""Exports for board papers: chart pictures (PNG, SVG) that carry their title and source, tables
(CSV, XLSX) with formula-like text made safe, and the Word board report (python-docx reopens it)."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile

import docx
import openpyxl
import pandas as pd
import pytest

from cypp_dash import charts, export, status, store
from cypp_dash.config import ROOT

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SUMMARY_HEADERS = ["KPI", "Baseline", "Latest", "England", "Target", "RAG", "Reason"]


@pytest.fixture
def plan(config):
    return config.plan("worcs-2022-24")


def trend(conn, config, plan, code: str, area: str | None = None):
    kpi = plan.kpi(code)
    area = area or plan.area
    row = next(s for s in status.plan_status(conn, config, plan, area) if s.code == code)
    return charts.trend_chart(kpi, store.series(conn, [kpi.indicator_id], [area]), row, "latest",
                              target=kpi.target.value)


# --- chart pictures -------------------------------------------------------------------------------------

def test_a_chart_exports_as_a_png_at_twice_its_size(conn, config, plan):
    from PIL import Image

    png = export.chart_png(trend(conn, config, plan, "EH01"))
    assert png.startswith(PNG_MAGIC)
    picture = Image.open(io.BytesIO(png))
    # The plot alone is charts.WIDTH wide; with axes, labels and the 2x scale the picture is far wider.
    assert picture.width >= 2 * charts.WIDTH and picture.height >= 2 * charts.HEIGHT
    once = Image.open(io.BytesIO(export.chart_png(trend(conn, config, plan, "EH01"), scale=1)))
    assert abs(picture.width - 2 * once.width) <= 2


def test_a_png_has_its_title_drawn_in_text_so_fonts_were_found(conn, config, plan):
    from PIL import Image

    # Without a font the renderer draws no text at all, silently; the title is dark text at the top left.
    picture = Image.open(io.BytesIO(export.chart_png(trend(conn, config, plan, "EH01")))).convert("L")
    title_band = picture.crop((0, 0, picture.width // 2, 60))
    dark = sum(title_band.histogram()[:80])  # pixels darker than 80 of 255
    assert dark > 500, "no text in the PNG: install fonts (fonts-liberation2, fonts-dejavu-core)"


@pytest.mark.parametrize("code, area", [("EH01", None), ("MH01", None), ("SG02", "E07000237"), ("EH06", None)])
def test_a_trend_chart_svg_carries_its_title_subtitle_source_and_illustrative_label(conn, config, plan, code,
                                                                                  area):
    svg = export.chart_svg(trend(conn, config, plan, code, area))
    kpi = plan.kpi(code)
    assert svg.lstrip().startswith("<svg")
    assert kpi.code in svg and kpi.name.split()[0] in svg
    assert config.area_name(area or plan.area) in svg
    assert "Source" in svg
    assert "ILLUSTRATIVE DATA" in svg


def test_a_district_chart_svg_names_each_rating_in_words(conn, config, plan):
    kpi = plan.kpi("EH01")
    rows = status.district_table(conn, config, plan, kpi)
    svg = export.chart_svg(charts.district_chart(kpi, rows, "latest"))
    assert "districts compared" in svg and "Source" in svg
    for r in rows:
        if r.value is not None and r.area != status.ENGLAND:
            assert r.area_name in svg
            assert status.RAG_WORDS[r.rag] in svg


# --- tables ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell, written", [
    ("=1+1", "'=1+1"),
    ("+1", "'+1"),
    ("-x", "'-x"),
    ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("=HYPERLINK(\"http://example.com\")", "'=HYPERLINK(\"http://example.com\")"),
    ("plain words", "plain words"),
    ("a=b", "a=b"),
    ("✔ On track", "✔ On track"),
    ("", ""),
])
def test_text_that_a_spreadsheet_could_run_as_a_formula_gets_a_leading_apostrophe(cell, written):
    assert export.neutralise(cell) == written


@pytest.mark.parametrize("number", [-3.5, -1, 0, 2.25])
def test_numbers_stay_numbers_even_when_negative(number):
    assert export.neutralise(number) == number


def hostile_table() -> pd.DataFrame:
    return pd.DataFrame({
        "name": ["=1+1", "+1", "-x", "@SUM(A1)", "safe"],
        "value": [-3.5, 1.0, 2.0, 3.0, 4.0],
        "mixed": [-3.5, "=2+2", "ok", None, 7],
        "=header": ["a", "b", "c", "d", "e"],
    })


def test_csv_neutralises_formula_text_and_keeps_negative_numbers_as_numbers():
    data = export.table_csv(hostile_table())
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark, for Excel
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", keep_default_na=False)
    assert back["name"].tolist() == ["'=1+1", "'+1", "'-x", "'@SUM(A1)", "safe"]
    assert back["value"].tolist() == [-3.5, 1.0, 2.0, 3.0, 4.0]
    assert back["mixed"].tolist()[:3] == ["-3.5", "'=2+2", "ok"]
    assert "'=header" in back.columns
    # Nothing in the file starts a cell with a formula character except real numbers.
    for line in data.decode("utf-8-sig").splitlines()[1:]:
        for cell in line.split(","):
            assert not cell.startswith(("=", "+", "@")), line
            assert not cell.startswith("-") or cell == "-3.5", line


def test_xlsx_stores_formula_text_as_text_and_negative_numbers_as_numbers():
    book = openpyxl.load_workbook(io.BytesIO(export.table_xlsx(hostile_table())))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header == ["name", "value", "mixed", "'=header"]
    names = [sheet.cell(row=r, column=1) for r in range(2, 7)]
    assert [c.value for c in names] == ["'=1+1", "'+1", "'-x", "'@SUM(A1)", "safe"]
    assert all(c.data_type == "s" for c in names)
    assert sheet.cell(row=2, column=2).value == -3.5 and sheet.cell(row=2, column=2).data_type == "n"
    assert sheet.cell(row=2, column=3).value == -3.5
    assert sheet.cell(row=3, column=3).value == "'=2+2"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_a_status_table_downloads_with_every_row_and_its_rag_words(conn, config, plan):
    frame = status.status_frame(status.plan_status(conn, config, plan, plan.area))
    frame["rag_label"] = [status.RAG_SYMBOLS[r] + " " + status.RAG_WORDS[r] for r in frame["rag"]]
    back = pd.read_csv(io.BytesIO(export.table_csv(frame)), encoding="utf-8-sig")
    assert len(back) == len(plan.kpis)
    assert set(back["rag_label"]) <= {f"{status.RAG_SYMBOLS[r]} {status.RAG_WORDS[r]}" for r in status.RAG_WORDS}
    book = openpyxl.load_workbook(io.BytesIO(export.table_xlsx(frame)))
    assert book.active.max_row == 1 + len(plan.kpis)


# --- the Word board report -----------------------------------------------------------------------------

@pytest.mark.parametrize("partnership, area, period", [
    ("early-help", None, None),
    ("mental-health", "E07000237", "2024/25 Q2"),
])
def test_the_board_report_reopens_with_its_summary_table_and_a_picture_per_kpi_with_figures(
        conn, config, plan, tmp_path, partnership, area, period):
    out = export.board_report(conn, config, plan, partnership, tmp_path / "report.docx", period=period, area=area)
    statuses = status.plan_status(conn, config, plan, area or plan.area, period, partnership_id=partnership)
    report = docx.Document(str(out))
    table = report.tables[0]
    assert [c.text for c in table.rows[0].cells] == SUMMARY_HEADERS
    assert len(table.rows) == 1 + len(statuses)
    for row, s in zip(table.rows[1:], statuses):
        cells = [c.text for c in row.cells]
        assert cells[0].startswith(s.code)
        assert cells[5] == f"{status.RAG_SYMBOLS[s.rag]} {status.RAG_WORDS[s.rag]}"
        assert cells[6] == s.reason
    with_figures = sum(s.value is not None for s in statuses)
    xml = report.element.xml
    assert xml.count('descr="Line chart of') == with_figures
    assert xml.count('descr="SPC chart of') <= with_figures
    if partnership == "mental-health":
        assert with_figures < len(statuses)  # MH05 has no figure yet: in the table, without a chart
    text = "\n".join(p.text for p in report.paragraphs)
    partnership_name = plan.partnership(partnership).name
    assert report.paragraphs[0].text == f"{partnership_name}: performance report"
    for expected in (plan.name, config.area_name(area or plan.area), "Date produced", "Illustrative data",
                     "Definitions", "Source", "Licence" if any(s.licence for s in statuses) else "Source"):
        assert expected in text, expected
    assert (f"at or before {period}" in text) if period else ("latest figures available" in text)
    for s in statuses:
        assert plan.kpi(s.code).definition in text
        if s.flags:
            assert s.flags.replace(",", ", ") in text


def test_the_board_report_numbers_its_pages_with_word_fields_and_puts_spc_beside_the_trend(conn, config, plan,
                                                                                            tmp_path):
    out = export.board_report(conn, config, plan, "send", tmp_path / "send.docx")
    with zipfile.ZipFile(out) as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    assert " PAGE " in xml and " NUMPAGES " in xml and 'w:fldCharType="begin"' in xml
    assert 'descr="Line chart of SD01' in xml  # pictures carry alternative text
    assert 'descr="SPC chart of SD01' in xml
    report = docx.Document(str(out))
    footer = "\n".join(p.text for p in report.sections[0].footer.paragraphs)
    assert "Produced on " in footer and "Page " in footer and " of " in footer
    text = "\n".join(p.text for p in report.paragraphs)
    assert "figures to 2025/26 Q4" in text, "the quarter shown, not just 'latest'"


def test_the_report_command_writes_a_word_file(db_path, tmp_path):
    out = tmp_path / "early-help.docx"
    result = subprocess.run([sys.executable, "-m", "cypp_dash", "report", "--partnership", "early-help", "--out",
                             str(out)], cwd=ROOT, env={**os.environ, "CYPP_DB": str(db_path)}, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert docx.Document(str(out)).tables[0].rows[0].cells[0].text == "KPI"


def test_a_lone_dash_is_no_formula_and_stays_as_it_is():
    assert export.neutralise("-") == "-"
    assert export.neutralise("-1+1") == "'-1+1"
    assert export.neutralise("--") == "'--"
