"""The EES open-data importer: all or nothing, problems by row and column, symbols kept as no figure
with their meaning, DfE LA codes checked against ONS codes, stable indicator ids."""
from __future__ import annotations

from cypp_dash import benchmark, cli, ees, loading, store
from cypp_dash.config import ROOT

HEAD = ("time_period,time_identifier,geographic_level,country_code,country_name,region_code,region_name,"
        "old_la_code,new_la_code,la_name,category,CPP_start,CPP_subsequent,CPP_subsequent_percent\n")


def test_a_clean_file_gives_one_indicator_per_measure_with_symbols_as_no_figure():
    data = (HEAD + "2025,Reporting year,National,E92000001,England,,,,,,Repeat plans,61840,15130,24.5\n"
                   "2025,Reporting year,Local authority,E92000001,England,E12000005,West Midlands,885,E10000034,"
                   "Worcestershire,Repeat plans,711,223,c\n"
                   "202425,Academic year,Local authority,E92000001,England,E12000005,West Midlands,884,E06000019,"
                   "Herefordshire,Repeat plans,x,low,z\n").encode()
    v = ees.validate(data, "d3_cpps_subsequent_plan_2013_to_2025.csv")
    assert v.ok, v.problems
    rows = v.rows.set_index(["indicator_id", "area_code"])
    pct = "ees:d3_cpps_subsequent_plan:CPP_subsequent_percent"
    assert rows.loc[(pct, "E92000001"), "value"] == 24.5
    worcs = rows.loc[(pct, "E10000034")]
    assert worcs["flags"] == "suppressed" and "suppressed (confidential)" in worcs["note"] and worcs["period"] == "2025"
    here = rows.loc[("ees:d3_cpps_subsequent_plan:CPP_subsequent", "E06000019")]
    assert "rounds to zero" in here["note"] and here["period"] == "2024/25"


def test_a_file_with_problems_is_refused_whole_naming_row_and_column():
    data = (HEAD + "2025,Reporting year,Local authority,E92000001,England,E12000005,West Midlands,885,E10000034,"
                   "Worcestershire,Repeat plans,711,223,31.4\n"
                   "2025,Reporting year,Local authority,E92000001,England,E12000005,West Midlands,885,E10000099,"
                   "Worcestershire,Repeat plans,711,223,31.4\n"
                   "20x5,Reporting year,Local authority,E92000001,England,E12000005,West Midlands,884,E06000019,"
                   "Herefordshire,Repeat plans,1,1,1\n"
                   "2025,Reporting year,Local authority,E92000001,England,E12000005,West Midlands,884,Hereford,"
                   "Herefordshire,Repeat plans,1,1,1\n").encode()
    v = ees.validate(data, "d3.csv")
    assert not v.ok and v.rows.empty
    text = [str(p) for p in v.problems]
    assert any(t.startswith("row 2, column old_la_code: LA code 885 is given two ONS codes") for t in text)
    assert any(t.startswith('row 4, column time_period: "20x5"') for t in text)
    assert any(t.startswith('row 5, column new_la_code: "Hereford" is not an ONS code') for t in text)


def test_importing_the_bundled_cla_outcomes_file_gives_lait_s_health_assessment_figure(conn, config, capsys):
    path = ROOT / "data" / "ees" / "la_conviction_health_outcome_cla.csv"
    assert cli.main(["import", str(path), "--user", "tester"]) == 0
    assert "loaded la_conviction_health_outcome_cla.csv" in capsys.readouterr().out
    iid = ("ees:la_conviction_health_outcome_cla:children_percent[Health assessments: Children looked after all "
           "ages|Had their annual health assessment]")
    row = benchmark.benchmark_rows(store.process_connection(), "E10000034", [iid]).iloc[0]
    assert (row["period"], row["value"], row["england"], row["region"]) == ("2025", 70, 90, 84)
    assert row["neighbours_average"] == 90.5 and row["quartile_band"] == ""  # EES gives no polarity
    assert loading.validate(config, path.read_bytes(), path.name).kind == "ees"
