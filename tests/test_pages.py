"""Each screen under AppTest: it opens without an exception, for the county and for a district,
and shows what a board member needs (titles, RAG words, the illustrative label)."""
from __future__ import annotations

import pytest
from page_text import all_tables, chart_pictures, texts

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


@pytest.mark.parametrize("area", ["E10000034", "E07000238"])
@pytest.mark.parametrize("partnership, title, code", [
    ("early-help", "Early Help", "EH01"),
    ("mental-health", "Emotional Wellbeing and Mental Health", "MH03"),
    ("send", "All Age Disability 0-25 (SEND)", "SD01"),
    ("safeguarding", "Safeguarding Children", "SG02"),
])
def test_partnership_page_shows_its_table_and_the_linked_kpi_in_detail(app_page, config, area, partnership, title,
                                                                        code):
    at = app_page("partnership.py", query={"partnership": partnership, "area": area, "kpi": code})
    assert not at.exception
    assert at.title[0].value == title
    body = texts(at)
    assert "Illustrative data" in body
    assert [s.value for s in at.subheader] == [at.selectbox(key="w_kpi").format_func(code)]
    assert code in at.subheader[0].value
    summary = all_tables(at)[0]
    assert list(summary["Code"]) == [s.code for s in config.plan().partnership(partnership).kpis]
    assert summary["RAG"].str.contains("On track|Some concern|Off track|Not rated").all()
    assert at.query_params["kpi"] == code
    if partnership == "safeguarding" and area == "E10000034":
        assert "unit mismatch" in body


def test_partnership_page_shows_one_kpi_at_a_time_on_screen_and_every_kpi_on_paper(app_page):
    at = app_page("partnership.py", query={"partnership": "early-help"})
    codes = at.selectbox(key="w_kpi").options
    assert len(codes) > 1 and len(at.subheader) == 1 and codes[0] in at.subheader[0].value
    assert len(chart_pictures(at)) == 2, "one KPI's two charts: trend and SPC"
    at.selectbox(key="w_kpi").set_value(at.selectbox(key="w_kpi").options[1]).run()
    assert not at.exception and len(at.subheader) == 1 and at.subheader[0].value.startswith(
        at.selectbox(key="w_kpi").value[:4])
    paper = app_page("partnership.py", query={"partnership": "early-help", "view": "paper"})
    assert len(paper.subheader) == len(codes)
    assert len(chart_pictures(paper)) > len(codes)


def test_district_page_puts_the_six_districts_beside_the_county_and_england(app_page):
    at = app_page("districts.py", query={"kpi": "EH01"})
    assert not at.exception
    table = all_tables(at)[0]
    areas = set(table["Area"])
    assert {"Worcestershire", "England", "Bromsgrove", "Malvern Hills", "Redditch", "Worcester", "Wychavon",
            "Wyre Forest"} <= areas
    assert "Illustrative data" in texts(at)


def test_about_the_data_defines_every_kpi_and_explains_rag(app_page, config):
    at = app_page("about_data.py")
    assert not at.exception
    assert "How RAG is decided" in texts(at)
    assert "How RAG is decided" in [h.value for h in at.header]
    body = texts(at)
    for kpi in config.plan().kpis:
        assert f"{kpi.code} {kpi.name}" in body and kpi.definition in body
    assert len(config.plan().kpis) == 17


def test_a_view_at_its_defaults_adds_nothing_to_the_address_and_a_choice_then_does(app_page):
    """Every change to the address is an entry in the browser's history: a visit through the menu at the
    default view must leave one entry, so Back leaves the page at one press."""
    at = app_page("overview.py")
    assert not at.exception
    assert dict(at.query_params) == {}
    at.sidebar.selectbox(key="w_area").select("E07000236").run()
    assert at.query_params["area"] == "E07000236"


def test_a_choice_the_address_names_stays_in_it_even_at_its_default(app_page):
    at = app_page("partnership.py", query={"partnership": "early-help", "area": "E10000034"})
    assert not at.exception
    assert at.query_params["partnership"] == "early-help"
    assert at.query_params["area"] == "E10000034"


def test_the_sidebar_choices_are_kept_in_the_url(app_page):
    at = app_page("overview.py", query={"area": "E07000236", "period": "2024/25 Q2"})
    assert at.query_params["area"] == "E07000236"
    assert at.sidebar.selectbox(key="w_area").value == "E07000236"
    assert at.sidebar.selectbox(key="w_period").value == "2024/25 Q2"
    assert "2024/25 Q2" in texts(at)


def test_changing_the_area_redraws_the_page_for_that_district(app_page):
    at = app_page("overview.py")
    at.sidebar.selectbox(key="w_area").set_value("E07000239").run()
    assert not at.exception
    assert "Wyre Forest ·" in texts(at)
