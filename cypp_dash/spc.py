"""Statistical process control (XmR charts) as NHS England's Making Data Count, coded as NHSRplotthedots.

One small function per rule, named after the reference function it follows, so a reviewer can put the
two side by side. Reference: NHS-R Community, NHSRplotthedots (R package), files R/ptd_spc_standard.R,
R/ptd_calculate_point_type.R, R/ptd_calculate_assurance_type.R, R/ptd_add_rebase_column.R and
R/ptd_add_short_group_warnings.R (read at commit 050b07d, September 2025). Formulas re-implemented here;
no code copied.

What it does, per rebase group (a change point the plan names starts a new group, as `ptd_rebase()`):
- centre line = mean of the values;
- moving ranges = |difference from the previous value| inside the group (a gap is not bridged: a range
  next to a missing value is left out);
- moving-range screening, on by default (`screen_outliers = TRUE`): ranges of 3.267 x the mean moving
  range or more are left out and the mean moving range is taken again;
- process limits = mean +/- 2.66 x mean moving range (3 sigma, 2.66 = 3 / 1.128); the "close to the
  limits" line is mean +/- (2 x 2.66 / 3) x mean moving range (2 sigma);
- rules: a point outside the limits; 7 points each higher (or lower) than the last (`ptd_seven_point_trend`,
  every point of the run flagged); two of three points between the 2- and 3-sigma lines with all three on
  the same side of the mean (`ptd_two_in_three`); 7 points in a row on one side of the mean
  (`ptd_seven_point_one_side_mean`); precedence outside limits, then trend, then two-of-three, then shift
  (`ptd_special_cause_type`);
- variation icon from the latest point; assurance from the target against the latest group's limits
  (`ptd_calculate_assurance_type`, strict inequalities).

Where this differs from the reference, and why:
- Too few points: NHSRplotthedots draws "trial limits" for groups of fewer than 12 points and warns. Here
  a group with fewer than `min_points` values (12 by default, the reference's number) gets no limits, no
  flags and no icon, and the reason says so: a board reads an icon as settled.
- Missing values: the reference expects none. Here a missing value gets a row with no flag; it breaks
  runs (as a point on the mean does) and moving ranges next to it are left out.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cypp_dash.periods import PeriodError, parse_period

LIMIT = 2.66  # process limits: mean +/- 2.66 x mean moving range (ptd_spc_standard: `limit`)
CLOSE = 2 * LIMIT / 3  # the 2-sigma line (ptd_spc_standard: `limitclose`)
SCREEN = 3.267  # moving ranges of 3.267 x the mean moving range or more are screened out
MIN_POINTS = 12  # NHSRplotthedots: "trial limits created by groups of fewer than 12 points"
RUN = 7  # points in a shift or trend

RULE_OUTSIDE = "outside limits"
RULE_TREND = "trend"
RULE_TWO_OF_THREE = "two of three"
RULE_SHIFT = "shift"
RULES = (RULE_OUTSIDE, RULE_TREND, RULE_TWO_OF_THREE, RULE_SHIFT)  # the reference's precedence

# special_cause words (the contract's) and variation verdicts
IMPROVEMENT, CONCERN, NEITHER = "improvement", "concern", "neither"
VARIATION = {"": "common cause", IMPROVEMENT: "special cause improving", CONCERN: "special cause concerning",
             NEITHER: "special cause neither"}
ASSURANCE = {"consistent_pass": "consistently passing", "consistent_fail": "consistently failing",
             "inconsistent": "hit and miss"}

POINT_COLUMNS = ["index", "period", "value", "group", "moving_range", "screened", "mean", "lower_limit",
                 "upper_limit", "special_cause", "rules", "special_cause_type", "direction"]


# --- the rules, one function each (vectors are numpy arrays of one rebase group) ---------------------

def seven_point_one_side_mean(relative_to_mean: np.ndarray) -> np.ndarray:
    """1 (or -1) at a point that ends 7 points in a row on the same side of the mean; 0 elsewhere.

    As `ptd_seven_point_one_side_mean`: the point and the 6 before it share a non-zero sign.
    A point on the mean (sign 0) breaks the run."""
    v = np.asarray(relative_to_mean, dtype=float)
    out = np.zeros(len(v))
    for i in range(RUN - 1, len(v)):
        window = v[i - RUN + 1: i + 1]
        if v[i] != 0 and np.all(window == v[i]):
            out[i] = v[i]
    return out


def seven_point_trend(y: np.ndarray) -> np.ndarray:
    """1 at a point that ends 7 points each higher than the last, -1 each lower; 0 elsewhere.

    As `ptd_seven_point_trend`: 6 consecutive steps of the same strict sign; an unchanged value (or a
    missing one) breaks the run."""
    y = np.asarray(y, dtype=float)
    out = np.zeros(len(y))
    if len(y) < RUN:
        return out
    with np.errstate(invalid="ignore"):
        steps = np.sign(np.diff(y))
    steps = np.nan_to_num(steps, nan=0.0)
    for i in range(RUN - 1, len(y)):
        d = steps[i - RUN + 1: i]
        if np.all(d == 1):
            out[i] = 1
        elif np.all(d == -1):
            out[i] = -1
    return out


def part_of_seven(ends: np.ndarray) -> np.ndarray:
    """1 at every point of a run of 7 whose last point is marked in `ends` (`ptd_part_of_seven_trend`)."""
    ends = np.asarray(ends, dtype=float)
    n = len(ends)
    return np.array([1.0 if np.any(np.abs(ends[i: min(n, i + RUN)]) == 1) else 0.0 for i in range(n)])


def two_in_three(close_to_limits: np.ndarray, relative_to_mean: np.ndarray) -> np.ndarray:
    """1 at a point in some window of three in a row where at least two points are close to the limits
    (beyond 2 sigma but inside 3 sigma) and all three are on the same side of the mean (`ptd_two_in_three`)."""
    v = np.concatenate([[0, 0], np.asarray(close_to_limits, dtype=float), [0, 0]])
    r = np.concatenate([[0, 0], np.asarray(relative_to_mean, dtype=float), [0, 0]])
    out = np.zeros(len(v) - 4)
    for i in range(len(out)):
        for start in (i, i + 1, i + 2):
            if v[start: start + 3].sum() >= 2 and abs(r[start: start + 3].sum()) == 3:
                out[i] = 1
                break
    return out


def part_of_two_in_three(two: np.ndarray, close_to_limits: np.ndarray) -> np.ndarray:
    """The points of a two-in-three window that are themselves close to the limits (`ptd_part_of_two_in_three`)."""
    return ((np.asarray(two) == 1) & (np.asarray(close_to_limits, dtype=float) == 1)).astype(float)


def trend_direction_at_points(y: np.ndarray, part_trend: np.ndarray) -> np.ndarray:
    """Direction of the trend each trend point belongs to: the step to its right when the next point is in
    the trend too, else the step from its left (as `ptd_special_cause_type`'s `sdy`)."""
    y = np.asarray(y, dtype=float)
    with np.errstate(invalid="ignore"):
        steps = np.nan_to_num(np.sign(np.diff(y)), nan=0.0)
    right = np.concatenate([steps, steps[-1:]]) if len(steps) else np.zeros(len(y))
    left = np.concatenate([[0.0], steps])
    nxt = np.concatenate([part_trend[1:], [0.0]])
    return np.where((nxt != 0) & (part_trend != 0), right, left)


def special_cause_type(y, relative_to_mean, close_to_limits, outside_limits) -> tuple[list[str], list[list[str]]]:
    """Each point's special-cause type in the reference's words ("Above UCL", "7 Point Trend (Increasing)",
    "2 in 3 Below CL", "7 Points Above CL", "Common Cause") by its precedence, and every rule that flags it."""
    y = np.asarray(y, dtype=float)
    rtm = np.asarray(relative_to_mean, dtype=float)
    close = np.asarray(close_to_limits, dtype=float)
    outside = np.asarray(outside_limits, dtype=float)
    trend = part_of_seven(seven_point_trend(y))
    two = part_of_two_in_three(two_in_three(close, rtm), close)
    shift = part_of_seven(seven_point_one_side_mean(rtm))
    sdy = trend_direction_at_points(y, trend)
    types, rules = [], []
    for i in range(len(y)):
        side = "Above" if rtm[i] > 0 else "Below"
        found = [name for name, flag in ((RULE_OUTSIDE, outside[i]), (RULE_TREND, trend[i]),
                                         (RULE_TWO_OF_THREE, two[i]), (RULE_SHIFT, shift[i])) if flag]
        rules.append(found)
        if outside[i]:
            types.append("Above UCL" if rtm[i] == 1 else "Below LCL")
        elif trend[i]:
            types.append(f"7 Point Trend ({'In' if sdy[i] == 1 else 'De'}creasing)")
        elif two[i]:
            types.append(f"2 in 3 {side} CL")
        elif shift[i]:
            types.append(f"7 Points {side} CL")
        else:
            types.append("Common Cause")
    return types, rules


def point_type(special_cause: str, improvement_direction: int) -> str:
    """"improvement", "concern", "neither" or "" (common cause) for a special-cause type (`ptd_point_type`).

    improvement_direction is 1 (higher is better), -1 (lower is better) or 0 (neither)."""
    v = 1 if ("Above" in special_cause or "Increasing" in special_cause) else \
        -1 if ("Below" in special_cause or "Decreasing" in special_cause) else 0
    if v == 0:
        return ""
    if improvement_direction == 0:
        return NEITHER
    return IMPROVEMENT if v * improvement_direction > 0 else CONCERN


def assurance_type(target: float | None, lower_limit: float | None, upper_limit: float | None,
                   improvement_direction: int) -> str:
    """"consistently passing", "consistently failing", "hit and miss", or "" without a target, limits or a
    better direction (`ptd_calculate_assurance_type`: target above the upper limit fails a higher-is-better
    measure, below the lower limit passes it; strict inequalities)."""
    if target is None or lower_limit is None or upper_limit is None or improvement_direction == 0:
        return ""
    increasing = improvement_direction == 1
    if target > upper_limit:
        return ASSURANCE["consistent_fail" if increasing else "consistent_pass"]
    if target < lower_limit:
        return ASSURANCE["consistent_pass" if increasing else "consistent_fail"]
    return ASSURANCE["inconsistent"]


# --- limits -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    """One rebase group's centre line and limits, and which moving ranges were screened out."""

    mean: float
    mean_moving_range: float
    lower: float
    upper: float
    lower_close: float
    upper_close: float
    moving_range: np.ndarray
    screened: np.ndarray


def moving_ranges(y: np.ndarray) -> np.ndarray:
    """|y[i] - y[i-1]| inside a group; NaN for the first point and next to a missing value (gaps not bridged)."""
    y = np.asarray(y, dtype=float)
    return np.concatenate([[np.nan], np.abs(np.diff(y))]) if len(y) else np.array([])


def screen_moving_ranges(mr: np.ndarray) -> np.ndarray:
    """True for a moving range of 3.267 x the mean moving range or more: left out of the limits."""
    mr = np.asarray(mr, dtype=float)
    present = mr[~np.isnan(mr)]
    if not len(present):
        return np.zeros(len(mr), dtype=bool)
    with np.errstate(invalid="ignore"):
        return ~np.isnan(mr) & ~(mr < SCREEN * present.mean())


def process_limits(y: np.ndarray, screen_outliers: bool = True) -> Limits | None:
    """Mean, mean moving range (after screening) and limits at 2.66 and 2 x 2.66 / 3 mean moving ranges."""
    y = np.asarray(y, dtype=float)
    present = y[~np.isnan(y)]
    if not len(present):
        return None
    mean = float(present.mean())
    mr = moving_ranges(y)
    screened = screen_moving_ranges(mr) if screen_outliers else np.zeros(len(mr), dtype=bool)
    kept = mr[~np.isnan(mr) & ~screened]
    amr = float(kept.mean()) if len(kept) else float("nan")
    if math.isnan(amr):
        return None
    return Limits(mean, amr, mean - LIMIT * amr, mean + LIMIT * amr, mean - CLOSE * amr, mean + CLOSE * amr,
                  mr, screened)


# --- the whole chart ----------------------------------------------------------------------------------

@dataclass
class Spc:
    """An XmR chart: per-point rows, the groups' limits and the board's verdicts."""

    points: pd.DataFrame
    variation: str  # the contract's words, "" when there is no verdict
    assurance: str
    reason: str  # why there is no verdict, in plain words ("" when there is one)
    improvement_direction: int
    target: float | None
    rebases: list[tuple[int, str]] = field(default_factory=list)  # (index, reason) where a new group starts
    min_points: int = MIN_POINTS

    @property
    def latest(self) -> pd.Series | None:
        pts = self.points
        return None if pts.empty else pts.iloc[-1]

    @property
    def enough_data(self) -> bool:
        last = self.latest
        return last is not None and not pd.isna(last["mean"])

    def summary_row(self) -> dict:
        return {"period": "summary", "variation": self.variation, "assurance": self.assurance}


def improvement_direction(polarity: str) -> int:
    """1 for "higher" (is better), -1 for "lower", 0 otherwise."""
    text = str(polarity or "").strip().lower()
    return 1 if text.startswith("high") else -1 if text.startswith("low") else 0


def _value(x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v if math.isfinite(v) else float("nan")


def spc(values: Sequence, polarity: str = "none", target: float | None = None, periods: Sequence | None = None,
        rebase: Sequence[int] | None = None, rebase_reasons: Sequence[str] | None = None,
        screen_outliers: bool = True, min_points: int = MIN_POINTS) -> Spc:
    """XmR chart of `values` in time order, as NHSRplotthedots' `ptd_spc()` (see the module notes).

    `rebase` holds the positions where a new group (recalculated limits) starts, as the plan's change
    points; `rebase_reasons` says why, for the chart. `target` gives the assurance verdict.
    The steps follow ptd_spc's: the groups (its rebase column), each group's limits and point types, then
    the latest point's variation and assurance.
    """
    y = np.array([_value(v) for v in values], dtype=float)
    n = len(y)
    periods = list(periods) if periods is not None else [str(i + 1) for i in range(n)]
    group, rebases = _groups(n, rebase, rebase_reasons)
    direction = improvement_direction(polarity)
    rows = []
    for g in range(group.max() + 1 if n else 0):
        rows.extend(_group_points(g, np.flatnonzero(group == g), y, periods, direction, screen_outliers, min_points))
    points = pd.DataFrame(rows, columns=POINT_COLUMNS)
    goal = None if target is None or math.isnan(_value(target)) else _value(target)
    variation, assurance, reason = _verdict(points, y, group, goal, direction, min_points)
    return Spc(points, variation, assurance, reason, direction, goal, rebases, max(2, min_points))


def _groups(n: int, rebase: Sequence[int] | None, rebase_reasons: Sequence[str] | None
            ) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Each point's group (0, then 1 from the first change point, ...) and the change points with their reasons."""
    starts = sorted({int(i) for i in (rebase or []) if 0 < int(i) < n})
    reasons = list(rebase_reasons or [])
    rebases = []
    for k, i in enumerate(int(j) for j in (rebase or [])):
        if 0 < i < n:
            rebases.append((i, reasons[k] if k < len(reasons) else ""))
    rebases.sort()
    group = np.zeros(n, dtype=int)
    for s in starts:
        group[s:] += 1
    return group, rebases


def _group_points(g: int, idx: np.ndarray, y: np.ndarray, periods: list, direction: int, screen_outliers: bool,
                  min_points: int) -> list[dict]:
    """One group's rows of the chart: its limits (none when it has too few points) and each point's special
    cause and rules."""
    gy = y[idx]
    count = int((~np.isnan(gy)).sum())
    limits = process_limits(gy, screen_outliers) if count >= max(2, min_points) else None
    mr = moving_ranges(gy)
    if limits is None:
        return [{"index": int(i), "period": periods[i], "value": gy[k], "group": g,
                 "moving_range": mr[k], "screened": False, "mean": np.nan, "lower_limit": np.nan,
                 "upper_limit": np.nan, "special_cause": "", "rules": "", "special_cause_type": "",
                 "direction": ""} for k, i in enumerate(idx)]
    with np.errstate(invalid="ignore"):
        rtm = np.nan_to_num(np.sign(gy - limits.mean), nan=0.0)
        outside = np.nan_to_num((gy > limits.upper) | (gy < limits.lower)).astype(float)
        close = ((outside == 0) & ((gy < limits.lower_close) | (gy > limits.upper_close))).astype(float)
    types, rules = special_cause_type(gy, rtm, close, outside)
    rows = []
    for k, i in enumerate(idx):
        missing = math.isnan(gy[k])
        kind = "" if missing else point_type(types[k], direction)
        rows.append({"index": int(i), "period": periods[i], "value": gy[k], "group": g,
                     "moving_range": mr[k], "screened": bool(limits.screened[k]), "mean": limits.mean,
                     "lower_limit": limits.lower, "upper_limit": limits.upper, "special_cause": kind,
                     "rules": "" if missing else "; ".join(rules[k]),
                     "special_cause_type": "" if missing or types[k] == "Common Cause" else types[k],
                     "direction": kind})
    return rows


def _verdict(points: pd.DataFrame, y: np.ndarray, group: np.ndarray, goal: float | None, direction: int,
             min_points: int) -> tuple[str, str, str]:
    """The latest point's variation and assurance, or the reason there is none (no figures, the latest
    missing, too few points for limits)."""
    if not len(y):
        return "", "", "SPC needs figures; this series has none."
    last = points.iloc[-1]
    in_group = int((group == group[-1]).sum() - np.isnan(y[group == group[-1]]).sum())
    if math.isnan(last["value"]):
        return "", "", "The latest figure is missing or suppressed, so there is no SPC verdict for it."
    if pd.isna(last["mean"]):
        return "", "", (f"Too few points for process limits: {in_group} in the latest "
                        f"{'period since the last recalculation' if group[-1] else 'series'}; SPC needs at least "
                        f"{max(2, min_points)}. NHSRplotthedots would draw provisional \"trial limits\" here; this "
                        "dashboard shows none, as a board reads an icon as settled.")
    variation = VARIATION[last["special_cause"]]
    assurance = assurance_type(goal, float(last["lower_limit"]), float(last["upper_limit"]), direction)
    return variation, assurance, ""


def rebase_positions(periods: Sequence[str], rebase_periods: Sequence[str]) -> list[int]:
    """Positions in `periods` of the change points (a change point not in the series is ignored)."""
    wanted = {_period_key(p) for p in rebase_periods}
    return [i for i, p in enumerate(periods) if _period_key(p) in wanted]


def _period_key(period) -> str:
    """A period's standard label ("2024/25 q1" and "2024/25 Q1" are one), else its text."""
    try:
        return parse_period(str(period)).label
    except PeriodError:
        return str(period).strip()
