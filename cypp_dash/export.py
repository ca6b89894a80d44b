"""Exports for board papers: chart pictures (PNG, SVG), safe tables (CSV, XLSX) and the Word report.

The front door for every export (export.<name>): the pictures are drawn in export_pictures.py and the Word
report is written by export_word.py; the tables and the one formula neutraliser are here."""
from __future__ import annotations

import io
import numbers

import pandas as pd

from cypp_dash.export_pictures import SYMBOL_FONT, chart_png, chart_svg
from cypp_dash.export_word import board_report, board_report_bytes, report_document, summary_rows

__all__ = [  # every name the pages, the command line and the tests reach as export.<name>
    "CSV_MIME", "DOCX_MIME", "FORMULA_STARTS", "SYMBOL_FONT", "XLSX_MIME", "board_report", "board_report_bytes",
    "chart_png", "chart_svg", "neutralise", "report_document", "safe_frame", "summary_rows", "table_csv",
    "table_xlsx", "workbook_xlsx",
]

# Spreadsheet programs run a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


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
