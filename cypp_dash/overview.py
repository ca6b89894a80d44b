"""The Overview's one-screen table: one row per KPI (latest figure and period, a sparkline, the change since
the previous figure judged by the KPI's polarity, England with its period, the target, RAG, SPC icons), and
the "Needs attention" order (Fingertips' red-red idea: off track, or significantly worse than England and
getting worse, or special cause of concern, first).

The table is a list of columns (OVERVIEW_COLUMNS): a column is a header and a function of the row, so a new
column (a neighbour average, a quartile band) is one more line in that list. No Streamlit here: the page
frame (cypp_dash/web/components.py) draws what this module works out."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from cypp_dash import freshness, stats
from cypp_dash.status import RAG_SYMBOLS, RAG_WORDS, KpiStatus, fmt

CHANGE_WORDS = {"better": "Better", "worse": "Worse", "no change": "No change", "up": "Up", "down": "Down"}
CHANGE_ARROWS = {"up": "↑", "down": "↓", "same": "→"}
SPC_VARIATION_WORDS = {
    "common cause": "● Common cause",
    "special cause improving": "▲ Special cause: improving",
    "special cause concerning": "▼ Special cause: concern",
    "special cause (neither better nor worse)": "◆ Special cause: neither better nor worse",
}
ASSURANCE_WORDS = {"consistently passing": "✓ Passes target", "consistently failing": "✗ Fails target",
                   "hit and miss": "~ Hit and miss target"}  # short forms of stats.ASSURANCE_ICONS
ATTENTION_REASONS = ("Off track", "Significantly worse than England and getting worse",
                     "Special cause of concern")


def change_since_previous(s: KpiStatus) -> str:
    """The latest figure against the one before, judged by the KPI's polarity: "better", "worse",
    "no change"; "up"/"down" when the plan sets no better direction; "" with fewer than two figures."""
    if s.direction == "same":
        return "no change"
    if s.direction not in ("up", "down"):
        return ""
    if s.polarity not in ("higher", "lower"):
        return s.direction
    return "better" if (s.direction == "up") == (s.polarity == "higher") else "worse"


def change_text(s: KpiStatus) -> str:
    """"↓ Better" for an obesity figure that fell: the arrow is the figure's move, the word its meaning."""
    change = change_since_previous(s)
    return f"{CHANGE_ARROWS[s.direction]} {CHANGE_WORDS[change]}" if change else "–"


def attention_reasons(s: KpiStatus) -> list[str]:
    """Why a KPI needs the board's attention, in ATTENTION_REASONS order ([] when it does not)."""
    worsening = "getting worse" in s.trend or change_since_previous(s) == "worse"
    found = [s.rag == "red", s.compared_with_england == "worse" and worsening,
             s.spc_variation == "special cause concerning"]
    return [reason for reason, hit in zip(ATTENTION_REASONS, found) if hit]


def needs_attention(statuses: list[KpiStatus]) -> list[KpiStatus]:
    """The KPIs that need attention, most pressing first: off track before red-red before special cause of
    concern; among equals, more reasons first; then the plan's order."""
    flagged = [(attention_reasons(s), i, s) for i, s in enumerate(statuses)]
    flagged = [f for f in flagged if f[0]]
    flagged.sort(key=lambda f: (ATTENTION_REASONS.index(f[0][0]), -len(f[0]), f[1]))
    return [s for _, _, s in flagged]


def sparkline_svg(values: list[float], width: int = 96, height: int = 26) -> str:
    """A small trend picture (SVG) of the figures oldest first; the latest figure marked by a dot."""
    points = [v for v in values if v is not None]
    if len(points) < 2:
        return ""
    lo, hi = min(points), max(points)
    span = (hi - lo) or 1.0
    pad = 3
    xs = [pad + i * (width - 2 * pad) / (len(points) - 1) for i in range(len(points))]
    ys = [height - pad - (v - lo) / span * (height - 2 * pad) for v in points]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"><polyline points="{line}" fill="none" stroke="#12436D" '
            f'stroke-width="1.6" stroke-linejoin="round"/><circle cx="{xs[-1]:.1f}" cy="{ys[-1]:.1f}" r="2.6" '
            'fill="#12436D"/></svg>')


def england_text(s: KpiStatus) -> str:
    """England's figure with its period ("81.0% (2021/22)"), "–" when there is none."""
    if s.england is None:
        return "–"
    return fmt(s.england, s.unit) + (f" ({s.england_period})" if s.england_period else "")


def spc_text(s: KpiStatus) -> str:
    variation = SPC_VARIATION_WORDS.get(s.spc_variation, "")
    assurance = ASSURANCE_WORDS.get(s.spc_assurance) or stats.ASSURANCE_ICONS.get(s.spc_assurance, "")
    return "\n".join(x for x in (variation, assurance) if x) or "Too few figures"


@dataclass
class Row:
    """One KPI's row: its status, its figures for the sparkline (oldest first), and the latest period shown."""

    status: KpiStatus
    values: list[float] = field(default_factory=list)
    latest: str | None = None


def _latest_cell(r: Row) -> str:
    s = r.status
    when = s.period or ("no published indicator" if s.relation == "none" else "no figure yet")
    lag = freshness.lag_text(s.period, r.latest)
    return f"{fmt(s.value, s.unit) if s.value is not None else '–'}\n{when}" + (f"\n{lag}" if lag else "")


@dataclass(frozen=True)
class Column:
    """A column of the Overview table: its header, its text for a row, and (for the sparkline and RAG) how
    the cell is drawn ("text", "spark", "rag", "kpi")."""

    header: str
    text: Callable[[Row], str]
    kind: str = "text"


OVERVIEW_COLUMNS: list[Column] = [
    Column("KPI", lambda r: f"{r.status.code} {r.status.kpi}", "kpi"),
    Column("Latest", _latest_cell),
    Column("Trend", lambda r: f"{len([v for v in r.values if v is not None])} figures", "spark"),
    Column("Since previous", lambda r: change_text(r.status)),
    Column("England", lambda r: england_text(r.status)),
    # Issue 16's published benchmarks add their columns here, e.g.
    # Column("Neighbours", lambda r: ...), Column("Quartile", lambda r: ...),
    Column("Target", lambda r: r.status.target or "–"),
    Column("RAG", lambda r: f"{RAG_SYMBOLS[r.status.rag]} {RAG_WORDS[r.status.rag]}", "rag"),
    Column("SPC", lambda r: spc_text(r.status)),
]


def rows_for(statuses: list[KpiStatus], values: dict[str, list[float]], latest: str | None = None) -> list[Row]:
    """The table's rows; `latest` is the latest period shown anywhere on the page (a KPI behind it lags)."""
    latest = latest or freshness.latest_period(s.period for s in statuses)
    return [Row(s, values.get(s.code, []), latest) for s in statuses]


def cell(r: Row, c: Column) -> dict:
    """What one cell of the table shows, for the page frame's template (cypp_dash/web/templates/
    overview_table.html): its column's name and kind, its words, and for the KPI name the related-indicator
    note, for the sparkline its SVG picture and words for screen readers, for RAG the rating and reason."""
    text = c.text(r)
    s = r.status
    shown = {"kind": c.kind, "name": c.header, "text": text}
    if c.kind == "kpi":
        shown["related"] = s.relation_note if s.relation == "related" else ""
    elif c.kind == "spark":
        svg = sparkline_svg(r.values)
        first = next((v for v in r.values if v is not None), None)
        shown["svg"] = svg
        shown["alt"] = (f"Trend of {len([v for v in r.values if v is not None])} figures, from "
                        f"{fmt(first, s.unit)} to {fmt(s.value, s.unit)}") if svg else ""
    elif c.kind == "rag":
        shown["rag"] = s.rag.replace(" ", "-")
        shown["reason"] = s.reason
    return shown


def attention_line(s: KpiStatus) -> str:
    return f"{s.code} {s.kpi}: " + "; ".join(attention_reasons(s)).lower().capitalize()


def flags_once(statuses: list[KpiStatus]) -> str:
    """The flags on the figures of a table, said once under it: "Flags: illustrative (every figure);
    provisional (EH01, MH03)"; "" when no figure carries one."""
    by_flag: dict[str, list[str]] = {}
    for s in statuses:
        for flag in filter(None, s.flags.split(",")):
            by_flag.setdefault(flag, []).append(s.code)
    with_figures = [s for s in statuses if s.value is not None]
    parts = [f"{flag} ({'every figure' if len(codes) == len(with_figures) else ', '.join(codes)})"
             for flag, codes in sorted(by_flag.items())]
    return "Flags: " + "; ".join(parts) if parts else ""


def why_text(r: Row) -> str:
    """The reasons a KPI is in the Needs attention view, in words."""
    return "; ".join(attention_reasons(r.status))


NOT_RATED_WHY = [("the plan sets no target", "the plan sets no target"),
                 ("no published indicator", "there is no published indicator"),
                 ("related indicator", "the figures are a related indicator, not the measure itself"),
                 ("no figure for", "no figure is held yet"),
                 ("unit mismatch", "England's figure is in other units"),
                 ("comparator out of date", "England's figure is out of date"),
                 ("does not say whether a higher or lower", "the plan does not say which direction is better")]


def not_rated_summary(statuses: list[KpiStatus]) -> str:
    """For a plan whose measures cannot be rated, why, in a board member's words ("" when some are rated):
    "None of the 9 measures can be rated: for 8 the plan sets no target; for 1 there is no published
    indicator. Their figures, trends and comparison with England are below."."""
    if not statuses or any(s.rag != "not rated" for s in statuses):
        return ""
    counts: dict[str, int] = {}
    for s in statuses:
        words = next((w for key, w in NOT_RATED_WHY if key in s.reason), "another reason given in its row")
        counts[words] = counts.get(words, 0) + 1
    parts = [f"for {n} {words}" for words, n in counts.items()]
    return (f"None of the {len(statuses)} measures can be rated: " + "; ".join(parts) + ". Their latest figures, "
            "trends and comparison with England are below, and Needs attention still picks out any significantly "
            "worse than England and getting worse.")
