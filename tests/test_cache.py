"""Cached reads and an upload: a repeat view is served from the cache, and an upload moves the
store's version on, so the next page run shows the new figure (not timed; see benchmarks/bench.py)."""
from __future__ import annotations

import pickle
from datetime import date, timedelta

import pandas as pd
import pytest
from page_text import texts

from cypp_dash import loading, status, store
from cypp_dash.periods import parse_period, quarter_containing
from cypp_dash.web import cache, frame

NEW_VALUE, NEW_TEXT = 42.4, "42.4%"




def next_quarter_for(conn, indicator: str) -> str:
    """The quarter after the newest one held, so the upload is the newest figure whatever the bundled data."""
    newest = parse_period(store.periods_held(conn, [indicator])[0])
    return quarter_containing(newest.end + timedelta(days=1)).label


@pytest.fixture
def counted_plan_status(monkeypatch):
    """Counts how often the page really works out the plan's status (a cache hit does not)."""
    calls = []
    real = status.plan_status

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(status, "plan_status", counting)
    return calls


@pytest.mark.parametrize("page, query", [
    ("overview.py", {}),
    ("partnership.py", {"partnership": "early-help"}),
])
def test_an_upload_invalidates_the_cache_so_the_next_page_run_shows_the_new_figure(
        app_page, conn, config, counted_plan_status, page, query):
    quarter = next_quarter_for(conn, "EH01")
    first = app_page(page, query=query)
    assert not first.exception
    assert quarter not in texts(first, tables=True) and NEW_TEXT not in texts(first, tables=True)
    assert counted_plan_status, "the first view works the status out"

    worked_out = len(counted_plan_status)
    repeat = app_page(page, query=query)
    assert not repeat.exception
    assert len(counted_plan_status) == worked_out, "a repeat view with no upload between is served from the cache"

    upload = f"kpi,area,period,value\nEH01,E10000034,{quarter},{NEW_VALUE}\n".encode()
    outcome = loading.import_file(conn, config, upload, "newer-quarter.csv", user="test",
                                  today=max(date.today(), parse_period(quarter).end))
    assert outcome.loaded, [str(p) for p in outcome.validated.problems]

    after = app_page(page, query=query)
    assert not after.exception
    assert len(counted_plan_status) > worked_out, "the upload moved the store's version on, so the cache missed"
    body = texts(after, tables=True)
    assert NEW_TEXT in body
    assert quarter in body


def test_a_refused_upload_leaves_the_store_version_and_so_the_cache_alone(conn, config):
    before = store.data_version(conn)
    outcome = loading.import_file(conn, config, b"kpi,area,period,value\nEH01,E10000034,2023/24 Q1,eighty\n",
                                  "bad.csv", user="test")
    assert not outcome.loaded
    assert store.data_version(conn) == before


def test_each_load_moves_the_store_version_on(conn, config):
    before = store.data_version(conn)
    quarter = next_quarter_for(conn, "EH02")
    outcome = loading.import_file(conn, config, f"kpi,area,period,value\nEH02,E10000034,{quarter},70.5\n".encode(),
                                  "one.csv", user="test", today=max(date.today(), parse_period(quarter).end))
    assert outcome.loaded
    assert store.data_version(conn) > before


def test_a_chart_key_is_the_same_for_equal_figures_however_the_frame_was_made(conn):
    fresh = store.series(conn, ["EH01"], ["E10000034"])
    copied = pickle.loads(pickle.dumps(fresh))  # what a cached read hands back: another block layout
    assert cache._digest(("trend", fresh, "latest")) == cache._digest(("trend", copied, "latest"))


@pytest.mark.parametrize("change", [
    lambda df: df.assign(value=df["value"] + 0.1),
    lambda df: df.iloc[:-1],
    lambda df: df.assign(flags="revised"),
    lambda df: df.rename(columns={"value": "figure"}),
])
def test_a_chart_key_changes_with_any_figure_so_a_cached_chart_is_never_stale(conn, change):
    rows = store.series(conn, ["EH01"], ["E10000034"])
    assert cache._digest(change(rows)) != cache._digest(rows)


def test_memo_works_a_pure_function_out_once_per_distinct_input():
    import streamlit as st

    st.cache_data.clear()
    calls = []

    def double(frame: pd.DataFrame) -> float:
        calls.append(1)
        return float(frame["x"].sum() * 2)

    frame = pd.DataFrame({"x": [1.0, 2.0]})
    assert cache.memo(double, frame) == 6.0
    assert cache.memo(double, frame.copy()) == 6.0
    assert len(calls) == 1
    assert cache.memo(double, pd.DataFrame({"x": [1.0, 3.0]})) == 8.0
    assert len(calls) == 2


def test_after_the_first_page_view_the_long_lived_objects_are_out_of_the_garbage_collectors_sight(app_page):
    """A full collection then walks only what was made since, not every module object (README Performance)."""
    import gc

    assert not app_page("overview.py").exception
    assert frame._FROZEN
    assert gc.get_freeze_count() > 50_000

