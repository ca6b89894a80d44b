"""Download buttons next to every chart and table, and the Word board report: each file is made only when
its button is pressed, and pressing one does not rerun the page."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from cypp_dash import export, store
from cypp_dash.web.frame import View
from cypp_dash.web.resources import _connection


def _file_stem(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-").lower() or "download"


def downloads_for_chart(chart_or_build: Any, name: str, *args: Any, **kwargs: Any) -> None:
    """PNG (2x) and SVG buttons for a chart: an Altair chart, or a cypp_dash.charts function and its
    arguments (then the chart is built only if someone asks for the file). No rerun on download."""

    def chart():
        return chart_or_build(*args, **kwargs) if callable(chart_or_build) and not hasattr(
            chart_or_build, "to_dict") else chart_or_build

    stem = _file_stem(name)
    with st.container(horizontal=True, gap="small", key=f"downloads-chart-{stem}"):
        st.download_button("Chart as PNG", data=lambda: export.chart_png(chart()), file_name=f"{stem}.png",
                           mime="image/png", on_click="ignore", key=f"png-{stem}",
                           help="A picture at twice screen size, for reports and slides")
        st.download_button("Chart as SVG", data=lambda: export.chart_svg(chart()), file_name=f"{stem}.svg",
                           mime="image/svg+xml", on_click="ignore", key=f"svg-{stem}",
                           help="A picture that stays sharp at any size")


def downloads_for_table(df: pd.DataFrame, name: str, what: str = "Table") -> None:
    """CSV and Excel buttons for a table ("<what> as CSV"); text a spreadsheet could run as a formula is made safe."""
    stem = _file_stem(name)
    with st.container(horizontal=True, gap="small", key=f"downloads-table-{stem}"):
        st.download_button(f"{what} as CSV", data=lambda: export.table_csv(df), file_name=f"{stem}.csv",
                           mime=export.CSV_MIME, on_click="ignore", key=f"csv-{stem}")
        st.download_button(f"{what} as Excel", data=lambda: export.table_xlsx(df), file_name=f"{stem}.xlsx",
                           mime=export.XLSX_MIME, on_click="ignore",
                           key=f"xlsx-{stem}")


def download_report(view: View, partnership_id: str) -> None:
    """The Word board report for a partnership, as the page shows it (plan, area, period, as-at date): a board
    paper with the summary table, a chart per KPI, flags, definitions, source and licence."""
    base = _connection(str(store.db_path()))  # the process connection; the file is made on another thread
    cfg, plan, area, period, as_at = view.config, view.plan, view.area, view.period, view.as_at
    stem = _file_stem(f"{partnership_id}-{area}-{period or 'latest'}-board-report")

    def report() -> bytes:
        cursor = base.cursor()
        try:
            return export.board_report_bytes(cursor, cfg, plan, partnership_id, period, area=area, as_at=as_at)
        finally:
            cursor.close()

    st.download_button("Download Word report", data=report, file_name=f"{stem}.docx", mime=export.DOCX_MIME,
                       on_click="ignore", key=f"docx-{stem}", type="primary")
