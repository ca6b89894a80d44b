"""The RAG rules, one function per rule type in the plan's targets, each with its plain-English description
beside it (`RULES`), and `rag_for`, which applies a KPI's rules to the evidence for one area. About the data
reads its explanation of the ratings from here, so the words and the rules cannot drift apart."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from cypp_dash import stats
from cypp_dash.config import Kpi, Settings, TargetRule

RAG_ORDER = {"green": 0, "amber": 1, "red": 2}
RAG_WORDS = {"green": "On track", "amber": "Some concern", "red": "Off track", "not rated": "Not rated"}
RAG_SYMBOLS = {"green": "✔", "amber": "▲", "red": "✖", "not rated": "–"}
_UNIT_WORDS = {"percent": "a percentage", "count": "a count", "weeks": "weeks", "days": "days"}
ENGLAND_RULES = {"above_england", "in_line_with_england"}
_NEED_DIRECTION = {"above_england", "in_line_with_england", "improving_vs_baseline", "improving_vs_target",
                   "improving_trend", "absolute"}


@dataclass
class Judgement:
    """One rule's verdict: a RAG colour, or None when the rule cannot be judged, and why."""

    rag: str | None
    reason: str


@dataclass(frozen=True)
class Explanation:
    """How one rule type (or one case every rule shares) is decided, in the board's words: a title and a
    description that names the thresholds in force (config.yaml `settings`)."""

    title: str
    describe: Callable[[Settings], str]
    example: str = ""

    def text(self, settings: Settings) -> str:
        return " ".join(self.describe(settings).split())

    def markdown(self, settings: Settings) -> str:
        """One line for About the data: "**Title** (e.g. ...): description"."""
        example = f" (e.g. {self.example})" if self.example else ""
        return f"**{self.title}**{example}: {self.text(settings)}"


@dataclass(frozen=True)
class Rule:
    """One rule type a plan's target may use (config.RULE_TYPES): how it is judged and how it is explained."""

    type: str
    judge: Callable[["Evidence", TargetRule], Judgement]
    explanation: Explanation


RULES: dict[str, Rule] = {}


def rule(rule_type: str, title: str, describe: Callable[[Settings], str], example: str = ""):
    """Register the function below as the judge of `rule_type`, with its plain-English description."""
    def register(judge):
        RULES[rule_type] = Rule(rule_type, judge, Explanation(title, describe, example))
        return judge
    return register


# --- small helpers ----------------------------------------------------------------------------

def fmt(value: float | None, unit: str) -> str:
    """A figure as a board reads it: 87.6%, 1,204, 46 weeks."""
    if value is None:
        return "no figure"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "count":
        return f"{value:,.0f}"
    if unit in ("weeks", "days"):
        return f"{value:g} {unit}"
    return f"{value:,.1f} ({unit})"


def _gap_text(gap: float, unit: str) -> str:
    return f"{abs(gap):.1f} percentage points" if unit == "percent" else fmt(abs(gap), unit)


def _good_sign(polarity: str) -> int:
    return 1 if polarity == "higher" else -1


def worst(rags: list[str]) -> str:
    return max(rags, key=lambda r: RAG_ORDER[r])


# --- the rules --------------------------------------------------------------------------------

@dataclass
class Evidence:
    """What the rules look at for one KPI and area."""

    kpi: Kpi
    area_name: str
    value: float | None
    period: str | None
    ci: stats.Interval | None
    england: float | None
    england_period: str | None
    england_unit: str | None
    baseline: float | None
    baseline_period: str | None
    baseline_label: str
    trend: stats.Trend | None
    settings: Settings
    england_out_of_date: bool = False
    is_district: bool = False
    spc: stats.SpcResult | None = None
    suppressed: bool = False
    parent: float | None = None
    parent_name: str = ""
    parent_period: str | None = None

    @property
    def england_words(self) -> str:
        """England's figure named with its period: "2021/22: 81.0%"."""
        figure = fmt(self.england, self.kpi.unit)
        return f"{self.england_period}: {figure}" if self.england_period else f"period not stated: {figure}"


def ci_text(ci: stats.Interval, unit: str) -> str:
    return f"{fmt(ci.low, unit)} to {fmt(ci.high, unit)}"


def _includes(ci: stats.Interval | None, x: float | None) -> bool:
    """True when a 95% interval includes x: the figure is not significantly different from it."""
    return ci is not None and x is not None and min(ci.low, ci.high) <= x <= max(ci.low, ci.high)


SMALL_NUMBERS = Explanation("Small numbers", lambda s: """
    where a figure has a 95% confidence interval that includes the baseline or target it is compared with, the
    rule gives neither green nor red and the reason says "too few to tell".""")


def _too_few(ev: Evidence, what: str) -> Judgement:
    return Judgement("amber", f"not significantly different from the {what} (too few to tell: the 95% confidence "
                              f"interval, {ci_text(ev.ci, ev.kpi.unit)}, includes it)")


def _out_of_date(ev: Evidence) -> Judgement:
    return Judgement(None, f"comparator out of date: the England figure held is for {ev.england_words}, more than "
                           f"two years before {ev.period}, so it is not called better or worse")


@rule("above_england", "Above the England average", lambda s: f"""
    on track when the area's 95% confidence interval lies wholly on the better side of England's figure, some
    concern when it includes England's figure, off track when wholly on the worse side. Without an interval (no
    numerator and denominator) the point figures are compared, allowing {s.in_line_tolerance:g} points either
    way, and the reason says "no confidence interval".""")
def above_england(ev: Evidence, rule: TargetRule) -> Judgement:
    kpi, s = ev.kpi, ev.settings
    eng = ev.england_words
    if ev.england_out_of_date:
        return _out_of_date(ev)
    if ev.ci is not None:
        verdict = stats.compare_with_england(ev.value, ev.ci.low, ev.ci.high, ev.england, kpi.polarity)
        ci = f"{fmt(ev.ci.low, kpi.unit)} to {fmt(ev.ci.high, kpi.unit)}"
        if verdict == "better":
            return Judgement("green", f"significantly better than England ({eng}): the 95% confidence interval "
                                      f"({ci}) lies wholly on the better side")
        if verdict == "worse":
            return Judgement("red", f"significantly worse than England ({eng}): the 95% confidence interval ({ci}) "
                                    "lies wholly on the worse side")
        return Judgement("amber", f"not significantly different from England ({eng}): the 95% confidence interval "
                                  f"({ci}) includes England's figure")
    gap = (ev.value - ev.england) * _good_sign(kpi.polarity)
    tol = s.in_line_tolerance
    if gap > tol:
        return Judgement("green", f"better than England ({eng}) by {_gap_text(gap, kpi.unit)}, more than the "
                                  f"{tol:g}-point tolerance (no confidence interval)")
    if gap < -tol:
        return Judgement("red", f"worse than England ({eng}) by {_gap_text(gap, kpi.unit)}, more than the "
                                f"{tol:g}-point tolerance (no confidence interval)")
    return Judgement("amber", f"within {tol:g} points of England ({eng}), so not clearly above it "
                              "(no confidence interval)")


@rule("in_line_with_england", "In line with the England average", lambda s: f"""
    on track when not significantly different from England (or better); some concern when worse by up to
    {s.in_line_tolerance * s.amber_multiple:g} points; off track beyond that.""")
def in_line_with_england(ev: Evidence, rule: TargetRule) -> Judgement:
    kpi, s = ev.kpi, ev.settings
    eng = ev.england_words
    if ev.england_out_of_date:
        return _out_of_date(ev)
    gap = (ev.value - ev.england) * _good_sign(kpi.polarity)
    if ev.ci is not None:
        verdict = stats.compare_with_england(ev.value, ev.ci.low, ev.ci.high, ev.england, kpi.polarity)
        ci = f"{fmt(ev.ci.low, kpi.unit)} to {fmt(ev.ci.high, kpi.unit)}"
        if verdict == "similar":
            return Judgement("green", f"in line with England ({eng}): the 95% confidence interval ({ci}) includes it")
        if verdict == "better":
            return Judgement("green", f"significantly better than England ({eng}); 95% confidence interval {ci}")
        if -gap <= s.in_line_tolerance * s.amber_multiple:
            return Judgement("amber", f"significantly worse than England ({eng}) but by only "
                                      f"{_gap_text(gap, kpi.unit)}; 95% confidence interval {ci}")
        return Judgement("red", f"significantly worse than England ({eng}), by {_gap_text(gap, kpi.unit)}; "
                                f"95% confidence interval {ci}")
    tol = s.in_line_tolerance
    if gap >= -tol:
        words = "in line with" if gap <= tol else "better than"
        return Judgement("green", f"{words} England ({eng}): the gap is {_gap_text(gap, kpi.unit)} "
                                  f"(tolerance {tol:g} points, no confidence interval)")
    if -gap <= tol * s.amber_multiple:
        return Judgement("amber", f"below England ({eng}) by {_gap_text(gap, kpi.unit)}, outside the {tol:g}-point "
                                  "tolerance but close (no confidence interval)")
    return Judgement("red", f"well short of England ({eng}): worse by {_gap_text(gap, kpi.unit)} "
                            "(no confidence interval)")


@rule("improving_vs_baseline", "An improving trend against the baseline", lambda s: f"""
    on track when the latest figure is better than the baseline by more than {s.improvement_threshold:.0%} of
    the baseline; some concern within that; off track when worse.""")
def improving_vs_baseline(ev: Evidence, rule: TargetRule) -> Judgement:
    kpi, s = ev.kpi, ev.settings
    if ev.baseline is None:
        return Judgement(None, f"there is no baseline figure to compare with (the plan says: \"{kpi.baseline.text}\")")
    change = (ev.value - ev.baseline) * _good_sign(kpi.polarity)
    threshold = s.improvement_threshold * abs(ev.baseline)
    base = f"{ev.baseline_label} of {fmt(ev.baseline, kpi.unit)}"
    if _includes(ev.ci, ev.baseline):
        return _too_few(ev, base)
    if change > threshold:
        return Judgement("green", f"an improvement on the {base}")
    if change < -threshold:
        return Judgement("red", f"worse than the {base}")
    return Judgement("amber", f"little changed from the {base} (within {s.improvement_threshold:.0%})")


@rule("improving_vs_target", "An improving trend against a target", lambda s: """
    on track when the target is met; some concern when better than the baseline but
    short of the target; off track otherwise.""", example="the HWICS target")
def improving_vs_target(ev: Evidence, rule: TargetRule) -> Judgement:
    kpi, s = ev.kpi, ev.settings
    target = fmt(rule.value, kpi.unit)
    if (ev.value - rule.value) * _good_sign(kpi.polarity) >= 0:
        return Judgement("green", f"meeting the target of {target}")
    if _includes(ev.ci, rule.value):
        return _too_few(ev, f"target of {target}")
    if ev.baseline is None:
        return Judgement("red", f"short of the target of {target}, with no baseline to show progress")
    change = (ev.value - ev.baseline) * _good_sign(kpi.polarity)
    base = f"{ev.baseline_label} of {fmt(ev.baseline, kpi.unit)}"
    if _includes(ev.ci, ev.baseline):
        return _too_few(ev, base)
    if change > s.improvement_threshold * abs(ev.baseline):
        return Judgement("amber", f"better than the {base} but short of the target of {target}")
    return Judgement("red", f"not improving on the {base} towards the target of {target}")


@rule("improving_trend", "An improving trend", lambda s: f"""
    for yearly figures, the Fingertips recent trend over the last {s.trend_points} years (significant at
    99.8%); for quarterly figures, the SPC verdict on the latest point.""")
def improving_trend(ev: Evidence, rule: TargetRule) -> Judgement:
    """The recent trend (Fingertips, yearly figures); for quarterly figures, SPC's verdict on the latest point."""
    t = ev.trend
    if t is not None and t.trend != "cannot be calculated":
        text = t.text[0].lower() + t.text[1:]
        return Judgement({"getting better": "green", "getting worse": "red"}.get(t.direction, "amber"), text)
    if ev.spc is not None and ev.spc.variation:
        text = ev.spc.variation_text[0].lower() + ev.spc.variation_text[1:].rstrip(".")
        return Judgement({"special cause improving": "green", "special cause concerning": "red"}.get(
            ev.spc.variation, "amber"), f"judged by statistical process control on quarterly figures ({text})")
    return Judgement(None, t.text[0].lower() + t.text[1:] if t else "there are not enough figures for a trend")


@rule("absolute", "An absolute target", lambda s: f"""
    on track when met; some concern within {s.absolute_amber_gap:g} points; off track beyond.""",
      example="100% of schools")
def absolute(ev: Evidence, rule: TargetRule) -> Judgement:
    kpi, s = ev.kpi, ev.settings
    gap = (ev.value - rule.value) * _good_sign(kpi.polarity)
    target = fmt(rule.value, kpi.unit)
    if gap >= 0:
        return Judgement("green", f"meeting the target of {target}")
    if _includes(ev.ci, rule.value):
        return _too_few(ev, f"target of {target}")
    if -gap <= s.absolute_amber_gap:
        return Judgement("amber", f"close to the target of {target}: {_gap_text(gap, kpi.unit)} short")
    return Judgement("red", f"well short of the target of {target}: {_gap_text(gap, kpi.unit)} short")


_PLAN_AREA_RULES = {"improving_vs_baseline", "improving_vs_target", "absolute"}


DISTRICTS = Explanation("Districts", lambda s: """
    the plan's baseline and target are for the plan's area. A district is rated by its interval against England
    (same period) or, failing that, against the plan's area; a district with a better figure is never shown with
    a worse rating than one with a worse figure.""")


def _district_by_comparison(ev: Evidence, figure: str) -> tuple[str, str]:
    """A district with no baseline of its own, rated as Fingertips rates sub-areas: by its 95% interval against
    England (same period, or one no more than two years older), else against the plan's area."""
    kpi = ev.kpi
    if ev.ci is None:
        return "not rated", (f"Not rated: {figure}; the plan's baseline and target are for the plan's area, and "
                             "without a confidence interval this district cannot be compared by interval.")
    if ev.england is not None and not ev.england_out_of_date:
        verdict = stats.compare_with_england(ev.value, ev.ci.low, ev.ci.high, ev.england, kpi.polarity)
        against = f"England ({ev.england_words})"
    elif ev.parent is not None:
        verdict = stats.compare_with_england(ev.value, ev.ci.low, ev.ci.high, ev.parent, kpi.polarity)
        against = f"{ev.parent_name} ({ev.parent_period}: {fmt(ev.parent, kpi.unit)})"
    else:
        return "not rated", f"Not rated: {figure}; there is no comparator for the same period to rate it against."
    ci = ci_text(ev.ci, kpi.unit)
    rag, words = {"better": ("green", "significantly better than"), "worse": ("red", "significantly worse than"),
                  "similar": ("amber", "not significantly different from")}.get(verdict, ("not rated", ""))
    if rag == "not rated":
        return rag, f"Not rated: {figure}; this measure has no better direction."
    tail = " (too few to tell)" if verdict == "similar" else ""
    return rag, (f"{RAG_WORDS[rag]}: {figure} is {words} {against}{tail}; 95% confidence interval {ci}. "
                 "The plan's baseline and target are for the plan's area.")


NOT_RATED = Explanation("Not rated", lambda s: """
    when there is no figure, no comparator, or the comparator is in different units (the reason says which).""")


def explanations() -> list[Explanation]:
    """How every rating is decided, for About the data: each rule type in turn, then the cases they share."""
    return [r.explanation for r in RULES.values()] + [SMALL_NUMBERS, DISTRICTS, NOT_RATED]


def rag_for(ev: Evidence) -> tuple[str, str]:
    """Apply a KPI's target rules to the evidence: (rag, reason in plain English)."""
    kpi = ev.kpi
    figure = fmt(ev.value, kpi.unit)
    why_not = _why_not_rated(ev, figure)
    if why_not is not None:
        return "not rated", why_not
    rules = _rules_that_apply(ev)
    if ev.is_district and not rules:
        return _district_by_comparison(ev, figure)
    rated: list[Judgement] = []
    unjudged: list[str] = []
    for target_rule in rules:
        if target_rule.type in ENGLAND_RULES and ev.england is None:
            msg = f"there is no England figure to compare with (the plan says: \"{kpi.england.text}\")"
            if target_rule.required:
                unjudged.append(msg)
            continue
        j = RULES[target_rule.type].judge(ev, target_rule)
        if j.rag is None:
            if target_rule.required:
                unjudged.append(j.reason)
            continue
        rated.append(j)
    if unjudged:
        reasons = "; ".join(unjudged)
        return "not rated", f"Not rated: {figure}, but {reasons}."
    if not rated:
        return "not rated", f"Not rated: {figure}; no rule of the target could be applied."
    rag = worst([j.rag for j in rated])
    body = ", and ".join(j.reason for j in rated)
    return rag, f"{RAG_WORDS[rag]}: {figure} is {body}."


def _why_not_rated(ev: Evidence, figure: str) -> str | None:
    """Why the KPI cannot be rated before any rule is tried (no published measure, a related one, no or a
    suppressed figure, no target, England in other units, no better direction), or None when it can be."""
    kpi = ev.kpi
    if kpi.relation == "none" and ev.value is None:  # a local figure uploaded later is judged as usual
        return "Not rated: no published indicator for this measure."
    if kpi.relation == "related" and not kpi.target.rules:
        # A related indicator is context, not the measure: judging it by the measure's aim
        # would present it as the measure itself.
        held = f"latest figure {figure}" if ev.value is not None else f"no figure held for {ev.area_name}"
        return ("Not rated: a related indicator, not the plan's measure itself, so it is not judged "
                f"against the plan's aim ({held}).")
    if ev.value is None and ev.period is not None and ev.suppressed:
        return f"Not rated: the {ev.period} figure for {ev.area_name} is suppressed (withheld)."
    if ev.value is None:
        return (f"Not rated: no figure for {ev.area_name} yet"
                + (f" ({kpi.baseline.text})" if kpi.baseline.value is None else "") + ".")
    if not kpi.target.rules:
        return f"Not rated: the plan sets no target for this measure. Latest figure {figure}."
    uses_england = [r for r in kpi.target.rules if r.type in ENGLAND_RULES]
    if uses_england and ev.england is not None and ev.england_unit and ev.england_unit != kpi.unit:
        return (f"Not rated: England's figure ({fmt(ev.england, ev.england_unit)}) is in "
                f"{_UNIT_WORDS.get(ev.england_unit, ev.england_unit)} but this measure is "
                f"{_UNIT_WORDS.get(kpi.unit, kpi.unit)} ({figure}), so the two cannot be compared (unit mismatch).")
    if kpi.polarity == "none" and any(r.type in _NEED_DIRECTION for r in kpi.target.rules):
        return ("Not rated: the plan does not say whether a higher or lower figure is better. "
                f"Latest figure {figure}.")
    return None


def _rules_that_apply(ev: Evidence) -> tuple:
    """The KPI's target rules, for a district only those it can be judged by: the plan's baseline and target
    belong to the plan's area, so a district is rated by comparison (with England, as the plan's England
    rules say; else with its parent), and against a baseline only where the plan gives the district one
    (`baseline.districts`)."""
    rules = ev.kpi.target.rules
    if ev.is_district:
        rules = tuple(r for r in rules if r.type not in _PLAN_AREA_RULES
                      or (r.type == "improving_vs_baseline" and ev.baseline is not None))
        if ev.england is None or ev.england_out_of_date:
            rules = tuple(r for r in rules if r.type not in ENGLAND_RULES)
    return rules
