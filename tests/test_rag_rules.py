"""The RAG rules by name: one judge per rule type the plan may use, each with its description; the
target's own figures; and the order the districts table shows."""
from __future__ import annotations

import pytest
from test_status import make_kpi

from cypp_dash import rag_rules, status
from cypp_dash.config import RULE_TYPES, Settings, Target, TargetRule
from cypp_dash.status import KpiStatus


def test_every_rule_type_the_plan_may_use_has_a_judge_and_a_description_named_after_it():
    assert list(rag_rules.RULES) == list(RULE_TYPES)
    for rule_type, rule in rag_rules.RULES.items():
        assert rule.judge is getattr(rag_rules, rule_type)
        assert rule.explanation.title and rule.explanation.text(Settings())


def test_the_descriptions_name_the_thresholds_in_force():
    settings = Settings(in_line_tolerance=3.0, amber_multiple=2.0, improvement_threshold=0.05,
                        absolute_amber_gap=7.0, trend_points=6)
    text = {r: rag_rules.RULES[r].explanation.text(settings) for r in RULE_TYPES}
    assert "allowing 3 points either way" in text["above_england"]
    assert "worse by up to 6 points" in text["in_line_with_england"]
    assert "by more than 5% of the baseline" in text["improving_vs_baseline"]
    assert "over the last 6 years" in text["improving_trend"]
    assert "some concern within 7 points" in text["absolute"]


def test_about_the_data_shows_every_rule_in_the_rules_own_words(app_page, config):
    at = app_page("about_data.py")
    assert not at.exception
    shown = " ".join(m.value for m in at.markdown)
    for explanation in rag_rules.explanations():
        assert explanation.markdown(config.settings) in shown
    assert "**An improving trend against a target** (e.g. the HWICS target): on track when the target is met" in shown


@pytest.mark.parametrize("rules, value, goal", [
    ((TargetRule("above_england"),), None, None),
    ((TargetRule("above_england"), TargetRule("absolute", 95.0)), 95.0, 95.0),
    ((TargetRule("improving_vs_baseline", 40.0), TargetRule("improving_vs_target", 60.0)), 40.0, 60.0),
])
def test_a_target_knows_its_line_and_its_goal(rules, value, goal):
    target = Target("words", rules)
    assert target.value == value
    assert target.goal == goal


def _row(area, value):
    return KpiStatus(code="T01", kpi="k", partnership="p", partnership_id="p", area=area, area_name=area,
                     period="2024/25", value=value, unit="percent", england=None, england_period=None,
                     target="t", rag="not rated", reason="")


@pytest.mark.parametrize("polarity, order", [("higher", ["b", "c", "a", "none"]), ("lower", ["a", "c", "b", "none"]),
                                             ("none", ["b", "c", "a", "none"])])
def test_districts_are_listed_best_first_with_missing_figures_last(polarity, order):
    rows = [_row("none", None), _row("a", 10.0), _row("b", 30.0), _row("c", 20.0)]
    kpi = make_kpi(["above_england"], polarity=polarity)
    assert [r.area for r in status.best_first(rows, kpi)] == order
