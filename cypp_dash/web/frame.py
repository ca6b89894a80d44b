"""The page frame every page starts with: the window title, the house styles and paper view, the viewing
gate, the shared sidebar (plan, area, period, as-at date, kept in session state and the address bar) and
the View it describes; deep links opened first after the server starts, and the one-off freezing of
long-lived objects out of the garbage collector's sight."""
from __future__ import annotations

import gc
import os
import sys
from datetime import date

import duckdb
import streamlit as st

from cypp_dash import freshness, store
from cypp_dash.web import session
from cypp_dash.web.cache import cached_periods, pin_run
from cypp_dash.web.links import keep_in_url, param, remembered
from cypp_dash.web.resources import config, connection
from cypp_dash.web.styles import apply_paper_view, house_styles
from cypp_dash.web.text import markdown_literal
from cypp_dash.web.view import View

APP_TITLE = "CYPP performance dashboard"


def page(title: str, *, needs_area: bool = True, gated: bool = True) -> View:
    """Start a page: window title, paper view, the shared sidebar, and the view it describes. The sign-in page
    starts with `gated=False`: no viewing gate, and no sidebar choices (they read the store's periods, which a
    dashboard that needs sign-in shows no one before it), so its view is the first plan at its defaults."""
    _through_app_navigation()
    _freeze_long_lived_objects()
    house_styles()
    cfg = config()
    conn = connection()
    # A dashboard whose viewing needs sign-in stops here, before any figure is read.
    if gated:
        session.gate_viewing(APP_TITLE)
    try:
        version = store.data_version(pin_run())
    except duckdb.Error as e:
        st.error(f"The store cannot be read: {e}")
        st.stop()
    paper = param("view") == "paper"
    if paper:
        apply_paper_view()
    if not gated:
        return View(cfg, cfg.plans[0], cfg.plans[0].area, None, None, paper, conn, version)
    view = _sidebar(cfg, conn, version, paper, needs_area)
    ended = freshness.ended_text(view.plan.name, view.plan.end)
    if ended:
        st.info(ended, icon=":material/event_busy:")
    if paper:
        st.caption(view.produced_line)
    return view


def _sidebar(cfg, conn, version: int, paper: bool, needs_area: bool) -> View:
    """The sidebar's choices and what they show, kept in the address bar; the View they describe.

    The sidebar is drawn even in paper view (hidden by CSS) so the choices keep working. It says what is
    shown; the choices themselves sit behind one button (a popover's widgets are drawn only when it opens,
    which keeps every page quick to open: see README Performance)."""
    showing = st.sidebar.container()
    choices = st.sidebar.popover("Change plan, area or period", width="stretch")
    plan_ids = [p.id for p in cfg.plans]
    plan_id = _select(choices, "Plan", "plan", plan_ids, plan_ids[0], {p.id: p.name for p in cfg.plans},
                      help="The Children and Young People's Plan to show")
    plan = cfg.plan(plan_id)
    area_options = [plan.area, *plan.districts]
    area = _select(choices, "Area", "area", area_options, plan.area, {a: cfg.area_name(a) for a in area_options},
                   help="The plan's area or one of its districts") if needs_area else plan.area
    periods = cached_periods(version, tuple(sorted({k.indicator_id for k in plan.kpis}))) if plan.kpis else []
    period = _select(choices, "Period (as at quarter)", "period", ["latest", *periods], "latest",
                     {"latest": "Latest available"}, help="Show the latest figure at or before this period")
    as_at = _as_at_picker(choices)
    keep_in_url(plan=plan_id, area=area if needs_area else None, period=None if period == "latest" else period,
                as_at=as_at.isoformat() if as_at else None, view="paper" if paper else None)
    showing.markdown("\n".join([
        f"**Plan:** {markdown_literal(plan.name)}  ",
        *([f"**Area:** {markdown_literal(cfg.area_name(area))}  "] if needs_area else []),
        f"**Period:** {'latest available' if period == 'latest' else period}  ",
        "Figures as stored now" if as_at is None else f"Figures as they stood at the end of {as_at:%d %B %Y}"]))
    sign_in_box()
    return View(cfg, plan, area or plan.area, None if period == "latest" else period, as_at, paper, conn, version)


def _select(where, label: str, name: str, options: list[str], default: str | None,
            labels: dict[str, str] | None = None, help: str | None = None) -> str | None:
    widget_key = f"w_{name}"
    remembered(name, options, default, widget_key)
    choice = where.selectbox(label, options, key=widget_key, help=help,
                             format_func=(lambda v: labels.get(v, v)) if labels else str)
    st.session_state[f"cypp_{name}"] = choice
    return choice


def _as_at_picker(where) -> date | None:
    raw = param("as_at") or st.session_state.get("cypp_as_at")
    try:
        current = date.fromisoformat(raw) if raw else None
    except ValueError:
        current = None
    use = where.toggle("Show figures as at a past date", value=current is not None, key="w_as_at_on",
                       help="See the figures as the store held them on a date, e.g. a past board meeting")
    if not use:
        st.session_state["cypp_as_at"] = None
        return None
    chosen = where.date_input("As at date", value=current or date.today(), max_value=date.today(),
                              format="DD/MM/YYYY", key="w_as_at")
    st.session_state["cypp_as_at"] = chosen.isoformat()
    return chosen


def sign_in_box() -> None:
    """Who is signed in, with a Sign out button (cypp_dash/web/session.py)."""
    session.sidebar_status()


def paper_view_if_asked() -> bool:
    """For a page that does not start with `page()` (the public view): apply paper view when the address asks;
    also the menu's keyboard focus style that `page()` gives other pages."""
    house_styles()
    paper = param("view") == "paper"
    if paper:
        apply_paper_view()
    return paper


def open_page() -> bool:
    """Start a page that anyone may read without signing in (the public view): the app's navigation and
    styles and paper view when asked, but no sidebar choices and no sign-in gate. True in paper view."""
    _through_app_navigation()
    _freeze_long_lived_objects()
    return paper_view_if_asked()


def _through_app_navigation() -> None:
    """Make a deep link opened first after the server starts go through dashboard.py's navigation.

    Streamlit keeps an old rule: until some session has run dashboard.py's `st.navigation`, a URL such as
    /partnership?area=... runs pages/partnership.py directly (the folder-based navigation), so the
    page misses dashboard.py's page config and menu. Seen in Chromium: the menu listed "app, about data,
    ...". The page switches that rule off and runs again through dashboard.py; a page whose address
    differs from its file name (about-data) is then opened by its file, keeping the query."""
    try:
        from streamlit.runtime.pages_manager import PagesManager  # a Streamlit internal, not there in every version
    except ImportError:  # a Streamlit without the old rule
        return
    caller = sys._getframe(2).f_globals.get("__file__")
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.session_state["cypp_deep_link_page"] = caller
        st.rerun()
    wanted = st.session_state.pop("cypp_deep_link_page", None)
    if wanted and caller and os.path.realpath(wanted) != os.path.realpath(caller):
        st.switch_page(wanted, query_params=st.query_params.to_dict())


_FROZEN = False


def _freeze_long_lived_objects() -> None:
    """Once per process, at the first page view: move the objects alive now (the modules of Streamlit, pandas,
    Altair, DuckDB and this dashboard: about 200,000) out of the cyclic garbage collector's sight
    (`gc.freeze`). Each full collection otherwise walks all of them, which took 100 to 240 ms on this
    server and fell on whichever page view was running, about once per view. Objects made later are
    collected as usual; see README Performance."""
    global _FROZEN
    if _FROZEN:
        return
    _FROZEN = True
    gc.collect()  # garbage left over from start-up is freed, not frozen
    gc.freeze()
