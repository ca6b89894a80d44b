"""SPC (XmR) as NHSRplotthedots: each rule on its own, then whole constructed series with the per-point flags,
limits and icons the reference rules give.

How the expected values were obtained: every series is built from a base of alternating 10, 12 (moving range 2)
so the arithmetic can be done by hand from NHSRplotthedots' R code (R/ptd_spc_standard.R,
R/ptd_calculate_point_type.R, R/ptd_calculate_assurance_type.R at commit 050b07d): mean of the values; moving
ranges |y[i] - y[i-1]|; ranges >= 3.267 x their mean screened out; limits mean +/- 2.66 x mean moving range;
the 2-sigma line at mean +/- 1.7733 x mean moving range; then the rules. The working is in each comment.
The first test reproduces the reference package's own snapshot (tests/testthat/_snaps/ptd_spc_standard.md).
"""
from __future__ import annotations

import pytest

from cypp_dash import spc, stats

ALT = [10.0, 12.0]


def run(values, polarity="higher", **kw):
    return spc.spc(values, polarity, **kw)


def flagged(result):
    """{index: (special_cause, rules)} for every flagged point."""
    p = result.points
    return {int(i): (sc, r) for i, sc, r in zip(p["index"], p["special_cause"], p["rules"]) if sc or r}


def limits(result, group=0):
    g = result.points[result.points["group"] == group].iloc[0]
    return round(g["mean"], 4), round(g["lower_limit"], 4), round(g["upper_limit"], 4)


# --- the reference's own numbers -------------------------------------------------------------------------

# set.seed(123); rnorm(20) in R, as NHSRplotthedots' test-ptd_spc_standard.R uses.
RNORM = [-0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499, 0.46091621, -1.26506123,
         -0.68685285, -0.44566197, 1.22408180, 0.35981383, 0.40077145, 0.11068272, -0.55584113, 1.78691314,
         0.49785048, -1.96661716, 0.70135590, -0.47279141]


@pytest.mark.parametrize("values, screen, expected", [
    (RNORM, True, (0.1416238, -3.01138, 3.294627)),                        # snapshot r1
    (RNORM[:14] + [10.0] + RNORM[15:], True, (0.6694159, -2.383666, 3.722497)),    # r2: y[15] = 10, screened
    (RNORM[:14] + [10.0] + RNORM[15:], False, (0.6694159, -4.596625, 5.935457)),   # r3: not screened
])
def test_limits_match_the_nhsrplotthedots_snapshot(values, screen, expected):
    got = spc.process_limits(values, screen_outliers=screen)
    assert (round(got.mean, 7), round(got.lower, 6), round(got.upper, 6)) == expected


# --- one rule at a time (the reference's own unit-test cases) ---------------------------------------------

def test_seven_point_one_side_mean_marks_the_seventh_point_on():
    assert list(spc.seven_point_one_side_mean([1] * 6)) == [0] * 6
    assert list(spc.seven_point_one_side_mean([1] * 6 + [-1])) == [0] * 7
    assert list(spc.seven_point_one_side_mean([1] * 8 + [-1])) == [0] * 6 + [1, 1, 0]
    assert list(spc.seven_point_one_side_mean([-1] * 8 + [1])) == [0] * 6 + [-1, -1, 0]


def test_part_of_seven_marks_every_point_of_the_run():
    assert list(spc.part_of_seven([0] * 6 + [1, 0])) == [1] * 7 + [0]
    assert list(spc.part_of_seven([0] * 7 + [-1, 0])) == [0] + [1] * 7 + [0]


def test_seven_point_trend_needs_six_steps_the_same_way_and_an_unchanged_value_breaks_it():
    assert list(spc.seven_point_trend(list(range(1, 7)))) == [0] * 6
    assert list(spc.seven_point_trend([1, 2, 3, 3, 4, 5, 6])) == [0] * 7
    assert list(spc.seven_point_trend(list(range(1, 8)))) == [0] * 6 + [1]
    assert list(spc.seven_point_trend([2, 1, 2, 3, 4, 5, 6, 7, 3])) == [0] * 7 + [1, 0]
    assert list(spc.seven_point_trend(list(range(7, 0, -1)))) == [0] * 6 + [-1]


def test_two_in_three_needs_all_three_points_on_one_side():
    assert list(spc.two_in_three([1, 0, 1], [1, 1, 1])) == [1, 1, 1]
    assert list(spc.two_in_three([0, 0, 1, 0, 1, 0, 0], [1] * 7)) == [0, 0, 1, 1, 1, 0, 0]
    assert list(spc.two_in_three([1, 0, 1], [1, -1, 1])) == [0, 0, 0]
    assert list(spc.part_of_two_in_three(spc.two_in_three([1, 0, 0, 1, 1], [1] * 5), [1, 0, 0, 1, 1])) == \
        [0, 0, 0, 1, 1]


@pytest.mark.parametrize("kind, direction, expected", [
    ("Above UCL", 1, "improvement"), ("Above UCL", -1, "concern"), ("Above UCL", 0, "neither"),
    ("7 Point Trend (Decreasing)", 1, "concern"), ("2 in 3 Below CL", -1, "improvement"),
    ("Common Cause", 1, ""),
])
def test_point_type_follows_the_improvement_direction(kind, direction, expected):
    assert spc.point_type(kind, direction) == expected


@pytest.mark.parametrize("target, direction, expected", [
    (5.0, 1, "consistently passing"), (17.0, 1, "consistently failing"), (11.0, 1, "hit and miss"),
    (17.0, -1, "consistently passing"), (5.0, -1, "consistently failing"),
    (16.32, 1, "hit and miss"),   # exactly on the limit: the reference's inequalities are strict
    (None, 1, ""), (5.0, 0, ""),
])
def test_assurance_compares_the_target_with_the_limits(target, direction, expected):
    assert spc.assurance_type(target, 5.68, 16.32, direction) == expected


# --- constructed series: flags, limits and icons -------------------------------------------------------

SHIFT = ALT * 6 + [13.0] * 8


def test_series_01_stable_alternating_is_common_cause():
    # 20 points 10, 12, ...: mean 11, every moving range 2, limits 11 +/- 5.32 = 5.68 / 16.32; the 2-sigma
    # line 11 +/- 3.5467; points alternate sides, so no run, no trend and nothing near a limit.
    r = run(ALT * 10)
    assert limits(r) == (11.0, 5.68, 16.32) and flagged(r) == {} and r.variation == "common cause"


@pytest.mark.parametrize("polarity, kind, variation", [
    ("higher", "improvement", "special cause improving"),
    ("lower", "concern", "special cause concerning"),
    ("none", "neither", "special cause neither"),
])
def test_series_02_to_04_a_shift_of_seven_or_more_above_the_mean(polarity, kind, variation):
    # 10, 12 x 6 then 13 x 8: mean 236 / 20 = 11.8; moving ranges 11 x 2, 1, 7 x 0 = 23 / 19 = 1.2105 (none
    # above 3.267 x 1.2105 = 3.955); limits 11.8 +/- 3.22 = 8.58 / 15.02; 2-sigma 9.653 / 13.947, no point
    # beyond. The 12 at index 11 and the eight 13s are 9 points in a row above the mean: a shift.
    r = run(SHIFT, polarity)
    assert limits(r) == (11.8, 8.58, 15.02)
    assert flagged(r) == {i: (kind, "shift") for i in range(11, 20)}
    assert r.variation == variation


def test_series_05_six_points_on_one_side_is_not_a_shift():
    # 12, 10 x 7 then 13 x 6: mean 232 / 20 = 11.6; the run above the mean is only the six 13s (index 13 is 10).
    # Moving ranges 13 x 2, 3, 5 x 0 = 29 / 19 = 1.5263; limits 7.54 / 15.66; 2-sigma 8.894 / 14.306.
    r = run([12.0, 10.0] * 7 + [13.0] * 6)
    assert limits(r) == (11.6, 7.54, 15.66) and flagged(r) == {} and r.variation == "common cause"


def test_series_06_seven_points_each_higher_is_a_trend_even_below_the_mean():
    # 10, 12 x 5 then 10.2, 10.4, ..., 11.4 (7 points, 6 rises) then 10, 12, 10: mean 217.6 / 20 = 10.88; the
    # first four trend points are below the mean, but a trend's direction is its own (increasing): improvement.
    r = run(ALT * 5 + [10.2, 10.4, 10.6, 10.8, 11.0, 11.2, 11.4] + [10.0, 12.0, 10.0])
    assert flagged(r) == {i: ("improvement", "trend") for i in range(10, 17)}
    assert r.variation == "common cause"  # the latest point (10) is in no pattern


def test_series_07_six_points_each_higher_is_not_a_trend():
    r = run(ALT * 5 + [10.2, 10.4, 10.6, 10.8, 11.0, 11.2] + [10.0, 12.0, 10.0, 12.0])
    assert flagged(r) == {} and r.variation == "common cause"


def test_series_08_moving_range_screening_changes_the_latest_verdict():
    # 10, 12 x 8 then 24, 12, 19. Moving ranges: 15 x 2, 12, 12, 7 = 61 / 18 = 3.389; 3.267 x 3.389 = 11.07, so
    # both 12s are screened out: 37 / 16 = 2.3125. Mean 231 / 19 = 12.1579. Screened limits 12.1579 +/-
    # 6.1513 = 6.0066 / 18.3091: the latest point (19) is outside, improvement. Without screening the limits
    # are 12.1579 +/- 9.0142 = 3.1435 / 21.1723 and 19 is inside. The 16 points before the spike are all
    # below the mean: a shift (concern for higher-is-better).
    screened = run(ALT * 8 + [24.0, 12.0, 19.0])
    assert limits(screened) == (12.1579, 6.0066, 18.3091)
    assert flagged(screened)[18] == ("improvement", "outside limits")
    assert flagged(screened)[16] == ("improvement", "outside limits")
    assert flagged(screened)[0] == ("concern", "shift")
    assert screened.variation == "special cause improving"
    plain = run(ALT * 8 + [24.0, 12.0, 19.0], screen_outliers=False)
    assert limits(plain) == (12.1579, 3.1435, 21.1723)
    assert 18 not in flagged(plain) and plain.variation == "common cause"


def test_series_09_a_falling_trend_takes_precedence_over_a_shift_above_the_mean():
    # 10, 12 x 7 then 13.2, 13.0, ..., 12.0 (7 falling points): mean 242.2 / 21 = 11.5333; moving ranges
    # 13 x 2, 1.2, 6 x 0.2 = 28.4 / 20 = 1.42; limits 7.7561 / 15.3105. Index 13 (12) and the seven falling
    # points are 8 above the mean (a shift: "improvement" for higher-is-better), but the reference's precedence
    # puts the trend first, so the falling points are a concern and so is the latest verdict.
    r = run(ALT * 7 + [13.2, 13.0, 12.8, 12.6, 12.4, 12.2, 12.0])
    assert limits(r) == (11.5333, 7.7561, 15.3105)
    assert flagged(r)[13] == ("improvement", "shift")
    assert all(flagged(r)[i] == ("concern", "trend; shift") for i in range(14, 21))
    assert r.variation == "special cause concerning"


def test_series_10_two_of_three_near_the_limit_all_on_one_side():
    # 10, 12 x 9 then 15.8, 12.2, 15.8: mean 241.8 / 21 = 11.5143; moving ranges 17 x 2, 3.8, 3.6, 3.6 = 45 / 20
    # = 2.25; 2-sigma line 11.5143 + 3.99 = 15.504, limit 17.4993. Both 15.8s are between the lines and the
    # 12.2 between them is above the mean too: the two 15.8s are flagged (not the 12.2).
    r = run(ALT * 9 + [15.8, 12.2, 15.8])
    assert limits(r) == (11.5143, 5.5293, 17.4993)
    assert flagged(r) == {18: ("improvement", "two of three"), 20: ("improvement", "two of three")}
    assert r.variation == "special cause improving"


def test_series_11_two_of_three_with_the_middle_point_on_the_other_side_is_not_flagged():
    # As series 10 with 11.0 in the middle: mean 11.4571, below which 11.0 lies; mean moving range 47.4 / 20
    # = 2.37, 2-sigma line 15.66, limit 17.7613; the 15.8s are near the limit but the three are not on one side.
    r = run(ALT * 9 + [15.8, 11.0, 15.8])
    assert limits(r) == (11.4571, 5.1529, 17.7613)
    assert flagged(r) == {} and r.variation == "common cause"


def test_series_12_a_point_beyond_the_limit_does_not_count_towards_two_of_three():
    # 10, 12 x 9 then 16.0, 12.2, 25: ranges 17 x 2, 4.0, 3.8, 12.8; 12.8 >= 3.267 x 2.73 is screened, leaving
    # 41.8 / 19 = 2.2; mean 251.2 / 21 = 11.9619; 2-sigma 15.863, limit 17.8139. 16.0 is near the limit but 25
    # is beyond it (outside, not "close"), so there is only one close point in the window.
    r = run(ALT * 9 + [16.0, 12.2, 25.0])
    assert limits(r) == (11.9619, 6.1099, 17.8139)
    assert flagged(r) == {20: ("improvement", "outside limits")}


def test_series_13_too_few_points_gives_no_limits_and_no_icon():
    r = run(ALT * 5 + [13.0])
    assert r.points["mean"].isna().all() and r.variation == "" and "at least 12" in r.reason
    result = stats.xmr(ALT * 5 + [13.0], "higher")
    assert not result.enough_data and result.icon_variation == "" and "at least 12" in result.variation_text


def test_series_14_rebasing_recalculates_the_limits_from_the_change_point():
    # 10, 12 x 7 then 20, 22 x 6, rebased at index 14: two groups, 11 +/- 5.32 and 21 +/- 5.32, each common
    # cause (the moving range across the change point is not used). Without the rebase the step is a shift.
    r = run(ALT * 7 + [20.0, 22.0] * 6, rebase=[14], rebase_reasons=["new recording system"])
    assert limits(r, 0) == (11.0, 5.68, 16.32) and limits(r, 1) == (21.0, 15.68, 26.32)
    assert flagged(r) == {} and r.variation == "common cause"
    assert r.rebases == [(14, "new recording system")]
    assert run(ALT * 7 + [20.0, 22.0] * 6).variation == "special cause improving"


def test_series_15_a_gap_is_not_bridged():
    # 10, 12 x 6, a missing value, then 12 and 13 x 7: 20 values, mean 235 / 20 = 11.75; the ranges on either
    # side of the gap are left out: 11 x 2, 1, 6 x 0 = 23 / 18 = 1.2778; limits 8.3511 / 15.1489. The run above
    # the mean starts after the gap (index 13 to 20: 8 points).
    r = run(ALT * 6 + [None, 12.0] + [13.0] * 7)
    assert limits(r) == (11.75, 8.3511, 15.1489)
    assert flagged(r) == {i: ("improvement", "shift") for i in range(13, 21)}


def test_series_16_assurance_and_icons_for_the_latest_group():
    r = stats.xmr(ALT * 8, "higher", target=5.0)
    assert r.assurance == "consistently passing" and r.icon_variation == "● Common cause"
    assert r.icon_assurance.startswith("✓")
    r = stats.xmr(SHIFT, "lower", target=17.0)
    assert r.variation == "special cause concerning" and r.icon_variation == "▲ Concern (high)"
    assert r.assurance == "consistently passing"


def test_a_missing_latest_value_gives_no_verdict():
    r = run(ALT * 8 + [None])
    assert r.variation == "" and "missing or suppressed" in r.reason
