"""Statistics for the board's indicators: intervals, England comparison, trends, SPC, funnels.

The front door to the statistics: the comparison with England, the trend and SPC verdicts in the board's
words and the methods in plain English live here; the intervals (cypp_dash.intervals) and funnel plots
(cypp_dash.funnels) have modules of their own and are read through here as before.

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

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from cypp_dash import spc as spc_mod
from cypp_dash import trend as trend_mod
from cypp_dash.funnels import (
    FUNNEL_COLUMNS,
    FUNNEL_LEVELS,
    FUNNEL_TABLE_COLUMNS,
    funnel_kind,
    funnel_limits,
    funnel_position,
    funnel_table,
)
from cypp_dash.intervals import (
    EXACT_BELOW,
    Interval,
    as_number,
    byar_interval,
    interval_for,
    rate_multiplier,
    wilson_interval,
)

# The intervals (cypp_dash.intervals) and funnel plots (cypp_dash.funnels) are read through here as before.
__all__ = ["ASSURANCE_ICONS", "COMPARISONS", "EXACT_BELOW", "FUNNEL_COLUMNS", "FUNNEL_LEVELS", "FUNNEL_TABLE_COLUMNS",
           "VARIATION_ICONS", "Interval", "MethodNote", "SpcResult", "Trend", "byar_interval", "compare_with_england",
           "funnel_kind", "funnel_limits", "funnel_position", "funnel_table", "interval_for", "method_notes",
           "rate_multiplier", "recent_trend", "wilson_interval", "xmr"]

COMPARISONS = ("better", "similar", "worse", "not compared")


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


# --- comparison with England -----------------------------------------------------------------


def compare_with_england(value, ci_low, ci_high, england, polarity: str) -> str:
    """Fingertips-style comparison of an area's 95% interval with England's value.

    "better" or "worse" when the whole interval lies on one side of England's value (judged by
    polarity), "similar" when England's value is inside the interval (bounds included), and
    "not compared" when anything is missing or the KPI has no better direction.
    """
    numbers = [as_number(x) for x in (value, ci_low, ci_high, england)]
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
