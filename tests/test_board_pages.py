"""What issue 17 asks of the pages, under AppTest: the Overview as one table with a Needs attention view,
deep links that keep their promise (a KPI opens its own partnership; an unknown value gets a notice naming
it and the rest of the link applies), and freshness words in headings."""
from __future__ import annotations

import pandas as pd
from page_text import all_tables, texts

from cypp_dash import overview, status


def _warnings(at) -> str:
    return "\n".join(str(w.value) for w in at.warning).replace("\\", "")  # Markdown escapes read as shown


def test_a_link_to_a_kpi_in_another_partnership_opens_the_partnership_that_holds_it(app_page):
    at = app_page("partnership.py", query={"kpi": "MH03", "area": "E07000238"})
    assert not at.exception
    assert at.title[0].value == "Emotional Wellbeing and Mental Health"
    assert at.subheader[0].value.startswith("MH03 ")
    assert at.query_params["partnership"] in (["mental-health"], "mental-health")
    assert at.query_params["kpi"] in (["MH03"], "MH03")
    assert "Wychavon" in texts(at), "the rest of the link (the area) still applies"


def test_a_link_naming_a_kpi_this_plan_does_not_hold_says_so_and_keeps_the_rest(app_page):
    at = app_page("partnership.py", query={"kpi": "ZZ99", "area": "E07000238", "partnership": "send"})
    assert not at.exception
    notice = _warnings(at)
    assert "KPI" in notice and "ZZ99" in notice and "not found" in notice
    assert at.title[0].value == "All Age Disability 0-25 (SEND)"
    assert "Wychavon" in texts(at)


def test_a_link_naming_an_unknown_plan_or_period_says_so_and_keeps_the_area(app_page):
    at = app_page("overview.py", query={"plan": "nowhere-2030", "period": "1999/00 Q1", "area": "E07000236"})
    assert not at.exception
    notice = _warnings(at)
    assert "nowhere-2030" in notice and "1999/00 Q1" in notice and "plan" in notice and "period" in notice
    assert "Redditch" in texts(at)


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


def test_a_plan_past_its_end_date_says_so_on_every_page(app_page):
    for page in ("overview.py", "partnership.py", "districts.py"):
        assert "ended on 31 December 2024" in texts(app_page(page)), page


def test_paper_view_says_when_it_was_produced_and_what_period_it_shows(app_page):
    at = app_page("overview.py", query={"view": "paper", "as_at": "2025-06-30"})
    body = texts(at)
    assert "Produced on " in body and "as they stood at the end of 30 June 2025" in body


def test_a_plan_whose_measures_cannot_be_rated_says_why_in_plain_words(app_page):
    at = app_page("overview.py", query={"plan": "herefordshire-2019-23"})
    body = texts(at)
    assert "None of the 9 measures can be rated: for 8 the plan sets no target; for 1 there is no published " \
           "indicator" in body


def test_pages_with_nothing_to_show_say_so_to_a_board_member_not_a_developer(app_page):
    for page, words in (("voice.py", "No consultation with children and young people is recorded"),
                        ("actions.py", "No actions are recorded for this plan yet")):
        body = texts(app_page(page))
        assert words in body, page
        assert "YAML" not in body and "python -m" not in body and "`" not in body, page


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
