"""The command line as scripts use it: init-db, status in every format, usage errors."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from cypp_dash import cli
from cypp_dash.config import ROOT

CONTRACT_COLUMNS = ["code", "kpi", "partnership", "area", "period", "value", "unit", "england", "target", "rag",
                    "reason", "ci_low", "ci_high", "compared_with_england", "trend", "spc_variation",
                    "spc_assurance", "flags"]


def run_cli(*args, db, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "CYPP_DB": str(db)}
    return subprocess.run([sys.executable, "-m", "cypp_dash", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def initialised(tmp_path_factory):
    db = tmp_path_factory.mktemp("cli") / "x.duckdb"
    first = run_cli("init-db", db=db)
    assert first.returncode == 0, first.stderr
    return db


def test_init_db_is_safe_to_repeat(initialised):
    before = json.loads(run_cli("history", "--format", "json", db=initialised).stdout)
    again = run_cli("init-db", db=initialised)
    assert again.returncode == 0, again.stderr
    after = json.loads(run_cli("history", "--format", "json", db=initialised).stdout)
    assert len(after) == len(before) >= 2, "a repeated init-db must not load the bundled files twice"
    assert {b["kind"] for b in after} >= {"plan", "illustrative"}


def test_status_csv_has_one_row_per_kpi_with_the_contract_columns(initialised):
    out = run_cli("status", "--area", "E10000034", "--format", "csv", db=initialised)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["code"] for r in rows] == ["EH01", "EH02", "EH03", "EH04", "EH05", "EH06", "MH01", "MH02", "MH03",
                                         "MH04", "MH05", "SD01", "SD02", "SD03", "SD04", "SG01", "SG02"]
    assert set(CONTRACT_COLUMNS) <= set(rows[0])
    assert {r["rag"] for r in rows} <= {"green", "amber", "red", "not rated"}
    assert all(r["reason"] for r in rows)
    sg02 = rows[-1]
    assert sg02["rag"] == "not rated" and "unit mismatch" in sg02["reason"] and "weeks" in sg02["reason"]
    mh05 = rows[10]
    assert mh05["rag"] == "not rated" and "not yet reported" in mh05["reason"]


def test_status_json_is_a_list_of_rows_with_flags_and_statistics(initialised):
    out = run_cli("status", "--area", "E07000237", "--format", "json", "--partnership", "early-help", db=initialised)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["code"] for r in rows] == ["EH01", "EH02", "EH03", "EH04", "EH05", "EH06"]
    eh01 = rows[0]
    assert eh01["area"] == "E07000237" and eh01["ci_low"] < eh01["value"] < eh01["ci_high"]
    # The illustrative 2025/26 Q4 figure against England's 2021/22 figure: more than two years apart, so the
    # comparison is labelled out of date and never called better or worse (issue 15); England's period is named.
    assert eh01["england_period"] == "2021/22"
    assert eh01["compared_with_england"] == "not compared"
    assert "illustrative" in eh01["flags"]
    assert all("england_period" in r for r in rows)


def test_status_at_an_earlier_period_gives_the_latest_figure_at_or_before_it(initialised):
    out = run_cli("status", "--area", "E10000034", "--period", "2023/24 Q2", "--format", "json", db=initialised)
    rows = json.loads(out.stdout)
    assert {r["period"] for r in rows if r["period"]} == {"2023/24 Q2"}


def test_status_piped_into_a_reader_that_stops_early_ends_quietly(initialised):
    reader = subprocess.run(f'"{sys.executable}" -m cypp_dash status --area E10000034 --format csv | head -n 1',
                            shell=True, cwd=ROOT, env={**os.environ, "CYPP_DB": str(initialised)},  # noqa: S602
                            capture_output=True, text=True, timeout=300)
    assert reader.stdout.startswith("code,kpi,")
    assert "Traceback" not in reader.stderr and "BrokenPipeError" not in reader.stderr


def test_status_as_a_table_is_readable_text(initialised):
    out = run_cli("status", "--area", "E10000034", db=initialised)
    assert out.returncode == 0 and "EH01" in out.stdout and "not rated" in out.stdout


@pytest.mark.parametrize("args, words", [
    (["status"], "required: --area"),
    (["status", "--area", "E99999999"], "not a known area code"),
    (["status", "--area", "E10000034", "--period", "sometime"], "is not a period"),
    (["status", "--area", "E10000034", "--partnership", "nope"], "no partnership"),
    (["status", "--area", "E10000034", "--plan", "nope"], "no plan"),
    (["frobnicate"], "invalid choice"),
])
def test_usage_errors_exit_2_with_a_message_and_no_traceback(initialised, args, words):
    out = run_cli(*args, db=initialised)
    assert out.returncode == 2
    assert words in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("command", ["init-db", "import", "status", "indicators", "history", "rollback", "report",
                                     "users", "backup", "restore", "benchmark", "commentary", "stats",
                                     "stats spc", "stats trend", "stats interval", "stats funnel"])
def test_every_contract_command_answers_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main([*command.split(), "--help"])
    assert done.value.code == 0
    assert "usage:" in capsys.readouterr().out
