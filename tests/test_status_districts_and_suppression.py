"""Status on a real store: districts rated as Fingertips rates sub-areas (the best never below a worse one),
small numbers, and suppressed figures withheld from every output."""
from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from cypp_dash import cli, export, loading, status, store

HEADER = "kpi,area,period,value,numerator,denominator,note\n"
RAG_RANK = {"green": 0, "amber": 1, "red": 2}


def load(conn, config, body: str):
    out = loading.import_file(conn, config, (HEADER + body).encode(), "issue15.csv", "tester")
    assert out.loaded, [str(p) for p in out.validated.problems]
    return out


@pytest.mark.parametrize("code", ["EH01", "EH03", "EH04", "SG01", "SD04"])
def test_the_best_district_is_never_rated_worse_than_a_worse_one(conn, config, code):
    plan = config.plan()
    kpi = plan.kpi(code)
    rows = [r for r in status.district_table(conn, config, plan, kpi)
            if r.area in plan.districts and r.value is not None and r.rag in RAG_RANK]
    sign = 1 if kpi.polarity == "higher" else -1
    for a in rows:
        for b in rows:
            if a.period == b.period and (a.value - b.value) * sign > 0:
                assert RAG_RANK[a.rag] <= RAG_RANK[b.rag], (a.area_name, a.value, a.rag, b.area_name, b.value,
                                                             b.rag)
    # Districts carry no baseline of their own (the plan's is for the county) and say what they are compared with.
    assert all(r.baseline is None for r in rows)


def test_a_district_with_a_better_figure_but_a_wider_interval_is_lifted_with_a_reason(conn, config):
    # Worcester 95% of 20 (interval includes England's 80%: similar) and Redditch 86% of 2,000 (significantly
    # better than England): Worcester's figure is better, so it is not shown below Redditch.
    load(conn, config,
         "EH01,England,2026/27 Q1,80.0,48000,60000,\n"
         "EH01,Worcestershire,2026/27 Q1,85.0,1275,1500,\n"
         "EH01,Worcester,2026/27 Q1,95.0,19,20,\n"
         "EH01,Redditch,2026/27 Q1,86.0,1720,2000,\n")
    plan = config.plan()
    rows = {r.area_name: r for r in status.district_table(conn, config, plan, plan.kpi("EH01"), "2026/27 Q1")}
    assert rows["Redditch"].rag == "green" and rows["Redditch"].compared_with_england == "better"
    assert rows["Worcester"].compared_with_england == "similar"
    assert rows["Worcester"].rag == "green" and "better than Redditch" in rows["Worcester"].reason
    assert rows["Worcester"].compared_with_parent == "similar" and "Worcestershire" in rows["Worcester"].parent_text


def test_small_numbers_against_the_baseline_are_too_few_to_tell_not_off_track(conn, config):
    # SD03: baseline 57.7% (2021/22), "improving vs baseline" and "in line with England". 15 of 23 = 65.2%, Wilson
    # 95% interval 44.9% to 81.2%, includes the baseline: not green on that rule but "too few to tell".
    load(conn, config, "SD03,England,2026/27 Q1,60.0,6000,10000,\n"
                       "SD03,Worcestershire,2026/27 Q1,65.2,15,23,\n")
    plan = config.plan()
    s = next(r for r in status.plan_status(conn, config, plan, plan.area) if r.code == "SD03")
    assert (round(s.ci_low, 1), round(s.ci_high, 1)) == (44.9, 81.2)
    assert s.rag == "amber" and "too few to tell" in s.reason and "57.7%" in s.reason
    assert "too few to tell" in s.headline and s.england_period == "2026/27 Q1"


def test_a_suppressed_figure_leaves_no_numerator_or_denominator_in_any_output(conn, config, capsys, tmp_path):
    out = load(conn, config, "EH01,Worcestershire,2026/27 Q1,c,7,9,\n")
    assert any("not stored" in w for w in out.validated.warnings)
    plan = config.plan()
    held = store.series(conn, ["EH01"], [plan.area])
    latest = held[held["period"] == "2026/27 Q1"].iloc[0]
    assert latest["numerator"] != latest["numerator"] and latest["denominator"] != latest["denominator"]  # NaN
    s = next(r for r in status.plan_status(conn, config, plan, plan.area) if r.code == "EH01")
    assert s.value is None and s.numerator is None and s.denominator is None and s.figure_text == "suppressed"
    assert "suppressed" in s.reason and s.spc_variation == "" and "suppressed" in s.trend_text
    store.close_process_connections()
    assert cli.main(["status", "--area", plan.area, "--format", "json", "--partnership", "early-help"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["period"] == "2026/27 Q1" and row["value"] is None
    assert row["numerator"] is None and row["denominator"] is None and "suppressed" in row["flags"]
    # Tables as downloaded (CSV and XLSX) from the status rows.
    frame = status.status_frame([s])
    text = export.table_csv(frame).decode("utf-8-sig")
    got = next(csv.DictReader(io.StringIO(text)))
    assert got["numerator"] == "" and got["denominator"] == "" and got["value"] == ""
    with zipfile.ZipFile(io.BytesIO(export.table_xlsx(frame))) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<v>7</v>" not in sheet and "<v>9</v>" not in sheet
