"""Confidence intervals for a figure: Wilson score for proportions, the exact Poisson method below 10 events
and Byar's from 10 for counts and rates; the interval that suits a KPI's unit; and the small number helpers the
statistics modules share (cypp_dash.stats, cypp_dash.funnels).

Pure functions: no Streamlit, no DuckDB. Missing data (None, NaN, pandas NA) gives None, never an error.
Sources (formulas re-implemented; no code copied): Wilson (1927); Newcombe & Altman (2000); Byar's method,
Breslow & Day (1987); Armitage & Berry (2002); OHID Fingertips "Confidence intervals" technical guide,
appendices 1-3; the rule "exact below 10, Byar's from 10" is the one PHEindicatormethods::phe_rate and DHSC
PHStatsMethods use.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from scipy.stats import chi2, norm

from cypp_dash import number

# Fingertips switches from the exact Poisson method to Byar's approximation at 10 events.
EXACT_BELOW = 10


@dataclass(frozen=True)
class Interval:
    """A confidence interval on the same scale as the value it surrounds."""

    low: float
    high: float
    level: float  # 0.95 or 0.998


# --- small helpers ---------------------------------------------------------------------------


def as_number(x) -> float | None:
    """A finite float, or None for anything missing or not a number (true/false is not a number here)."""
    return None if isinstance(x, bool) else number.finite(x)


def as_numbers(xs) -> list[float | None]:
    if xs is None:
        return []
    try:
        return [as_number(x) for x in xs]
    except TypeError:  # a single number instead of a sequence
        return [as_number(xs)]


def confidence_level(level) -> float:
    """Accept 0.95 or 95; anything outside (0, 1) after that is a programming error."""
    value = as_number(level)
    if value is None:
        raise ValueError(f"confidence level must be a number, not {level!r}")
    if value > 1:
        value /= 100
    if not 0 < value < 1:
        raise ValueError(f"confidence level must be between 0 and 1 (or 0 and 100), not {level!r}")
    return value


def z_for(level: float) -> float:
    return float(norm.ppf(1 - (1 - level) / 2))


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
    level = confidence_level(level)
    x, n, m = as_number(numerator), as_number(denominator), as_number(multiplier)
    if x is None or n is None or m is None or n <= 0 or x < 0 or x > n:
        return None
    low, high = _wilson(x, n, z_for(level))
    return Interval(low * m, high * m, level)


def _count_interval(count: float, level: float) -> tuple[float, float]:
    """Interval for a Poisson count: exact (chi-squared) below 10 events, Byar's from 10."""
    alpha = 1 - level
    if count < EXACT_BELOW:
        low = 0.0 if count == 0 else float(chi2.ppf(alpha / 2, 2 * count)) / 2
        high = float(chi2.ppf(1 - alpha / 2, 2 * count + 2)) / 2
        return low, high
    z = z_for(level)
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
    level = confidence_level(level)
    o, m = as_number(count), as_number(multiplier)
    if o is None or o < 0 or m is None:
        return None
    low, high = _count_interval(o, level)
    if denominator is None:
        return Interval(low * m, high * m, level)
    n = as_number(denominator)
    if n is None or n <= 0:
        return None
    return Interval(low / n * m, high / n * m, level)


_RATE_PER = re.compile(r"^\s*rate\s+per\s+([\d,]+(?:\.\d+)?)", re.IGNORECASE)


def rate_multiplier(unit: str) -> float | None:
    """The N in a unit such as "rate per 10,000", or None when the unit is not a rate."""
    match = _RATE_PER.match(str(unit or ""))
    if not match:
        return None
    value = as_number(match.group(1).replace(",", ""))
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
        count = as_number(value)
        return byar_interval(count if count is not None else numerator, level)
    per = rate_multiplier(text)
    if per is not None:
        if as_number(denominator) is None:
            return None
        return byar_interval(numerator, level, denominator=denominator, multiplier=per)
    return None
