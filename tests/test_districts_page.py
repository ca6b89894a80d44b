"""The Districts page under AppTest: the six districts beside the county and England."""
from __future__ import annotations

from page_text import all_tables, texts


def test_district_page_puts_the_six_districts_beside_the_county_and_england(app_page):
    at = app_page("districts.py", query={"kpi": "EH01"})
    assert not at.exception
    table = all_tables(at)[0]
    areas = set(table["Area"])
    assert {"Worcestershire", "England", "Bromsgrove", "Malvern Hills", "Redditch", "Worcester", "Wychavon",
            "Wyre Forest"} <= areas
    assert "Illustrative data" in texts(at)
