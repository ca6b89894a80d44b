"""The districts-by-KPI matrix (cypp_dash.districts): each district against the county by its 95% interval,
as Fingertips compares a sub-area with its parent; and the Districts page that shows it."""
from __future__ import annotations

import pandas as pd
import pytest
from page_text import all_tables

from cypp_dash import districts, stats, store
from cypp_dash.config import Figure, Kpi, Target


def kpi(polarity="higher", unit="percent") -> Kpi:
    return Kpi(code="T01", name="Test", definition="d", unit=unit, polarity=polarity,
               baseline=Figure(None, None, ""), england=Figure(None, None, ""), target=Target("t", ()),
               source="s", partnership_id="p")


@pytest.mark.parametrize("numerator, denominator, county, polarity, expected", [
    (80, 100, 60.0, "higher", "better"),   # Wilson interval about 71% to 87%: wholly above 60
    (80, 100, 60.0, "lower", "worse"),
    (80, 100, 78.0, "higher", "similar"),
    (40, 100, 60.0, "higher", "worse"),
    (80, 100, 60.0, "none", "not compared"),
])
def test_a_district_is_compared_with_the_county_by_its_95_percent_interval(numerator, denominator, county,
                                                                          polarity, expected):
    row = pd.Series({"value": 100 * numerator / denominator, "numerator": numerator, "denominator": denominator})
    assert districts.compare_with_county(kpi(polarity), row, county) == expected
    ci = stats.interval_for("percent", row["value"], numerator, denominator)
    assert expected == stats.compare_with_england(row["value"], ci.low, ci.high, county, polarity) or \
        polarity == "none"


def test_counts_and_missing_figures_are_not_compared():
    row = pd.Series({"value": 50.0, "numerator": None, "denominator": None})
    assert districts.compare_with_county(kpi(unit="count"), row, 400.0) == "not compared"
    assert districts.compare_with_county(kpi(), None, 60.0) == "not compared"
    assert districts.compare_with_county(kpi(), row, None) == "not compared"


def test_the_matrix_has_a_row_per_kpi_and_a_cell_per_district_for_the_countys_latest_period(conn, config):
    plan = config.plan()
    cells = districts.matrix(conn, config, plan)
    assert [row[0].kpi for row in cells] == [k.code for k in plan.kpis]
    assert all([c.area for c in row] == list(plan.districts) for row in cells)
    rows = store.series(conn, [plan.kpi("EH01").indicator_id], [plan.area])
    latest = rows[rows["value"].notna()].iloc[-1]["period"]
    assert {c.period for c in cells[0]} <= {latest, None}
    assert {c.comparison for row in cells for c in row} <= set(districts.COMPARISON_WORDS)


def test_the_districts_page_shows_the_matrix_and_the_chosen_district_in_its_title(app_page, config):
    at = app_page("districts.py", query={"area": "E07000238", "kpi": "EH03"})
    assert not at.exception
    assert at.title[0].value == "Districts compared: Wychavon"
    matrix = next(t for t in all_tables(at) if "Wychavon (chosen)" in t.columns)
    assert len(matrix) == len(config.plan().kpis)
    assert matrix.iloc[:, 1:].apply(lambda col: col.str.match(r"^(▲ Better|● Similar|▼ Worse|– Not compared)")).all().all()
