"""Recent trend as Fingertips marks it: the five most recent annual points, tested at 99.8%.

Reference: OHID Fingertips Public Health Technical Guidance, "Fingertips trend markers"
(fingertips.phe.org.uk/static-reports/public-health-technical-guidance/Presentation/Trend_markers.html).
Formulas re-implemented here; no code copied.

- Which series: at least five points, annual and non-overlapping (monthly or quarterly series are not
  tested: they get SPC for signal and noise instead), no breaks.
- Proportions (numerator and denominator for every point): the chi-squared test for trend in
  proportions (Armitage & Berry 2002; Cochran-Armitage), 1 degree of freedom.
- Every other indicator type needs a 95% confidence interval for every point: inverse-variance
  weighted least squares of the values on time, with each point's standard error taken from its
  interval (width / (2 x 1.96)); the statistic is slope^2 / var(slope).
- Neither numerator/denominator nor intervals: "cannot be calculated". A slope p-value on bare values
  is never given (an exact straight line would give p = 0).
- Significant when chi-squared > 9.5495 (p < 0.002, the 99.8% level).
- Direction: for proportions the least-squares slope of the log-odds log(r / (n - r)) on time (as Fingertips'
  TrendMarkerCalculator); otherwise the weighted regression's slope. Time is 1..5.
- Leave-one-out: a significant trend is reported only if leaving out each of the five points in turn
  leaves the direction unchanged; otherwise "no significant change" (the trend rests on one point).
  Cross-checked against Fingertips' own code (PholioVisualisation TrendMarkerCalculator.cs: ChiSquareConfidence
  9.54953570608324, SE = CI width / 3.92) and PHEindicatormethods' assign_trend_markers.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2

from cypp_dash import number
from cypp_dash.periods import PeriodError, parse_period

POINTS = 5
CRITICAL = 9.5495  # chi-squared, 1 df, at p = 0.002 (99.8%)
ALPHA = 0.002
SE_DIVISOR = 3.92  # 95% interval width / 3.92 = standard error (Fingertips' TrendMarkerCalculator)

INCREASING, DECREASING = "increasing", "decreasing"
NO_CHANGE, CANNOT = "no significant change", "cannot be calculated"


@dataclass(frozen=True)
class TrendResult:
    """The trend marker for a series: the contract's words and the test behind them."""

    trend: str  # increasing, decreasing, no significant change, cannot be calculated
    direction: str  # getting better, getting worse, or ""
    statistic: float | None
    p_value: float | None
    points: int
    method: str  # "chi-squared test for trend", "weighted regression" or ""
    text: str

    def row(self) -> dict:
        return {"trend": self.trend, "direction": self.direction, "statistic": self.statistic,
                "p_value": self.p_value, "points": self.points}


def chi_squared_for_trend(numerators: np.ndarray, denominators: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """Chi-squared test for trend in proportions: (statistic, gradient of the proportion on time).

    chi2 = N (N sum(r t) - R sum(n t))^2 / (R (N - R) (N sum(n t^2) - (sum(n t))^2)), R = sum(r), N = sum(n)."""
    r, n = numerators, denominators
    big_n, big_r = n.sum(), r.sum()
    top = big_n * (r * t).sum() - big_r * (n * t).sum()
    spread = big_n * (n * t * t).sum() - (n * t).sum() ** 2
    if spread <= 0:
        return 0.0, 0.0
    gradient = top / spread
    variance = big_r * (big_n - big_r) * spread
    if variance <= 0:
        return 0.0, gradient
    return float(big_n * top**2 / variance), float(gradient)


def weighted_regression(values: np.ndarray, ci_low: np.ndarray, ci_high: np.ndarray, t: np.ndarray
                        ) -> tuple[float, float]:
    """Inverse-variance weighted least squares of value on time: (slope^2 / var(slope), slope).

    Weight = 1 / SE^2 with SE = (upper - lower) / 3.92 from each point's 95% interval."""
    se = (ci_high - ci_low) / SE_DIVISOR
    if np.any(se <= 0):
        return 0.0, 0.0
    w = 1 / se**2
    sw, swt, swy = w.sum(), (w * t).sum(), (w * values).sum()
    swtt, swty = (w * t * t).sum(), (w * t * values).sum()
    spread = sw * swtt - swt**2
    if spread <= 0:
        return 0.0, 0.0
    slope = (sw * swty - swt * swy) / spread
    variance = sw / spread
    return float(slope**2 / variance), float(slope)


def logit_slope(numerators: np.ndarray, denominators: np.ndarray, t: np.ndarray) -> float:
    """Direction of a proportion's trend as Fingertips finds it: the least-squares slope of
    log(r / (n - r)) on time. Where a count is 0 or equals its denominator (log-odds infinite) the gradient
    of the proportion weighted by the denominators is used instead."""
    r, n = numerators, denominators
    if np.any(r <= 0) or np.any(r >= n):
        spread = n.sum() * (n * t * t).sum() - (n * t).sum() ** 2
        return float((n.sum() * (r * t).sum() - r.sum() * (n * t).sum()) / spread) if spread > 0 else 0.0
    y = np.log(r / (n - r))
    k = len(t)
    spread = k * (t * t).sum() - t.sum() ** 2
    return float((k * (y * t).sum() - y.sum() * t.sum()) / spread) if spread > 0 else 0.0


def _side(slope: float) -> int:
    """The slope's sign, 0 for a flat line. PHEindicatormethods' assign_trend_markers compares sign(beta), so a
    flat line when a year is left out breaks the trend; Fingertips' C# TrendMarkerCalculator counts a zero slope
    as rising. We follow the R package (the trend then rests on one year)."""
    return -1 if slope < 0 else 1 if slope > 0 else 0


def _meaning(sign: float, polarity: str) -> str:
    p = str(polarity or "").strip().lower()
    if not (p.startswith("high") or p.startswith("low")):
        return ""
    return "getting better" if (sign > 0) == p.startswith("high") else "getting worse"


def _fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def is_annual(period: str) -> bool:
    """True for a single financial or calendar year ("2023/24", "2023"); False for a quarter or a
    multi-year (overlapping, rolling) period. A label that is not a period is taken as the caller's year."""
    try:
        return parse_period(period).kind in ("financial year", "calendar year")
    except PeriodError:
        return True


def _test_for(vals: list, last: list[int], numerators: Sequence | None, denominators: Sequence | None,
              ci_low: Sequence | None, ci_high: Sequence | None, points: int
              ) -> tuple[str, Callable, Callable] | None:
    """Fingertips' choice of test for the last `points` figures: the chi-squared test for trend where every one
    has a numerator and denominator, else weighted regression where every one has a 95% interval, else None.
    Gives the method's name and its statistic and slope for a choice of the points (`keep`, for leave-one-out)."""
    n = len(vals)
    nums = [number.finite(x) for x in numerators] if numerators is not None and len(numerators) == n else None
    dens = [number.finite(x) for x in denominators] if denominators is not None and len(denominators) == n else None
    lows = [number.finite(x) for x in ci_low] if ci_low is not None and len(ci_low) == n else None
    highs = [number.finite(x) for x in ci_high] if ci_high is not None and len(ci_high) == n else None
    t = np.arange(1, points + 1, dtype=float)
    if nums and dens and all(nums[i] is not None and dens[i] is not None and dens[i] > 0
                             and 0 <= nums[i] <= dens[i] for i in last):
        r = np.array([nums[i] for i in last])
        d = np.array([dens[i] for i in last])
        method = "chi-squared test for trend"

        def statistic_of(keep):
            return chi_squared_for_trend(r[keep], d[keep], t[keep])[0]

        def slope_of(keep):
            return logit_slope(r[keep], d[keep], t[keep])
    elif lows and highs and all(lows[i] is not None and highs[i] is not None and highs[i] > lows[i]
                                for i in last):
        y = np.array([vals[i] for i in last])
        lo = np.array([lows[i] for i in last])
        hi = np.array([highs[i] for i in last])
        method = "weighted regression"

        def statistic_of(keep):
            return weighted_regression(y[keep], lo[keep], hi[keep], t[keep])[0]

        def slope_of(keep):
            return weighted_regression(y[keep], lo[keep], hi[keep], t[keep])[1]
    else:
        return None
    return method, statistic_of, slope_of


def recent_trend(values: Sequence, polarity: str = "none", numerators: Sequence | None = None,
                 denominators: Sequence | None = None, ci_low: Sequence | None = None,
                 ci_high: Sequence | None = None, periods: Sequence[str] | None = None,
                 points: int = POINTS) -> TrendResult:
    """The Fingertips recent-trend marker over the last `points` (5) figures (see the module notes).

    `periods`, when given, must be annual: otherwise the trend cannot be calculated (quarterly series
    get SPC). Missing values: the series must have its last five points present and unbroken.
    """
    vals = [number.finite(v) for v in values]
    n = len(vals)
    if periods is not None and any(not is_annual(p) for p in periods):
        return TrendResult(CANNOT, "", None, None, 0, "",
                           "Cannot be calculated: Fingertips tests annual, non-overlapping periods only; "
                           "quarterly figures are read with SPC instead.")
    last = list(range(max(0, n - points), n))
    if len(last) < points or any(vals[i] is None for i in last):
        have = sum(1 for i in last if vals[i] is not None)
        return TrendResult(CANNOT, "", None, None, have, "",
                           f"Cannot be calculated: a recent trend needs the {points} most recent yearly figures "
                           f"with no gaps; {have} held.")
    test = _test_for(vals, last, numerators, denominators, ci_low, ci_high, points)
    if test is None:
        return TrendResult(CANNOT, "", None, None, points, "",
                           "Cannot be calculated: the figures have neither numerators and denominators nor "
                           "confidence intervals, so change cannot be told from chance.")
    method, statistic_of, slope_of = test
    everything = np.ones(points, dtype=bool)
    statistic = statistic_of(everything)
    p = float(chi2.sf(statistic, 1))
    sign = _side(slope_of(everything))
    if statistic <= CRITICAL:
        return TrendResult(NO_CHANGE, "", statistic, p, points, method,
                           f"No significant change over the last {points} years ({_fmt_p(p)}; "
                           "Fingertips' test at 99.8%).")
    for j in range(points):
        keep = everything.copy()
        keep[j] = False
        if _side(slope_of(keep)) != sign:
            return TrendResult(NO_CHANGE, "", statistic, p, points, method,
                               f"No significant change over the last {points} years: the apparent trend "
                               f"({_fmt_p(p)}) rests on a single year.")
    trend = INCREASING if sign > 0 else DECREASING
    meaning = _meaning(sign, polarity)
    judged = f", {meaning}" if meaning else ""
    return TrendResult(trend, meaning, statistic, p, points, method,
                       f"{trend.capitalize()}{judged} over the last {points} years (significant at 99.8%, "
                       f"{_fmt_p(p)}).")
