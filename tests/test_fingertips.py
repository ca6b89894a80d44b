"""Real published Fingertips data: the converter that writes the bundled files, and Fingertips
downloads as they come through `python -m cypp_dash import` and `indicators`: loaded with
Fingertips' own comparison, modelled estimates flagged, breakdowns kept apart, broken files refused
with row and column."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from page_text import all_tables

from cypp_dash import ingest, loading
from cypp_dash.config import ROOT
from tools import trafford_to_fingertips as fingertips

CORPUS = ROOT / "tests" / "corpus" / "fingertips"
GOOD = CORPUS / "good_worcestershire_download.csv"
RESPELT = CORPUS / "good_respelt_headers.csv"
BROKEN = CORPUS / "bad_broken_download.csv"
OGL = "Contains public sector information licensed under the Open Government Licence v3.0"


# --- the converter -----------------------------------------------------------------------------

TRAFFORD = """area_code,area_name,period,value,indicator,measure,unit,significance
E47000001,Greater Manchester,2016/17,402.2,Hospital admissions as a result of self-harm (10-24 years),"Age standardised rate per 100,000",Persons,Worse
E10000034,Worcestershire,2015/16,NA,Hospital admissions as a result of self-harm (10-24 years),"Age standardised rate per 100,000",Persons,Not compared
E10000034,Worcestershire,2016/17,364.4,Hospital admissions as a result of self-harm (10-24 years),"Age standardised rate per 100,000",Persons,Better
E92000001,England,2016/17,404.6,Hospital admissions as a result of self-harm (10-24 years),"Age standardised rate per 100,000",Persons,Not compared
"""
SPEC = fingertips.TraffordFile("selfharm.csv", "90813", "10-24 yrs", fingertips.COUNTIES_AND_UAS)


def test_the_converter_writes_fingertips_own_columns_for_the_kept_areas_only(tmp_path):
    src = tmp_path / "selfharm.csv"
    src.write_text(TRAFFORD, encoding="utf-8")
    result = fingertips.convert(src, SPEC)
    rows = list(csv.DictReader(io.StringIO(result.csv_text())))
    assert list(rows[0]) == fingertips.HEADER and len(fingertips.HEADER) == 26
    assert [(r["Area Code"], r["Time period"], r["Value"]) for r in rows] == [
        ("E92000001", "2016/17", "404.6"), ("E10000034", "2016/17", "364.4")]
    worcs = rows[1]
    assert worcs["Indicator ID"] == "90813" and worcs["Age"] == "10-24 yrs" and worcs["Sex"] == "Persons"
    assert worcs["Compared to England value or percentiles"] == "Better"
    assert (worcs["Parent Code"], worcs["Time period Sortable"]) == ("E12000005", "20160000")
    assert worcs["Lower CI 95.0 limit"] == "" and worcs["Count"] == "", "nothing is worked out to fill gaps"
    assert result.dropped_no_value == 1
    assert "E12000005" in result.areas_absent, "the files hold no West Midlands rows: said, not invented"


@pytest.mark.parametrize("text, message", [
    ("code,name\nE1,x\n", "selfharm.csv: row 1: expected the columns"),
    (TRAFFORD.replace("364.4", "lots"), 'selfharm.csv: row 4, column value: "lots" is not a number'),
    (TRAFFORD.replace("2016/17,364.4", "Spring,364.4"), "selfharm.csv: row 4, column period"),
])
def test_the_converter_refuses_a_file_it_cannot_read_naming_row_and_column(tmp_path, text, message):
    src = tmp_path / "selfharm.csv"
    src.write_text(text, encoding="utf-8")
    with pytest.raises(fingertips.ConversionError, match=message):
        fingertips.convert(src, SPEC)


@pytest.mark.skipif(not fingertips.SOURCE_DIR.is_dir(), reason="the shared Trafford files are not beside the repo")
def test_running_the_converter_again_reproduces_the_bundled_files_byte_for_byte(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tools.trafford_to_fingertips", "--out", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for spec in fingertips.FILES:
        assert (tmp_path / spec.name).read_bytes() == (ROOT / "data" / "fingertips" / spec.name).read_bytes()


def test_every_bundled_file_is_a_clean_fingertips_download_with_its_source_and_licence(config):
    source = (ROOT / "data" / "fingertips" / "SOURCE.md").read_text(encoding="utf-8")
    assert "\nsource: OHID Fingertips" in source and f"\nlicence: {OGL}" in source
    assert "MIT License" in source and "Copyright (c) 2019 Trafford Data Lab" in source
    rules = loading.upload_rules(config, accept_unknown=True)
    for spec in fingertips.FILES:
        v = ingest.validate_upload((ROOT / "data" / "fingertips" / spec.name).read_bytes(), spec.name, rules)
        assert v.kind == "fingertips" and v.ok, (spec.name, v.problems[:3])
        assert set(v.rows["indicator_id"]) == {spec.indicator_id}
        assert (v.rows["category"] == "").all()


# --- downloads through the command line ------------------------------------------------------------

@pytest.fixture
def cli(tmp_path):
    """The command line on a fresh store whose configuration bundles no Fingertips files, so every
    figure `indicators` lists came from the import under test."""
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["plan_files"] = None
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    env = {**os.environ, "CYPP_DB": str(tmp_path / "store.duckdb"), "CYPP_CONFIG": str(config_path)}

    def run(*args) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cypp_dash", *map(str, args)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)

    return run


def listed(cli, area: str) -> dict[str, dict]:
    done = cli("indicators", "--area", area, "--format", "json")
    assert done.returncode == 0, done.stderr
    return {r["indicator_id"]: r for r in json.loads(done.stdout)}


def test_a_real_fingertips_download_loads_and_its_indicators_are_listed_with_fingertips_comparison(cli):
    done = cli("import", GOOD, "--user", "analyst")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "54 added" in done.stdout
    rows = listed(cli, "E10000034")
    assert {"90886", "90813", "93203", "90632", "90803"} <= set(rows)
    self_harm = rows["90813"]
    assert (self_harm["period"], self_harm["value"], self_harm["compared_with_england"]) == ("2017/18", 344.1,
                                                                                           "better")
    assert self_harm["name"] == "Hospital admissions as a result of self-harm (10-24 years)"
    assert (self_harm["ci_low"], self_harm["ci_high"]) == (None, None), "not published in this download"
    assert self_harm["licence"] == OGL and "Fingertips" in self_harm["source"]
    assert rows["90632"]["compared_with_england"] == "worse"
    assert {r["flags"] for r in rows.values() if r["indicator_id"] in {"90886", "90813"}} == {""}
    as_csv = cli("indicators", "--area", "E10000034", "--format", "csv")
    header = next(csv.reader(io.StringIO(as_csv.stdout)))
    assert header[:8] == ["indicator_id", "name", "period", "value", "ci_low", "ci_high", "compared_with_england",
                          "flags"]


def test_a_download_with_re_spelt_headers_bom_and_crlf_loads(cli):
    done = cli("import", RESPELT)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = listed(cli, "E06000019")
    assert (rows["10101"]["period"], rows["10101"]["value"]) == ("2016", 12.6)
    assert rows["92441"]["compared_with_england"] == "worse"


def test_a_broken_download_is_refused_with_row_and_column_and_changes_nothing(cli):
    assert cli("init-db").returncode == 0
    before = cli("history", "--format", "json").stdout
    done = cli("import", BROKEN)
    assert done.returncode == 1
    for message in ('row 3, column Value: "thirty-two" is not a number', "row 5, column Time period: \"2014/16\"",
                    "row 6, column Area Code: no area code given"):
        assert message in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert cli("history", "--format", "json").stdout == before


def _edited(path: Path, tmp_path: Path, edit) -> Path:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    edit(rows)
    out = tmp_path / f"edited_{path.name}"
    with out.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return out


def test_a_modelled_estimate_value_note_becomes_the_estimate_flag(cli, tmp_path):
    def mark_latest_self_harm(rows):
        latest = max((r for r in rows[1:] if r[0] == "90813" and r[4] == "E10000034"), key=lambda r: r[23])
        latest[19] = "Value is modelled or synthetic estimate"

    assert cli("import", _edited(GOOD, tmp_path, mark_latest_self_harm)).returncode == 0
    rows = listed(cli, "E10000034")
    assert "estimate" in rows["90813"]["flags"].split(",")
    assert "estimate" not in rows["90886"]["flags"]


def test_a_breakdown_row_is_kept_apart_from_the_areas_headline_figure(cli, tmp_path):
    def add_decile(rows):
        latest = max((r for r in rows[1:] if r[0] == "90813" and r[4] == "E10000034"), key=lambda r: r[23])
        decile = list(latest)
        decile[9], decile[10], decile[12] = "County & UA deprivation deciles in England (IMD2019)", \
            "Most deprived decile", "612.5"
        rows.append(decile)

    assert cli("import", _edited(GOOD, tmp_path, add_decile)).returncode == 0
    assert listed(cli, "E10000034")["90813"]["value"] == 344.1, "the headline, not the decile"


def test_the_wider_outcomes_page_flags_an_estimate_where_it_is_shown(app_page, conn, config, tmp_path):
    edited = _edited(GOOD, tmp_path, lambda rows: [r.__setitem__(19, "Modelled estimate") for r in rows[1:]
                                                   if r[0] == "90803"])
    v = loading.validate(config, edited.read_bytes(), edited.name)
    assert v.ok
    loading.load_validated(conn, v, "analyst")
    at = app_page("wider_outcomes.py", query={"plan": "worcs-2017-21", "area": "E10000034"})
    table = all_tables(at)[0].set_index("Indicator")
    assert table.loc["90803", "Flags"].startswith("estimate (modelled or synthetic")
    assert any("modelled or synthetic estimates" in w.value for w in at.warning)
