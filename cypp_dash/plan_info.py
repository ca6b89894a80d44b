"""About the plan's own facts, worked out from the plan file and the store: the governance chain,
who owns each KPI, when the next quarterly report falls, and the wider outcomes (every indicator
held for an area that none of the plan's KPIs reads)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from cypp_dash import store
from cypp_dash.config import Config, Plan
from cypp_dash.periods import quarter_containing

# --- plan governance -------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportDate:
    """When the next quarterly report falls: the quarter it covers and the day that quarter closes."""

    quarter: str
    closes: date
    text: str


def next_quarterly_report(plan: Plan, today: date | None = None) -> ReportDate | None:
    """The next quarterly progress report from today: it covers the financial-year quarter that
    contains today and falls due when that quarter closes. None when the plan has ended."""
    today = today or date.today()
    end = date.fromisoformat(plan.end) if getattr(plan, "end", None) else None
    if end is not None and today > end:
        return None
    quarter = quarter_containing(today)
    days = (quarter.end - today).days
    when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
    return ReportDate(quarter.label, quarter.end,
                      f"{quarter.label} (the quarter to {quarter.end:%d %B %Y}), due when the quarter closes, {when}")


def reports_quarterly(*meets: str) -> bool:
    """Whether a meeting pattern, as the plan words it, includes a quarterly report."""
    return any("quarter" in (m or "").lower() for m in meets)


def governance_rows(plan: Plan) -> list[dict[str, str]]:
    """The governance chain, one row per partnership: its board, whom it reports to and how often."""
    return [{"Partnership": p.name, "Board": p.board or plan.board, "Reports to": p.reports_to or plan.reports_to,
             "Meets": p.meets or plan.meets, "Priority": p.priority} for p in plan.partnerships]


def kpi_ownership_rows(plan: Plan) -> list[dict[str, str]]:
    """Each KPI with the agency that owns its baseline and target, and how it relates to its figures."""
    words = {"measure": "the measure itself", "related": "a related indicator, not the measure itself",
             "none": "no published indicator"}
    return [{"Code": k.code, "Measure": k.name, "Owner of baseline and target": k.owner or "not named in the plan",
             "Published figures": words.get(k.relation, k.relation),
             "Indicator": k.indicator_id if k.relation != "none" else ""} for k in plan.kpis]


# --- wider outcomes ---------------------------------------------------------------------------------

FLAG_WORDS = {"estimate": "estimate (modelled or synthetic, not a count: do not present as fact)",
              "provisional": "provisional", "suppressed": "suppressed", "revised": "revised",
              "illustrative": "illustrative (not real figures)"}
WIDER_COLUMNS = ["indicator_id", "name", "period", "value", "ci_low", "ci_high", "interval", "compared_with_england",
                 "flags", "flags_text", "note", "source", "licence"]


def _figure_text(v) -> str:
    if v is None or v != v:
        return "no figure"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def wider_outcomes(conn, config: Config, plan: Plan, area_code: str) -> pd.DataFrame:
    """Every indicator held for the area whose figures none of this plan's KPIs read: its latest
    headline figure, interval, Fingertips' own comparison with England, flags, source and licence.

    Another plan's own KPI series (a KPI whose figures are filed under its code, like EH01) belong
    to that plan and are left to its pages; published indicators (e.g. from Fingertips) are shared.
    """
    df = store.indicators_for_area(conn, area_code)
    used = {k.indicator_id for k in plan.kpis if k.relation != "none"}
    used |= {k.indicator_id for p in config.plans if p.id != plan.id for k in p.kpis if k.indicator_id == k.code}
    df = df[~df["indicator_id"].isin(used)].copy()
    # DfE's published measures (LAIT, EES) have their own page, Benchmarking, with ranks and neighbours.
    df = df[~df["indicator_id"].str.startswith(("lait:", "ees:"))]
    if df.empty:
        return pd.DataFrame(columns=WIDER_COLUMNS)
    flags = []
    for f, illustrative in zip(df["flags"].fillna(""), df["illustrative"].fillna(False)):
        words = [w for w in str(f).split(",") if w]
        if bool(illustrative):
            words.append("illustrative")
        flags.append(",".join(sorted(set(words))))
    df["flags"] = flags
    df["flags_text"] = ["; ".join(FLAG_WORDS.get(w, w) for w in f.split(",") if w) for f in flags]
    df["interval"] = [f"{_figure_text(lo)} to {_figure_text(hi)}" if lo == lo and hi == hi and lo is not None
                      and hi is not None else "not published" for lo, hi in zip(df["ci_low"], df["ci_high"])]
    df["compared_with_england"] = df["compared_with_england"].fillna("not compared")
    for col in ("note", "source", "licence", "name"):
        df[col] = df[col].fillna("")
    return df[WIDER_COLUMNS].reset_index(drop=True)


WIDER_DISPLAY = {"indicator_id": "Indicator", "name": "Name", "period": "Period", "value": "Value",
                 "interval": "95% confidence interval", "compared_with_england": "Compared with England (as published)",
                 "flags_text": "Flags", "note": "Value note", "source": "Source", "licence": "Licence"}


def wider_outcomes_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The wider outcomes in the board's column names, source and licence on every row (as downloaded)."""
    return rows.rename(columns=WIDER_DISPLAY)[list(WIDER_DISPLAY.values())]
