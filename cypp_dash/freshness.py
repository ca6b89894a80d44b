"""How fresh the figures are, said in words: the period the figures run to, how many quarters a KPI's
figures lag behind the rest, whether the plan has ended, and the produced-on line of a paper or report."""
from __future__ import annotations

from datetime import date

from cypp_dash.periods import PeriodError, parse_period


def _period(label: str | None):
    if not label:
        return None
    try:
        return parse_period(label)
    except PeriodError:
        return None


def latest_period(periods) -> str | None:
    """The latest of the periods given (by the day each ends), or None when none is a period."""
    parsed = [p for p in (_period(x) for x in periods) if p is not None]
    return max(parsed).label if parsed else None


def figures_to(periods, chosen: str | None = None) -> str:
    """The heading's words for what is shown: "figures to 2025/26 Q4"; the chosen period when the reader
    picked one; "no figures yet" when nothing is held."""
    shown = chosen or latest_period(periods)
    return f"figures to {shown}" if shown else "no figures yet"


def quarters_behind(period: str | None, latest: str | None) -> int:
    """How many quarters a KPI's latest quarterly figure trails the latest quarter shown (0 when it is
    current, when either is not a quarter, or when there is no figure)."""
    mine, newest = _period(period), _period(latest)
    if mine is None or newest is None or mine.kind != "quarter" or newest.kind != "quarter":
        return 0
    months = (newest.end.year - mine.end.year) * 12 + newest.end.month - mine.end.month
    return max(months // 3, 0)


def lag_text(period: str | None, latest: str | None) -> str:
    """"2 quarters missing" for a KPI whose figures stop two quarters before the latest shown; "" if none."""
    n = quarters_behind(period, latest)
    return f"{n} quarter{'s' if n != 1 else ''} missing" if n else ""


def plan_ended(end: str | None, today: date | None = None) -> date | None:
    """The plan's last day when it has passed, else None."""
    if not end:
        return None
    last = date.fromisoformat(end)
    return last if (today or date.today()) > last else None


def ended_text(plan_name: str, end: str | None, today: date | None = None) -> str:
    """The banner for a plan past its end date ("" while it runs)."""
    last = plan_ended(end, today)
    if last is None:
        return ""
    return (f"{plan_name} ended on {last:%d %B %Y}. Its figures are shown as a record; no further quarterly "
            "reports are due under it.")


def produced_line(period_words: str, as_at: date | None = None, today: date | None = None) -> str:
    """The line a paper or report carries: "Produced on 2 December 2026 · figures to 2025/26 Q4 · figures as
    stored then" or, with an as-at date, "figures as they stood at the end of 30 June 2025"."""
    when = today or date.today()
    held = ("figures as the store held them on that day" if as_at is None
            else f"figures as they stood at the end of {as_at:%d %B %Y}")
    return f"Produced on {when.day} {when:%B %Y} · {period_words} · {held}"
