"""The recent trend as Fingertips marks it: five annual points, chi-squared test for trend at 99.8%.

Expected values worked by hand from the Fingertips technical guidance ("Fingertips trend markers"): for
proportions chi2 = N (N sum(r t) - R sum(n t))^2 / (R (N - R) (N sum(n t^2) - (sum(n t))^2)), t = 1..5,
significant above 9.5495; otherwise inverse-variance weighted regression with SE = CI width / 3.92.
"""
from __future__ import annotations

import pytest

from cypp_dash import trend

YEARS = ["2019/20", "2020/21", "2021/22", "2022/23", "2023/24"]
N100 = [100] * 5


def test_a_steady_rise_in_a_proportion_is_a_significant_increase():
    # r = 50, 55, 60, 65, 70 of 100: N = 500, R = 300, sum(r t) = 950, sum(n t) = 1500, sum(n t^2) = 5500;
    # top = 500 x 950 - 300 x 1500 = 25,000; spread = 500 x 5500 - 1500^2 = 500,000;
    # chi2 = 500 x 25,000^2 / (300 x 200 x 500,000) = 10.4167 > 9.5495.
    r = trend.recent_trend([50, 55, 60, 65, 70], "higher", [50, 55, 60, 65, 70], N100, periods=YEARS)
    assert r.trend == "increasing" and r.direction == "getting better"
    assert r.statistic == pytest.approx(10.4167, abs=1e-4) and r.p_value < 0.002 and r.points == 5
    assert trend.recent_trend([50, 55, 60, 65, 70], "lower", [50, 55, 60, 65, 70], N100).direction == \
        "getting worse"


def test_a_rise_with_p_between_0_002_and_0_05_is_no_significant_change():
    # r = 50, 54, 58, 62, 66: R = 290, sum(r t) = 910, top = 20,000; chi2 = 500 x 4e8 / (290 x 210 x 5e5)
    # = 6.568, p = 0.0104: significant at 95% but not at Fingertips' 99.8%.
    r = trend.recent_trend([50, 54, 58, 62, 66], "higher", [50, 54, 58, 62, 66], N100, periods=YEARS)
    assert r.trend == "no significant change" and r.direction == ""
    assert r.statistic == pytest.approx(6.568, abs=1e-3) and 0.002 < r.p_value < 0.05


def test_a_counts_series_with_no_intervals_cannot_be_calculated():
    # An exact straight line of bare values: no slope p-value is given (it would be p = 0).
    r = trend.recent_trend([100, 110, 120, 130, 140], "higher", periods=YEARS)
    assert r.trend == "cannot be calculated" and r.p_value is None and r.statistic is None


def test_a_quarterly_series_gets_no_fingertips_trend():
    quarters = ["2023/24 Q1", "2023/24 Q2", "2023/24 Q3", "2023/24 Q4", "2024/25 Q1"]
    r = trend.recent_trend([50, 55, 60, 65, 70], "higher", [50, 55, 60, 65, 70], N100, periods=quarters)
    assert r.trend == "cannot be calculated" and "annual" in r.text


def test_overlapping_rolling_periods_get_no_trend():
    rolling = ["2017/18 - 19/20", "2018/19 - 20/21", "2019/20 - 21/22", "2020/21 - 22/23", "2021/22 - 23/24"]
    r = trend.recent_trend([50, 55, 60, 65, 70], "higher", [50, 55, 60, 65, 70], N100, periods=rolling)
    assert r.trend == "cannot be calculated"


def test_fewer_than_five_points_cannot_be_calculated():
    r = trend.recent_trend([50, 55, 60, 65], "higher", [50, 55, 60, 65], [100] * 4)
    assert r.trend == "cannot be calculated" and r.points == 4


def test_a_trend_that_rests_on_one_point_is_no_significant_change():
    # 50, 50, 50, 50, 80 of 100: chi2 = 500 x 30,000^2 / (280 x 220 x 500,000) = 14.61, significant; leaving
    # out the last year leaves a flat line (gradient 0), so the trend rests on a single year.
    r = trend.recent_trend([50, 50, 50, 50, 80], "higher", [50, 50, 50, 50, 80], N100)
    assert r.statistic == pytest.approx(14.61, abs=0.01)
    assert r.trend == "no significant change" and "single year" in r.text


def test_values_with_intervals_use_inverse_variance_weighted_regression():
    # 10, 12, ..., 18 each +/- 1.96 (SE 1, weight 1): slope 2, var(slope) = 5 / (5 x 55 - 15^2) = 0.1,
    # chi2 = 4 / 0.1 = 40.
    r = trend.recent_trend([10, 12, 14, 16, 18], "lower", ci_low=[8.04, 10.04, 12.04, 14.04, 16.04],
                           ci_high=[11.96, 13.96, 15.96, 17.96, 19.96], periods=YEARS)
    assert r.trend == "increasing" and r.direction == "getting worse"
    assert r.statistic == pytest.approx(40.0, rel=1e-3) and r.method == "weighted regression"


def test_only_the_five_most_recent_points_are_used():
    old_fall = [90, 80, 70]
    r = trend.recent_trend(old_fall + [50, 55, 60, 65, 70], "higher", [90, 80, 70, 50, 55, 60, 65, 70], [100] * 8)
    assert r.trend == "increasing" and r.statistic == pytest.approx(10.4167, abs=1e-4)


def test_no_polarity_gives_a_direction_without_a_judgement():
    r = trend.recent_trend([50, 55, 60, 65, 70], "none", [50, 55, 60, 65, 70], N100)
    assert r.trend == "increasing" and r.direction == ""
