"""What a page run reads, kept so a repeat view is quick: the run's one snapshot of the store, the cached
reads keyed on the store's version (an upload shows at once), the chart pictures drawn on the server, and
`memo` for statistics a page works out from figures it already has."""
from __future__ import annotations

import hashlib
import io
import pickle
import threading
from datetime import date
from typing import Any, Callable

import duckdb
import pandas as pd
import streamlit as st

from cypp_dash import districts, export, plan_info, status, store
from cypp_dash.periods import parse_period
from cypp_dash.web.resources import _config, _connection

# Each page run reads one version of the store: the page frame opens a read transaction for the run (on the
# run's thread) and reads the version on it, and the cached reads below, keyed on that version, read
# through the same transaction. An upload that commits while a run is drawing shows on the next run,
# never half in this one, and a cache entry never holds figures newer than its key.
_run = threading.local()


def pin_run() -> duckdb.DuckDBPyConnection:
    """Open this thread's snapshot of the store for a page run (releasing the previous run's)."""
    old = getattr(_run, "cursor", None)
    if old is not None:
        old.release()
    _run.cursor = store.snapshot(_connection(str(store.db_path())))
    return _run.cursor


def unpin_run() -> None:
    """Forget this thread's snapshot (the caller has released it)."""
    _run.cursor = None


def _reader() -> duckdb.DuckDBPyConnection:
    """The run's snapshot when a page has started one on this thread, else a fresh cursor."""
    pinned = getattr(_run, "cursor", None)
    return pinned if pinned is not None else _connection(str(store.db_path())).cursor()


# --- cached reads (keyed on the store's version, so an upload shows at once) ---------------------

@st.cache_data(show_spinner=False, max_entries=256)
def cached_plan_status(version: int, plan_id: str, area: str, period: str | None, as_at: date | None,
                       partnership_id: str | None = None) -> list[status.KpiStatus]:
    cfg = _config()
    return status.plan_status(_reader(), cfg, cfg.plan(plan_id), area, period,
                              as_at=as_at, partnership_id=partnership_id)


@st.cache_data(show_spinner=False, max_entries=256)
def cached_district_table(version: int, plan_id: str, kpi_code: str, period: str | None,
                          as_at: date | None) -> list[status.KpiStatus]:
    cfg = _config()
    plan = cfg.plan(plan_id)
    return status.district_table(_reader(), cfg, plan, plan.kpi(kpi_code), period,
                                 as_at=as_at)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_district_matrix(version: int, plan_id: str, period: str | None, as_at: date | None) -> list:
    cfg = _config()
    return districts.matrix(_connection(str(store.db_path())).cursor(), cfg, cfg.plan(plan_id), period, as_at=as_at)


@st.cache_data(show_spinner=False, max_entries=256)
def cached_district_trends(version: int, plan_id: str, kpi_code: str, period: str | None,
                           as_at: date | None) -> pd.DataFrame:
    cfg = _config()
    plan = cfg.plan(plan_id)
    return districts.trends_frame(_connection(str(store.db_path())).cursor(), cfg, plan, plan.kpi(kpi_code), period,
                                  as_at=as_at)


@st.cache_data(show_spinner=False, max_entries=256)
def cached_series(version: int, indicator_ids: tuple[str, ...], areas: tuple[str, ...], period: str | None,
                  as_at: date | None) -> pd.DataFrame:
    up_to = parse_period(period).end if period else None
    return store.series(_reader(), list(indicator_ids), list(areas), up_to=up_to,
                        as_at=as_at)


@st.cache_data(show_spinner=False, max_entries=1024)
def cached_kpi_series(version: int, indicator_ids: tuple[str, ...], indicator_id: str, areas: tuple[str, ...],
                      period: str | None, as_at: date | None) -> pd.DataFrame:
    """One KPI's rows, cut from the plan-wide read (so a repeat view unpickles one KPI's rows, not the plan's)."""
    rows = cached_series(version, indicator_ids, areas, period, as_at)
    return rows[rows["indicator_id"] == indicator_id].reset_index(drop=True)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_periods(version: int, indicator_ids: tuple[str, ...]) -> list[str]:
    return store.periods_held(_reader(), list(indicator_ids))


@st.cache_data(show_spinner=False, max_entries=64)
def cached_wider_outcomes(version: int, plan_id: str, area: str) -> pd.DataFrame:
    cfg = _config()
    return plan_info.wider_outcomes(_reader(), cfg, cfg.plan(plan_id), area)


# --- charts: drawn on the server as SVG pictures, the same pictures as the downloads and the Word report ---

PAPER_CHART = {"width": 300, "height": 110}  # two charts side by side on A4, text still legible


def chart_picture(build: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, str] | None:
    """(title, SVG) of the chart `build(*args, **kwargs)`, from the cache when these inputs were drawn before
    (by a page or by the background preparation, cypp_dash/web/prepare.py); None when there is no chart."""
    try:
        key = _digest((build.__module__, build.__qualname__, args, kwargs))
    except (pickle.PicklingError, TypeError, AttributeError):  # inputs that cannot be pickled: no cache
        return _draw_picture(build, args, kwargs)
    return _chart_picture(key, build, args, kwargs)


def _draw_picture(build: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[str, str] | None:
    built = build(*args, **kwargs)
    if built is None:
        return None
    spec = built.to_dict()
    title = spec.get("title", "")
    if isinstance(title, dict):
        title = title.get("text", "")
    title = " ".join(title) if isinstance(title, list) else str(title)
    return title or "Chart", export.chart_svg(spec)


@st.cache_data(show_spinner=False, max_entries=512)
def _chart_picture(key: str, _build: Callable[..., Any], _args: tuple, _kwargs: dict) -> tuple[str, str] | None:
    """(title, SVG) of the chart, or None when there is no chart; cached on `key`, a digest of the inputs."""
    return _draw_picture(_build, _args, _kwargs)


def memo(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`function(*args, **kwargs)` for a pure function of its inputs (statistics a page works out from
    figures it already has), cached on a digest of those inputs: a repeat view does not redo it."""
    try:
        key = _digest((function.__module__, function.__qualname__, args, kwargs))
    except (pickle.PicklingError, TypeError, AttributeError):
        return function(*args, **kwargs)
    return _memo(key, function, args, kwargs)


@st.cache_data(show_spinner=False, max_entries=1024)
def _memo(key: str, _function: Callable[..., Any], _args: tuple, _kwargs: dict) -> Any:
    return _function(*_args, **_kwargs)


class _KeyPickler(pickle.Pickler):
    """Pickles a frame column by column: its block layout depends on how it was made, its columns do not."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, pd.DataFrame):
            return tuple, ([(name, column.dtype, column.array) for name, column in obj.items()], obj.index)
        return NotImplemented


def _digest(value: Any) -> str:
    """A digest of the pickled value: far cheaper than Streamlit's field-by-field hashing of dataclasses
    and frames, and equal digests mean equal inputs (a needless miss costs one build, never a wrong chart)."""
    buffer = io.BytesIO()
    pickler = _KeyPickler(buffer, protocol=5)
    pickler.fast = True  # no memo: shared and merely equal objects pickle alike (inputs hold no cycles)
    pickler.dump(value)
    return hashlib.sha256(buffer.getbuffer()).hexdigest()
