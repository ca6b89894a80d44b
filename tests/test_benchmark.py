"""Benchmarking published figures: the store's answers against LAIT's own rules worked out here afresh
from the raw files (by names, as LAIT's R code does), and the importer's all-or-nothing checks."""
from __future__ import annotations

import io
import json
import math

import pandas as pd
import pytest

from cypp_dash import benchmark, cli, lait, status, store
from cypp_dash.config import ROOT

LAIT_DIR = ROOT / "data" / "lait"


# --- LAIT's rules, read straight from global.R and fn_analysis.R (names, not codes) --------------

@pytest.fixture(scope="module")
def raw():
    bds = pd.read_parquet(LAIT_DIR / "bds_long_0.parquet")
    bds["values_num"] = pd.to_numeric(bds["Values"].where(~bds["Values"].isin(["-", "c", ".."])), errors="coerce")
    bds["Years_num"] = pd.to_numeric(bds["Years"].str[:4])
    metrics = pd.read_csv(LAIT_DIR / "lait_data_dictionary.csv", dtype=str, keep_default_na=False)
    metrics["Measure_short"] = metrics["Measure_short"].str.strip()
    metrics = metrics.drop_duplicates("Measure")
    sn = pd.read_excel(LAIT_DIR / "sn_may_2025.xlsx", sheet_name="LA SN Groups", skiprows=2, dtype=str)
    sn = sn[sn["LA num"].notna()]
    names = dict(zip(sn["LA num"], sn["LA Name"]))
    sn_cols = [c for c in sn.columns if c.startswith("SN") and not c.startswith("SNP")]
    neighbours = {r["LA Name"]: [names[r[c]] for c in sn_cols] for _, r in sn.iterrows()}
    regions = dict(zip(sn["LA Name"], sn["GOReg"]))
    la_names = set(bds.loc[bds["LA Number"] < 970, "LA and Regions"])
    return bds, metrics, neighbours, regions, la_names


def r_quantile(x: list[float]) -> list[float]:
    x = sorted(x)
    n = len(x)
    out = []
    for p in (0, .25, .5, .75, 1):
        index = 1 + (n - 1) * p
        lo, hi = math.floor(index), math.ceil(index)
        q = x[lo - 1]
        if index > lo and x[hi - 1] != q:
            h = index - lo
            q = (1 - h) * q + h * x[hi - 1]
        out.append(q)
    return out


def lait_reference(raw, la: str, short: str) -> dict:
    bds, metrics, neighbours, regions, la_names = raw
    polarity = metrics.loc[metrics["Measure_short"] == short, "Polarity"].iloc[0]
    no_qb = metrics.loc[metrics["Measure_short"] == short, "No_Quartile"].iloc[0] == "N"
    data = bds[bds["Short Desc"] == short]
    las = data[data["LA and Regions"].isin(la_names)]
    latest = las[las["Years"] == las["Years"].max()]
    vals = latest["values_num"]
    if polarity in ("High", "Low"):
        ranks = (-vals if polarity == "High" else vals).rank(method="min")
        mine = ranks[latest["LA and Regions"] == la]
        rank = None if mine.empty or pd.isna(mine.iloc[0]) else int(mine.iloc[0])
        rank_of = int(vals.notna().sum())
    else:
        rank = rank_of = None
    own = data[data["LA and Regions"] == la].sort_values("Years_num", ascending=False)
    value = own["values_num"].iloc[0]
    period = own["Years"].iloc[0]
    band = ""
    if polarity in ("High", "Low") and not no_qb and pd.notna(value) and vals.notna().any():
        q = r_quantile(vals.dropna().tolist())
        for i, (lo, hi) in enumerate(zip(q[:-1], q[1:])):
            if (lo <= value if i == 0 else lo < value) and value <= hi:
                band = ("ABCD" if polarity == "Low" else "DCBA")[i]
    region = regions[la]
    if region.startswith("London"):
        top = data["Years_num"].max()
        half = data[(data["LA and Regions"] == region) & (data["Years_num"] == top)]["values_num"]
        if half.empty or pd.isna(half.iloc[0]):
            region = "London"

    def at(name):
        v = data[(data["LA and Regions"] == name) & (data["Years"] == period)]["values_num"]
        return None if v.empty or pd.isna(v.iloc[0]) else float(v.iloc[0])

    sn = data[data["LA and Regions"].isin(neighbours[la]) & (data["Years"] == period)]["values_num"].dropna()
    change = (own["values_num"].iloc[0] - own["values_num"].iloc[1]) if len(own) > 1 else None
    return {"period": period, "value": None if pd.isna(value) else float(value), "england": at("England"),
            "region": at(region), "neighbours_average": float(sn.mean()) if len(sn) else None, "rank": rank,
            "rank_of": rank_of, "quartile_band": band,
            "change_from_previous": None if change is None or pd.isna(change) else float(change)}


def same(a, b) -> bool:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return (a is None or (isinstance(a, float) and math.isnan(a))) and (b is None or
                                                                             (isinstance(b, float) and math.isnan(b)))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b


# --- the acceptance anchor --------------------------------------------------------------------------

def test_worcestershire_health_assessments_2025_as_lait_shows_them(conn, capsys):
    assert cli.main(["benchmark", "--area", "E10000034", "--indicator", "lait:LACHealth%", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["period"] == "2025"
    assert (row["value"], row["england"], row["region"], row["neighbours_average"]) == (70, 90, 84, 90.5)
    assert (row["rank"], row["rank_of"], row["quartile_band"]) == (148, 151, "D")
    assert set(benchmark.COLUMNS) <= set(row)


# --- other authorities and measures against the rules worked out afresh --------------------------

AREAS = {"E10000034": "Worcestershire",  # county
         "E06000019": "Herefordshire",  # unitary authority
         "E09000006": "Bromley",  # outer London borough
         "E08000025": "Birmingham",  # metropolitan district
         "E09000033": "Westminster"}  # inner London borough
MEASURES = ["LACHealth%",  # High
            "PrevRegCPR",  # Low
            "TotSevPerAbNew",  # Low, absence
            "LAC_KS2_ExpStd_RWM",  # many suppressed values ("-")
            "No_of LAC Adopted",  # polarity "-"
            "SEN_EHC_Excpt_20wks", "%_2yr_olds", "ExcessRec", "InfMort",
            "CINPermExclusion"]  # dictionary says no quartile bands


@pytest.mark.parametrize("area", sorted(AREAS))
def test_benchmarks_follow_lait_rules_for_each_kind_of_authority(conn, raw, area):
    rows = benchmark.benchmark_rows(conn, area, [f"lait:{m}" for m in MEASURES]).set_index("indicator_id")
    for short in MEASURES:
        expected = lait_reference(raw, AREAS[area], short)
        got = rows.loc[f"lait:{short}"]
        for key, want in expected.items():
            have = got[key]
            have = None if have is None or (not isinstance(have, str) and pd.isna(have)) else have
            assert same(have, want), (area, short, key, have, want)


def test_every_measure_for_worcestershire_matches_the_rules(conn, raw):
    rows = benchmark.benchmark_rows(conn, "E10000034").set_index("indicator_id")
    assert len(rows) > 400
    for iid in rows.index[::7]:
        expected = lait_reference(raw, "Worcestershire", iid.removeprefix("lait:"))
        for key, want in expected.items():
            have = rows.loc[iid, key]
            have = None if have is None or (not isinstance(have, str) and pd.isna(have)) else have
            assert same(have, want), (iid, key, have, want)


def test_a_measure_with_no_polarity_has_no_rank_or_band_and_says_why(conn):
    row = benchmark.benchmark_rows(conn, "E10000034", ["lait:No_of LAC Adopted"]).iloc[0]
    assert row["polarity"] == "-"
    assert pd.isna(row["rank"]) and pd.isna(row["rank_of"]) and row["quartile_band"] == ""
    assert "no polarity" in row["why_no_rank"]


def test_a_low_measure_ranks_the_smallest_first(conn):
    rows = benchmark.benchmark_rows(conn, "E10000034", ["lait:PrevRegCPR"])
    assert rows["polarity"].iloc[0] == "Low"
    assert benchmark.rank(pd.Series([10.0, 5.0, 5.0, None, 20.0]), "Low").tolist() == [3, 1, 1, pd.NA, 4]
    assert benchmark.rank(pd.Series([10.0, 5.0, 10.0]), "High").tolist() == [1, 3, 1]


def test_quartile_bands_use_r_type_7_quantiles_and_polarity():
    bands = benchmark.quantiles([1, 2, 3, 4, 5, 6, 7, 8])
    assert bands == [1, 2.75, 4.5, 6.25, 8]
    assert [benchmark.quartile_band(v, bands, "High") for v in (1, 2.75, 3, 4.5, 5, 6.25, 8)] == list("DDCCBBA")
    assert [benchmark.quartile_band(v, bands, "Low") for v in (1, 3, 5, 8)] == list("ABCD")
    assert benchmark.quartile_band(5, bands, "-") == ""
    assert benchmark.quartile_band(5, bands, "High", no_quartile=True) == ""


def test_suppressed_figures_are_kept_as_no_figure(conn):
    cur = conn.cursor()
    n = cur.execute("SELECT count(*) FROM observations WHERE indicator_id = 'lait:LAC_KS2_ExpStd_RWM' "
                    "AND value IS NULL AND note LIKE 'no figure%'").fetchone()[0]
    assert n > 500


def test_change_from_previous_is_latest_less_the_year_before():
    frame = pd.DataFrame({"year": [2023, 2025, 2024], "value": [50.0, 70.0, 75.0]})
    assert benchmark.change_from_previous(frame) == -5
    assert benchmark.change_from_previous(frame.assign(value=[50.0, 70.0, None])) is None


def test_an_area_outside_the_published_data_is_a_usage_error(conn, capsys):
    assert cli.main(["benchmark", "--area", "E07000237", "--format", "json"]) == 2
    assert "not a local authority" in capsys.readouterr().err


# --- the importer ---------------------------------------------------------------------------------

def _csv(rows: list[list[str]]) -> bytes:
    head = ["Short Desc", "Data item", "Years", "LA and Regions", "Values", "LA Number", "Region"]
    out = io.StringIO()
    pd.DataFrame(rows, columns=head).to_csv(out, index=False)
    return out.getvalue().encode()


def test_a_lait_file_with_problems_is_refused_whole_naming_row_and_column():
    codes = lait.ons_codes()
    data = _csv([["LACHealth%", "", "2025", "Worcestershire", "70", "885", "West Midlands"],
                 ["LACHealth%", "", "2025", "Nowhere", "71", "123", "West Midlands"],
                 ["LACHealth%", "", "2025", "Herefordshire", "eighty", "884", "West Midlands"],
                 ["LACHealth%", "", "someday", "Herefordshire", "80", "884", "West Midlands"],
                 ["LACHealth%", "", "2025", "Worcestershire", "72", "885", "West Midlands"]])
    v = lait.validate(data, "lait.csv", codes, {"LACHealth%"})
    assert not v.ok and v.rows.empty
    text = [str(p) for p in v.problems]
    assert any(t.startswith("row 3, column LA Number") for t in text)
    assert any(t.startswith('row 4, column Values: "eighty"') for t in text)
    assert any(t.startswith('row 5, column Years: "someday"') for t in text)
    assert any(t.startswith("row 6, column Years: repeats") for t in text)


def test_a_clean_lait_file_maps_la_numbers_to_ons_codes_and_keeps_markers():
    v = lait.validate(_csv([["LACHealth%", "", "2024/25", "Worcestershire", "70", "885", "West Midlands"],
                            ["LACHealth%", "", "2024/25", "England", "c", "970", "NA"],
                            ["LACHealth%", "", "2024/25", "West Midlands", "-", "984", "NA"]]),
                      "lait.csv", lait.ons_codes(), {"LACHealth%"})
    assert v.ok
    rows = v.rows.set_index("area_code")
    assert list(rows.index) == ["E10000034", "E92000001", "E12000005"]
    assert rows.loc["E92000001", "flags"] == "suppressed" and pd.isna(rows.loc["E92000001", "value"])
    assert "suppressed" in rows.loc["E92000001", "note"]
    assert rows.loc["E10000034", "indicator_id"] == "lait:LACHealth%"


def test_a_fresh_store_holds_lait_for_every_english_authority(conn):
    cur = conn.cursor()
    n_areas = cur.execute("SELECT count(DISTINCT area_code) FROM observations WHERE indicator_id LIKE 'lait:%'"
                          ).fetchone()[0]
    kinds = dict(cur.execute("SELECT kind, count(*) FROM published_areas GROUP BY kind").fetchall())
    assert n_areas >= 150 + 9 + 1 and kinds["region"] >= 9 and kinds["country"] == 1
    assert cur.execute("SELECT count(*) FROM published_neighbours WHERE area_code = 'E10000034'").fetchone()[0] == 10


def test_a_newer_lait_file_revises_figures_with_history_and_rollback(conn, tmp_path):
    src = pd.read_parquet(LAIT_DIR / "bds_long_0.parquet")
    mask = (src["Short Desc"] == "LACHealth%") & (src["LA Number"] == 885) & (src["Years"] == "2025")
    src.loc[mask, "Values"] = "72"
    path = tmp_path / "bds_long_0.parquet"
    src.to_parquet(path)
    files = lait.LaitFiles(path, LAIT_DIR / lait.DICTIONARY_FILE, LAIT_DIR / lait.NEIGHBOURS_FILE)
    r = lait.import_lait(conn, files, user="tester", progress=lambda m: None)
    assert r.revised == 1 and r.added == 0
    assert benchmark.benchmark_rows(conn, "E10000034", ["lait:LACHealth%"])["value"].iloc[0] == 72
    store.rollback(conn, r.batch_id, "tester")
    assert benchmark.benchmark_rows(conn, "E10000034", ["lait:LACHealth%"])["value"].iloc[0] == 70


def test_englands_own_series_is_the_comparator_only_for_the_same_measure(conn, config):
    plan = config.plan("worcs-2022-24")
    mh03 = benchmark.england_for_kpi(conn, plan.kpi("MH03")).set_index("period")["value"]
    assert mh03["2025"] == 90 and mh03["2024"] == 89
    assert benchmark.england_for_kpi(conn, plan.kpi("SG01")).empty  # related, not the measure


def test_paper_view_says_a_kpis_published_figure_in_one_line(conn, config):
    plan = config.plan("worcs-2022-24")
    rows = benchmark.plan_rows(conn, plan).set_index("code")
    line = benchmark.published_sentence(rows.loc["MH03"], "West Midlands")
    assert line.startswith("DfE LAIT 2025 (same measure): 70")
    for part in ("England 90", "West Midlands 84", "statistical neighbours 90.5", "rank 148 of 151", "band D"):
        assert part in line


def test_a_same_measure_kpi_is_compared_with_englands_published_figure_for_its_own_year(conn, config):
    # MH03 (health assessments of children looked after) is LAIT's LACHealth%: England's published 2025 figure
    # (90%) is the comparator, not the plan's 2021 figure (91%) that is more than two years older.
    plan = config.plan("worcs-2022-24")
    (mh03,) = [s for s in status.plan_status(conn, config, plan, plan.area) if s.code == "MH03"]
    assert (mh03.england, mh03.england_period) == (90.0, "2025")
    assert not mh03.england_out_of_date
    assert "England (2025: 90.0%)" in mh03.reason


def test_a_related_measure_is_never_the_kpis_england_comparator(conn, config):
    plan = config.plan("worcs-2022-24")
    (sg01,) = [s for s in status.plan_status(conn, config, plan, plan.area) if s.code == "SG01"]
    assert sg01.england_period == "2021"  # the plan's own figure: PrevRegCPR is related, not the same measure


def test_the_stores_sql_ranks_and_quantiles_are_the_plain_rules_to_the_last_bit(conn):
    # The store works ranks and R's type 7 quantiles out in SQL; they equal `benchmark.rank` and
    # `benchmark.quantiles` applied to every authority's figures in each measure's latest year, bit for bit
    # (a band boundary is an equality test), for every published measure.
    from cypp_dash import published_store

    found = published_store.area_benchmarks(conn, "E10000034", "E12000005").set_index("indicator_id")
    figures = published_store.figures(conn, list(found.index))
    figures["year"] = pd.to_datetime(figures["period_start"]).dt.year
    las = figures[figures["kind"] == "la"]
    polarity = benchmark_measures(conn)
    checked = 0
    for iid, group in las.groupby("indicator_id"):
        national = group[group["year"] == group["year"].max()]
        q = benchmark.quantiles(national["value"].tolist())
        got = found.loc[iid, ["q0", "q1", "q2", "q3", "q4"]].tolist()
        assert (q is None and all(pd.isna(g) for g in got)) or got == q, (iid, got, q)
        ranks = benchmark.rank(national["value"].reset_index(drop=True), polarity[iid])
        mine = ranks[(national["area_code"] == "E10000034").to_numpy()]
        want = None if mine.empty or pd.isna(mine.iloc[0]) else int(mine.iloc[0])
        have = found.loc[iid, "rank"]
        if polarity[iid] in ("High", "Low"):
            assert (None if pd.isna(have) else int(have)) == want, (iid, have, want)
        assert found.loc[iid, "rank_of"] == national["value"].notna().sum(), iid
        checked += 1
    assert checked > 400


def benchmark_measures(conn) -> dict[str, str]:
    from cypp_dash import published_store

    m = published_store.measures(conn)
    return dict(zip(m["indicator_id"], m["polarity"].fillna("-")))
