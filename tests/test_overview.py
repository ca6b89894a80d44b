"""The Overview's one-screen table and its Needs attention order (cypp_dash.overview), and the freshness
words every heading and export uses (cypp_dash.freshness)."""
from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from page_text import html_text

from cypp_dash import freshness, overview, stats
from cypp_dash.status import KpiStatus
from cypp_dash.web import components


def row(code="K01", rag="green", direction="", polarity="higher", compared="similar", trend="", spc="",
        value=50.0, period="2025/26 Q4", flags="") -> KpiStatus:
    return KpiStatus(code=code, kpi=f"Measure {code}", partnership="P", partnership_id="p", area="A",
                     area_name="Area", period=period, value=value, unit="percent", england=48.0,
                     england_period="2021/22", target="To be above England", rag=rag, reason="r",
                     compared_with_england=compared, trend=trend, spc_variation=spc, direction=direction,
                     polarity=polarity, flags=flags)


@pytest.mark.parametrize("direction, polarity, change", [
    ("up", "higher", "better"), ("down", "higher", "worse"), ("up", "lower", "worse"), ("down", "lower", "better"),
    ("same", "lower", "no change"), ("up", "none", "up"), ("", "higher", ""),
])
def test_change_since_the_previous_figure_is_judged_by_the_kpis_polarity(direction, polarity, change):
    assert overview.change_since_previous(row(direction=direction, polarity=polarity)) == change


def test_a_falling_obesity_figure_reads_down_and_better_not_a_neutral_arrow():
    assert overview.change_text(row(direction="down", polarity="lower")) == "↓ Better"
    assert overview.change_text(row(direction="up", polarity="lower")) == "↑ Worse"


def test_needs_attention_puts_off_track_then_red_red_then_special_cause_of_concern_and_leaves_out_the_rest():
    fine = row("K01", rag="green", direction="up")
    concern = row("K02", rag="amber", spc="special cause concerning")
    red_red = row("K03", rag="amber", compared="worse", trend="increasing, getting worse")
    off = row("K04", rag="red")
    off_and_more = row("K05", rag="red", compared="worse", direction="down", spc="special cause concerning")
    worse_but_improving = row("K06", rag="amber", compared="worse", trend="decreasing, getting better",
                              direction="up")
    ordered = overview.needs_attention([fine, concern, red_red, off, off_and_more, worse_but_improving])
    assert [s.code for s in ordered] == ["K05", "K04", "K03", "K02"]
    assert overview.attention_reasons(off_and_more) == list(overview.ATTENTION_REASONS)


def test_the_table_links_each_kpi_to_its_detail_and_says_rag_in_word_and_symbol():
    rows = overview.rows_for([row("K01", rag="red", direction="down"), row("K02", period="2025/26 Q2")],
                             {"K01": [40.0, 45.0, 44.0]})
    body = components.overview_table_html(rows, lambda s: f"partnership?kpi={s.code}", "Caption")
    assert 'href="partnership?kpi=K01"' in body and 'href="partnership?kpi=K02"' in body
    table = all_tables_from(body)
    assert list(table.columns) == [c.header for c in overview.OVERVIEW_COLUMNS]
    assert table.loc[0, "RAG"] == "✖ Off track"
    assert table.loc[0, "England"] == "48.0% (2021/22)"
    assert "2 quarters missing" in table.loc[1, "Latest"] and "missing" not in table.loc[0, "Latest"]
    assert "Trend of 3 figures, from 40.0% to 50.0%" in body  # the sparkline's words for a screen reader


def test_a_new_column_is_one_more_entry_in_the_column_list():
    columns = [*overview.OVERVIEW_COLUMNS, overview.Column("Neighbours", lambda r: "51.0%")]
    body = components.overview_table_html(overview.rows_for([row()], {}), lambda s: "#", "Caption", columns)
    assert all_tables_from(body).loc[0, "Neighbours"] == "51.0%"


def test_flags_are_said_once_per_table():
    text = overview.flags_once([row("K01", flags="illustrative,provisional"), row("K02", flags="illustrative")])
    assert text == "Flags: illustrative (every figure); provisional (K01)"


def all_tables_from(body: str) -> pd.DataFrame:
    """The table as a browser shows it (cells as text)."""
    return pd.read_html(io.StringIO(body), keep_default_na=False, na_values=[], flavor="lxml")[0].astype(str)


def test_freshness_words():
    assert freshness.figures_to(["2024/25 Q3", "2025/26 Q4", None, "2021/22"]) == "figures to 2025/26 Q4"
    assert freshness.figures_to(["2025/26 Q4"], "2024/25 Q2") == "figures to 2024/25 Q2"
    assert freshness.figures_to([None]) == "no figures yet"
    assert freshness.lag_text("2025/26 Q1", "2025/26 Q4") == "3 quarters missing"
    assert freshness.lag_text("2024/25 Q4", "2025/26 Q1") == "1 quarter missing"
    assert freshness.lag_text("2021/22", "2025/26 Q4") == ""  # an annual figure is not counted in quarters
    assert freshness.plan_ended("2024-12-31", date(2025, 1, 1)) == date(2024, 12, 31)
    assert freshness.plan_ended("2024-12-31", date(2024, 12, 31)) is None
    assert "ended on 31 December 2024" in freshness.ended_text("The plan", "2024-12-31", date(2026, 1, 1))
    line = freshness.produced_line("figures to 2025/26 Q4", date(2025, 6, 30), today=date(2026, 12, 2))
    assert line.startswith("Produced on 2 December 2026 · figures to 2025/26 Q4")
    assert "as they stood at the end of 30 June 2025" in line


def test_html_text_helper_reads_the_table():  # guards the helper above against a silent empty read
    assert "Caption" in html_text(components.overview_table_html(overview.rows_for([row()], {}), lambda s: "#", "Caption"))


def test_the_spc_column_names_every_assurance_verdict_the_statistics_give():
    for verdict in stats.ASSURANCE_ICONS:
        assert overview.spc_text(row(spc="common cause").__class__(**{**row(spc="common cause").__dict__,
                                                                     "spc_assurance": verdict})) != "● Common cause"
