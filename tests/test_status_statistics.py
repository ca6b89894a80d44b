"""Status is statistically honest: intervals from numerators and denominators, comparison with
England by interval, RAG that follows it, and SPC that finds a sustained shift."""
from __future__ import annotations

import json

import pytest

from cypp_dash import cli, loading, status, store
from cypp_dash.periods import quarters_between

HEADER = "kpi,area,period,value,numerator,denominator,note\n"


@pytest.fixture
def conn(backend_db):
    """Every test here runs on both back ends: the embedded DuckDB file and PostgreSQL."""
    return store.process_connection(backend_db)


def load(conn, config, body: str):
    out = loading.import_file(conn, config, (HEADER + body).encode(), "stats.csv", "tester")
    assert out.loaded, [str(p) for p in out.validated.problems]


def test_each_area_is_compared_with_englands_figure_for_the_same_period(conn, config, capsys):
    load(conn, config,
         "EH01,England,2026/27 Q1,80.0,48000,60000,\n"
         "EH01,Worcestershire,2026/27 Q1,84.0,1260,1500,\n"       # well above England: better, green
         "EH01,Malvern Hills,2026/27 Q1,88.0,44,50,\n"            # higher but only 50 children: similar
         "EH01,Redditch,2026/27 Q1,70.0,140,200,\n")              # below: worse, red
    store.close_process_connections()
    rows = {}
    for area in ("E10000034", "E07000235", "E07000236"):
        assert cli.main(["status", "--area", area, "--format", "json", "--partnership", "early-help"]) == 0
        rows[area] = json.loads(capsys.readouterr().out)[0]
    county, small, redditch = rows["E10000034"], rows["E07000235"], rows["E07000236"]
    assert county["england"] == 80.0
    assert county["compared_with_england"] == "better" and county["rag"] == "green"
    assert small["ci_low"] < 80.0 < small["ci_high"]
    assert small["compared_with_england"] == "similar" and small["rag"] != "green"
    assert "not significantly different" in small["reason"]
    assert redditch["compared_with_england"] == "worse" and redditch["rag"] == "red"
    for r in rows.values():
        assert r["ci_low"] < r["value"] < r["ci_high"]


def test_without_numerator_and_denominator_the_reason_says_there_is_no_interval(conn, config):
    load(conn, config, "EH05,Worcestershire,2026/27 Q1,71.0,,,\n")
    s = status.plan_status(conn, config, config.plan(), "E10000034", partnership_id="early-help")[4]
    assert s.ci_low is None and s.compared_with_england == "not compared"
    assert "no confidence interval" in s.reason and "no confidence interval" in s.comparison_text.lower()


@pytest.mark.parametrize("code, shift, expected", [
    ("SD01", +15.0, "special cause improving"),     # higher is better: a rise is improvement
    ("SD04", +15.0, "special cause concerning"),    # lower is better: the same rise is a concern
])
def test_a_sustained_shift_is_special_cause_in_the_right_direction(conn, config, code, shift, expected):
    quarters = quarters_between("2020/21 Q1", "2024/25 Q4")
    body = "".join(f"{code},E10000034,{q},{20.0 + (i % 3) * 0.5 + (shift if i >= 10 else 0):.1f},,,\n"
                   for i, q in enumerate(quarters))
    load(conn, config, body)
    s = next(r for r in status.plan_status(conn, config, config.plan(), "E10000034", period="2024/25 Q4")
             if r.code == code)
    assert s.spc_variation == expected, s.spc_text


def test_flags_travel_with_the_figure_into_status(conn, config):
    load(conn, config, "SG01,Worcestershire,2026/27 Q1,19.0,19,100,Provisional: validated in May\n")
    s = next(r for r in status.plan_status(conn, config, config.plan(), "E10000034") if r.code == "SG01")
    assert "provisional" in s.flags.split(",") and s.note == "Provisional: validated in May"
