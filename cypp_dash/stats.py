"""Statistics for the board's indicators: intervals, England comparison, trends, SPC, funnels.

Pure functions: no Streamlit, no DuckDB. Methods follow the OHID Fingertips Public Health
Technical Guidance and NHS England's "Making Data Count" as implemented by NHSRplotthedots.
Every function accepts missing data (None, NaN, pandas NA) and answers with None,
"not compared" or "not enough data" rather than raising.

Sources (formulas re-implemented here; no code copied):
- Wilson score interval: Wilson (1927); Newcombe & Altman (2000); Fingertips "Confidence
  intervals" technical guide, appendix 3.
- Byar's method for counts, with the exact chi-squared (Poisson) method below 10 events:
  Breslow & Day (1987); Armitage & Berry (2002); Fingertips guide appendices 1-2; the rule
  "exact below 10, Byar's from 10" is the one PHEindicatormethods::phe_rate and DHSC
  PHStatsMethods use.
- Recent trend: Fingertips "Trend markers" (five most recent points, chi-squared test for
  trend for proportions, a leave-one-out check that no single point decides the direction).
- XmR charts: NHS England Making Data Count; NHSRplotthedots (ptd_spc_standard,
  ptd_calculate_point_type, ptd_calculate_assurance_type).
- Funnel plots: Spiegelhalter (2005); PHE funnel plot guidance as coded in
  PHEindicatormethods::phe_funnels and PHStatsMethods.calculate_funnel_limits.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.stats import chi2, norm
from scipy.stats import t as student_t

# Fingertips switches from the exact Poisson method to Byar's approximation at 10 events.
EXACT_BELOW = 10
# XmR constants: process limits at mean +/- 2.66 x mean moving range (3 sigma); sigma is the
# mean moving range / d2, with d2 = 1.128 for moving ranges of two points.
LIMIT_FACTOR = 2.66
D2 = 1.128

RULE_LIMIT = "beyond a limit"
RULE_SHIFT = "run on one side of the mean"
RULE_TREND = "run rising or falling"
RULE_TWO_OF_THREE = "two of three near a limit"
RULE_ORDER = (RULE_LIMIT, RULE_SHIFT, RULE_TREND, RULE_TWO_OF_THREE)

COMPARISONS = ("better", "similar", "worse", "not compared")
FUNNEL_COLUMNS = ["denominator", "lower_95", "upper_95", "lower_998", "upper_998"]
SPC_COLUMNS = ["index", "value", "moving_range", "special_cause", "rule", "direction"]


@dataclass(frozen=True)
class Interval:
    """A confidence interval on the same scale as the value it surrounds."""

    low: float
    high: float
    level: float  # 0.95 or 0.998


@dataclass(frozen=True)
class Trend:
    """Direction of the recent trend and what it means for the board."""

    direction: str  # "increasing", "decreasing", "no significant change", "not enough data"
    meaning: str  # "getting better", "getting worse" or ""
    p_value: float | None
    points: int
    text: str


@dataclass(frozen=True)
class SpcResult:
    """An XmR chart: limits, the special-cause points and the board's verdicts."""

    enough_data: bool
    reason: str
    mean: float | None
    lower_limit: float | None
    upper_limit: float | None
    points: pd.DataFrame
    variation: str
    variation_text: str
    assurance: str
    assurance_text: str
    icon_variation: str
    icon_assurance: str


# --- small helpers ---------------------------------------------------------------------------


def _number(x) -> float | None:
    """A finite float, or None for anything missing or not a number."""
    if x is None or isinstance(x, bool):
        return None
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _numbers(xs) -> list[float | None]:
    if xs is None:
        return []
    try:
        return [_number(x) for x in xs]
    except TypeError:  # a single number instead of a sequence
        return [_number(xs)]


def _level(level) -> float:
    """Accept 0.95 or 95; anything outside (0, 1) after that is a programming error."""
    value = _number(level)
    if value is None:
        raise ValueError(f"confidence level must be a number, not {level!r}")
    if value > 1:
        value /= 100
    if not 0 < value < 1:
        raise ValueError(f"confidence level must be between 0 and 1 (or 0 and 100), not {level!r}")
    return value


def _z(level: float) -> float:
    return float(norm.ppf(1 - (1 - level) / 2))


def _polarity(polarity) -> str:
    """Normalise to "higher", "lower" or "none" ("higher is better" and "High" also work)."""
    text = str(polarity or "").strip().lower()
    if text.startswith("high"):
        return "higher"
    if text.startswith("low"):
        return "lower"
    return "none"


def _fmt(x: float) -> str:
    """A number as a board reads it: fewer decimals for bigger numbers."""
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:,.1f}"
    return f"{x:,.2f}"


def _fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


# --- confidence intervals --------------------------------------------------------------------


def _wilson(numerator: float, denominator: float, z: float) -> tuple[float, float]:
    p = numerator / denominator
    centre = 2 * numerator + z**2
    spread = z * math.sqrt(z**2 + 4 * numerator * (1 - p))
    scale = 2 * (denominator + z**2)
    low, high = (centre - spread) / scale, (centre + spread) / scale
    # Rounding can leave 0/n or n/n a hair outside [0, 1].
    return max(0.0, low), min(1.0, high)


def wilson_interval(
    numerator: float, denominator: float, level: float = 0.95, multiplier: float = 100.0
) -> Interval | None:
    """Wilson score interval for numerator/denominator, scaled by multiplier (100 = percent).

    None when the denominator is missing or not positive, or the numerator is missing,
    negative or larger than the denominator.
    """
    level = _level(level)
    x, n, m = _number(numerator), _number(denominator), _number(multiplier)
    if x is None or n is None or m is None or n <= 0 or x < 0 or x > n:
        return None
    low, high = _wilson(x, n, _z(level))
    return Interval(low * m, high * m, level)


def _count_interval(count: float, level: float) -> tuple[float, float]:
    """Interval for a Poisson count: exact (chi-squared) below 10 events, Byar's from 10."""
    alpha = 1 - level
    if count < EXACT_BELOW:
        low = 0.0 if count == 0 else float(chi2.ppf(alpha / 2, 2 * count)) / 2
        high = float(chi2.ppf(1 - alpha / 2, 2 * count + 2)) / 2
        return low, high
    z = _z(level)
    low = count * (1 - 1 / (9 * count) - z / (3 * math.sqrt(count))) ** 3
    upper = count + 1
    high = upper * (1 - 1 / (9 * upper) + z / (3 * math.sqrt(upper))) ** 3
    return low, high


def byar_interval(
    count: float, level: float = 0.95, denominator: float | None = None, multiplier: float = 1.0
) -> Interval | None:
    """Interval for a count by Byar's method (exact Poisson method below 10 events, as Fingertips).

    With a denominator the interval is for the rate count / denominator x multiplier. A count of
    0 has a lower limit of 0. None when the count is missing or negative, or a denominator is
    given but is missing or not positive.
    """
    level = _level(level)
    o, m = _number(count), _number(multiplier)
    if o is None or o < 0 or m is None:
        return None
    low, high = _count_interval(o, level)
    if denominator is None:
        return Interval(low * m, high * m, level)
    n = _number(denominator)
    if n is None or n <= 0:
        return None
    return Interval(low / n * m, high / n * m, level)


_RATE_PER = re.compile(r"^\s*rate\s+per\s+([\d,]+(?:\.\d+)?)", re.IGNORECASE)


def rate_multiplier(unit: str) -> float | None:
    """The N in a unit such as "rate per 10,000", or None when the unit is not a rate."""
    match = _RATE_PER.match(str(unit or ""))
    if not match:
        return None
    value = _number(match.group(1).replace(",", ""))
    return value if value and value > 0 else None


def interval_for(unit: str, value, numerator, denominator, level=0.95) -> Interval | None:
    """The confidence interval that suits a KPI's unit, or None when it has none.

    "percent": Wilson x 100 from numerator and denominator. "count": Byar's on the value (the
    count is its own numerator; the numerator is used if the value is missing). "rate per N":
    Byar's on the numerator, scaled by N / denominator. Any other unit: None.
    """
    text = str(unit or "").strip().lower()
    if text == "percent":
        return wilson_interval(numerator, denominator, level, 100.0)
    if text == "count":
        count = _number(value)
        return byar_interval(count if count is not None else numerator, level)
    per = rate_multiplier(text)
    if per is not None:
        if _number(denominator) is None:
            return None
        return byar_interval(numerator, level, denominator=denominator, multiplier=per)
    return None


# --- comparison with England -----------------------------------------------------------------


def compare_with_england(value, ci_low, ci_high, england, polarity: str) -> str:
    """Fingertips-style comparison of an area's 95% interval with England's value.

    "better" or "worse" when the whole interval lies on one side of England's value (judged by
    polarity), "similar" when England's value is inside the interval (bounds included), and
    "not compared" when anything is missing or the KPI has no better direction.
    """
    numbers = [_number(x) for x in (value, ci_low, ci_high, england)]
    direction = _polarity(polarity)
    if any(x is None for x in numbers) or direction == "none":
        return "not compared"
    _, a, b, eng = numbers
    low, high = min(a, b), max(a, b)
    if low <= eng <= high:
        return "similar"
    area_is_higher = low > eng
    return "better" if area_is_higher == (direction == "higher") else "worse"


# --- recent trend ----------------------------------------------------------------------------


def _armitage(x: np.ndarray, n: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """Chi-squared test for trend in proportions (Cochran-Armitage): (chi-squared, direction)."""
    big_n, big_x = n.sum(), x.sum()
    slope_part = big_n * (x * t).sum() - big_x * (n * t).sum()
    spread = big_n * (n * t**2).sum() - (n * t).sum() ** 2
    variance = big_x * (big_n - big_x) * spread
    if variance <= 0:
        return 0.0, 0.0
    return float(big_n * slope_part**2 / variance), float(np.sign(slope_part))


def _armitage_p(x, n, t) -> tuple[float, float]:
    stat, sign = _armitage(x, n, t)
    return float(chi2.sf(stat, 1)), sign


def _slope_sign(y: np.ndarray, t: np.ndarray) -> float:
    slope = np.polyfit(t, y, 1)[0]
    scale = max(1.0, float(np.abs(y).max()))
    return 0.0 if abs(slope) <= 1e-12 * scale else float(np.sign(slope))


def _slope_p(y: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """Two-sided t-test of the least-squares slope (n - 2 degrees of freedom): (p, direction)."""
    sign = _slope_sign(y, t)
    if sign == 0:
        return 1.0, 0.0
    slope, intercept = np.polyfit(t, y, 1)
    residuals = y - (slope * t + intercept)
    sse = float((residuals**2).sum())
    sxx = float(((t - t.mean()) ** 2).sum())
    if sse <= 1e-24 * max(1.0, float((y**2).sum())):
        return 0.0, sign  # points exactly on a line
    se = math.sqrt(sse / (len(y) - 2) / sxx)
    return float(2 * student_t.sf(abs(slope / se), len(y) - 2)), sign


def _plain_trend(direction: str, meaning: str, points: int, p: float) -> str:
    span = f"over the last {points} points"
    if direction == "no significant change":
        return f"No significant change {span} ({_fmt_p(p)})"
    verb = direction.capitalize()
    judged = f" and {meaning}" if meaning else ""
    tail = "" if meaning else "; this measure has no better direction"
    return f"{verb}{judged} {span} (significant, {_fmt_p(p)}){tail}"


def recent_trend(
    values: Sequence[float],
    polarity: str,
    numerators: Sequence[float] | None = None,
    denominators: Sequence[float] | None = None,
    points: int = 5,
    alpha: float = 0.05,
) -> Trend:
    """Recent trend over the last `points` non-missing values, in the style of Fingertips' markers.

    Test: when every one of those points has a usable numerator and denominator (0 <= numerator
    <= denominator, denominator > 0) the chi-squared test for trend in proportions
    (Cochran-Armitage, 1 degree of freedom), as Fingertips uses for proportions. Otherwise a
    two-sided t-test of the least-squares slope of the values (n - 2 degrees of freedom). That
    is the unweighted form of Fingertips' method for other indicator types, which weights each
    point by its confidence interval; we have no intervals here, so the scatter about the line
    estimates the noise. (Mann-Kendall was rejected: with 5 points it can only ever be
    significant when all 5 move the same way, p = 0.017, so it says little a board cannot see.)
    Time is the position in the input series, so a gap left by a missing value keeps its width.

    As Fingertips does, a significant result becomes "no significant change" when leaving out
    any one point reverses the direction: the trend then rests on a single point.

    alpha is 0.05 by default; Fingertips' own markers use 0.002 (chi-squared > 9.5495), so pass
    alpha=0.002 to reproduce them.
    """
    needed = max(3, int(points))
    vals = _numbers(values)
    present = [i for i, v in enumerate(vals) if v is not None][-needed:]
    if len(present) < needed:
        return Trend(
            "not enough data",
            "",
            None,
            len(present),
            f"Not enough data: {len(present)} point{'s' if len(present) != 1 else ''}; "
            f"a trend needs at least {needed}",
        )
    t = np.array(present, dtype=float)
    keep = [np.arange(len(t)) != j for j in range(len(t))]  # each point left out in turn
    nums, dens = _numbers(numerators), _numbers(denominators)
    use_proportions = len(nums) == len(vals) and len(dens) == len(vals)
    if use_proportions:
        pairs = [(nums[i], dens[i]) for i in present]
        use_proportions = all(
            x is not None and n is not None and n > 0 and 0 <= x <= n for x, n in pairs
        )
    if use_proportions:
        x = np.array([nums[i] for i in present], dtype=float)
        n = np.array([dens[i] for i in present], dtype=float)
        p, sign = _armitage_p(x, n, t)
        left_out = [_armitage(x[k], n[k], t[k])[1] for k in keep]
    else:
        y = np.array([vals[i] for i in present], dtype=float)
        p, sign = _slope_p(y, t)
        left_out = [_slope_sign(y[k], t[k]) for k in keep]
    if p >= alpha or sign == 0:
        return Trend(
            "no significant change", "", p, needed, _plain_trend("no significant change", "", needed, p)
        )
    if any(s != sign for s in left_out):
        text = (
            f"No significant change over the last {needed} points: the apparent trend "
            f"({_fmt_p(p)}) depends on a single point"
        )
        return Trend("no significant change", "", p, needed, text)
    direction = "increasing" if sign > 0 else "decreasing"
    better = _polarity(polarity)
    if better == "none":
        meaning = ""
    else:
        meaning = "getting better" if (sign > 0) == (better == "higher") else "getting worse"
    return Trend(direction, meaning, p, needed, _plain_trend(direction, meaning, needed, p))


# --- statistical process control (XmR) -------------------------------------------------------


def _runs(signs: np.ndarray) -> list[tuple[int, int, float]]:
    """(start, end inclusive, sign) for each run of equal non-zero signs."""
    runs, start = [], 0
    for i in range(1, len(signs) + 1):
        if i == len(signs) or signs[i] != signs[start]:
            if signs[start] != 0:
                runs.append((start, i - 1, float(signs[start])))
            start = i
    return runs


def _judge(sign: float, polarity: str) -> str:
    if polarity == "none":
        return "neutral"
    return "improving" if (sign > 0) == (polarity == "higher") else "concerning"


def _variation_icon(variation: str, sign: float) -> str:
    arrow, side = ("▲", "high") if sign > 0 else ("▼", "low")
    return {
        "common cause": "● Common cause",
        "special cause improving": f"{arrow} Improvement ({side})",
        "special cause concerning": f"{arrow} Concern ({side})",
        "special cause (neither better nor worse)": f"{arrow} Neither ({side})",
    }.get(variation, "")


ASSURANCE_ICONS = {
    "consistently passes": "✓ Consistently passes target",
    "consistently fails": "✗ Consistently fails target",
    "will hit and miss": "~ Hit and miss target",
}


def xmr(
    values: Sequence[float],
    polarity: str,
    target: float | None = None,
    min_points: int = 15,
    shift_run: int = 7,
    trend_run: int = 6,
) -> SpcResult:
    """XmR chart with Making Data Count rules, verdicts and icons.

    Missing values are skipped: the mean, moving ranges and runs use the non-missing points in
    order, and a missing point gets a row in `points` with no rule. Mean = mean of the points;
    moving range = |difference from the previous point|; limits = mean +/- 2.66 x mean moving
    range; sigma = mean moving range / 1.128. A point exactly on the mean (to 1e-9) counts as on
    neither side.

    Rules (every point in a qualifying run or group is flagged):
    - beyond a limit: above the upper or below the lower process limit;
    - run on one side of the mean: `shift_run` or more points in a row all above or all below
      the mean; a point on the mean breaks the run;
    - run rising or falling: `trend_run` or more points in a row each higher (or each lower)
      than the one before; an unchanged value breaks the run;
    - two of three near a limit: in any three points in a row, two or three lie beyond 2 sigma
      on the same side of the mean (points beyond the limit count too); those points are flagged.

    Direction of a special-cause point: for the three level rules, its side of the mean; for a
    point flagged only by a rising/falling run, the run's direction. Higher-is-better: above the
    mean or rising = improving; lower-is-better mirrors it; polarity "none" gives "neutral".

    Variation verdict: the latest point governs, as the Making Data Count icons do (and
    NHSRplotthedots, which takes the icon from the last point): if it is a special-cause point
    the verdict is its direction, otherwise "common cause" (the text then mentions any earlier
    special cause). Assurance (only with a target, enough data and a better direction):
    higher-is-better, target <= lower limit -> "consistently passes", target >= upper limit ->
    "consistently fails", otherwise "will hit and miss"; lower-is-better mirrors it.

    Differences from NHSRplotthedots (ptd_calculate_point_type.R, as read): its rising/falling
    rule needs 7 points (here `trend_run`, default 6, as the current Making Data Count guidance),
    its two-of-three rule also needs the third point on the same side and ignores points beyond
    a limit, and it colours every special-cause point by its side of the mean. Its assurance
    uses strict inequalities; here a target exactly on a limit counts as beyond it.
    """
    raw = _numbers(values)
    better = _polarity(polarity)
    present = [i for i, v in enumerate(raw) if v is not None]
    y = np.array([raw[i] for i in present], dtype=float)
    moving = np.abs(np.diff(y)) if len(y) > 1 else np.array([])

    frame = pd.DataFrame(
        {
            "index": np.arange(len(raw), dtype=int),
            "value": [np.nan if v is None else v for v in raw],
            "moving_range": np.nan,
            "special_cause": False,
            "rule": "",
            "direction": "",
        },
        columns=SPC_COLUMNS,
    )
    frame["value"] = frame["value"].astype(float)
    frame["moving_range"] = frame["moving_range"].astype(float)
    if len(moving):
        frame.loc[present[1:], "moving_range"] = moving

    if len(y) < max(min_points, 2):
        reason = f"SPC needs at least {max(min_points, 2)} points; this series has {len(y)}"
        return SpcResult(False, reason, None, None, None, frame, "", "", "", "", "", "")

    mean = float(y.mean())
    mean_mr = float(moving.mean())
    upper, lower = mean + LIMIT_FACTOR * mean_mr, mean - LIMIT_FACTOR * mean_mr
    sigma = mean_mr / D2
    tol = 1e-9 * max(1.0, abs(mean), mean_mr)
    side = np.where(np.abs(y - mean) <= tol, 0.0, np.sign(y - mean))

    m = len(y)
    rules: list[list[str]] = [[] for _ in range(m)]
    signs = np.zeros(m)

    beyond = ((y > upper + tol) & (side > 0)) | ((y < lower - tol) & (side < 0))
    for j in np.flatnonzero(beyond):
        rules[j].append(RULE_LIMIT)

    for start, end, _sign in _runs(side):
        if end - start + 1 >= shift_run:
            for j in range(start, end + 1):
                rules[j].append(RULE_SHIFT)

    step = np.diff(y)
    step_sign = np.where(np.abs(step) <= tol, 0.0, np.sign(step))
    trend_sign = np.zeros(m)
    for start, end, sign in _runs(step_sign):
        if end - start + 2 >= trend_run:  # k steps join k + 1 points
            for j in range(start, end + 2):
                rules[j].append(RULE_TREND)
                trend_sign[j] = sign

    near = (np.abs(y - mean) > 2 * sigma + tol) & (side != 0)
    two_of_three = np.zeros(m, dtype=bool)
    for start in range(m - 2):
        window = range(start, start + 3)
        for sign in (1.0, -1.0):
            hits = [j for j in window if near[j] and side[j] == sign]
            if len(hits) >= 2:
                two_of_three[hits] = True
    for j in np.flatnonzero(two_of_three):
        rules[j].append(RULE_TWO_OF_THREE)

    directions = []
    for j in range(m):
        level_rule = any(r in rules[j] for r in (RULE_LIMIT, RULE_SHIFT, RULE_TWO_OF_THREE))
        signs[j] = side[j] if level_rule else trend_sign[j]
        directions.append(_judge(signs[j], better) if rules[j] else "")

    ordered = ["; ".join(r for r in RULE_ORDER if r in found) for found in rules]
    frame.loc[present, "special_cause"] = [bool(r) for r in rules]
    frame.loc[present, "rule"] = ordered
    frame.loc[present, "direction"] = directions
    frame["special_cause"] = frame["special_cause"].astype(bool)

    last = m - 1
    limits_text = f"between {_fmt(lower)} and {_fmt(upper)}"
    if rules[last]:
        variation = {
            "improving": "special cause improving",
            "concerning": "special cause concerning",
            "neutral": "special cause (neither better nor worse)",
        }[directions[last]]
        judgement = {
            "improving": "in the better direction",
            "concerning": "in the worse direction",
            "neutral": "neither better nor worse, as this measure has no better direction",
        }[directions[last]]
        variation_text = (
            f"Special cause variation: the latest point ({ordered[last]}) is unlikely to be "
            f"chance; the change is {judgement}. Expected range {limits_text}."
        )
    else:
        variation = "common cause"
        earlier = [j for j in range(m) if rules[j]]
        variation_text = (
            f"Common cause variation: the latest point is within the expected range "
            f"({limits_text}) and part of no unusual pattern."
        )
        if earlier:
            j = earlier[-1]
            variation_text += (
                f" Earlier special cause ({directions[j]}) last seen at point {present[j] + 1}."
            )
    icon_variation = _variation_icon(variation, signs[last])

    assurance, assurance_text = "", ""
    goal = _number(target)
    if goal is not None and better == "none":
        assurance_text = "No assurance: this measure has no better direction to judge a target by."
    elif goal is not None:
        passes_at_low = better == "higher"
        if goal <= lower:
            assurance = "consistently passes" if passes_at_low else "consistently fails"
        elif goal >= upper:
            assurance = "consistently fails" if passes_at_low else "consistently passes"
        else:
            assurance = "will hit and miss"
        assurance_text = {
            "consistently passes": (
                f"The target ({_fmt(goal)}) is outside the expected range ({limits_text}) on "
                "the good side: if nothing changes, every future point should meet it."
            ),
            "consistently fails": (
                f"The target ({_fmt(goal)}) is outside the expected range ({limits_text}) on "
                "the wrong side: if nothing changes, it will not be met without a change in "
                "the process."
            ),
            "will hit and miss": (
                f"The target ({_fmt(goal)}) is inside the expected range ({limits_text}): "
                "if nothing changes, it will be met at some points and missed at others."
            ),
        }[assurance]
    icon_assurance = ASSURANCE_ICONS.get(assurance, "")

    return SpcResult(
        True,
        "",
        mean,
        lower,
        upper,
        frame,
        variation,
        variation_text,
        assurance,
        assurance_text,
        icon_variation,
        icon_assurance,
    )


# --- funnel plots ----------------------------------------------------------------------------

FUNNEL_LEVELS = ((0.95, "95"), (0.998, "998"))


def _proportion_limits(share: float, n: float, level: float) -> tuple[float, float]:
    """Limits for an observed proportion at denominator n: where its Wilson interval touches share.

    Inverting the Wilson score interval gives share +/- z sqrt(share (1 - share) / n): the same
    numbers as PHE's funnel formula (PHEindicatormethods sigma_adjustment), written simply.
    """
    half = _z(level) * math.sqrt(share * (1 - share) / n)
    return max(0.0, share - half), min(1.0, share + half)


def _rate_limits(rate: float, n: float, level: float) -> tuple[float, float]:
    """Limits for an observed rate (per 1) at denominator n: the counts whose interval touches n x rate."""
    expected = rate * n
    if expected <= 0:
        return 0.0, 0.0  # only a count of 0 has an interval reaching down to 0

    def low_at(count: float) -> float:
        return _count_interval(count, level)[1] - expected

    def high_at(count: float) -> float:
        return _count_interval(count, level)[0] - expected

    low_count = 0.0 if low_at(0.0) >= 0 else optimize.brentq(low_at, 0.0, expected)
    top = max(expected * 2, expected + 20 * math.sqrt(expected) + 20)
    high_count = optimize.brentq(high_at, expected, top)
    return low_count / n, high_count / n


def _limits(kind: str, share: float, n: float, level: float) -> tuple[float, float]:
    if kind == "rate":
        return _rate_limits(share, n, level)
    return _proportion_limits(share, n, level)


def funnel_limits(
    centre: float, denominators: Sequence[float], multiplier: float = 100.0, kind: str = "proportion"
) -> pd.DataFrame:
    """Funnel plot control limits around `centre` (on the multiplier scale) for a range of denominators.

    100 rows, denominators spaced evenly on a log scale from 0.8 x the smallest to 1.2 x the
    largest positive denominator given (log spacing puts more rows where the funnel bends).
    kind "proportion": limits where the Wilson interval of the observed value touches the
    centre, centre +/- z sqrt(p (1 - p) / n), clipped to 0 and the multiplier (Spiegelhalter;
    PHE funnel guidance). kind "rate": limits where the Poisson interval of the observed count
    (exact below 10 events, Byar's from 10) touches the expected count n x centre / multiplier.
    Empty frame when the centre or every denominator is missing.
    """
    c, m = _number(centre), _number(multiplier)
    dens = [d for d in _numbers(denominators) if d is not None and d > 0]
    kind = "rate" if str(kind).strip().lower() == "rate" else "proportion"
    if c is None or m is None or m <= 0 or not dens:
        return pd.DataFrame(columns=FUNNEL_COLUMNS, dtype=float)
    share = c / m
    if share < 0 or (kind == "proportion" and share > 1):
        return pd.DataFrame(columns=FUNNEL_COLUMNS, dtype=float)
    grid = np.geomspace(min(dens) * 0.8, max(dens) * 1.2, 100)
    rows = []
    for n in grid:
        row = {"denominator": float(n)}
        for level, tag in FUNNEL_LEVELS:
            low, high = _limits(kind, share, float(n), level)
            row[f"lower_{tag}"], row[f"upper_{tag}"] = low * m, high * m
        rows.append(row)
    return pd.DataFrame(rows, columns=FUNNEL_COLUMNS)


def funnel_position(value, denominator, centre, multiplier=100.0, kind="proportion") -> str:
    """Where a point sits on the funnel: "within 95% limits", "above 95% limit", "below 95% limit",
    "above 99.8% limit" or "below 99.8% limit"; "not compared" when anything is missing.

    A value exactly on a limit counts as within it.
    """
    v, n, c, m = (_number(x) for x in (value, denominator, centre, multiplier))
    kind = "rate" if str(kind).strip().lower() == "rate" else "proportion"
    if v is None or n is None or c is None or m is None or n <= 0 or m <= 0 or c < 0:
        return "not compared"
    if kind == "proportion" and (c > m or not 0 <= v <= m):
        return "not compared"
    for level, label in ((0.998, "99.8%"), (0.95, "95%")):
        low, high = _limits(kind, c / m, n, level)
        if v > high * m:
            return f"above {label} limit"
        if v < low * m:
            return f"below {label} limit"
    return "within 95% limits"
