"""Reporting periods: financial-year quarters (`2023/24 Q1`), financial years (`2023/24`) and
the calendar years and ranges that published statistics use."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_QUARTER = re.compile(r"^\s*(\d{4})\s*/\s*(\d{2}|\d{4})\s*Q\s*([1-4])\s*$", re.IGNORECASE | re.ASCII)
_FIN_YEAR = re.compile(r"^\s*(\d{4})\s*/\s*(\d{2}|\d{4})\s*$", re.ASCII)
_CAL_YEAR = re.compile(r"^\s*(\d{4})\s*$", re.ASCII)
# Fingertips pooled periods, e.g. "2015/16 - 17/18" or "2016 - 18".
_FIN_RANGE = re.compile(r"^\s*(\d{4})\s*/\s*(\d{2})\s*-\s*(\d{2})\s*/\s*(\d{2})\s*$", re.ASCII)
_CAL_RANGE = re.compile(r"^\s*(\d{4})\s*-\s*(\d{2}|\d{4})\s*$", re.ASCII)


class PeriodError(ValueError):
    """A period written in a way this dashboard does not understand."""


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period with the dates it covers; ordered by end date."""

    end: date
    start: date
    label: str
    kind: str  # "quarter", "financial year", "calendar year", "range"


def _second_year(first: int, second: str) -> int:
    if len(second) == 4:
        return int(second)
    return (first // 100) * 100 + int(second) if int(second) > first % 100 else (first // 100 + 1) * 100 + int(second)


def _check_consecutive(first: int, second: int, text: str) -> None:
    if second != first + 1:
        raise PeriodError(f'"{text}" is not a financial year (the second year must follow the first)')


# Years a period may start in: digits only in ASCII (re.ASCII above), and a year outside these
# (0000, 9999) is refused with a reason instead of failing inside the date arithmetic.
FIRST_YEAR, LAST_YEAR = 1900, 2100


def parse_period(text: str) -> Period:
    """Read a period label; raise PeriodError with a plain reason if it is not one."""
    raw = str(text).strip()
    years = re.match(r"\s*(\d{4})", raw, re.ASCII)
    if years and not FIRST_YEAR <= int(years.group(1)) <= LAST_YEAR - 1:
        raise PeriodError(f'"{raw}" is not a period this dashboard holds: years run from {FIRST_YEAR} to '
                          f'{LAST_YEAR}')
    try:
        return _parse(raw)
    except (ValueError, OverflowError) as exc:
        if isinstance(exc, PeriodError):
            raise
        raise PeriodError(f'"{raw}" is not a period: write a quarter like "2023/24 Q1" or a year like '
                          '"2023/24"') from None


def _parse(raw: str) -> Period:
    if m := _QUARTER.match(raw):
        first = int(m.group(1))
        _check_consecutive(first, _second_year(first, m.group(2)), raw)
        q = int(m.group(3))
        start_month = 4 + 3 * (q - 1)
        start_year = first if start_month <= 12 else first + 1
        start_month = start_month if start_month <= 12 else start_month - 12
        start = date(start_year, start_month, 1)
        end = _add_months(start, 3) - timedelta(days=1)
        return Period(end, start, f"{first}/{str(first + 1)[2:]} Q{q}", "quarter")
    if m := _FIN_YEAR.match(raw):
        first = int(m.group(1))
        _check_consecutive(first, _second_year(first, m.group(2)), raw)
        return Period(date(first + 1, 3, 31), date(first, 4, 1), f"{first}/{str(first + 1)[2:]}", "financial year")
    if m := _CAL_YEAR.match(raw):
        year = int(m.group(1))
        return Period(date(year, 12, 31), date(year, 1, 1), str(year), "calendar year")
    if m := _FIN_RANGE.match(raw):
        first = int(m.group(1))
        last_start = (first // 100) * 100 + int(m.group(3))
        if last_start < first:
            last_start += 100
        return Period(date(last_start + 1, 3, 31), date(first, 4, 1), raw, "range")
    if m := _CAL_RANGE.match(raw):
        first = int(m.group(1))
        last = _second_year(first, m.group(2)) if len(m.group(2)) == 2 else int(m.group(2))
        if last <= first:
            raise PeriodError(f'"{raw}" is not a period: the range runs backwards')
        return Period(date(last, 12, 31), date(first, 1, 1), raw, "range")
    raise PeriodError(f'"{raw}" is not a period: write a quarter like "2023/24 Q1" or a year like "2023/24"')


def _add_months(d: date, months: int) -> date:
    month = d.month - 1 + months
    return date(d.year + month // 12, month % 12 + 1, 1)


def quarter_containing(day: date) -> Period:
    """The financial-year quarter that contains `day`."""
    first = day.year if day.month >= 4 else day.year - 1
    q = ((day.month - 4) % 12) // 3 + 1
    return parse_period(f"{first}/{str(first + 1)[2:]} Q{q}")


def is_future(period: Period, today: date | None = None) -> bool:
    """True when the period starts after the quarter that contains today."""
    today = today or date.today()
    return period.start > quarter_containing(today).end


def quarters_between(first: str, last: str) -> list[str]:
    """Quarter labels from `first` to `last` inclusive."""
    start, end = parse_period(first), parse_period(last)
    out, current = [], start
    while current.start <= end.start:
        out.append(current.label)
        current = quarter_containing(_add_months(current.start, 3))
    return out
