"""Pure-logic tests for cypp_dash.stats: intervals, England comparison, trends, SPC and funnels."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

from cypp_dash.stats import (
    Interval,
    byar_interval,
    compare_with_england,
    funnel_limits,
    funnel_position,
    funnel_table,
    interval_for,
    wilson_interval,
)

NaN = float("nan")


def rounded(interval: Interval | None) -> tuple[float, float] | None:
    return None if interval is None else (round(interval.low, 2), round(interval.high, 2))


# --- Wilson score interval -------------------------------------------------------------------
# Worked example, 50 of 100 at 95%: z = 1.959964, z^2 = 3.841459.
#   centre = 2 x 50 + z^2 = 103.8415; spread = z x sqrt(z^2 + 4 x 50 x 0.5) = 19.9725;
#   scale = 2 x (100 + z^2) = 207.6829; low = (103.8415 - 19.9725) / 207.6829 = 0.40383,
#   high = (103.8415 + 19.9725) / 207.6829 = 0.59617 -> 40.38% to 59.62%.
# At 99.8%, z = 3.090232. Every row was cross-checked against statsmodels' proportion_confint
# (method "wilson") and PHStatsMethods' wilson(), outside this test suite.


@pytest.mark.parametrize(
    ("numerator", "denominator", "level", "expected"),
    [
        (50, 100, 0.95, (40.38, 59.62)),
        (50, 100, 0.998, (35.24, 64.76)),
        (45, 60, 0.95, (62.77, 84.22)),
        (45, 60, 0.998, (55.16, 87.98)),
        (876, 1000, 0.95, (85.41, 89.50)),
        (876, 1000, 0.998, (84.02, 90.47)),
        (3, 7, 0.95, (15.82, 74.95)),
        (0, 20, 0.95, (0.00, 16.11)),
        (0, 20, 0.998, (0.00, 32.32)),
        (20, 20, 0.95, (83.89, 100.00)),
        (20, 20, 0.998, (67.68, 100.00)),
    ],
)
def test_wilson_interval_matches_the_formula_worked_by_hand(numerator, denominator, level, expected):
    interval = wilson_interval(numerator, denominator, level)
    assert rounded(interval) == expected
    assert interval.level == level


def test_wilson_interval_scales_by_the_multiplier():
    assert rounded(wilson_interval(50, 100, multiplier=1)) == (0.40, 0.60)


def test_wilson_interval_accepts_a_level_written_as_a_percentage():
    assert wilson_interval(50, 100, 95) == wilson_interval(50, 100, 0.95)


@pytest.mark.parametrize(
    ("numerator", "denominator"),
    [
        (None, 100),
        (NaN, 100),
        (pd.NA, 100),
        (50, None),
        (50, NaN),
        (50, 0),
        (50, -10),
        (101, 100),
        (-1, 100),
        ("not a number", 100),
    ],
)
def test_wilson_interval_is_none_for_missing_or_impossible_inputs(numerator, denominator):
    assert wilson_interval(numerator, denominator) is None


# --- Byar's method for counts ----------------------------------------------------------------
# Worked example, 10 events at 95%: z = 1.959964.
#   lower = 10 x (1 - 1/90 - z / (3 x sqrt(10)))^3 = 10 x 0.782292^3 = 4.79
#   upper = 11 x (1 - 1/99 + z / (3 x sqrt(11)))^3 = 11 x 1.186883^3 = 18.39
# (The exact Poisson method would give 4.80 to 18.39; Fingertips uses Byar's from 10 events.)
# Below 10 events the exact method is used: lower = chi2(alpha/2, 2O) / 2,
# upper = chi2(1 - alpha/2, 2O + 2) / 2; for 0 events the lower limit is 0.
# Rows cross-checked against PHStatsMethods' byars_lower/byars_upper, outside this suite.


@pytest.mark.parametrize(
    ("count", "level", "expected"),
    [
        (10, 0.95, (4.79, 18.39)),
        (10, 0.998, (2.92, 24.19)),
        (25, 0.95, (16.17, 36.91)),
        (25, 0.998, (12.30, 44.67)),
        (100, 0.95, (81.36, 121.63)),
        (100, 0.998, (71.90, 134.94)),
        (9, 0.95, (4.12, 17.08)),  # exact method below 10
        (5, 0.95, (1.62, 11.67)),
        (5, 0.998, (0.74, 16.45)),
        (0, 0.95, (0.00, 3.69)),
        (0, 0.998, (0.00, 6.91)),
    ],
)
def test_byar_interval_matches_the_formula_worked_by_hand(count, level, expected):
    assert rounded(byar_interval(count, level)) == expected


def test_byar_interval_for_a_rate_scales_the_count_interval():
    # 25 events in 50,000 children, per 10,000: (16.17 to 36.91) / 50,000 x 10,000.
    assert rounded(byar_interval(25, denominator=50_000, multiplier=10_000)) == (3.23, 7.38)


@pytest.mark.parametrize(
    ("count", "denominator"),
    [(None, None), (NaN, None), (-1, None), (25, 0), (25, NaN), (25, -5)],
)
def test_byar_interval_is_none_for_missing_or_impossible_inputs(count, denominator):
    assert byar_interval(count, denominator=denominator, multiplier=10_000) is None


# --- choosing the interval for a KPI's unit --------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "value", "numerator", "denominator", "expected"),
    [
        ("percent", 50.0, 50, 100, (40.38, 59.62)),
        ("count", 10, None, None, (4.79, 18.39)),
        ("count", None, 10, None, (4.79, 18.39)),
        ("rate per 10,000", 5.0, 25, 50_000, (3.23, 7.38)),
        ("Rate per 10000", 5.0, 25, 50_000, (3.23, 7.38)),
        ("rate per 1,000", 0.5, 25, 50_000, (0.32, 0.74)),
        ("percent", 50.0, None, 100, None),
        ("percent", 50.0, 50, None, None),
        ("rate per 10,000", 5.0, 25, None, None),
        ("rate per 10,000", 5.0, None, 50_000, None),
        ("count", None, None, None, None),
        ("days", 12.0, None, None, None),
        ("score", 3.0, 3, 4, None),
        (None, 3.0, 3, 4, None),
    ],
)
def test_interval_for_chooses_the_method_from_the_unit(unit, value, numerator, denominator, expected):
    assert rounded(interval_for(unit, value, numerator, denominator)) == expected


def test_interval_for_passes_the_level_through():
    assert interval_for("percent", 50, 50, 100, level=0.998).level == 0.998


# --- comparison with England -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ci_low", "ci_high", "england", "polarity", "expected"),
    [
        (80, 76, 84, 70, "higher", "better"),
        (80, 76, 84, 90, "higher", "worse"),
        (80, 76, 84, 80, "higher", "similar"),
        (80, 76, 84, 76, "higher", "similar"),  # England on the lower bound
        (80, 76, 84, 84, "higher", "similar"),  # England on the upper bound
        (80, 76, 84, 70, "lower", "worse"),
        (80, 76, 84, 90, "lower", "better"),
        (80, 76, 84, 80, "lower", "similar"),
        (80, 76, 84, 70, "none", "not compared"),
        (80, 76, 84, 70, "", "not compared"),
        (80, 76, 84, 70, None, "not compared"),
        (None, 76, 84, 70, "higher", "not compared"),
        (80, NaN, 84, 70, "higher", "not compared"),
        (80, 76, None, 70, "higher", "not compared"),
        (80, 76, 84, None, "higher", "not compared"),
        (80, 76, 84, pd.NA, "lower", "not compared"),
    ],
)
def test_compare_with_england_judges_the_whole_interval(value, ci_low, ci_high, england, polarity, expected):
    assert compare_with_england(value, ci_low, ci_high, england, polarity) == expected


# --- funnel plots ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["proportion", "rate"])
def test_funnel_limits_narrow_as_the_denominator_grows(kind):
    multiplier = 100.0 if kind == "proportion" else 10_000.0
    limits = funnel_limits(50.0, [200, 5_000, 40_000], multiplier, kind)
    assert list(limits.columns) == ["denominator", "lower_95", "upper_95", "lower_998", "upper_998"]
    assert len(limits) == 100
    assert limits["denominator"].iloc[0] == pytest.approx(160)
    assert limits["denominator"].iloc[-1] == pytest.approx(48_000)
    width_95 = (limits["upper_95"] - limits["lower_95"]).to_numpy()
    width_998 = (limits["upper_998"] - limits["lower_998"]).to_numpy()
    assert (np.diff(width_95) < 0).all()
    assert (np.diff(width_998) < 0).all()
    assert (width_998 > width_95).all()
    assert ((limits["lower_95"] < 50) & (limits["upper_95"] > 50)).all()


def test_funnel_limits_for_a_proportion_match_the_worked_numbers():
    # 87.6% at 1,000: 87.6 +/- 1.959964 x sqrt(0.876 x 0.124 / 1000) x 100 = 85.56 to 89.64,
    # and with z = 3.090232, 84.38 to 90.82 (the same as PHE's funnel formula).
    row = funnel_limits(87.6, [1250]).iloc[0]  # the first row is 0.8 x 1250 = 1,000
    assert row["denominator"] == pytest.approx(1000)
    assert [round(row[c], 2) for c in ["lower_95", "upper_95", "lower_998", "upper_998"]] == [
        85.56,
        89.64,
        84.38,
        90.82,
    ]


def test_funnel_limits_for_a_proportion_stay_between_0_and_100():
    limits = funnel_limits(95.0, [10, 100])
    assert (limits["upper_998"] <= 100).all() and (limits["lower_998"] >= 0).all()


@pytest.mark.parametrize(
    ("centre", "denominators"),
    [(None, [100, 200]), (NaN, [100, 200]), (50.0, []), (50.0, [None, 0, -5]), (150.0, [100])],
)
def test_funnel_limits_are_empty_when_there_is_nothing_to_draw(centre, denominators):
    limits = funnel_limits(centre, denominators)
    assert limits.empty
    assert list(limits.columns) == ["denominator", "lower_95", "upper_95", "lower_998", "upper_998"]


@pytest.mark.parametrize(
    ("value", "denominator", "centre", "multiplier", "kind", "expected"),
    [
        # 87.6% centre at 1,000: 95% limits 85.56 to 89.64, 99.8% limits 84.38 to 90.82.
        (89.0, 1000, 87.6, 100, "proportion", "within 95% limits"),
        (90.0, 1000, 87.6, 100, "proportion", "above 95% limit"),
        (91.0, 1000, 87.6, 100, "proportion", "above 99.8% limit"),
        (85.0, 1000, 87.6, 100, "proportion", "below 95% limit"),
        (84.0, 1000, 87.6, 100, "proportion", "below 99.8% limit"),
        (91.0, 100_000, 87.6, 100, "proportion", "above 99.8% limit"),
        (91.0, 50, 87.6, 100, "proportion", "within 95% limits"),  # small group: wide funnel
        # 50 per 10,000 centre at 20,000 children: expected 100 events.
        (50.0, 20_000, 50.0, 10_000, "rate", "within 95% limits"),
        (62.5, 20_000, 50.0, 10_000, "rate", "above 95% limit"),
        (75.0, 20_000, 50.0, 10_000, "rate", "above 99.8% limit"),
        (40.0, 20_000, 50.0, 10_000, "rate", "below 95% limit"),
        (30.0, 20_000, 50.0, 10_000, "rate", "below 99.8% limit"),
        (None, 1000, 87.6, 100, "proportion", "not compared"),
        (89.0, None, 87.6, 100, "proportion", "not compared"),
        (89.0, 0, 87.6, 100, "proportion", "not compared"),
        (89.0, 1000, NaN, 100, "proportion", "not compared"),
        (120.0, 1000, 87.6, 100, "proportion", "not compared"),
    ],
)
def test_funnel_position_names_the_band_a_point_falls_in(
    value, denominator, centre, multiplier, kind, expected
):
    assert funnel_position(value, denominator, centre, multiplier, kind) == expected


@pytest.mark.parametrize("percent", [84.0, 85.0, 86.5, 87.6, 89.0, 90.0, 91.0])
def test_funnel_position_agrees_with_the_wilson_interval_of_the_point(percent):
    interval = wilson_interval(percent * 10, 1000)
    inside = interval.low <= 87.6 <= interval.high
    assert (funnel_position(percent, 1000, 87.6) == "within 95% limits") == inside


@pytest.mark.parametrize("rate", [30.0, 40.0, 45.0, 50.0, 55.0, 60.0, 62.5, 75.0])
def test_funnel_position_for_a_rate_agrees_with_the_exact_poisson_interval_of_the_count(rate):
    # Rate funnels use exact Poisson limits (PHEindicatormethods poisson_funnel): a point is inside the 95% funnel
    # when the exact interval of its count, chi2(0.025, 2x)/2 to chi2(0.975, 2x + 2)/2, includes the expected 100.
    count = rate * 20_000 / 10_000
    low, high = chi2.ppf(0.025, 2 * count) / 2, chi2.ppf(0.975, 2 * count + 2) / 2
    inside = low <= 100 <= high
    assert (funnel_position(rate, 20_000, 50.0, 10_000, "rate") == "within 95% limits") == inside


def test_rate_funnel_limits_are_exact_poisson_on_the_rates_scale():
    # 50 per 10,000 at 20,000: expected 100 events. The 95% upper limit is the count x whose exact lower bound
    # chi2(0.025, 2x)/2 is 100, the lower limit the x whose exact upper bound chi2(0.975, 2x + 2)/2 is 100
    # (PHEindicatormethods calculate_funnel_limits / poisson_funnel), each / 20,000 x 10,000.
    row = funnel_table(["A"], [100], [20_000], "rate per 10,000").iloc[0]
    upper_count = row["upper_95"] * 2
    lower_count = row["lower_95"] * 2
    assert chi2.ppf(0.025, 2 * upper_count) / 2 == pytest.approx(100, abs=1e-6)
    assert chi2.ppf(0.975, 2 * lower_count + 2) / 2 == pytest.approx(100, abs=1e-6)
    assert row["lower_95"] < 50 < row["upper_95"] and row["lower_998"] < row["lower_95"]


def test_funnel_table_centre_is_the_pooled_figure_of_the_areas_unless_given():
    table = funnel_table(["A", "B", "C"], [30, 8, 200], [40, 50, 300], "percent")
    assert table["centre"].iloc[0] == pytest.approx(238 / 390 * 100)
    given = funnel_table(["A", "B"], [30, 8], [40, 50], "percent", centre=50.0)
    assert (given["centre"] == 50.0).all()
    assert list(table.columns) == ["area", "value", "centre", "lower_95", "upper_95", "lower_998", "upper_998",
                                   "position"]


def test_there_is_no_funnel_for_plain_counts():
    with pytest.raises(ValueError, match="not counts"):
        funnel_table(["A"], [3], [10], "count")
