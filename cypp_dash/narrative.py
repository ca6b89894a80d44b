"""A short paragraph per partnership written from its status rows alone ("written from the figures"):
fixed sentence templates fill in counts, KPI codes, figures and periods taken from the rows, and the
verdicts the status rows already hold (RAG, comparison with England, SPC, trend). A template never says
why a figure moved: causes are the officer's commentary, signed off by a lead (cypp_dash/commentary.py).

Each kind of sentence is one function, tested on its own (tests/test_narrative.py)."""
from __future__ import annotations

from dataclasses import dataclass

from cypp_dash.status import KpiStatus, fmt

LABEL = "Written from the figures"
LABEL_NOTE = ("written by the dashboard from the status rows (ratings, comparisons, SPC and trends), "
              "not by an officer; it gives no causes")
_RAG_PHRASES = {"green": ("is on track", "are on track"), "amber": ("has some concern", "have some concern"),
                "red": ("is off track", "are off track"), "not rated": ("is not rated", "are not rated")}


@dataclass(frozen=True)
class Sentence:
    kind: str
    text: str


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _measures(n: int) -> str:
    return f"{n} measure" + ("" if n == 1 else "s")


def rag_counts(rows: list[KpiStatus]) -> Sentence | None:
    """"4 of 6 measures are on track, 1 has some concern and 1 is off track." (the counts of each RAG)."""
    if not rows:
        return None
    counts = {r: sum(s.rag == r for s in rows) for r in _RAG_PHRASES}
    total = len(rows)
    lead_rag = next(r for r in _RAG_PHRASES if counts[r])
    parts = [f"{counts[lead_rag]} of {_measures(total)} {_RAG_PHRASES[lead_rag][counts[lead_rag] != 1]}"]
    parts += [f"{counts[r]} {_RAG_PHRASES[r][counts[r] != 1]}" for r in _RAG_PHRASES if r != lead_rag and counts[r]]
    return Sentence("rag counts", _join(parts) + ".")


def off_track(rows: list[KpiStatus]) -> Sentence | None:
    """"Off track: EH03 at 10.2% (2023/24 Q2) and MH01 at 1,204 (2023/24 Q2)." (each red KPI's latest figure)."""
    red = [s for s in rows if s.rag == "red" and s.value is not None]
    if not red:
        return None
    return Sentence("off track", "Off track: " + _join([f"{s.code} at {fmt(s.value, s.unit)} ({s.period})"
                                                        for s in red]) + ".")


def _clauses(rows: list[KpiStatus], field: str, values: tuple[str, ...], verbs: tuple[str, str],
             words: str) -> list[str]:
    """One clause per value of `field` that some KPIs hold, in `values` order: the KPI codes, the verb
    (for one KPI, for several), then `words` with the value in place of {}."""
    parts = []
    for value in values:
        codes = [s.code for s in rows if getattr(s, field) == value]
        if codes:
            parts.append(f"{_join(codes)} {verbs[len(codes) > 1]} {words.format(value)}")
    return parts


def compared_with_england(rows: list[KpiStatus]) -> Sentence | None:
    """"EH01 is significantly better than England; MH03 is significantly worse." (confidence intervals)."""
    parts = _clauses(rows, "compared_with_england", ("better", "worse"), ("is", "are"), "significantly {} than England")
    return Sentence("compared with England", "; ".join(parts) + ".") if parts else None


def spc(rows: list[KpiStatus]) -> Sentence | None:
    """"EH03 shows special cause improving variation; MH01 shows special cause concerning variation." (SPC)."""
    parts = _clauses(rows, "spc_variation", ("special cause improving", "special cause concerning"),
                     ("shows", "show"), "{} variation")
    return Sentence("spc", "SPC: " + "; ".join(parts) + ".") if parts else None


def trend(rows: list[KpiStatus]) -> Sentence | None:
    """"The recent trend is getting better for EH01 and getting worse for SD02." (significant trends)."""
    parts = []
    for meaning in ("getting better", "getting worse"):
        codes = [s.code for s in rows if s.trend.endswith(f", {meaning}")]
        if codes:
            parts.append(f"{meaning} for {_join(codes)}")
    if not parts:
        return None
    return Sentence("trend", "The recent trend is " + " and ".join(parts) + ".")


def no_figure(rows: list[KpiStatus]) -> Sentence | None:
    """"No figure is held yet for SG02." (KPIs with no latest figure)."""
    codes = [s.code for s in rows if s.value is None]
    if not codes:
        return None
    return Sentence("no figure", f"No figure is held yet for {_join(codes)}.")


TEMPLATES = (rag_counts, off_track, compared_with_england, spc, trend, no_figure)


def sentences(rows: list[KpiStatus]) -> list[Sentence]:
    """Every sentence that applies, in reading order."""
    return [s for s in (template(rows) for template in TEMPLATES) if s is not None]


def paragraph(rows: list[KpiStatus]) -> str:
    """The narrative as one paragraph ("" when there are no rows)."""
    return " ".join(s.text for s in sentences(rows))
