"""Reading a figure as a number: one rule for every module that reads figures from the store, a plan or
a chart (statistics, status, districts, trend)."""
from __future__ import annotations

import math


def finite(x) -> float | None:
    """`x` as a float, or None when it is missing, not a number, NaN or infinite."""
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
