"""Background preparation after a write (cypp_dash/web/prepare.py): the statistics, status tables and chart
pictures the default views read are ready before anyone looks, a view during the preparation computes
nothing twice, and a newer write takes over from an older one. Not timed (benchmarks/bench.py times it)."""
from __future__ import annotations

import functools
import threading
import time
from collections import Counter
from datetime import date, timedelta

import pytest
from page_text import chart_pictures, texts

from cypp_dash import auth, loading, plan_info, release, status, store
from cypp_dash.periods import parse_period, quarter_containing
from cypp_dash.web import cache, components, prepare

# A new session's view of each page that reads figures (plan, area and period at their defaults).
DEFAULT_VIEWS = ["overview.py", "partnership.py", "districts.py", "wider_outcomes.py", "benchmarking.py", "public.py"]


@pytest.fixture
def signed_off(conn, config, public_view_on):
    """The public view switched on (a copy of config.yaml saying so) and the newest quarter signed off, so the
    partnership page's sign-off marks and the public view have figures to work out."""
    auth.add_user(conn, "lena", "lead", "a long enough passphrase", actor="test")
    plan = config.plans[0]
    newest = store.periods_held(conn, sorted({k.indicator_id for k in plan.kpis}))[0]
    release.release(conn, auth.Account("lena", "lead"), plan, newest)


def upload_newer_figure(conn, config, kpi: str = "EH01", value: float = 42.4) -> str:
    """Load one figure for the quarter after the newest held (so it is the latest figure); its quarter."""
    newest = parse_period(store.periods_held(conn, [kpi])[0])
    quarter = quarter_containing(newest.end + timedelta(days=1)).label
    outcome = loading.import_file(conn, config, f"kpi,area,period,value\n{kpi},E10000034,{quarter},{value}\n".encode(),
                                  f"{kpi}-{quarter[:4]}.csv", user="test",
                                  today=max(date.today(), parse_period(quarter).end))
    assert outcome.loaded, [str(p) for p in outcome.validated.problems]
    return quarter


class Computations:
    """Counts every real computation behind the caches the pages read (a cache hit calls none of these),
    by what it computes, and on which thread."""

    def __init__(self, monkeypatch, slow_on_worker: float = 0.0):
        self.calls: Counter = Counter()
        self.threads: Counter = Counter()
        self.worker_inside = threading.Event()
        self.slow_on_worker = slow_on_worker
        self._inside = threading.local()
        for owner, name in [(status, "plan_status"), (status, "district_table"), (status, "spc_for"),
                            (store, "series"), (store, "periods_held"), (plan_info, "wider_outcomes"),
                            (release, "public_statuses"),
                            (cache, "_draw_picture"), (components, "_rag_table"), (components, "table_body")]:
            monkeypatch.setattr(owner, name, self._counting(name, getattr(owner, name)))

    def _counting(self, name, real):
        @functools.wraps(real)
        def counted(*args, **kwargs):
            if getattr(self._inside, "depth", 0):  # a read inside a counted computation is part of it
                return real(*args, **kwargs)
            key = (name, cache._digest([a for a in args if not hasattr(a, "execute") and not _is_config(a)]
                                    + sorted(kwargs.items())))
            self.calls[key] += 1
            on_worker = threading.current_thread().name == prepare.WORKER_NAME
            self.threads["worker" if on_worker else "page"] += 1
            if on_worker and name == "plan_status" and self.slow_on_worker:
                self.worker_inside.set()
                time.sleep(self.slow_on_worker)  # a slow statistic: a viewer arrives while it is worked out
            self._inside.depth = 1
            try:
                return real(*args, **kwargs)
            finally:
                self._inside.depth = 0
        return counted

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def _is_config(value) -> bool:
    from cypp_dash.config import Config

    return isinstance(value, Config)


@pytest.fixture
def preparation(app_page):
    """The worker running against the test's store (app_page has cleared Streamlit's caches)."""
    prepare.start(default_views_only=True)  # the default plan's default views: what the pages below read
    prepare.wait_until_idle(120)  # the version the store holds at start
    yield prepare
    prepare.stop()


def test_after_an_upload_the_default_views_are_served_from_what_the_preparation_made(
        conn, config, signed_off, app_page, preparation, monkeypatch):
    quarter = upload_newer_figure(conn, config)
    done = preparation.wait_until_idle(120)
    assert done.prepared_version == store.data_version(conn), "the newest version is prepared"
    assert not done.failures
    assert done.pieces > 0

    computed = Computations(monkeypatch)
    overview = app_page("overview.py")
    assert not overview.exception
    assert "42.4%" in texts(overview) and quarter in texts(overview), "the prepared views show the upload"
    for page in DEFAULT_VIEWS[1:]:
        at = app_page(page)
        assert not at.exception, (page, at.exception)
        if page in ("partnership.py", "districts.py"):
            assert chart_pictures(at), f"{page} shows its charts"
    assert computed.total == 0, ("the first views after the upload computed what the preparation should have: "
                                 f"{sorted(name for name, _ in computed.calls)}")


def test_a_view_during_the_preparation_waits_for_the_piece_in_hand_and_nothing_is_computed_twice(
        conn, config, signed_off, app_page, preparation, monkeypatch):
    computed = Computations(monkeypatch, slow_on_worker=1.0)
    upload_newer_figure(conn, config)
    assert computed.worker_inside.wait(60), "the worker starts on the upload's version"

    # A board member opens each default view while the worker is still inside the overview's statistics.
    for page in DEFAULT_VIEWS:
        at = app_page(page)
        assert not at.exception, (page, at.exception)
    preparation.wait_until_idle(120)

    twice = {key[0]: n for key, n in computed.calls.items() if n > 1}
    assert not twice, f"computed more than once: {twice}"
    assert computed.threads["worker"] > 0, "the worker did its share"
    overview_key = [k for k in computed.calls if k[0] == "plan_status"]
    assert overview_key and all(computed.calls[k] == 1 for k in overview_key)


def test_a_newer_write_takes_over_from_the_preparation_of_an_older_one(conn, config, app_page, preparation,
                                                                      monkeypatch):
    computed = Computations(monkeypatch, slow_on_worker=0.5)
    upload_newer_figure(conn, config, "EH01", 40.0)
    assert computed.worker_inside.wait(60)
    upload_newer_figure(conn, config, "EH02", 71.0)  # arrives while the first version is being prepared
    done = preparation.wait_until_idle(120)
    assert done.prepared_version == store.data_version(conn)
    assert done.abandoned >= 1, "the older version's preparation was given up for the newer"


def test_a_write_wakes_the_worker_only_while_it_runs(conn, config, app_page):
    assert prepare.request not in store._after_write
    prepare.start()
    try:
        assert prepare.request in store._after_write
    finally:
        prepare.stop()
    assert prepare.request not in store._after_write


def test_write_listeners_hear_each_committed_write_and_no_rolled_back_one(conn):
    heard = []

    def listener() -> None:
        heard.append(store.data_version(conn))

    store.on_write(listener)
    store.on_write(listener)  # added twice, heard once
    try:
        with store.write_transaction(conn):
            pass
        with pytest.raises(RuntimeError), store.write_transaction(conn):
            raise RuntimeError("half-way")
    finally:
        store.off_write(listener)
    assert heard == [store.data_version(conn)], "once, after the commit, with the new version readable"
