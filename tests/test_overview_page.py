"""The Overview under AppTest: every partnership with RAG in words, one table per partnership whose
rows open each KPI's detail, the Needs attention view, paper view's produced line, and a plan that
cannot be rated saying why."""
from __future__ import annotations

import pandas as pd
import pytest
from page_text import all_tables, texts

from cypp_dash import overview, status

RAG_WORDS = ("On track", "Some concern", "Off track", "Not rated")


@pytest.mark.parametrize("area", ["E10000034", "E07000237"])
def test_overview_shows_every_partnership_with_rag_words_and_the_illustrative_label(app_page, area):
    at = app_page("overview.py", query={"area": area})
    assert not at.exception
    body = texts(at)
    assert at.title[0].value == "Worcestershire Children and Young People's Plan 2022-24"
    for name in ("Early Help", "Emotional Wellbeing and Mental Health", "All Age Disability 0-25 (SEND)",
                 "Safeguarding Children"):
        assert name in [h.value for h in at.header]
    assert all(word in body for word in RAG_WORDS)
    assert "Illustrative data" in body
    assert ("Worcester ·" in body) == (area == "E07000237")


def test_the_overview_is_one_table_per_partnership_whose_rows_open_each_kpis_detail(app_page, config):
    at = app_page("overview.py")
    assert not at.exception
    headers = [c.header for c in overview.OVERVIEW_COLUMNS]
    tables = [t for t in all_tables(at) if list(t.columns) == headers]  # (the benchmarks panel has its own)
    assert len(tables) == len(config.plan().partnerships)
    table = pd.concat(tables)
    assert list(table.columns) == [c.header for c in overview.OVERVIEW_COLUMNS]
    assert [k.split(" ")[0] for k in table["KPI"]] == [k.code for k in config.plan().kpis]
    body = "".join(e.value for e in at.get("html"))
    for kpi in config.plan().kpis:
        assert f'href="partnership?kpi={kpi.code}"' in body
    obesity = table[table["KPI"].str.startswith("EH03")].iloc[0]
    assert obesity["Since previous"] in ("↓ Better", "↑ Worse", "→ No change"), "judged by polarity, lower is better"
    assert "(2020/21)" in obesity["England"], "England's figure with its period"
    assert "figures to 2025/26 Q4" in at.caption[0].value


def test_needs_attention_lists_the_flagged_kpis_most_pressing_first(app_page, config, conn):
    at = app_page("overview.py", query={"show": "attention"})
    assert not at.exception
    plan = config.plan()
    statuses = status.plan_status(conn, config, plan, plan.area)
    expected = overview.needs_attention(statuses)
    tables = [t for t in all_tables(at) if "Why" in t.columns]
    if not expected:  # nothing flagged: said in words, with no table
        assert not tables and "No KPI is off track" in texts(at)
        assert not [s for s in statuses if s.rag == "red"]
        return
    table = tables[0]
    assert [k.split(" ")[0] for k in table["KPI"]] == [s.code for s in expected]
    assert table["Why"].str.len().gt(0).all()
    assert table.iloc[0]["RAG"] == "✖ Off track" or "Off track" not in set(table["RAG"])


def test_paper_view_says_when_it_was_produced_and_what_period_it_shows(app_page):
    at = app_page("overview.py", query={"view": "paper", "as_at": "2025-06-30"})
    body = texts(at)
    assert "Produced on " in body and "as they stood at the end of 30 June 2025" in body


def test_a_plan_whose_measures_cannot_be_rated_says_why_in_plain_words(app_page):
    at = app_page("overview.py", query={"plan": "herefordshire-2019-23"})
    body = texts(at)
    assert "None of the 9 measures can be rated: for 8 the plan sets no target; for 1 there is no published " \
           "indicator" in body


def _stop_early(conn, kpi: str, area: str, quarters: list[str]) -> None:
    """The store as after a quarterly upload that left one KPI out: its figures for `quarters` withdrawn."""
    from cypp_dash import store

    with store.write_transaction(conn) as cur:
        cur.execute("UPDATE observations SET superseded_at = now() WHERE indicator_id = ? AND area_code = ? "
                    "AND period IN (SELECT unnest(?))", [kpi, area, quarters])
        store.refresh_held_periods(cur)


def test_a_kpi_whose_figures_lag_says_how_many_quarters_are_missing(app_page, config, conn):
    plan = config.plan()
    _stop_early(conn, "EH02", plan.area, ["2025/26 Q3", "2025/26 Q4"])  # the others run to 2025/26 Q4

    at = app_page("overview.py")
    assert not at.exception
    table = pd.concat(t for t in all_tables(at) if "Latest" in t.columns and "KPI" in t.columns)
    latest = dict(zip((k.split(" ")[0] for k in table["KPI"]), table["Latest"], strict=True))
    assert "2025/26 Q2" in latest["EH02"] and "2 quarters missing" in latest["EH02"]
    assert "missing" not in latest["EH01"], "a KPI that is up to date says nothing of missing quarters"

    at = app_page("partnership.py", query={"partnership": "early-help", "kpi": "EH02"})
    assert not at.exception
    assert "This KPI's figures stop at 2025/26 Q2: 2 quarters missing since." in texts(at)
    at = app_page("partnership.py", query={"partnership": "early-help", "kpi": "EH01"})
    assert "quarters missing" not in texts(at) and "quarter missing" not in texts(at)
