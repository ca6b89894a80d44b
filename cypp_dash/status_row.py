"""KpiStatus: one KPI's status for an area (its latest figure, RAG and what the board should make of it), and
the status rows as a table (the contract's columns first) and as RAG counts. Made by cypp_dash.status."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from cypp_dash.rag_rules import RAG_SYMBOLS, RAG_WORDS, fmt

ENGLAND = "E92000001"


@dataclass
class KpiStatus:
    """One row of `status`: a KPI's latest figure for an area and what the board should make of it."""

    code: str
    kpi: str
    partnership: str
    partnership_id: str
    area: str
    area_name: str
    period: str | None
    value: float | None
    unit: str
    england: float | None
    england_period: str | None
    target: str
    rag: str
    reason: str
    baseline: float | None = None
    baseline_period: str | None = None
    baseline_text: str = ""
    england_text: str = ""
    ci_low: float | None = None
    ci_high: float | None = None
    compared_with_england: str = "not compared"
    comparison_text: str = ""
    trend: str = ""
    trend_text: str = ""
    spc_variation: str = ""
    spc_assurance: str = ""
    spc_text: str = ""
    flags: str = ""
    note: str | None = None
    numerator: float | None = None
    denominator: float | None = None
    illustrative: bool = False
    source: str = ""
    licence: str = ""
    direction: str = ""
    polarity: str = ""
    relation: str = "measure"
    relation_note: str = ""
    assurance_target: float | None = None
    england_out_of_date: bool = False
    compared_with_parent: str = ""  # a district against its parent (the plan's area): better/similar/worse
    parent_text: str = ""
    headline: str = ""  # the board's words for the tile: "significantly better than England (2024/25)", ...
    spc_rebase: str = ""  # where and why the SPC limits were recalculated

    @property
    def rag_label(self) -> str:
        return f"{RAG_SYMBOLS[self.rag]} {RAG_WORDS[self.rag]}"

    @property
    def flags_words(self) -> str:
        """The flags as a reader sees them ("illustrative, provisional"); "" when there are none."""
        return self.flags.replace(",", ", ")

    @property
    def facts(self) -> list[tuple[str, str]]:
        """What is known of the latest figure besides its RAG, as (label, text) in reading order: the
        comparison with England, the recent trend, SPC, the flags and the note uploaded with it ("" where
        there is nothing to say). The page and the Word report list the same facts under the same labels."""
        return [("Compared with England", self.comparison_text), ("Compared with the plan's area", self.parent_text),
                ("Recent trend", self.trend_text),
                ("Statistical process control", self.spc_text), ("Flags", self.flags_words),
                ("Note with the latest figure (as uploaded)", self.note or "")]

    @property
    def figure_text(self) -> str:
        """The figure as the board reads it, "suppressed" for a withheld one."""
        if self.value is None and "suppressed" in self.flags.split(","):
            return "suppressed"
        return fmt(self.value, self.unit)

    def as_row(self) -> dict:
        return asdict(self)


CONTRACT_COLUMNS = ["code", "kpi", "partnership", "area", "period", "value", "unit", "england", "target", "rag",
                    "reason", "ci_low", "ci_high", "compared_with_england", "trend", "spc_variation",
                    "spc_assurance", "flags"]


def rag_counts(statuses: list[KpiStatus]) -> dict[str, int]:
    counts = {r: 0 for r in ("green", "amber", "red", "not rated")}
    for s in statuses:
        counts[s.rag] += 1
    return counts


def status_frame(statuses: list[KpiStatus]) -> pd.DataFrame:
    """Status rows as a table with the contract's columns first."""
    df = pd.DataFrame([s.as_row() for s in statuses])
    if df.empty:
        return pd.DataFrame(columns=CONTRACT_COLUMNS)
    rest = [c for c in df.columns if c not in CONTRACT_COLUMNS]
    return df[CONTRACT_COLUMNS + rest]
