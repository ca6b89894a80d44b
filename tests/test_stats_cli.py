"""`python -m cypp_dash stats ...` exactly as CONTRACT.md says, and the same results as the pages."""
from __future__ import annotations

import csv
import io
import json

import pytest

from cypp_dash import cli, status, store

ALT = [10.0, 12.0]


def periods(n: int) -> list[str]:
    return [f"{2015 + i // 4}/{(16 + i // 4) % 100:02d} Q{i % 4 + 1}" for i in range(n)]


def write_series(tmp_path, values, names=None, extra=None):
    """A period,value CSV (plus any extra columns) in time order."""
    names = names or periods(len(values))
    cols = list(extra or {})
    lines = [",".join(["period", "value", *cols])]
    for k, (p, v) in enumerate(zip(names, values)):
        lines.append(",".join([p, "" if v is None else str(v)] + [str(extra[c][k]) for c in cols]))
    path = tmp_path / "series.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stats_cmd(capsys, *args):
    code = cli.main(["stats", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_stats_spc_csv_has_one_row_per_point_then_the_summary(tmp_path, capsys):
    path = write_series(tmp_path, ALT * 6 + [13.0] * 8)
    code, out, _ = stats_cmd(capsys, "spc", path, "--polarity", "higher", "--target", "17", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0])[:7] == ["period", "value", "mean", "lower_limit", "upper_limit", "special_cause", "rules"]
    assert len(rows) == 21 and rows[-1]["period"] == "summary"
    assert rows[-1]["variation"] == "special cause improving" and rows[-1]["assurance"] == "consistently failing"
    assert float(rows[0]["mean"]) == pytest.approx(11.8) and float(rows[0]["upper_limit"]) == pytest.approx(15.02)
    assert [r["special_cause"] for r in rows[:-1]] == [""] * 11 + ["improvement"] * 9
    assert rows[12]["rules"] == "shift"


def test_stats_spc_json_rebases_at_the_named_period(tmp_path, capsys):
    names = periods(26)
    path = write_series(tmp_path, ALT * 7 + [20.0, 22.0] * 6, names)
    code, out, _ = stats_cmd(capsys, "spc", path, "--rebase", names[14], "--format", "json")
    rows = json.loads(out)
    assert code == 0 and rows[0]["mean"] == pytest.approx(11.0) and rows[14]["mean"] == pytest.approx(21.0)
    assert rows[-1] == {**rows[-1], "period": "summary", "variation": "common cause", "assurance": ""}


def test_stats_spc_refuses_a_rebase_period_not_in_the_file(tmp_path, capsys):
    path = write_series(tmp_path, ALT * 7)
    code, _, err = stats_cmd(capsys, "spc", path, "--rebase", "2030/31 Q1")
    assert code == 2 and "not a period in the file" in err


def test_stats_trend_gives_one_row_with_the_fingertips_words(tmp_path, capsys):
    years = ["2019/20", "2020/21", "2021/22", "2022/23", "2023/24"]
    path = write_series(tmp_path, [50, 55, 60, 65, 70], years,
                        {"numerator": [50, 55, 60, 65, 70], "denominator": [100] * 5})
    code, out, _ = stats_cmd(capsys, "trend", path, "--polarity", "lower", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 1
    assert rows[0]["trend"] == "increasing" and rows[0]["direction"] == "getting worse"
    assert rows[0]["statistic"] == pytest.approx(10.4167, abs=1e-4) and rows[0]["points"] == 5
    bare = write_series(tmp_path, [50, 55, 60, 65, 70], years)
    code, out, _ = stats_cmd(capsys, "trend", bare, "--format", "csv")
    assert next(csv.DictReader(io.StringIO(out)))["trend"] == "cannot be calculated"


def test_stats_interval_is_one_object(capsys):
    code, out, _ = stats_cmd(capsys, "interval", "--numerator", 15, "--denominator", 23, "--unit", "percent",
                             "--format", "json")
    got = json.loads(out)
    assert code == 0 and set(got) == {"value", "ci_low", "ci_high", "method"}
    assert (round(got["ci_low"], 1), round(got["ci_high"], 1)) == (44.9, 81.2)
    code, out, _ = stats_cmd(capsys, "interval", "--numerator", 12, "--denominator", 50_000, "--unit",
                             "rate per 100,000", "--level", "99.8", "--format", "json")
    got = json.loads(out)
    assert got["value"] == pytest.approx(24.0) and got["ci_low"] < 24 < got["ci_high"] and "Byar" in got["method"]


def test_stats_funnel_rows_and_no_funnel_for_counts(tmp_path, capsys):
    path = tmp_path / "areas.csv"
    path.write_text("area,numerator,denominator\nA,30,40\nB,8,50\nC,200,300\n", encoding="utf-8")
    code, out, _ = stats_cmd(capsys, "funnel", path, "--unit", "percent", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and [r["area"] for r in rows] == ["A", "B", "C"]
    assert rows[0]["centre"] == pytest.approx(238 / 390 * 100)
    assert rows[1]["position"] == "below 99.8% limit"
    code, _, err = stats_cmd(capsys, "funnel", path, "--unit", "count")
    assert code == 2 and "count" in err


def test_stats_spc_gives_the_same_results_as_the_partnership_page(conn, config, tmp_path, capsys):
    # The partnership page draws status.spc_for(kpi, rows, ...): the command on the same series must agree.
    plan = config.plan()
    kpi = plan.kpi("SD01")
    rows = store.series(conn, [kpi.indicator_id], [plan.area])
    st_row = next(r for r in status.plan_status(conn, config, plan, plan.area) if r.code == "SD01")
    page_periods, page = status.spc_for(kpi, rows, st_row, config.settings)
    run = rows[rows["period"].isin(page_periods)]
    path = write_series(tmp_path, run["value"].tolist(), run["period"].tolist())
    args = ["spc", path, "--polarity", kpi.polarity, "--format", "json", "--min-points",
            config.settings.spc_min_points]
    if st_row.assurance_target is not None:
        args += ["--target", st_row.assurance_target]
    store.close_process_connections()
    code, out, _ = stats_cmd(capsys, *args)
    got = json.loads(out)
    assert code == 0
    assert got[-1]["variation"] == (page.variation or "") and (got[-1]["assurance"] or "") == page.assurance
    assert [r["special_cause"] for r in got[:-1]] == list(page.points["special_cause"])
    assert got[0]["mean"] == pytest.approx(page.points["mean"].iloc[0], nan_ok=True)
    assert st_row.spc_variation == page.variation


def test_stats_spc_takes_the_file_after_the_rebase_periods_too(tmp_path, capsys):
    names = periods(26)
    path = write_series(tmp_path, ALT * 7 + [20.0, 22.0] * 6, names)
    code, out, _ = stats_cmd(capsys, "spc", "--rebase", names[14], path, "--format", "json")
    assert code == 0 and json.loads(out)[14]["mean"] == pytest.approx(21.0)
