"""RAG rules: each target type, with and without confidence intervals, and every reason it
cannot rate (no figure, no comparator, comparator in other units, no direction)."""
from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from cypp_dash import stats
from cypp_dash.config import Figure, Kpi, Settings, Target, TargetRule
from cypp_dash.status import Evidence, kpi_status, rag_for

SETTINGS = Settings()


def make_kpi(rules, polarity="higher", unit="percent", baseline=50.0, england=60.0, england_unit=None) -> Kpi:
    return Kpi(code="T01", name="Test measure", definition="d", unit=unit, polarity=polarity,
               baseline=Figure(baseline, "2021/22", f"Base {baseline}"),
               england=Figure(england, "2021/22", f"England {england}", england_unit or unit),
               target=Target("target words", tuple(TargetRule(*r) if isinstance(r, tuple) else TargetRule(r)
                                                   for r in rules)),
               source="test", partnership_id="p")


def evidence(kpi, value, ci=None, trend=None, england="kpi", baseline="kpi") -> Evidence:
    return Evidence(kpi=kpi, area_name="Testshire", value=value, period="2024/25 Q1",
                    ci=stats.Interval(*ci, 0.95) if ci else None,
                    england=kpi.england.value if england == "kpi" else england, england_period="2021/22",
                    england_unit=kpi.england.unit, baseline=kpi.baseline.value if baseline == "kpi" else baseline,
                    baseline_period="2021/22", baseline_label="2021/22 baseline", trend=trend, settings=SETTINGS)


ABOVE = make_kpi(["above_england"])
ABOVE_LOWER = make_kpi(["above_england"], polarity="lower")
IN_LINE = make_kpi(["in_line_with_england"])
BASELINE = make_kpi(["improving_vs_baseline"])
BASELINE_LOWER = make_kpi(["improving_vs_baseline"], polarity="lower")
TARGET = make_kpi([("improving_vs_target", 100.0)], unit="count", baseline=50.0, england=None)
ABSOLUTE = make_kpi([("absolute", 100.0)])

CASES = [
    # kpi, value, ci, expected rag, words in the reason
    (ABOVE, 70.0, (66.0, 74.0), "green", "significantly better than England"),
    (ABOVE, 62.0, (55.0, 69.0), "amber", "not significantly different from England"),
    (ABOVE, 50.0, (45.0, 55.0), "red", "significantly worse than England"),
    (ABOVE, 65.0, None, "green", "no confidence interval"),
    (ABOVE, 61.0, None, "amber", "no confidence interval"),
    (ABOVE, 55.0, None, "red", "no confidence interval"),
    (ABOVE_LOWER, 50.0, (45.0, 55.0), "green", "significantly better than England"),
    (ABOVE_LOWER, 70.0, (66.0, 74.0), "red", "significantly worse than England"),
    (IN_LINE, 61.0, (55.0, 67.0), "green", "in line with England"),
    (IN_LINE, 57.0, (56.0, 58.0), "amber", "significantly worse than England"),
    (IN_LINE, 40.0, (38.0, 42.0), "red", "significantly worse than England"),
    (IN_LINE, 59.0, None, "green", "in line with England"),
    (IN_LINE, 57.0, None, "amber", "outside the 2-point tolerance"),
    (IN_LINE, 50.0, None, "red", "well short of England"),
    (BASELINE, 55.0, None, "green", "an improvement on the 2021/22 baseline"),
    (BASELINE, 50.5, None, "amber", "little changed from the 2021/22 baseline"),
    (BASELINE, 45.0, None, "red", "worse than the 2021/22 baseline"),
    (BASELINE_LOWER, 45.0, None, "green", "an improvement on"),
    (BASELINE_LOWER, 55.0, None, "red", "worse than"),
    (TARGET, 100.0, None, "green", "meeting the target of 100"),
    (TARGET, 80.0, None, "amber", "short of the target of 100"),
    (TARGET, 50.0, None, "red", "not improving"),
    (ABSOLUTE, 100.0, None, "green", "meeting the target of 100.0%"),
    (ABSOLUTE, 94.0, None, "amber", "close to the target"),
    (ABSOLUTE, 80.0, None, "red", "well short of the target"),
]


@pytest.mark.parametrize("kpi, value, ci, rag, words", CASES)
def test_each_target_type_rates_and_says_why(kpi, value, ci, rag, words):
    got, reason = rag_for(evidence(kpi, value, ci))
    assert got == rag, reason
    assert words in reason


def test_the_tie_at_the_tolerance_is_amber_not_green():
    # Exactly the tolerance above England is not "more than" it.
    assert rag_for(evidence(ABOVE, 62.0))[0] == "amber"


def test_a_small_district_is_never_green_just_because_its_point_estimate_is_higher():
    # 70% of 10 children: the interval spans England's 60%, so not significantly better.
    ci = stats.wilson_interval(7, 10)
    rag, reason = rag_for(evidence(ABOVE, 70.0, (ci.low, ci.high)))
    assert rag == "amber" and "not significantly different" in reason


@pytest.mark.parametrize("direction, meaning, rag", [
    ("decreasing", "getting better", "green"),
    ("no significant change", "", "amber"),
    ("increasing", "getting worse", "red"),
])
def test_an_improving_trend_follows_the_significance_tested_trend(direction, meaning, rag):
    kpi = make_kpi(["improving_trend"], polarity="lower")
    trend = stats.Trend(direction, meaning, 12.0, 0.0005, 5, "chi-squared test for trend",
                        f"{direction.capitalize()} over the last 5 years")
    assert rag_for(evidence(kpi, 10.0, trend=trend))[0] == rag


NOT_RATED = [
    ("no figure", evidence(ABOVE, None), "no figure for Testshire"),
    ("no England figure", evidence(make_kpi(["above_england"], england=None), 70.0),
     "no England figure to compare with"),
    ("comparator in other units", evidence(make_kpi(["above_england"], england=46.0, england_unit="weeks"), 20.0),
     "cannot be compared (unit mismatch)"),
    ("no baseline", evidence(make_kpi(["improving_vs_baseline"], baseline=None), 20.0), "no baseline figure"),
    ("no direction", evidence(make_kpi(["improving_vs_baseline"], polarity="none"), 20.0),
     "does not say whether a higher or lower figure is better"),
    ("no rules", evidence(make_kpi([]), 20.0), "sets no target"),
    ("trend that cannot be calculated", evidence(make_kpi(["improving_trend"]), 20.0,
                                                 trend=stats.Trend("cannot be calculated", "", None, None, 2, "",
                                                                   "Cannot be calculated: 2 yearly figures")),
     "cannot be calculated: 2 yearly figures"),
]


@pytest.mark.parametrize("case, ev, words", NOT_RATED, ids=[c[0] for c in NOT_RATED])
def test_not_rated_says_why(case, ev, words):
    rag, reason = rag_for(ev)
    assert rag == "not rated"
    assert words in reason


def test_an_optional_england_rule_is_skipped_when_england_has_no_figure():
    kpi = make_kpi(["improving_vs_baseline", ("in_line_with_england", None, False)], england=None)
    rag, reason = rag_for(evidence(kpi, 55.0))
    assert rag == "green" and "England" not in reason


def test_several_rules_give_the_worst_rating_with_every_reason():
    kpi = make_kpi(["improving_vs_baseline", "above_england"], polarity="lower", baseline=25.0, england=22.0)
    rag, reason = rag_for(evidence(kpi, 19.0, (16.0, 23.0)))
    assert rag == "amber"
    assert "an improvement on" in reason and "not significantly different from England" in reason


def _rows(values, periods, nums=None, dens=None):
    return pd.DataFrame({
        "indicator_id": "T01", "area_code": "E10000034", "period": periods, "value": values,
        "period_end": range(len(values)), "numerator": nums or [None] * len(values),
        "denominator": dens or [None] * len(values), "ci_low": None, "ci_high": None, "flags": "",
        "note": None, "illustrative": False, "source": "s", "licence": "", "compared_with_england": None})


def test_status_uses_the_interval_from_numerator_and_denominator(config):
    plan = config.plan()
    kpi = dataclasses.replace(plan.kpi("EH01"))
    rows = _rows([88.0], ["2024/25 Q1"], [880.0], [1000.0])
    england = _rows([80.0], ["2024/25 Q1"]).assign(area_code="E92000001")
    s = kpi_status(kpi, plan, config, plan.area, rows, england, "Early Help")
    assert s.ci_low == pytest.approx(85.84, abs=0.01) and s.ci_high == pytest.approx(89.87, abs=0.01)
    assert s.compared_with_england == "better" and s.rag == "green"
    assert s.england_period == "2024/25 Q1" and "significantly better than England (2024/25 Q1)" in s.headline


def test_an_england_figure_more_than_two_years_older_is_out_of_date_never_better_or_worse(config):
    plan = config.plan()
    kpi = plan.kpi("EH01")
    rows = _rows([88.0], ["2025/26 Q4"], [880.0], [1000.0])
    england = _rows([70.0], ["2021/22"]).assign(area_code="E92000001")
    s = kpi_status(kpi, plan, config, plan.area, rows, england, "Early Help")
    assert s.england_period == "2021/22" and s.england_out_of_date
    assert s.compared_with_england == "not compared"
    assert "comparator out of date" in s.reason and "2021/22" in s.reason
    assert "significantly better" not in s.reason and "comparator out of date" in s.comparison_text.lower()
    assert "comparator out of date" in s.headline


def test_an_england_figure_of_the_same_period_is_preferred_to_a_later_one_or_an_older_one(config):
    plan = config.plan()
    kpi = plan.kpi("EH01")
    rows = _rows([88.0, 86.0], ["2023/24", "2024/25"], [880.0, 860.0], [1000.0, 1000.0])
    england = _rows([80.0, 90.0], ["2023/24", "2024/25"]).assign(area_code="E92000001")
    s = kpi_status(kpi, plan, config, plan.area, rows.iloc[:1], england, "Early Help")
    assert s.england == 80.0 and s.england_period == "2023/24"


def test_small_numbers_whose_interval_includes_the_baseline_are_too_few_to_tell():
    # 15 of 23 = 65.2%, Wilson 95% interval 44.9% to 81.2% (stats interval, matches PHStatsMethods) includes the
    # 78.3% baseline: neither green nor red on that rule.
    kpi = make_kpi(["improving_vs_baseline"], baseline=78.3)
    ci = stats.wilson_interval(15, 23)
    rag, reason = rag_for(evidence(kpi, 15 / 23 * 100, (ci.low, ci.high)))
    assert rag == "amber" and "too few to tell" in reason


def test_a_suppressed_latest_figure_withholds_value_numerator_and_denominator(config):
    plan = config.plan()
    kpi = plan.kpi("EH01")
    rows = _rows([88.0, None], ["2023/24 Q4", "2024/25 Q1"], [880.0, 9.0], [1000.0, 12.0])
    rows["flags"] = ["", "suppressed"]
    s = kpi_status(kpi, plan, config, plan.area, rows, rows.iloc[0:0], "Early Help")
    assert s.value is None and s.numerator is None and s.denominator is None and s.ci_low is None
    assert "suppressed" in s.reason and s.figure_text == "suppressed" and s.headline == "suppressed"
    assert s.spc_variation == ""
    assert not {9.0, 12.0} & {v for v in s.as_row().values() if isinstance(v, float)}


def test_a_district_is_not_rated_against_the_county_baseline_or_its_own_first_figure(config):
    # The plan's baseline belongs to the plan's area (issue 15): a district with no baseline of its own and
    # no interval is not rated on the baseline rule, and its reason says why.
    plan = config.plan()
    kpi = plan.kpi("MH01")
    rows = _rows([50.0, 40.0], ["2022/23 Q1", "2022/23 Q2"])
    s = kpi_status(kpi, plan, config, "E07000237", rows, rows.iloc[0:0], "Mental health")
    assert s.baseline is None
    assert "first figure" not in s.reason and "Worcester 2022/23 Q1 figure" not in s.reason
    assert s.rag == "not rated" or "England" in s.reason


def test_a_district_is_rated_against_a_baseline_only_where_the_plan_gives_it_one(config):
    plan = config.plan()
    base = plan.kpi("MH01")
    kpi = dataclasses.replace(base, baseline=dataclasses.replace(base.baseline, districts=(("E07000237", 50.0),)))
    rows = _rows([50.0, 40.0], ["2022/23 Q1", "2022/23 Q2"])
    worcester = kpi_status(kpi, plan, config, "E07000237", rows, rows.iloc[0:0], "Mental health")
    assert worcester.baseline == 50.0 and "Worcester 2021/22 baseline of 50" in worcester.reason
    redditch = kpi_status(kpi, plan, config, "E07000236", rows, rows.iloc[0:0], "Mental health")
    assert redditch.baseline is None and "baseline of" not in redditch.reason
