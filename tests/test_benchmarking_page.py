"""The Benchmarking page under AppTest: the plan's KPIs with published measures first, every measure by
topic, one measure against its neighbours; any English upper-tier plan area with no extra configuration."""
from __future__ import annotations

from tests.page_text import chart_pictures, texts


def test_worcestershire_page_shows_the_mapped_kpis_with_rank_band_and_neighbours(app_page):
    at = app_page("benchmarking.py", timeout=180)
    assert not at.exception
    text = texts(at)
    assert "MH03 Health assessments for children looked after" in text
    assert "148 of 151" in text and "90.5" in text
    assert "related only (not rated)" in text  # SG01 and PrevRegCPR
    assert "Statistical neighbours of Worcestershire" in text and "Somerset" in text
    assert [s.label for s in at.selectbox][:2] == ["Measure", "Topic"]
    assert at.selectbox(key="w_bench_measure").value == "lait:%_2yr_olds"  # the first plan KPI with a published measure (EH05)
    assert len(chart_pictures(at)) == 2
    labels = [b.label for b in at.get("download_button")]
    assert {"Table as CSV", "Table as Excel", "Chart as PNG", "Series as CSV"} <= set(labels)


def _topic_table(at) -> str:
    from tests.page_text import html_text

    return next(html_text(e.value) for e in at.get("html") if "measures, latest year each" in e.value)


def test_filtering_by_topic_keeps_only_that_topics_measures(app_page):
    at = app_page("benchmarking.py", timeout=180)
    at.selectbox(key="w_bench_topic").select("Children Looked After").run()
    assert not at.exception
    table = _topic_table(at)
    assert "Percentage of CLA having Health Checks" in table and "Infant Mortality" not in table
    at.selectbox(key="w_bench_topic").select("Health and Wellbeing").run()
    table = _topic_table(at)
    assert "Infant Mortality" in table and "Percentage of CLA having Health Checks" not in table


def test_a_plan_on_another_authority_needs_no_extra_configuration(app_page):
    at = app_page("benchmarking.py", query={"plan": "herefordshire-2019-23"}, timeout=180)
    assert not at.exception
    text = texts(at)
    assert "Statistical neighbours of Herefordshire" in text
    assert "No KPI of this plan is mapped" in text
    assert "Rank 148 of 149, quartile band D" in text  # the first measure by name, HE entry at 19 (FSM)
    assert len(chart_pictures(at)) == 2


def test_partnership_page_shows_published_rank_band_and_neighbour_average(app_page):
    at = app_page("partnership.py", query={"partnership": "mental-health"}, timeout=180)
    assert not at.exception
    text = texts(at)
    assert "Published figures against England, region and statistical neighbours" in text
    assert "148 of 151" in text and "Neighbour average" in text


def test_overview_shows_real_published_figures_for_the_mapped_kpis_with_source_and_year(app_page):
    at = app_page("overview.py", timeout=180)
    assert not at.exception
    text = texts(at)
    assert "Published figures against England, region and statistical neighbours" in text
    assert "MH03" in text and "148 of 151" in text and "2025" in text
    assert "Local Authority Interactive Tool" in text and "not illustrative" in text
