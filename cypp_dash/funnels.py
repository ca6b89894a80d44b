"""Funnel plots: control limits around a centre for a range of denominators, where a point sits against them,
and one row per area (Spiegelhalter (2005); PHEindicatormethods calculate_funnel_limits: Wilson for proportions,
exact Poisson for rates; PHStatsMethods). Pure functions: no Streamlit, no DuckDB."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.stats import chi2

from cypp_dash.intervals import as_number, as_numbers, rate_multiplier, z_for

FUNNEL_COLUMNS = ["denominator", "lower_95", "upper_95", "lower_998", "upper_998"]

FUNNEL_LEVELS = ((0.95, "95"), (0.998, "998"))


def _proportion_limits(share: float, n: float, level: float) -> tuple[float, float]:
    """Limits for an observed proportion at denominator n: where its Wilson interval touches share.

    Inverting the Wilson score interval gives share +/- z sqrt(share (1 - share) / n): the same
    numbers as PHE's funnel formula (PHEindicatormethods sigma_adjustment), written simply.
    """
    half = z_for(level) * math.sqrt(share * (1 - share) / n)
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
    c, m = as_number(centre), as_number(multiplier)
    dens = [d for d in as_numbers(denominators) if d is not None and d > 0]
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
    v, n, c, m = (as_number(x) for x in (value, denominator, centre, multiplier))
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
    nums, dens = as_numbers(numerators), as_numbers(denominators)
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
