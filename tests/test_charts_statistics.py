"""The statistical charts say what the methods did: SPC change points drawn and explained, funnel markers with
one meaning on every chart, no funnel for plain counts."""
from __future__ import annotations

import dataclasses
import json

from cypp_dash import charts, stats, status
from cypp_dash.config import SpcRebase
from cypp_dash.status import KpiStatus


def row(area, name, value, num, den, unit="percent", parent="similar"):
    return KpiStatus(code="T01", kpi="Test", partnership="P", partnership_id="p", area=area, area_name=name,
                     period="2024/25", value=value, unit=unit, england=None, england_period=None, target="",
                     rag="amber", reason="", numerator=num, denominator=den, compared_with_parent=parent)


def spec(chart) -> str:
    return json.dumps(chart.to_dict())


def test_the_spc_chart_draws_and_explains_a_change_point(config):
    kpi = dataclasses.replace(config.plan().kpi("SD01"), spc_rebase=(SpcRebase("2019/20 Q3", "new system"),))
    periods = [f"{2016 + i // 4}/{(17 + i // 4) % 100:02d} Q{i % 4 + 1}" for i in range(26)]
    result = stats.xmr([10.0, 12.0] * 7 + [20.0, 22.0] * 6, "higher", periods=periods, rebase=[14],
                       rebase_reasons=["new system"])
    st_row = row("E10000034", "Worcestershire", 22.0, None, None)
    text = spec(charts.spc_chart(kpi, periods, result, st_row, "latest"))
    assert "Limits recalculated from 2019/20 Q3: new system" in text
    assert "Change point: limits recalculated from 2019/20 Q3" in text


def test_funnel_markers_keep_one_meaning_and_there_is_no_funnel_for_counts(config):
    plan = config.plan()
    rows = [row("E10000034", "Worcestershire", 61.0, 610, 1000, parent=""),
            row("E07000234", "Bromsgrove", 75.0, 30, 40), row("E07000235", "Malvern Hills", 16.0, 8, 50)]
    kpi = plan.kpi("EH01")
    centre = status.funnel_centre(rows, plan.area)
    assert centre == (61.0, "Worcestershire")
    text = spec(charts.funnel_chart(kpi, rows, *centre, "latest"))
    for words, shape in charts.FUNNEL_MARKERS.values():
        assert words in text and shape in text
    assert "Wilson score limits" in text
    assert '"Worcestershire 61.0%"' not in text  # the centre is a line, not a point
    count_kpi = plan.kpi("MH01")
    assert charts.funnel_chart(count_kpi, [row("E07000234", "Bromsgrove", 30, 30, 40, unit="count")], 20.0,
                               "Worcestershire", "latest") is None


def test_funnel_meaning_follows_polarity():
    assert charts._funnel_meaning("above 95% limit", "higher") == "Better"
    assert charts._funnel_meaning("above 95% limit", "lower") == "Worse"
    assert charts._funnel_meaning("within 95% limits", "lower") == "Similar"
    assert charts._funnel_meaning("below 99.8% limit", "none") == "No better direction"
