"""Background preparation: after a write (an upload, a rollback, a restore, any change that moves the store's
data version on) the statistics, status tables and chart pictures the default views need are worked out on
one worker thread, so the first board member to look after an upload is served from the caches, as on a
repeat view.

- **Bounded**: one daemon thread per process; it prepares the default views (a new session's Overview,
  Partnerships with its first partnership and first KPI, Districts for the first KPI, Wider outcomes) of
  the default plan first, then the other plans' default views and each other partnership's summary and
  first KPI; never every KPI's charts (a viewer who picks another KPI has its charts drawn then).
- **Newest version first**: the worker prepares whatever version the store holds when it starts, and
  abandons a preparation as soon as a newer write arrives, starting again on the newest.
- **Nothing computed twice**: every piece goes through the same Streamlit caches the pages read
  (`cache.cached_*`, `cache.memo`, `cache.chart_picture`). Streamlit holds one lock per cached value while it is
  computed, so a viewer who asks for a piece the worker is working out waits for it and then reads it from
  the cache, and the worker finds a piece a viewer already made in the cache.

The pieces mirror what pages/overview.py, pages/partnership.py, pages/districts.py, pages/wider_outcomes.py,
pages/benchmarking.py and pages/public.py ask for in a new session (plan, area and period at their defaults); tests/test_prepare.py runs those pages
after a preparation and checks that they compute nothing, so a page changed without this file fails there.

Started by dashboard.py (`start()`, on every run: it also notices a write made by another process, such as
the command line's `import`); writes in this process wake the worker through `store.on_write`.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from cypp_dash import benchmark, benchmark_charts, charts, plan_info, status, store
from cypp_dash.config import Config, Plan
from cypp_dash.web import benchmark as benchmark_ui
from cypp_dash.web import commentary_view, resources
from cypp_dash.web.cache import (
    PAPER_CHART,
    cached_district_matrix,
    cached_district_trends,
    cached_periods,
    chart_picture,
    memo,
    pin_run,
    unpin_run,
)
from cypp_dash.web.components import rag_table_parts, source_line, wider_outcomes_html
from cypp_dash.web.view import View

log = logging.getLogger(__name__)

WORKER_NAME = "cypp-prepare"

# The summary and district tables exactly as the pages ask for them (columns and captions are part of the
# cached table's key).
PARTNERSHIP_SUMMARY_COLUMNS = {"code": "Code", "kpi": "KPI", "baseline_text": "Baseline (plan)",
                               "value_fmt": "Latest", "period": "Period", "england_text": "England (plan)",
                               "target": "Target", "rag_label": "RAG", "reason": "Why"}
DISTRICT_COLUMNS = {"area_name": "Area", "value_fmt": "Latest", "period": "Period", "ci_low": "95% CI low",
                    "ci_high": "95% CI high", "compared_with_england": "Compared with England",
                    "rag_label": "RAG", "reason": "Why", "note": "Note"}


@dataclass
class Progress:
    """What the worker has done: the version last prepared in full, and how long that took."""

    prepared_version: int | None = None
    seconds: float | None = None  # the whole preparation of that version
    default_views_seconds: float | None = None  # until the default views were ready
    pieces: int = 0
    abandoned: int = 0
    failures: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per piece, last preparation


class _Worker:
    def __init__(self) -> None:
        self.wake = threading.Condition()
        self.asked = 0  # how many times a write or a page run asked; the worker compares it with `seen`
        self.seen = 0
        self.busy = False
        self.stopping = False
        self.thread: threading.Thread | None = None
        self.progress = Progress()
        self.default_views_only = False


_worker = _Worker()
_start_lock = threading.Lock()


def start(default_views_only: bool = False) -> None:
    """Make sure the worker runs and listens for writes, and ask it to look at the store's version now
    (cheap: the page's own run does not wait for anything). `default_views_only`: prepare the default
    plan's default views and nothing further (tests)."""
    with _start_lock:
        _worker.default_views_only = default_views_only
        if _worker.thread is None or not _worker.thread.is_alive():
            _quieten_streamlit_for_the_worker()
            _worker.stopping = False
            _worker.thread = threading.Thread(target=_run, name=WORKER_NAME, daemon=True)
            _worker.thread.start()
            store.on_write(request)
    request()


def request() -> None:
    """A write happened (or may have, in another process): prepare the newest version when it is new."""
    with _worker.wake:
        _worker.asked += 1
        _worker.wake.notify_all()


def stop(timeout: float = 30) -> None:
    """Stop listening and end the worker (tests; a server just exits)."""
    store.off_write(request)
    with _worker.wake:
        _worker.stopping = True
        _worker.wake.notify_all()
    thread = _worker.thread
    if thread is not None:
        thread.join(timeout)
    with _start_lock:
        _worker.thread = None
        _worker.progress = Progress()


def wait_until_idle(timeout: float = 60) -> Progress:
    """Block until the worker has answered every request so far (tests and the benchmark)."""
    deadline = time.monotonic() + timeout
    with _worker.wake:
        while _worker.busy or _worker.seen != _worker.asked:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the background preparation did not finish in time")
            _worker.wake.wait(left)
        return progress()


def progress() -> Progress:
    p = _worker.progress
    return Progress(p.prepared_version, p.seconds, p.default_views_seconds, p.pieces, p.abandoned, list(p.failures),
                    dict(p.timings))


def _run() -> None:
    while True:
        with _worker.wake:
            while _worker.seen == _worker.asked and not _worker.stopping:
                _worker.wake.wait()
            if _worker.stopping:
                return
            _worker.seen = _worker.asked
            _worker.busy = True
        try:
            _prepare_newest()
        except Exception:  # a broken store or configuration: the pages will say so; the worker carries on
            log.exception("background preparation failed")
        finally:
            with _worker.wake:
                _worker.busy = False
                _worker.wake.notify_all()


def _newer_write_arrived(asked_when_started: int) -> bool:
    return _worker.asked != asked_when_started or _worker.stopping


def _prepare_newest() -> None:
    cfg = resources._config()
    conn = resources._connection(str(store.db_path()))
    if store.data_version(conn) == _worker.progress.prepared_version:
        return
    # Read one version throughout, as a page run does (the cache's snapshot on this thread): a cache entry never
    # holds figures newer than its key, even when a write commits half-way.
    pinned = pin_run()
    try:
        _prepare(cfg, conn, store.data_version(pinned))
    finally:
        pinned.release()
        unpin_run()


def _prepare(cfg: Config, conn, version: int) -> None:
    started, asked = time.perf_counter(), _worker.asked
    timings: dict[str, float] = {}
    default_views_seconds = None
    for name, piece in pieces(cfg, conn, version, _worker.default_views_only):
        if _newer_write_arrived(asked):
            if store.data_version(conn) != version or _worker.stopping:
                _worker.progress.abandoned += 1  # the loop comes back for the newest version
                return
            asked = _worker.asked  # a write to another store, or a page run: this version is still the newest
        if name == DEFAULT_VIEWS_DONE:
            default_views_seconds = round(time.perf_counter() - started, 3)
            continue
        began = time.perf_counter()
        try:
            piece()
        except Exception as e:  # one piece failing (a chart the page would also fail to draw) stops no other
            _worker.progress.failures = [*_worker.progress.failures[-19:], f"{name}: {e}"]
            log.exception("background preparation of %s failed", name)
        timings[name] = round(time.perf_counter() - began, 3)
    p = _worker.progress
    p.prepared_version, p.timings, p.pieces = version, timings, len(timings)
    p.seconds = round(time.perf_counter() - started, 3)
    p.default_views_seconds = default_views_seconds if default_views_seconds is not None else p.seconds


# --- the pieces, in the order a board member is likely to want them ---------------------------------

Piece = tuple[str, Callable[[], object]]
DEFAULT_VIEWS_DONE = "(the default views are ready)"


def pieces(cfg: Config, conn, version: int, default_views_only: bool = False) -> Iterator[Piece]:
    """Every piece to prepare for `version`: first the default views of the default (first) plan (and its
    public view when that is switched on), then the other plans' default views and every other
    partnership's summary, sign-off marks and first KPI."""
    views = [View(config=cfg, plan=plan, area=plan.area, period=None, as_at=None, paper=False, conn=conn,
                  version=version) for plan in cfg.plans]
    if not views:
        return
    yield from _default_views(views[0])
    if cfg.settings.public_view:
        yield from _public_view(views[0])
    yield DEFAULT_VIEWS_DONE, lambda: None
    if default_views_only:
        return
    for view in views[1:]:
        yield from _default_views(view)
    for view in views:
        for partnership in view.plan.partnerships[1:]:
            yield from _partnership(view, partnership.id)


def _default_views(view: View) -> Iterator[Piece]:
    """What a new session's Overview, Partnerships, Districts and Wider outcomes pages read for the plan."""
    plan = view.plan
    if plan.kpis:
        ids = tuple(sorted({k.indicator_id for k in plan.kpis}))
        yield f"{plan.id}: periods", lambda: cached_periods(view.version, ids)
    yield f"{plan.id}: overview", view.statuses
    yield f"{plan.id}: overview's sparklines", lambda: view.spark_table([k.code for k in plan.kpis])
    yield f"{plan.id}: overview's published figures", lambda: _published_panel(view, plan.kpis)
    if plan.partnerships:
        yield from _partnership(view, plan.partnerships[0].id)
    if plan.kpis and plan.districts:
        yield from _districts(view, plan.kpis[0].code)
    yield f"{plan.id}: wider outcomes", view.wider_outcomes
    yield f"{plan.id}: wider outcomes' table", lambda: _wider_outcomes_table(view)
    yield f"{plan.id}: benchmarking", lambda: _benchmarking(view)


def _wider_outcomes_table(view: View) -> None:
    """pages/wider_outcomes.py's table, escaped once (hundreds of rows at national scale)."""
    rows = view.wider_outcomes()
    if not rows.empty:
        wider_outcomes_html(plan_info.wider_outcomes_table(rows), view.area_name)


def _partnership(view: View, pid: str) -> Iterator[Piece]:
    """pages/partnership.py for one partnership: its status rows and summary table, then the KPI the page
    shows first (the first of its status rows)."""
    plan = view.plan
    partnership = plan.partnership(pid)

    def summary_table() -> None:
        statuses = view.statuses(pid)
        if statuses:
            rag_table_parts(statuses, PARTNERSHIP_SUMMARY_COLUMNS,
                            f"{partnership.name}: each KPI's latest figure ({view.area_name}, "
                            f"{view.period_text})")

    def public_marks() -> None:  # what the public view shows, for the "not yet signed off" marks
        commentary_view.cached_public(view.version, plan.id, view.area, view.as_at, pid)

    def first_kpi() -> None:
        statuses = view.statuses(pid)
        if statuses:
            _kpi_charts(view, pid, statuses[0].code)

    def published() -> None:
        _published_panel(view, [plan.kpi(s.code) for s in view.statuses(pid)])

    yield f"{plan.id}/{pid}: summary", summary_table
    yield f"{plan.id}/{pid}: sign-off marks", public_marks
    yield f"{plan.id}/{pid}: first KPI", first_kpi
    yield f"{plan.id}/{pid}: published figures", published


def _kpi_charts(view: View, pid: str, code: str) -> None:
    """One KPI in detail, as pages/partnership.py draws it: its trend with England's and its SPC chart."""
    s = next((s for s in view.statuses(pid) if s.code == code), None)
    if s is None:
        return
    kpi = view.plan.kpi(code)
    with_england = view.series(kpi, [view.area, status.ENGLAND])
    rows = with_england[with_england["area_code"] == view.area]
    if not rows["value"].notna().any():
        return
    target = next((r.value for r in kpi.target.rules if r.value is not None), None)
    spc = memo(status.spc_for, kpi, rows, s, view.config.settings)
    chart_picture(charts.trend_chart, kpi, with_england, s, view.period_text, target=target, **PAPER_CHART,
                  title="Trend")
    if spc and spc[1].enough_data:
        chart_picture(charts.spc_chart, kpi, spc[0], spc[1], s, view.period_text, s.assurance_target,
                      **PAPER_CHART, title="Statistical process control")


def _published_panel(view: View, kpis) -> None:
    """web/benchmark.published_panel (the published figures under the Overview and a partnership): its reads
    and its table."""
    plan_rows, place = benchmark_ui.panel_rows(view, kpis)
    if not plan_rows.empty:
        benchmark_ui.panel_table_html(plan_rows, place)


def _benchmarking(view: View) -> None:
    """pages/benchmarking.py's default view: the area's published rows and the first measure's two charts."""
    area = view.plan.area
    area_name = view.config.area_name(area)
    place = benchmark_ui.cached_place(view.version, area)
    if place is None:
        return
    rows = benchmark_ui.cached_rows(view.version, area)
    if rows.empty:
        return
    plan_rows = benchmark_ui.cached_plan_rows(view.version, view.plan, view.plan.id, area)
    ids = list(rows.sort_values("name")["indicator_id"])
    first = benchmark.first_plan_measure(plan_rows, ids)
    measure = first[0] if first else ids[0]
    row = rows[rows["indicator_id"] == measure].iloc[0]
    source = BENCHMARK_SOURCE
    bars = benchmark_ui.cached_bars(view.version, area, measure)
    chart_picture(benchmark_charts.neighbour_bars, bars, row["name"], row["period"], row["polarity"], area_name,
                  source, int(row["decimals"]), row["unit_label"] or "")
    series = benchmark_ui.cached_series(view.version, area, measure)
    chart_picture(benchmark_charts.benchmark_series, series, row["name"], area_name, source,
                     row["unit_label"] or "")
    benchmark_ui.series_table(view.version, area, measure)
    topic = row["topic"].split(" / ")[0]
    topic = topic if topic in benchmark_ui.topics(rows) else "All topics"
    chosen, table = benchmark_ui.topic_table(view.version, area, topic, place.region_name)
    benchmark_ui.topic_table_html(chosen, table, topic, area_name, place.region_name)
    if not plan_rows.empty:
        benchmark_ui.plan_measures_html(benchmark_ui.plan_measures_table(plan_rows, place.region_name),
                                        view.plan.name, area_name)


BENCHMARK_SOURCE = ("Source: Department for Education, Local Authority Interactive Tool (LAIT), statistical "
                    "neighbours May 2025. Open Government Licence v3.0.")


def _districts(view: View, code: str) -> Iterator[Piece]:
    """pages/districts.py for one KPI: the county, its districts and England, table and two charts."""
    plan: Plan = view.plan
    kpi = plan.kpi(code)

    def table_and_charts() -> None:
        rows = view.districts(kpi)
        ordered = sorted(rows, key=lambda r: (r.value is None, (r.value or 0) * (-1 if kpi.polarity != "lower" else 1)))
        rag_table_parts(ordered, DISTRICT_COLUMNS, f"{kpi.code} by area ({view.period_text})")
        if any(r.value is not None for r in rows):
            chart_picture(charts.district_chart, kpi, rows, view.period_text)
        trends = cached_district_trends(view.version, plan.id, code, view.period, view.as_at)
        chart_picture(charts.district_trends_chart, kpi, trends, plan.area, view.period_text,
                      source_line(rows), any(r.illustrative for r in rows))
        centre = status.funnel_centre(rows, plan.area)
        if centre:
            chart_picture(charts.funnel_chart, kpi, rows, centre[0], centre[1], view.period_text)
        cached_district_matrix(view.version, plan.id, view.period, view.as_at)

    yield f"{plan.id}/districts/{code}", table_and_charts


PUBLIC_COLUMNS = {"code": "Code", "kpi": "KPI", "value_fmt": "Latest", "period": "Period",
                  "england_text": "England (plan)", "target": "Target", "rag_label": "RAG", "reason": "Why"}


def _public_view(view: View) -> Iterator[Piece]:
    """pages/public.py for the default plan and area: the signed-off figures and their tables."""
    plan, cfg = view.plan, view.config

    def published() -> None:
        shown, rows = commentary_view.cached_public(view.version, plan.id, plan.area, None)
        if shown is None:
            return
        for partnership in plan.partnerships:
            mine = [s for s in rows if s.partnership_id == partnership.id]
            if mine:
                rag_table_parts(mine, PUBLIC_COLUMNS, f"{partnership.name}: each KPI's published figure "
                                                         f"({cfg.area_name(plan.area)}, up to {shown.period})")

    yield f"{plan.id}: public view", published


class _WorkerThreadOnly(logging.Filter):
    """Streamlit warns of a "missing ScriptRunContext" whenever a cached function runs outside a page run:
    expected on the worker thread, so not logged from it (other threads' warnings pass)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return threading.current_thread().name != WORKER_NAME


def _quieten_streamlit_for_the_worker() -> None:
    for name in ("streamlit.runtime.scriptrunner_utils.script_run_context",
                 "streamlit.runtime.caching.cache_data_api"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _WorkerThreadOnly) for f in logger.filters):
            logger.addFilter(_WorkerThreadOnly())
