"""Pure-logic tests for cypp_dash.stats: intervals, England comparison, trends, SPC and funnels."""
import math

import numpy as np
import pandas as pd
import pytest

from cypp_dash.stats import (
    SPC_COLUMNS,
    Interval,
    byar_interval,
    compare_with_england,
    funnel_limits,
    funnel_position,
    interval_for,
    recent_trend,
    wilson_interval,
    xmr,
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


# --- recent trend ----------------------------------------------------------------------------

RISING_NUMERATORS = [8000, 8200, 8400, 8600, 8800]
BIG_DENOMINATORS = [10_000] * 5
RISING_PERCENT = [80.0, 82.0, 84.0, 86.0, 88.0]
FALLING_NUMERATORS = RISING_NUMERATORS[::-1]
FALLING_PERCENT = RISING_PERCENT[::-1]
FLAT_NUMERATORS = [5000, 5030, 4980, 5010, 4995]
FLAT_PERCENT = [50.0, 50.3, 49.8, 50.1, 49.95]


@pytest.mark.parametrize(
    ("values", "polarity", "numerators", "denominators", "direction", "meaning"),
    [
        (RISING_PERCENT, "higher", RISING_NUMERATORS, BIG_DENOMINATORS, "increasing", "getting better"),
        (RISING_PERCENT, "lower", RISING_NUMERATORS, BIG_DENOMINATORS, "increasing", "getting worse"),
        (RISING_PERCENT, "none", RISING_NUMERATORS, BIG_DENOMINATORS, "increasing", ""),
        (FALLING_PERCENT, "lower", FALLING_NUMERATORS, BIG_DENOMINATORS, "decreasing", "getting better"),
        (FALLING_PERCENT, "higher", FALLING_NUMERATORS, BIG_DENOMINATORS, "decreasing", "getting worse"),
        (FLAT_PERCENT, "higher", FLAT_NUMERATORS, BIG_DENOMINATORS, "no significant change", ""),
        ([10, 12, 13, 15, 17], "higher", None, None, "increasing", "getting better"),
        ([17, 15, 13, 12, 10], "higher", None, None, "decreasing", "getting worse"),
        ([50, 53, 48, 52, 49], "higher", None, None, "no significant change", ""),
        ([4, 4, 4, 4, 4], "higher", None, None, "no significant change", ""),
    ],
)
def test_recent_trend_direction_and_meaning(values, polarity, numerators, denominators, direction, meaning):
    trend = recent_trend(values, polarity, numerators, denominators)
    assert (trend.direction, trend.meaning) == (direction, meaning)
    assert trend.points == 5


def test_recent_trend_for_proportions_is_the_chi_squared_test_for_trend():
    # R's prop.trend.test(c(83, 90, 129, 70), c(86, 93, 136, 82)): X-squared = 8.2249, p = 0.004132.
    smokers, patients = [83, 90, 129, 70], [86, 93, 136, 82]
    trend = recent_trend([96.5, 96.8, 94.9, 85.4], "higher", smokers, patients, points=4)
    assert trend.p_value == pytest.approx(0.004132, abs=1e-6)
    assert trend.direction == "decreasing"


def test_recent_trend_falls_back_to_the_slope_test_when_a_denominator_is_missing():
    denominators = [10_000, 10_000, None, 10_000, 10_000]
    with_gap = recent_trend(RISING_PERCENT, "higher", RISING_NUMERATORS, denominators)
    values_only = recent_trend(RISING_PERCENT, "higher")
    assert with_gap == values_only


@pytest.mark.parametrize(
    ("values", "points_found"),
    [
        ([], 0),
        ([1.0], 1),
        ([1.0, 2.0, 3.0], 3),
        ([1.0, None, 2.0, NaN, 3.0, 4.0], 4),
    ],
)
def test_recent_trend_needs_five_points(values, points_found):
    trend = recent_trend(values, "higher")
    assert trend.direction == "not enough data"
    assert trend.meaning == ""
    assert trend.p_value is None
    assert trend.points == points_found
    plural = "" if points_found == 1 else "s"
    assert trend.text == f"Not enough data: {points_found} point{plural}; a trend needs at least 5"


def test_recent_trend_uses_only_the_last_five_points():
    long_fall_then_recent_rise = [50, 40, 30, 20, 10, 11, 12, 13, 14, 15]
    assert recent_trend(long_fall_then_recent_rise, "higher").direction == "increasing"


def test_recent_trend_skips_missing_values():
    assert recent_trend([10, None, 12, 13, NaN, 15, 17], "higher").direction == "increasing"


def test_recent_trend_that_rests_on_one_point_is_no_significant_change():
    # Flat, then one jump: significant on its own, but leaving out the last point the slope vanishes.
    trend = recent_trend([50, 50, 50, 50, 60], "higher", [5000, 5000, 5000, 5000, 6000], BIG_DENOMINATORS)
    assert trend.p_value < 0.001
    assert trend.direction == "no significant change"
    assert trend.text == (
        "No significant change over the last 5 points: the apparent trend (p < 0.001) depends on a single point"
    )


@pytest.mark.parametrize(
    ("polarity", "text"),
    [
        ("higher", "Increasing and getting better over the last 5 points (significant, p < 0.001)"),
        ("lower", "Increasing and getting worse over the last 5 points (significant, p < 0.001)"),
        (
            "none",
            "Increasing over the last 5 points (significant, p < 0.001); this measure has no better direction",
        ),
    ],
)
def test_recent_trend_text_reads_as_plain_english(polarity, text):
    assert recent_trend(RISING_PERCENT, polarity, RISING_NUMERATORS, BIG_DENOMINATORS).text == text


def test_recent_trend_text_for_no_change_gives_the_p_value():
    trend = recent_trend(FLAT_PERCENT, "higher", FLAT_NUMERATORS, BIG_DENOMINATORS)
    assert trend.text == f"No significant change over the last 5 points (p = {trend.p_value:.3f})"


def test_recent_trend_alpha_sets_the_bar_for_significance():
    values = [10, 12, 13, 15, 17]
    p = recent_trend(values, "higher").p_value
    assert 0.0001 < p < 0.05
    assert recent_trend(values, "higher", alpha=p / 2).direction == "no significant change"


# --- SPC (XmR) -------------------------------------------------------------------------------
# Series are built so that exactly one rule fires (or, for the "not" rows, just fails to).
# Quiet background: 10, 12, 10, 12 ... has mean 11, mean moving range 2, limits 5.68 to 16.32.

QUIET = [10, 12] * 10
BEYOND = [10, 12] * 9 + [10, 30]
SHIFT_OF_7 = [10, 12] * 6 + [10] + [12.5, 13, 12.5, 13, 12.5, 13, 12.5]
SHIFT_OF_6 = [10, 12] * 6 + [10] + [12.5, 13, 12.5, 13, 12.5, 13] + [10]
TREND_OF_6 = [10, 12] * 7 + [9, 9.5, 10, 10.5, 11, 11.5]
TREND_OF_5 = [10, 12] * 7 + [9, 9.5, 10, 10.5, 11] + [10]
# Background 10, 11 (mean moving range about 1): two of three at 14 lie beyond 2 sigma (13.28)
# but inside the upper limit (14.49).
TWO_OF_THREE = [10, 11] * 8 + [10, 14, 11, 14]
TWO_NEAR_BUT_FOUR_APART = [10, 11] * 8 + [14, 10, 11, 14]
ONE_NEAR = [10, 11] * 8 + [10, 14, 11, 10]


def flagged(result, rule: str) -> list[int]:
    points = result.points
    return points.loc[points["rule"].str.contains(rule, regex=False), "index"].tolist()


@pytest.mark.parametrize(
    ("values", "rule", "expected_points"),
    [
        (QUIET, "beyond a limit", []),
        (BEYOND, "beyond a limit", [19]),
        (SHIFT_OF_7, "run on one side of the mean", list(range(13, 20))),
        (SHIFT_OF_6, "run on one side of the mean", []),
        (TREND_OF_6, "run rising or falling", list(range(14, 20))),
        (TREND_OF_5, "run rising or falling", []),
        (TWO_OF_THREE, "two of three near a limit", [17, 19]),
        (TWO_NEAR_BUT_FOUR_APART, "two of three near a limit", []),
        (ONE_NEAR, "two of three near a limit", []),
    ],
)
def test_xmr_rule_is_triggered_only_by_its_pattern(values, rule, expected_points):
    result = xmr(values, "higher")
    assert flagged(result, rule) == expected_points
    assert result.points["special_cause"].sum() == len(expected_points)


def test_xmr_limits_are_mean_plus_or_minus_2_66_mean_moving_ranges():
    result = xmr(QUIET, "higher")
    assert result.mean == pytest.approx(11)
    assert (result.lower_limit, result.upper_limit) == (pytest.approx(5.68), pytest.approx(16.32))


def test_xmr_point_on_the_mean_breaks_a_run():
    low, tail = [9, 8, 9, 8, 9, 8, 9], [9, 11, 9, 12, 9, 11]
    on_the_mean = xmr(low + [11, 12, 11, 10, 12, 11, 12] + tail, "higher")
    assert on_the_mean.mean == 10
    assert not any(i in flagged(on_the_mean, "run on one side") for i in range(7, 14))
    just_above = xmr(low + [11, 12, 11, 10.9, 12, 11, 12] + tail, "higher")
    assert all(i in flagged(just_above, "run on one side") for i in range(7, 14))


@pytest.mark.parametrize(
    ("values", "polarity", "direction"),
    [
        (BEYOND, "higher", "improving"),
        (BEYOND, "lower", "concerning"),
        (BEYOND, "none", "neutral"),
        (TREND_OF_6, "higher", "improving"),  # rising run, although it starts below the mean
        (TREND_OF_6, "lower", "concerning"),
        ([10, 12] * 9 + [12, -8], "higher", "concerning"),
    ],
)
def test_xmr_direction_of_the_latest_special_cause_point_follows_polarity(values, polarity, direction):
    assert xmr(values, polarity).points["direction"].iloc[-1] == direction


QUARTERLY_WITH_UPWARD_SHIFT = [70, 72, 71, 69, 71, 70, 72, 70, 71, 69, 70, 72] + [
    75, 76, 74, 76, 75, 77, 75, 76, 74, 76, 75, 76
]  # six years of quarters; the last three years sit higher


@pytest.mark.parametrize(
    ("polarity", "variation", "icon"),
    [
        ("higher", "special cause improving", "▲ Improvement (high)"),
        ("lower", "special cause concerning", "▲ Concern (high)"),
        ("none", "special cause (neither better nor worse)", "▲ Neither (high)"),
    ],
)
def test_xmr_sustained_upward_shift_verdict_depends_on_polarity(polarity, variation, icon):
    result = xmr(QUARTERLY_WITH_UPWARD_SHIFT, polarity)
    assert result.variation == variation
    assert result.icon_variation == icon
    assert result.variation_text.startswith("Special cause variation")


@pytest.mark.parametrize(
    ("polarity", "variation", "icon"),
    [
        ("higher", "special cause concerning", "▼ Concern (low)"),
        ("lower", "special cause improving", "▼ Improvement (low)"),
    ],
)
def test_xmr_sustained_downward_shift_verdict_depends_on_polarity(polarity, variation, icon):
    falling = [150 - v for v in QUARTERLY_WITH_UPWARD_SHIFT]
    result = xmr(falling, polarity)
    assert (result.variation, result.icon_variation) == (variation, icon)


def test_xmr_stable_series_is_common_cause():
    result = xmr(QUIET, "higher")
    assert result.variation == "common cause"
    assert result.icon_variation == "● Common cause"
    assert not result.points["special_cause"].any()


def test_xmr_latest_point_governs_the_verdict():
    # Point 18 (index 17) is beyond the upper limit, but the latest point is ordinary.
    result = xmr([10, 11] * 8 + [10, 16, 11, 10], "higher")
    assert flagged(result, "beyond a limit") == [17]
    assert result.variation == "common cause"
    assert "Earlier special cause (improving) last seen at point 18" in result.variation_text


@pytest.mark.parametrize(
    ("values", "points_found"),
    [
        ([], 0),
        ([5.0], 1),
        ([10, 12] * 4 + [10], 9),
        ([10, 12] * 7, 14),
        ([10, 12] * 7 + [None, NaN], 14),  # missing values do not count
    ],
)
def test_xmr_needs_fifteen_points(values, points_found):
    result = xmr(values, "higher", target=11)
    assert result.enough_data is False
    assert result.reason == f"SPC needs at least 15 points; this series has {points_found}"
    assert (result.mean, result.lower_limit, result.upper_limit) == (None, None, None)
    verdicts = (result.variation, result.assurance, result.icon_variation, result.icon_assurance)
    assert verdicts == ("", "", "", "")
    assert len(result.points) == len(values)


def test_xmr_points_has_a_row_for_every_input_including_missing_values():
    values = [10, 12] * 5 + [None] + [10, 12] * 5
    points = xmr(values, "higher").points
    assert list(points.columns) == SPC_COLUMNS
    assert points["index"].tolist() == list(range(21))
    assert math.isnan(points.loc[10, "value"])
    assert not points.loc[10, "special_cause"]
    assert math.isnan(points.loc[0, "moving_range"])
    # The moving range bridges the gap: 12 then (missing) then 10.
    assert points.loc[11, "moving_range"] == 2
    assert points["special_cause"].dtype == bool


def test_xmr_never_raises_on_a_flat_series():
    result = xmr([5.0] * 20, "higher")
    assert result.variation == "common cause"
    assert result.lower_limit == result.upper_limit == 5.0


# Assurance on QUIET (limits 5.68 to 16.32).
@pytest.mark.parametrize(
    ("polarity", "target", "assurance", "icon"),
    [
        ("higher", 11, "will hit and miss", "~ Hit and miss target"),
        ("higher", 5, "consistently passes", "✓ Consistently passes target"),
        ("higher", 17, "consistently fails", "✗ Consistently fails target"),
        ("lower", 11, "will hit and miss", "~ Hit and miss target"),
        ("lower", 5, "consistently fails", "✗ Consistently fails target"),
        ("lower", 17, "consistently passes", "✓ Consistently passes target"),
        ("none", 11, "", ""),
        ("higher", None, "", ""),
        ("higher", NaN, "", ""),
    ],
)
def test_xmr_assurance_compares_the_target_with_the_limits(polarity, target, assurance, icon):
    result = xmr(QUIET, polarity, target=target)
    assert (result.assurance, result.icon_assurance) == (assurance, icon)
    assert bool(result.assurance_text) == (target is not None and not pd.isna(target))


@pytest.mark.parametrize(
    ("polarity", "limit", "assurance"),
    [
        ("higher", "lower_limit", "consistently passes"),
        ("higher", "upper_limit", "consistently fails"),
        ("lower", "lower_limit", "consistently fails"),
        ("lower", "upper_limit", "consistently passes"),
    ],
)
def test_xmr_target_exactly_on_a_limit_counts_as_beyond_it(polarity, limit, assurance):
    target = getattr(xmr(QUIET, polarity), limit)
    assert xmr(QUIET, polarity, target=target).assurance == assurance


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
def test_funnel_position_for_a_rate_agrees_with_byars_interval_of_the_count(rate):
    interval = byar_interval(rate * 20_000 / 10_000)
    inside = interval.low <= 100 <= interval.high
    assert (funnel_position(rate, 20_000, 50.0, 10_000, "rate") == "within 95% limits") == inside
