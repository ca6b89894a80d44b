"""A partnership's page under AppTest: its summary table and one KPI in detail on screen (every KPI
on paper), and deep links to a KPI that keep their promise."""
from __future__ import annotations

import pytest
from page_text import all_tables, chart_pictures, texts


def _warnings(at) -> str:
    return "\n".join(str(w.value) for w in at.warning).replace("\\", "")  # Markdown escapes read as shown


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


def test_a_link_to_a_kpi_in_another_partnership_opens_the_partnership_that_holds_it(app_page):
    at = app_page("partnership.py", query={"kpi": "MH03", "area": "E07000238"})
    assert not at.exception
    assert at.title[0].value == "Emotional Wellbeing and Mental Health"
    assert at.subheader[0].value.startswith("MH03 ")
    assert at.query_params["partnership"] == "mental-health"
    assert at.query_params["kpi"] == "MH03"
    assert "Wychavon" in texts(at), "the rest of the link (the area) still applies"


def test_a_link_naming_a_kpi_this_plan_does_not_hold_says_so_and_keeps_the_rest(app_page):
    at = app_page("partnership.py", query={"kpi": "ZZ99", "area": "E07000238", "partnership": "send"})
    assert not at.exception
    notice = _warnings(at)
    assert "KPI" in notice and "ZZ99" in notice and "not found" in notice
    assert at.title[0].value == "All Age Disability 0-25 (SEND)"
    assert "Wychavon" in texts(at)


def test_a_choice_the_address_names_stays_in_it_even_at_its_default(app_page):
    at = app_page("partnership.py", query={"partnership": "early-help", "area": "E10000034"})
    assert not at.exception
    assert at.query_params["partnership"] == "early-help"
    assert at.query_params["area"] == "E10000034"
