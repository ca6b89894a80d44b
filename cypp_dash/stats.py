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
- Recent trend: cypp_dash.trend (Fingertips "Trend markers": five annual points, chi-squared test for trend
  or weighted regression, 9.5495 at 99.8%, leave-one-out).
- XmR charts: cypp_dash.spc (NHSRplotthedots: screening at 3.267, limits at 2.66, 7-point shift and trend,
  two-in-three, precedence, rebasing, assurance).
- Funnel plots: Spiegelhalter (2005); PHEindicatormethods calculate_funnel_limits (Wilson for proportions,
  exact Poisson for rates) and PHStatsMethods.
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

from cypp_dash import number
from cypp_dash import spc as spc_mod
from cypp_dash import trend as trend_mod

# Fingertips switches from the exact Poisson method to Byar's approximation at 10 events.
EXACT_BELOW = 10


COMPARISONS = ("better", "similar", "worse", "not compared")
FUNNEL_COLUMNS = ["denominator", "lower_95", "upper_95", "lower_998", "upper_998"]


@dataclass(frozen=True)
class Interval:
    """A confidence interval on the same scale as the value it surrounds."""

    low: float
    high: float
    level: float  # 0.95 or 0.998


# --- small helpers ---------------------------------------------------------------------------


def _number(x) -> float | None:
    """A finite float, or None for anything missing or not a number (true/false is not a number here)."""
    return None if isinstance(x, bool) else number.finite(x)


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


# --- recent trend (Fingertips; the method lives in cypp_dash.trend) --------------------------------

Trend = trend_mod.TrendResult


def recent_trend(values: Sequence[float], polarity: str, numerators: Sequence[float] | None = None,
                 denominators: Sequence[float] | None = None, points: int = trend_mod.POINTS,
                 ci_low: Sequence[float] | None = None, ci_high: Sequence[float] | None = None,
                 periods: Sequence[str] | None = None) -> Trend:
    """The Fingertips recent-trend marker (see cypp_dash.trend): five annual points, chi-squared test for
    trend at 99.8% for proportions, weighted regression where there are intervals, else "cannot be
    calculated"."""
    return trend_mod.recent_trend(values, polarity, numerators=numerators, denominators=denominators,
                                  ci_low=ci_low, ci_high=ci_high, periods=periods, points=points)


# --- statistical process control (NHSRplotthedots; the rules live in cypp_dash.spc) -----------------

VARIATION_ICONS = {
    ("special cause improving", 1): "▲ Improvement (high)", ("special cause improving", -1): "▼ Improvement (low)",
    ("special cause concerning", 1): "▲ Concern (high)", ("special cause concerning", -1): "▼ Concern (low)",
    ("special cause neither", 1): "▲ Neither (high)", ("special cause neither", -1): "▼ Neither (low)",
}
ASSURANCE_ICONS = {
    "consistently passing": "✓ Consistently passing the target",
    "consistently failing": "✗ Consistently failing the target",
    "hit and miss": "~ Hit and miss the target",
}


@dataclass(frozen=True)
class SpcResult:
    """An XmR chart with the board's words: the spc.Spc result plus verdict texts and icons."""

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
    rebases: tuple = ()
    min_points: int = spc_mod.MIN_POINTS


def _side_of(special_type: str) -> int:
    return 1 if ("Above" in special_type or "Increasing" in special_type) else -1


def xmr(values: Sequence[float], polarity: str, target: float | None = None, min_points: int = spc_mod.MIN_POINTS,
        periods: Sequence[str] | None = None, rebase: Sequence[int] | None = None,
        rebase_reasons: Sequence[str] | None = None, screen_outliers: bool = True) -> SpcResult:
    """XmR chart as NHSRplotthedots (cypp_dash.spc.spc), with the verdicts said in words.

    `rebase`: positions where the limits are recalculated (the plan's change points)."""
    chart = spc_mod.spc(values, polarity, target=target, periods=periods, rebase=rebase,
                        rebase_reasons=rebase_reasons, screen_outliers=screen_outliers, min_points=min_points)
    pts = chart.points
    last = chart.latest
    if not chart.variation:
        return SpcResult(False, chart.reason, None, None, None, pts, "", chart.reason, "", "", "", "",
                         tuple(chart.rebases), chart.min_points)
    mean, low, high = float(last["mean"]), float(last["lower_limit"]), float(last["upper_limit"])
    limits_text = f"between {_fmt(low)} and {_fmt(high)}"
    since = " since the recalculation" if int(last["group"]) else ""
    if chart.variation == "common cause":
        earlier = pts[(pts["special_cause"] != "") & (pts["group"] == last["group"])]
        text = (f"Common cause variation: the latest point is within the expected range ({limits_text}) and part "
                "of no unusual pattern.")
        if not earlier.empty:
            text += f" Earlier special cause ({earlier.iloc[-1]['special_cause']}) at {earlier.iloc[-1]['period']}."
        icon = "● Common cause"
    else:
        judgement = {"special cause improving": "in the better direction",
                     "special cause concerning": "in the worse direction",
                     "special cause neither": "neither better nor worse, as this measure has no better direction"}
        text = (f"Special cause variation: the latest point ({last['rules']}) is unlikely to be chance; the change "
                f"is {judgement[chart.variation]}. Expected range{since} {limits_text}.")
        icon = VARIATION_ICONS[(chart.variation, _side_of(last["special_cause_type"]))]
    assurance_text = ""
    goal = chart.target
    if goal is not None and chart.improvement_direction == 0:
        assurance_text = "No assurance: this measure has no better direction to judge a target by."
    elif chart.assurance:
        assurance_text = {
            "consistently passing": f"The target ({_fmt(goal)}) is outside the expected range ({limits_text}) on "
                                    "the good side: if nothing changes, every future point should meet it.",
            "consistently failing": f"The target ({_fmt(goal)}) is outside the expected range ({limits_text}) on "
                                    "the wrong side: it will not be met without a change in the process.",
            "hit and miss": f"The target ({_fmt(goal)}) is inside the expected range ({limits_text}): if nothing "
                            "changes, it will be met at some points and missed at others.",
        }[chart.assurance]
    return SpcResult(True, "", mean, low, high, pts, chart.variation, text, chart.assurance, assurance_text, icon,
                     ASSURANCE_ICONS.get(chart.assurance, ""), tuple(chart.rebases), chart.min_points)


# --- funnel plots ----------------------------------------------------------------------------

FUNNEL_LEVELS = ((0.95, "95"), (0.998, "998"))


def _proportion_limits(share: float, n: float, level: float) -> tuple[float, float]:
    """Limits for an observed proportion at denominator n: where its Wilson interval touches share.

    Inverting the Wilson score interval gives share +/- z sqrt(share (1 - share) / n): the same
    numbers as PHE's funnel formula (PHEindicatormethods sigma_adjustment), written simply.
    """
    half = _z(level) * math.sqrt(share * (1 - share) / n)
    return max(0.0, share - half), min(1.0, share + half)


def _exact_count_interval(count: float, level: float) -> tuple[float, float]:
    """Exact Poisson interval for a count, continuous in the count: chi-squared quantiles / 2."""
    alpha = 1 - level
    low = 0.0 if count <= 0 else float(chi2.ppf(alpha / 2, 2 * count)) / 2
    return low, float(chi2.ppf(1 - alpha / 2, 2 * count + 2)) / 2


def _rate_limits(rate: float, n: float, level: float) -> tuple[float, float]:
    """Funnel limits for a rate (per 1) at denominator n by exact Poisson limits, as PHEindicatormethods'
    calculate_funnel_limits (poisson_funnel): the upper limit is the count whose exact lower bound equals
    the expected count n x rate, the lower limit the count whose exact upper bound does, each / n."""
    expected = rate * n
    if expected <= 0:
        return 0.0, 0.0

    def low_at(count: float) -> float:
        return _exact_count_interval(count, level)[1] - expected

    def high_at(count: float) -> float:
        return _exact_count_interval(count, level)[0] - expected

    low_count = 0.0 if low_at(0.0) >= 0 else optimize.brentq(low_at, 0.0, expected, xtol=1e-12)
    top = max(expected * 2, expected + 20 * math.sqrt(expected) + 40)
    high_count = optimize.brentq(high_at, expected, top, xtol=1e-12)
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
    PHEindicatormethods sigma_adjustment, which gives the same numbers). kind "rate": exact Poisson
    limits on the rate's own scale (see _rate_limits).
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

    The point is compared with the limits drawn at its own denominator (so the words always agree with
    the picture); a value exactly on a limit counts as within it. PHEindicatormethods'
    assign_funnel_significance compares the centre with the point's own interval instead: the same for
    proportions, and for rates it differs only where Byar's approximation and the exact limit disagree.
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


FUNNEL_TABLE_COLUMNS = ["area", "value", "centre", "lower_95", "upper_95", "lower_998", "upper_998", "position"]


def funnel_kind(unit: str) -> tuple[str, float] | None:
    """("proportion", 100) for a percentage, ("rate", N) for "rate per N", None where there is no funnel
    (plain counts and anything else: a count has no denominator to set its expected spread)."""
    text = str(unit or "").strip().lower()
    if text in ("percent", "%", "percentage", "proportion"):
        return "proportion", 100.0
    per = rate_multiplier(text)
    if per is not None:
        return "rate", per
    return None


def funnel_table(areas: Sequence[str], numerators: Sequence[float], denominators: Sequence[float], unit: str,
                 centre: float | None = None) -> pd.DataFrame:
    """One row per area: its value, the centre, its 95% and 99.8% limits at its own denominator and its
    position. The centre is `centre` when given (e.g. the parent's figure, not then plotted as a point),
    else the pooled figure of the areas: sum of numerators / sum of denominators x multiplier, as
    PHEindicatormethods' calculate_funnel_limits. Raises ValueError for a unit with no funnel."""
    kind = funnel_kind(unit)
    if kind is None:
        raise ValueError(f"no funnel plot for {unit!r}: funnels are drawn for percentages and rates, not counts")
    method, multiplier = kind
    nums, dens = _numbers(numerators), _numbers(denominators)
    usable = [(a, x, n) for a, x, n in zip(areas, nums, dens) if x is not None and n is not None and n > 0]
    if centre is None:
        total_n = sum(n for _, _, n in usable)
        centre = sum(x for _, x, _ in usable) / total_n * multiplier if total_n else None
    rows = []
    for a, x, n in zip(areas, nums, dens):
        row = {"area": a, "value": None, "centre": centre, "lower_95": None, "upper_95": None,
               "lower_998": None, "upper_998": None, "position": "not compared"}
        if x is not None and n is not None and n > 0 and centre is not None:
            row["value"] = x / n * multiplier
            share = centre / multiplier
            if share >= 0 and (method == "rate" or share <= 1):
                for level, tag in FUNNEL_LEVELS:
                    low, high = _limits(method, share, n, level)
                    row[f"lower_{tag}"], row[f"upper_{tag}"] = low * multiplier, high * multiplier
                row["position"] = funnel_position(row["value"], n, centre, multiplier, method)
        rows.append(row)
    return pd.DataFrame(rows, columns=FUNNEL_TABLE_COLUMNS)


# --- the methods in plain English (About the data draws these, so the page cannot drift from the code) -----

@dataclass(frozen=True)
class MethodNote:
    """One statistical method as the board reads it: what it is for, how it works, and its source."""

    name: str
    plain: str
    source: str


def method_notes(trend_points: int = trend_mod.POINTS, spc_min_points: int = spc_mod.MIN_POINTS) -> list[MethodNote]:
    """Each method this dashboard uses, in plain English, with the constants the code itself uses."""
    return [
        MethodNote(
            "Confidence intervals",
            "A range that would contain the true figure 95 times in 100. Percentages use the Wilson score method; "
            f"counts and rates use the exact Poisson method below {EXACT_BELOW} events and Byar's method from "
            f"{EXACT_BELOW}. A figure whose interval includes the figure it is compared with (England, a baseline "
            "or a target) is \"not significantly different\": the board sees \"too few to tell\", neither green "
            "nor red on that rule.",
            "OHID Fingertips Public Health Technical Guidance (confidence intervals); DHSC PHEindicatormethods "
            "(phe_proportion, phe_rate) and PHStatsMethods."),
        MethodNote(
            "Compared with England",
            "Better or worse when the whole 95% interval lies on one side of England's figure, similar when it "
            "includes it. England's figure is for the same period where held; an older one is named with its "
            "period, and one more than two years older is \"comparator out of date\", never better or worse. "
            "Districts are compared with England and with the plan's area in the same way.",
            "OHID Fingertips: comparison with a benchmark by confidence interval (sub-areas rated the same way)."),
        MethodNote(
            "Recent trend",
            f"Only for yearly figures: the {trend_points} most recent, non-overlapping years. Percentages with "
            "numerators and denominators use the chi-squared test for trend; other figures need 95% intervals "
            "and use a weighted regression. The trend counts only if it would arise by chance less than 2 times "
            f"in 1,000 (chi-squared above {trend_mod.CRITICAL}, 99.8%), and only if leaving out any one year "
            "keeps its direction. Without numerators or intervals it \"cannot be calculated\". Quarterly figures "
            "are read with statistical process control instead.",
            "OHID Fingertips Public Health Technical Guidance, \"Fingertips trend markers\"."),
        MethodNote(
            "Statistical process control (SPC)",
            "An XmR chart separates ordinary ups and downs (common cause) from change worth acting on (special "
            f"cause). The centre line is the mean; the process limits are the mean plus or minus {spc_mod.LIMIT} "
            f"times the average moving range, after leaving out moving ranges of {spc_mod.SCREEN} times the "
            f"average or more. Special cause: a point outside the limits; {spc_mod.RUN} points each higher (or "
            f"lower) than the last; two of three points in a row near a limit (beyond two sigma) with all three "
            f"on the same side; {spc_mod.RUN} points in a row on one side of the mean; if rules disagree, in that "
            "order. The icon is the latest point's. Assurance compares the target with the limits: consistently "
            "passing, hit and miss, or consistently failing. Limits are recalculated from a change point the plan "
            f"names (shown on the chart). With fewer than {spc_min_points} points there are no limits and no icon "
            "(NHSRplotthedots draws provisional \"trial limits\" there; we show none, because a board reads an "
            "icon as settled).",
            "NHS England, Making Data Count; NHS-R Community, NHSRplotthedots (ptd_spc)."),
        MethodNote(
            "Funnel plots",
            "Each district's figure against its size, inside lines where 95% and 99.8% of figures would fall by "
            "chance around the centre: the plan's area (drawn as the line, not a point) or the districts pooled. "
            "Percentages use Wilson score limits, rates exact Poisson limits on the rate's own scale; there is no "
            "funnel for plain counts. Marker shape says where a point lies against the limits; colour says better "
            "or worse by the measure's direction.",
            "Spiegelhalter (2005); PHE funnel plot guidance as coded in PHEindicatormethods "
            "(calculate_funnel_limits)."),
    ]
