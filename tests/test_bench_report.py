"""The benchmark's own workings that are not timings (benchmarks/bench.py): the national store it generates holds
every plan's own areas, and its summary judges each target by the figures it is given. Not timed."""
from __future__ import annotations

from benchmarks import bench


def test_the_national_store_holds_every_plans_own_areas_among_englands(config):
    areas = bench.national_areas(config, bench.bundled_codes())
    codes = [a[0] for a in areas]
    assert len(codes) == len(set(codes)) == 1 + bench.REGIONS + 152 + 300
    for plan in config.plans:
        assert plan.area in codes, plan.id
    assert {a.code for a in config.areas} <= set(codes)


def _pages(ms: dict[str, float]) -> dict:
    return {name: {f"{kind}_ms": value for kind in bench.KINDS} for name, value in ms.items()}


def test_the_summary_says_which_targets_hold():
    report = {
        "demo_pages": {"bare_ms": 10.0, "pages": _pages({"wider_outcomes": 20.0, "benchmarking": 30.0}),
                       "peak_rss_mb": 300.0},
        "national_pages": {"bare_ms": 10.0, "pages": _pages({"wider_outcomes": 50.0, "benchmarking": 33.0}),
                           "peak_rss_mb": 900.0},
        "upload": {"upload_s": 4.0, "read_csv_s": 1.0},
        "browser": {"worst_page": "Overview", "runs": 5, "shell": bench_shell(),
                    "results": {"bare page": {"median_s": 1.0, "ratio_to_bare": 1.0},
                                bench_shell(): {"median_s": 1.1, "ratio_to_bare": 1.1},
                                "Overview": {"median_s": 1.4, "ratio_to_bare": 1.4}}},
    }
    lines = {h["target"]: h for h in bench.headlines(report)}
    wider = [h for t, h in lines.items() if t.startswith("wider_outcomes") and "repeat view" in t][0]
    assert wider["holds"] is False and "2.50x" in wider["measured"]
    bench_cached = [h for t, h in lines.items() if t.startswith("benchmarking") and "repeat view" in t][0]
    assert bench_cached["holds"] is True
    upload = [h for t, h in lines.items() if "upload" in t][0]
    assert upload["holds"] is False and "4.0x" in upload["measured"]
    memory = [h for t, h in lines.items() if "memory" in t][0]
    assert memory["holds"] is True
    browser = [h for t, h in lines.items() if "Chromium" in t][0]
    assert browser["holds"] is True and "1.40x" in browser["measured"]


def test_a_browser_run_that_could_not_happen_is_said_not_measured():
    row = bench.browser_row({"not_run": "/usr/bin/chromium is missing"})
    assert row["holds"] is None and "chromium is missing" in row["figure"]


def bench_shell() -> str:
    return "multipage shell (reference)"
