"""The plan as configuration: the shipped plan loads, and a broken file names the bad key."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from cypp_dash.config import ROOT, ConfigError, load_config

CONTRACT_KPIS = ["EH01", "EH02", "EH03", "EH04", "EH05", "EH06", "MH01", "MH02", "MH03", "MH04", "MH05",
                 "SD01", "SD02", "SD03", "SD04", "SG01", "SG02"]


def test_the_first_plan_is_worcestershire_2022_24_with_four_partnerships_and_17_kpis(config):
    plan = config.plan()
    assert plan.id == "worcs-2022-24"
    assert [p.name for p in plan.partnerships] == ["Early Help", "Emotional Wellbeing and Mental Health",
                                                   "All Age Disability 0-25 (SEND)", "Safeguarding Children"]
    assert [k.code for k in plan.kpis] == CONTRACT_KPIS


def test_baselines_and_england_figures_are_the_seeds_words(config):
    plan = config.plan("worcs-2022-24")
    assert plan.kpi("EH01").baseline.value == 87.6 and plan.kpi("EH01").england.value == 81.0
    assert plan.kpi("EH01").target.text == "To be above the England Average"
    assert plan.kpi("EH02").england.value is None and "(NA)" in plan.kpi("EH02").england.text
    assert plan.kpi("SG02").england.unit == "weeks" and plan.kpi("SG02").unit == "percent"
    assert plan.kpi("MH05").baseline.value is None


def test_every_kpi_has_a_definition_source_and_target_wording(config):
    for plan in config.plans:
        for kpi in plan.kpis:
            assert kpi.definition.strip() and kpi.source.strip() and kpi.target.text.strip(), kpi.code


def _write_broken(tmp_path: Path, edit) -> Path:
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["plan_files"] = None
    edit(raw)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def _kpi(raw, p=0, k=0):
    return raw["plans"][0]["partnerships"][p]["kpis"][k]


BROKEN = [
    ("missing key", lambda r: _kpi(r, 1, 3).pop("unit"), r"plans\[0\]\.partnerships\[1\]\.kpis\[3\]\.unit: is missing"),
    ("unknown unit", lambda r: _kpi(r, 1, 3).update(unit="percentage"),
     r'plans\[0\]\.partnerships\[1\]\.kpis\[3\]\.unit: "percentage" is not one of "percent"'),
    ("wrong type", lambda r: _kpi(r, 0, 0)["baseline"].update(value="high"),
     r'plans\[0\]\.partnerships\[0\]\.kpis\[0\]\.baseline\.value: must be a number, not text \("high"\)'),
    ("unknown polarity", lambda r: _kpi(r, 2, 0).update(polarity="up"),
     r'plans\[0\]\.partnerships\[2\]\.kpis\[0\]\.polarity: "up" is not one of'),
    ("unknown rule", lambda r: _kpi(r)["target"]["rules"][0].update(type="above_average"),
     r'kpis\[0\]\.target\.rules\[0\]\.type: "above_average" is not one of'),
    ("absolute rule without a value", lambda r: _kpi(r, 0, 5)["target"]["rules"][0].pop("value"),
     r"kpis\[5\]\.target\.rules\[0\]\.value: is missing"),
    ("misspelt key", lambda r: _kpi(r).update(polarty="higher"), r"kpis\[0\]\.polarty: is not a key"),
    ("bad setting type", lambda r: r["settings"].update(in_line_tolerance="two"),
     r'settings\.in_line_tolerance: must be a number, not text \("two"\)'),
    ("negative tolerance", lambda r: r["settings"].update(in_line_tolerance=-1), r"settings\.in_line_tolerance: must not be negative"),
    ("bad area code", lambda r: r["areas"][0].update(code="ENGLAND"), r'areas\[0\]\.code: "ENGLAND" is not an ONS GSS code'),
    ("district not among areas", lambda r: r["plans"][0]["districts"].append("E07000999"),
     r'districts: "E07000999" is not an area listed under areas'),
    ("bad period", lambda r: _kpi(r)["baseline"].update(period="Spring 2022"), r"baseline\.period: \"Spring 2022\" is not a period"),
    ("duplicate KPI code", lambda r: _kpi(r, 0, 1).update(code="EH01"), r'the code "EH01" is used twice'),
    ("no plans", lambda r: r.update(plans=[]), r"plans: no plan is configured"),
    ("unknown published measure", lambda r: _kpi(r, 1, 2)["published"].update(measure="lait:LACHealth"),
     r'kpis\[2\]\.published\.measure: "LACHealth" is not a measure in the LAIT data dictionary'),
    ("published measure not an id", lambda r: _kpi(r, 1, 2)["published"].update(measure="LACHealth%"),
     r'kpis\[2\]\.published\.measure: "LACHealth%" is not a published measure id'),
    ("bad published relation", lambda r: _kpi(r, 1, 2)["published"].update(relation="similar"),
     r'kpis\[2\]\.published\.relation: "similar" is not one of "same", "related"'),
    ("related measure without a note", lambda r: _kpi(r, 3, 0)["published"].pop("note"),
     r"kpis\[0\]\.published\.note: is missing: a related measure needs a note"),
    ("misspelt published key", lambda r: _kpi(r, 1, 2)["published"].update(measur="x"),
     r"kpis\[2\]\.published\.measur: is not a key"),
    ("public view not true or false", lambda r: r["settings"].update(public_view="yes"),
     r'settings\.public_view: must be true or false, not text \("yes"\)'),
    ("no room for commentary", lambda r: r["settings"].update(commentary_max_chars=0),
     r"settings\.commentary_max_chars: must be at least 1"),
    ("SPC change point not a period", lambda r: _kpi(r).update(spc_rebase=[{"period": "soon", "reason": "new system"}]),
     r'kpis\[0\]\.spc_rebase\[0\]\.period: "soon" is not a period'),
    ("district baseline not a number", lambda r: _kpi(r)["baseline"].update(districts={"E07000234": "high"}),
     r"baseline\.districts\.E07000234: must be a number"),
    ("SPC change point without a reason", lambda r: _kpi(r).update(spc_rebase=[{"period": "2024/25 Q1"}]),
     r"kpis\[0\]\.spc_rebase\[0\]\.reason: is missing"),
]


def test_an_spc_change_point_is_read_from_the_plan(tmp_path):
    path = _write_broken(tmp_path, lambda r: _kpi(r).update(
        spc_rebase=[{"period": "2024/25 q1", "reason": "new recording system"}]))
    kpi = load_config(path).plan().kpis[0]
    assert [(c.period, c.reason) for c in kpi.spc_rebase] == [("2024/25 Q1", "new recording system")]


@pytest.mark.parametrize("case, edit, message", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_config_stops_start_up_naming_the_key(tmp_path, case, edit, message):
    path = _write_broken(tmp_path, edit)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert re.search(message, str(err.value)), str(err.value)
    assert str(err.value).startswith("config.yaml: ")


def test_invalid_yaml_is_reported_as_such(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("plans: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_config(path)


def test_a_broken_config_stops_the_app_with_the_message(tmp_path, monkeypatch, empty_db):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    path = _write_broken(tmp_path, lambda r: _kpi(r, 1, 3).update(unit="percentage"))
    monkeypatch.setenv("CYPP_CONFIG", str(path))
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "pages" / "overview.py"), default_timeout=30).run()
    st.cache_resource.clear()
    assert not at.exception
    assert any('kpis[3].unit: "percentage" is not one of' in e.value for e in at.error)
