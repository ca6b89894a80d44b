"""Any council's plan as configuration: the seeds' four plans open on every page, each shows its
own content (related indicators said to be related, "no published indicator", "to be agreed",
the voice of children and young people, wider outcomes), and a plan added as a YAML file
appears without code changes while a broken one is refused naming the file and key."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml
from page_text import all_tables, chart_pictures, texts

from cypp_dash import plan_info, status
from cypp_dash.config import ROOT, ConfigError, load_config

PLANS = ["worcs-2022-24", "worcs-2017-21", "herefordshire-2019-23", "bromley-2011-14"]
PAGES = ["overview.py", "partnership.py", "districts.py", "about_data.py", "about_plan.py", "actions.py", "voice.py",
         "wider_outcomes.py"]
EXAMPLE = ROOT / "tests" / "corpus" / "plans" / "example-council.yaml"
WORCS_DISTRICTS = ["Bromsgrove", "Malvern Hills", "Redditch", "Worcester", "Wychavon", "Wyre Forest"]
OGL = "Open Government Licence v3.0"




# --- every page under every plan ----------------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("plan", PLANS)
def test_every_page_opens_under_every_plan_and_keeps_the_plan_in_the_url(app_page, plan, page):
    at = app_page(page, query={"plan": plan})
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.selectbox(key="w_plan").value == plan
    assert at.query_params["plan"] == plan


def test_the_plan_selector_offers_the_four_plans_and_remembers_the_choice_in_the_session(app_page, config):
    at = app_page("overview.py", state={"cypp_plan": "bromley-2011-14"})
    selector = at.sidebar.selectbox(key="w_plan")
    assert selector.label == "Plan"
    assert selector.value == "bromley-2011-14"
    assert set(PLANS) <= {p.id for p in config.plans}
    assert {config.plan(p).name for p in PLANS} <= set(selector.options)
    selector.set_value("herefordshire-2019-23").run()
    assert at.title[0].value == "Herefordshire Children and Young People's Plan 2019-23"
    assert at.session_state["cypp_plan"] == "herefordshire-2019-23"


# --- Worcestershire 2017-21 (seed 001) -----------------------------------------------------------

def test_the_2017_21_overview_shows_real_figures_with_related_and_missing_indicators_said_plainly(app_page):
    at = app_page("overview.py", query={"plan": "worcs-2017-21"})
    body = texts(at)
    assert at.title[0].value == "Worcestershire Children and Young People's Plan 2017-21"
    assert "Illustrative data" not in body
    table = pd.concat(all_tables(at))
    assert table["Latest"].str.contains("no published indicator").sum() == 5
    assert (table["RAG"] == "– Not rated").sum() >= 5
    assert "Related indicator, not the measure itself: Excess weight (overweight including obese)" in body
    assert "32.0 (rate per 10,000)" in body, "Worcestershire's published child protection plan rate, 2014/15"
    assert OGL in body


def test_no_2017_21_figure_is_illustrative_and_each_names_fingertips_and_its_licence(conn, config):
    plan = config.plan("worcs-2017-21")
    for area in [plan.area, *plan.districts]:
        for s in status.plan_status(conn, config, plan, area):
            assert not s.illustrative and "illustrative" not in s.flags, (area, s.code)
            if s.value is not None:
                assert "Fingertips" in s.source and OGL in s.licence, (area, s.code)
            kpi = plan.kpi(s.code)
            if kpi.relation == "related":
                assert s.rag == "not rated" and "related indicator" in s.reason, "never rated as the measure"
    worcester = status.plan_status(conn, config, plan, "E07000237")
    excess = next(s for s in worcester if s.code == "W17-09a")
    assert (excess.value, excess.period, excess.compared_with_england) == (20.7, "2017/18", "similar")


def test_the_2017_21_districts_page_puts_districts_west_midlands_and_england_side_by_side(app_page):
    at = app_page("districts.py", query={"plan": "worcs-2017-21", "kpi": "W17-09a"})
    assert not at.exception
    table = all_tables(at)[0]
    areas = list(table["Area"])
    assert set(WORCS_DISTRICTS) | {"Worcestershire", "West Midlands", "England"} <= set(areas)
    west_midlands = table[table["Area"] == "West Midlands"].iloc[0]
    assert "no figure held for West Midlands" in west_midlands["Why"], "no regional figure is invented"
    worcester = table[table["Area"] == "Worcester"].iloc[0]
    assert worcester["Latest"] == "20.7%"
    assert "Illustrative data" not in texts(at)


def test_about_the_2017_21_plan_shows_vision_governance_owners_and_relations(app_page):
    at = app_page("about_plan.py", query={"plan": "worcs-2017-21"})
    body = texts(at)
    assert "Worcestershire to be a wonderful place for all children and young people to grow up" in body
    assert "This plan ran to 31 December 2021: no further quarterly report falls due." in body
    governance, owners = all_tables(at)[:2]
    assert list(governance["Reports to"]) == ["Worcestershire Health and Wellbeing Board"]
    assert len(owners) == 11 and owners["Owner of baseline and target"].str.len().min() > 0
    assert "W17-01: related indicator, not the measure itself." in body
    assert "W17-02: no published indicator." in body
    assert "no West Midlands figure is shown" in body


def test_the_voice_page_shows_the_2017_consultation_with_its_caveats(app_page):
    at = app_page("voice.py", query={"plan": "worcs-2017-21"})
    assert not at.exception
    headers = [h.value for h in at.header]
    for title in ("Respondents by type", "Respondents by district", "Respondents by gender",
                  "Respondents by disability", "What is most important to children and young people?",
                  "What are the main issues and challenges for children and young people?"):
        assert title in headers
    body = texts(at)
    for caveat in ("Provisional counts", "Groups overlap", "not captured demographically"):
        assert caveat in body
    assert len(chart_pictures(at)) == 7, "a chart for each breakdown and each question"
    by_type = at.dataframe[0].value
    assert dict(zip(by_type["Respondent type"], by_type["Respondents"]))["Parents/Carers"] == 963
    challenges = at.dataframe[5].value.set_index("Answer")
    assert challenges.loc["Mental health and wellbeing", "Children"] == ""
    assert challenges.loc["Mental health and wellbeing", "Young People"] == "✓ raised"


def test_a_plan_without_consultation_results_says_so_on_the_voice_page(app_page):
    at = app_page("voice.py", query={"plan": "bromley-2011-14"})
    body = texts(at)
    assert "No consultation with children and young people is recorded for this plan yet" in body
    assert "YAML" not in body and "`" not in body, "nothing on the page speaks to developers"


def test_wider_outcomes_lists_what_the_plan_does_not_use_with_fingertips_comparison_and_licence(app_page):
    at = app_page("wider_outcomes.py", query={"plan": "worcs-2017-21", "area": "E10000034"})
    assert not at.exception
    table = all_tables(at)[0]
    assert set(table["Indicator"]) == {"90803", "90813"}, "not the plan's own indicators, nor another plan's KPIs"
    self_harm = table.set_index("Indicator").loc["90813"]
    assert (self_harm["Period"], self_harm["Value"]) == ("2017/18", "344.1")
    assert self_harm["Compared with England (as published)"] == "better"
    assert OGL in texts(at), "the licence is said with the source"
    district = app_page("wider_outcomes.py", query={"plan": "worcs-2017-21", "area": "E07000237"})
    assert set(all_tables(district)[0]["Indicator"]) == {"10101"}


# --- Herefordshire 2019-23 (seed 002) and Bromley 2011-14 (seed 004) --------------------------------

def test_herefordshire_shows_its_four_pledges_as_this_dashboards_illustration(app_page):
    at = app_page("overview.py", query={"plan": "herefordshire-2019-23"})
    assert [h.value for h in at.header] == ["Be safe from harm", "Be healthy", "Be amazing",
                                            "Feel part of the community"]
    body = texts(at)
    assert body.count("this dashboard's illustration, not adopted measures") == 4
    assert "Illustrative data" not in body, "the figures are real; only the choice of indicators is ours"
    assert "87.1 (rate per 10,000)" in body, "Herefordshire's children in care rate, 2018"
    about = texts(app_page("about_plan.py", query={"plan": "herefordshire-2019-23"}))
    assert "Estimates are not facts." in about
    assert "The indicators are this dashboard's illustration, not the council's adopted measures." in about


def test_bromley_shows_its_five_priorities_to_be_agreed_and_no_measures_yet(app_page):
    at = app_page("overview.py", query={"plan": "bromley-2011-14"})
    assert at.title[0].value == "Bromley Children and Young People's Plan 2011-14"
    assert "This plan has no measures yet" in texts(at)
    about = texts(app_page("about_plan.py", query={"plan": "bromley-2011-14"}))
    assert len(re.findall(r"Priority \d: to be agreed", about)) == 5
    partnership = texts(app_page("partnership.py", query={"plan": "bromley-2011-14"}))
    assert "Children and Young People Trust has no measures yet" in partnership


def test_a_plan_past_its_end_date_says_so_and_promises_no_next_report(app_page):
    at = app_page("about_plan.py", query={"plan": "worcs-2022-24"})
    body = texts(at)
    assert "ended on 31 December 2024" in body
    assert "Next quarterly report" not in body and "no further quarterly report falls due" in body


# --- the plan files themselves -----------------------------------------------------------------------

REQUIRED_KPI_KEYS = {"code", "name", "definition", "unit", "polarity", "owner", "baseline", "england", "target",
                     "source", "illustrative"}


@pytest.mark.parametrize("path", sorted((ROOT / "plans").glob("*.yaml")), ids=lambda p: p.name)
def test_every_kpi_in_a_plan_file_has_every_key_and_says_how_it_relates_to_its_figures(path, conn):
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    held = set(conn.execute("SELECT DISTINCT indicator_id FROM observations").df()["indicator_id"])
    for p in raw["partnerships"]:
        for k in p["kpis"]:
            assert REQUIRED_KPI_KEYS <= set(k), (path.name, k["code"], REQUIRED_KPI_KEYS - set(k))
            assert k["illustrative"] is False, "these plans' figures are real"
            relation = k.get("relation", "measure")
            if relation in ("related", "none"):
                assert len(k.get("relation_note", "")) > 40, (k["code"], "say plainly what it is and is not")
            if relation != "none":
                assert str(k["indicator_id"]) in held, (k["code"], "its figures are bundled")
                assert OGL in k["licence"]
    for rel in raw.get("data_files", []):
        assert (ROOT / rel).is_file()


@pytest.mark.parametrize("today, quarter, closes", [
    (date(2023, 11, 22), "2023/24 Q3", date(2023, 12, 31)),
    (date(2023, 12, 31), "2023/24 Q3", date(2023, 12, 31)),
    (date(2024, 1, 1), "2023/24 Q4", date(2024, 3, 31)),
    (date(2024, 4, 1), "2024/25 Q1", date(2024, 6, 30)),
])
def test_the_next_quarterly_report_covers_the_quarter_containing_today(config, today, quarter, closes):
    report = plan_info.next_quarterly_report(config.plan("worcs-2022-24"), today)
    assert (report.quarter, report.closes) == (quarter, closes)


def test_no_quarterly_report_falls_due_after_a_plan_has_ended(config):
    plan = config.plan("worcs-2017-21")
    assert plan_info.next_quarterly_report(plan, date(2021, 12, 31)) is not None
    assert plan_info.next_quarterly_report(plan, date(2022, 1, 1)) is None


# --- "Add your council's plan" (the README's checked example) ------------------------------------------

def _config_with_plans(tmp_path: Path, *plan_files: tuple[str, str]) -> Path:
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["plan_files"] = "plans"
    (tmp_path / "plans").mkdir(exist_ok=True)
    for name, text in plan_files:
        (tmp_path / "plans" / name).write_text(text, encoding="utf-8")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_a_new_plan_file_appears_in_the_plan_selector_without_code_changes(app_page, tmp_path, monkeypatch):
    monkeypatch.setenv("CYPP_CONFIG", str(_config_with_plans(tmp_path, ("example-council.yaml",
                                                                        EXAMPLE.read_text(encoding="utf-8")))))
    at = app_page("overview.py", query={"plan": "example-council-2025-28"})
    assert not at.exception
    assert "Example Council Children and Young People's Plan 2025-28" in at.sidebar.selectbox(key="w_plan").options
    assert at.title[0].value == "Example Council Children and Young People's Plan 2025-28"
    assert "Healthy start" in [h.value for h in at.header]
    for page in PAGES:
        assert not app_page(page, query={"plan": "example-council-2025-28"}).exception, page


def test_the_readme_example_is_the_checked_example_file():
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else ""
    if "Add your council's plan" not in text:
        pytest.skip("the README section is merged by the lead from notes/readme_plans.md")
    block = re.search(r"## Add your council's plan.*?```yaml\n(.*?)```", text, re.S)
    assert block and block.group(1).strip() == EXAMPLE.read_text(encoding="utf-8").strip()


BROKEN = [
    ("a unit this dashboard does not know", lambda t: t.replace("unit: percent", "unit: percentage", 1),
     'plans/example-council.yaml: plan.partnerships[0].kpis[0].unit: "percentage" is not one of "percent"'),
    ("a required key missing", lambda t: re.sub(r"\n        source: [^\n]*", "", t, count=1),
     "plans/example-council.yaml: plan.partnerships[0].kpis[0].source: is missing (a required key)"),
    ("a misspelt key", lambda t: t.replace("polarity: higher", "polarty: higher", 1),
     "plans/example-council.yaml: plan.partnerships[0].kpis[0].polarty: is not a key this dashboard knows"),
    ("an action date that is not a date", lambda t: t.replace('due: "2026-03-31"', 'due: "31st March"', 1),
     'plans/example-council.yaml: plan.actions[0].due: "31st March" is not a date written YYYY-MM-DD'),
    ("a data file that is not there", lambda t: t.replace("data_files: []", "data_files: [data/nowhere.csv]", 1),
     'plans/example-council.yaml: plan.data_files[0]: "data/nowhere.csv" is not a file'),
    ("a district that is not an area", lambda t: t.replace("districts: []", "districts: [E07000999]", 1),
     'plans/example-council.yaml: districts: "E07000999" is not an area listed under areas'),
    ("not YAML at all", lambda t: t + "\n  - : [unclosed\n", "plans/example-council.yaml: is not valid YAML"),
]


@pytest.mark.parametrize("case, breaks, message", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_plan_file_is_refused_at_start_up_naming_the_file_and_key(tmp_path, case, breaks, message):
    text = EXAMPLE.read_text(encoding="utf-8")
    broken = breaks(text)
    assert broken != text, "the breakage must apply"
    path = _config_with_plans(tmp_path, ("example-council.yaml", broken))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value)


def test_a_broken_voice_section_is_refused_naming_the_key(tmp_path):
    raw = yaml.safe_load((ROOT / "plans" / "worcs-2017-21.yaml").read_text(encoding="utf-8"))
    raw["voice"]["tables"][1]["rows"][0]["count"] = "lots"
    path = _config_with_plans(tmp_path, ("worcs-2017-21.yaml", yaml.safe_dump(raw, allow_unicode=True)))
    with pytest.raises(ConfigError, match=r"plans/worcs-2017-21\.yaml: plan\.voice\.tables\[1\]\.rows\[0\]\.count: "
                                          r"must be a whole number"):
        load_config(path)


def test_the_app_and_the_command_line_refuse_a_broken_plan_with_the_same_message(app_page, tmp_path, monkeypatch,
                                                                                db_path):
    text = EXAMPLE.read_text(encoding="utf-8").replace("unit: percent", "unit: percentage", 1)
    config_path = _config_with_plans(tmp_path, ("example-council.yaml", text))
    monkeypatch.setenv("CYPP_CONFIG", str(config_path))
    at = app_page("overview.py")
    assert any("plans/example-council.yaml: plan.partnerships[0].kpis[0].unit" in e.value for e in at.error)
    done = subprocess.run([sys.executable, "-m", "cypp_dash", "status", "--area", "E10000034"], cwd=ROOT,
                          env={**os.environ, "CYPP_DB": str(tmp_path / "cli.duckdb")}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 1
    assert "configuration error: plans/example-council.yaml: plan.partnerships[0].kpis[0].unit" in done.stderr



def test_the_command_line_gives_status_for_every_plan_even_one_without_measures(tmp_path):
    def status_rows(plan: str, area: str) -> list[dict]:
        done = subprocess.run([sys.executable, "-m", "cypp_dash", "status", "--plan", plan, "--area", area,
                               "--format", "json"], cwd=ROOT, env={**os.environ, "CYPP_DB": str(tmp_path / "s.duckdb")},
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert status_rows("bromley-2011-14", "E09000006") == []
    worcs = {r["code"]: r for r in status_rows("worcs-2017-21", "E10000034")}
    assert worcs["W17-02"]["reason"] == "Not rated: no published indicator for this measure."
    assert worcs["W17-01"]["value"] == 32.0 and worcs["W17-01"]["compared_with_england"] == "better"
    assert "related indicator" in worcs["W17-01"]["reason"]


def test_a_local_figure_uploaded_for_a_measure_with_no_published_indicator_is_shown_not_hidden(conn, config):
    from cypp_dash import loading

    upload = b"kpi,area,period,value\nW17-02,Worcestershire,2024/25,61.0\n"
    outcome = loading.import_file(conn, config, upload, "permanence.csv", "analyst")
    assert outcome.loaded, outcome.validated.problems
    rows = {s.code: s for s in status.plan_status(conn, config, config.plan("worcs-2017-21"), "E10000034")}
    assert rows["W17-02"].value == 61.0
    assert rows["W17-02"].reason == "Not rated: the plan sets no target for this measure. Latest figure 61.0%."
    assert rows["W17-05"].reason == "Not rated: no published indicator for this measure."
