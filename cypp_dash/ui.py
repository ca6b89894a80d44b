"""The Streamlit frame every page shares: the store connection, the sidebar (plan, area,
period, as-at date) kept in session state and the URL, cached reads, paper view and the
small display pieces (RAG badges, the illustrative label, source lines)."""
from __future__ import annotations

import base64
import gc
import hashlib
import html
import io
import pickle
import re
import threading
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

import duckdb
import pandas as pd
import streamlit as st

from cypp_dash import charts, freshness, overview, plan_info, status, store
from cypp_dash.config import Config, Kpi, Plan
from cypp_dash.periods import parse_period
from cypp_dash.web import session
from cypp_dash.web.resources import _config, _connection, config, connection

APP_TITLE = "CYPP performance dashboard"
RAG_COLOURS = {"green": "green", "amber": "orange", "red": "red", "not rated": "gray"}  # Streamlit's badge colours
RAG_TINTS = charts.RAG_TINTS
STATE = {"plan": "cypp_plan", "area": "cypp_area", "period": "cypp_period", "as_at": "cypp_as_at"}


def data_version(conn: duckdb.DuckDBPyConnection) -> int:
    return store.data_version(conn)


# Each page run reads one version of the store: `page()` opens a read transaction for the run (on the
# run's thread) and reads the version on it, and the cached reads below, keyed on that version, read
# through the same transaction. An upload that commits while a run is drawing shows on the next run,
# never half in this one, and a cache entry never holds figures newer than its key.
_run = threading.local()


def _pin_run() -> duckdb.DuckDBPyConnection:
    old = getattr(_run, "cursor", None)
    if old is not None:
        old.release()
    _run.cursor = store.snapshot(_connection(str(store.db_path())))
    return _run.cursor


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
    from cypp_dash import districts

    cfg = _config()
    return districts.matrix(_connection(str(store.db_path())).cursor(), cfg, cfg.plan(plan_id), period, as_at=as_at)


@st.cache_data(show_spinner=False, max_entries=256)
def cached_district_trends(version: int, plan_id: str, kpi_code: str, period: str | None,
                           as_at: date | None) -> pd.DataFrame:
    from cypp_dash import districts

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

def chart(build: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Draw the Altair chart `build(*args, **kwargs)` (a cypp_dash.charts function) as a picture; False,
    drawing nothing, when the function gives no chart.

    The chart is drawn on the server (vl-convert, the engine behind the PNG and SVG downloads) and shown
    as an SVG picture labelled with its title: what the reader sees is exactly what goes into a board paper,
    and the browser has no charting library to load and run (a page with a chart opens about as fast as
    one without: see README Performance). The picture is cached on the chart's inputs, so a repeat view, or
    another session with the same figures, skips Altair and drawing; new figures are new inputs, so an
    upload can never show a stale chart."""
    picture = chart_picture(build, *args, **kwargs)
    if picture is None:
        return False
    title, svg = picture
    # An <img> of the SVG: st.html's sanitiser keeps pictures given as data, not inline SVG markup.
    source = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    st.html(f'<figure class="cypp-chart"><img alt="{h(title)}" src="{source}"></figure>')
    return True


def chart_picture(build: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, str] | None:
    """(title, SVG) of the chart `build(*args, **kwargs)`, from the cache when these inputs were drawn before
    (by a page or by the background preparation, cypp_dash/web/prepare.py); None when there is no chart."""
    try:
        key = _digest((build.__module__, build.__qualname__, args, kwargs))
    except (pickle.PicklingError, TypeError, AttributeError):  # inputs that cannot be pickled: no cache
        return _draw_picture(build, args, kwargs)
    return _chart_picture(key, build, args, kwargs)


def _draw_picture(build: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[str, str] | None:
    from cypp_dash import export

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


# --- the view a page draws ---------------------------------------------------------------------------

@dataclass
class View:
    """What the reader has chosen: plan, area, period and as-at date, plus the paper-view switch."""

    config: Config
    plan: Plan
    area: str
    period: str | None
    as_at: date | None
    paper: bool
    conn: duckdb.DuckDBPyConnection
    version: int

    @property
    def area_name(self) -> str:
        return self.config.area_name(self.area)

    @property
    def period_text(self) -> str:
        """What the figures shown run to, in words: "figures to 2025/26 Q4" (the chosen period, else the latest
        period among the area's figures), with the as-at date when one is chosen."""
        words = freshness.figures_to([s.period for s in self.statuses()], self.period)
        return words + (f", as at {self.as_at:%d %B %Y}" if self.as_at else "")

    @property
    def latest_period(self) -> str | None:
        """The latest period among the area's figures (a KPI whose figures stop earlier lags behind it)."""
        return self.period or freshness.latest_period(s.period for s in self.statuses())

    @property
    def produced_line(self) -> str:
        """"Produced on <date> · figures to <period> · <as-at>", for paper view and exports."""
        return freshness.produced_line(freshness.figures_to([s.period for s in self.statuses()], self.period),
                                       self.as_at)

    def statuses(self, partnership_id: str | None = None) -> list[status.KpiStatus]:
        return cached_plan_status(self.version, self.plan.id, self.area, self.period, self.as_at, partnership_id)

    def districts(self, kpi: Kpi) -> list[status.KpiStatus]:
        return cached_district_table(self.version, self.plan.id, kpi.code, self.period, self.as_at)

    def wider_outcomes(self) -> pd.DataFrame:
        """Every other indicator held for the area, latest figure each (cypp_dash.plan_info.wider_outcomes)."""
        return cached_wider_outcomes(self.version, self.plan.id, self.area)

    def series(self, kpi: Kpi, areas: list[str]) -> pd.DataFrame:
        # One read (cached) for every KPI of the plan in these areas, not one per KPI: a page that
        # draws each KPI's trend then reads the store once, which matters when a read scans a national table.
        ids = tuple(sorted({k.indicator_id for k in self.plan.kpis} | {kpi.indicator_id}))
        return cached_kpi_series(self.version, ids, kpi.indicator_id, tuple(areas), self.period, self.as_at)


def _param(name: str) -> str | None:
    value = st.query_params.get(name)
    return value if value else None


LINK_WORDS = {"plan": "plan", "area": "area", "period": "period", "kpi": "KPI", "partnership": "partnership"}


def remembered(name: str, options: list, default, widget_key: str | None = None):
    """A choice taken from a newly opened link first, then the widget, then this session, then
    the default; the result is kept in session state (and written to the URL by keep_in_url).
    A link naming a choice that is not held gets a notice naming it (link_notice); the rest of the link
    still applies."""
    key = f"cypp_{name}"
    from_url = _param(name)
    link_changed = from_url is not None and from_url != st.session_state.get(f"cypp_url_{name}")
    if link_changed and from_url not in options:
        link_notice(f"The link asks for the {LINK_WORDS.get(name, name)} “{from_url}”, which is not found here, "
                    "so the usual choice is shown instead; the rest of the link still applies.")
        st.session_state[f"cypp_url_{name}"] = from_url
    if link_changed and from_url in options:
        value = from_url
    elif widget_key and st.session_state.get(widget_key) in options:
        value = st.session_state[widget_key]
    else:
        value = st.session_state.get(key)
    if value not in options:
        value = default
    st.session_state[f"cypp_default_{name}"] = default
    st.session_state[key] = value
    if widget_key:
        st.session_state[widget_key] = value
    return value


def link_notice(text: str) -> None:
    """A notice at the top of the page about a link that asked for something not found (said once)."""
    st.warning(markdown_literal(text), icon=":material/link_off:")


def kpi_from_link(plan: Plan) -> Kpi | None:
    """The KPI a newly opened link names (`?kpi=CODE`) when the plan holds it; None otherwise. Lets a page
    open the partnership that holds it before choosing its KPI."""
    code = _param("kpi")
    if code is None or code == st.session_state.get("cypp_url_kpi"):
        return None
    return next((k for k in plan.kpis if k.code == code), None)


def keep_in_url(**values: str | None) -> None:
    """Write the view into the address bar so a copied link opens the same view.

    A choice still at its default (see `remembered`) is not added to an address that lacks it: that
    address already opens the same view, and each change Streamlit makes to the address is a new entry in
    the browser's history, so a visit through the menu would otherwise need two presses of Back to leave.
    A choice the address already names is always kept up to date."""
    changed = {}
    for name, value in values.items():
        st.session_state[f"cypp_url_{name}"] = None if value in (None, "") else str(value)
        if value is None or value == "":
            if name in st.query_params:
                del st.query_params[name]
        elif name not in st.query_params and str(value) == str(st.session_state.get(f"cypp_default_{name}")):
            continue
        elif st.query_params.get(name) != str(value):
            changed[name] = str(value)
    if changed:
        st.query_params.update(changed)  # one message to the browser, not one per choice


def _select(where, label: str, name: str, options: list[str], default: str | None,
            labels: dict[str, str] | None = None, help: str | None = None) -> str | None:
    widget_key = f"w_{name}"
    remembered(name, options, default, widget_key)
    choice = where.selectbox(label, options, key=widget_key, help=help,
                             format_func=(lambda v: labels.get(v, v)) if labels else str)
    st.session_state[f"cypp_{name}"] = choice
    return choice


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
        version = data_version(_pin_run())
    except duckdb.Error as e:
        st.error(f"The store cannot be read: {e}")
        st.stop()
    paper = _param("view") == "paper"
    if paper:
        apply_paper_view()
    if not gated:
        return View(cfg, cfg.plans[0], cfg.plans[0].area, None, None, paper, conn, version)
    # The sidebar is drawn even in paper view (hidden by CSS) so the choices keep working. It says what is
    # shown; the choices themselves sit behind one button (a popover's widgets are drawn only when it opens,
    # which keeps every page quick to open: see README Performance).
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
    period_options = ["latest", *periods]
    period = _select(choices, "Period (as at quarter)", "period", period_options, "latest",
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
    view = View(cfg, plan, area or plan.area, None if period == "latest" else period, as_at, paper, conn, version)
    ended = freshness.ended_text(plan.name, plan.end)
    if ended:
        st.info(ended, icon=":material/event_busy:")
    if paper:
        st.caption(view.produced_line)
    return view


def _as_at_picker(where) -> date | None:
    raw = _param("as_at") or st.session_state.get("cypp_as_at")
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


def apply_paper_view() -> None:
    """Paper view (`?view=paper`): no sidebar, header, toolbar, controls or download buttons; an A4-wide
    page that scrolls as one document (so a full-page screenshot takes it all) and prints cleanly."""
    st.html("""<style>
      [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarNav"],
      header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
      [data-testid="stStatusWidget"], [data-testid="stBottom"], .stDownloadButton, [class*="st-key-downloads-"],
      [data-testid="stButtonGroup"], .stSelectbox, .stRadio, .stButton, .stToggle,
      [data-testid="stElementContainer"]:has(> [data-testid="stButtonGroup"], > .stSelectbox, > .stRadio,
        > .stButton, > .stToggle, > .stDownloadButton),
      [data-testid="stElementToolbar"], [data-testid="stExpander"] summary svg, [data-testid="stTabs"] [role="tablist"]
      {display: none !important;}
      html, body, .stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"]
      {height: auto !important; min-height: 0 !important; overflow: visible !important; position: static !important;}
      [data-testid="stMainBlockContainer"], .block-container
      {max-width: 794px !important; width: 794px !important; padding: 1rem 1.5rem 2rem !important; margin: 0 auto !important;}
      [data-testid="stVegaLiteChart"], [data-testid="stTable"], [data-testid="stAlert"], [data-testid="stVerticalBlockBorderWrapper"]
      {break-inside: avoid; page-break-inside: avoid;}
      h1, h2, h3 {break-after: avoid; page-break-after: avoid;}
      .cypp-table {font-size: .8rem;}
      .cypp-table th, .cypp-table td {padding: .25rem .35rem !important;}
      .cypp-table .cypp-col-why, .cypp-table .cypp-col-reason {width: 38%;}
      .cypp-table .cypp-col-code {width: 3.2rem;}
      .cypp-table .cypp-col-kpi {width: 20%;} .cypp-table .cypp-col-target {width: 17%;}
      .cypp-facts {font-size: .75rem;} .cypp-facts li {margin: 0 0 .1rem;}
      .cypp-table-wrap {overflow: visible !important;}
      .cypp-overview table {table-layout: fixed; font-size: .72rem;}
      .cypp-overview th[scope="row"] {min-width: 0;}
      .cypp-overview .cypp-ov-kpi {width: 21%;} .cypp-overview .cypp-ov-latest {width: 10%;}
      .cypp-overview .cypp-ov-trend {width: 10%;} .cypp-overview .cypp-ov-since-previous {width: 9%;}
      .cypp-overview .cypp-ov-england {width: 9%;} .cypp-overview .cypp-ov-target {width: 16%; min-width: 0;}
      .cypp-overview .cypp-ov-rag {width: 12%;} .cypp-overview .cypp-ov-spc {width: 13%;}
      .cypp-overview .cypp-ov-why {width: 14%;}
      .cypp-overview .cypp-spark {width: 64px; height: 18px;}
      .cypp-headline .cypp-count {font-size: 1.4rem;}
      h1 {font-size: 1.9rem !important; padding-top: .3rem !important;} h2 {font-size: 1.35rem !important;}
      h3 {font-size: 1.1rem !important; padding: .4rem 0 .1rem !important;} .cypp-reason {font-size: .85rem;}
      .cypp-chart {break-inside: avoid; page-break-inside: avoid;}
      [data-testid="stHorizontalBlock"] {break-inside: avoid; page-break-inside: avoid;}
      [data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] {gap: .5rem;}
      @page {size: A4 portrait; margin: 12mm;}
      @media print {
        /* The width of the A4 page inside its margins, in millimetres: a browser asked to print from a wide
           window (or page.pdf) would otherwise lay the page out at the window's width and shrink it to fit. */
        [data-testid="stMainBlockContainer"], .block-container {width: 186mm !important; max-width: 186mm !important;
         padding: 0 !important; margin: 0 !important;}
        html, body, .stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] {width: 186mm !important;
         min-width: 0 !important;}
        * {-webkit-print-color-adjust: exact !important; print-color-adjust: exact !important;}
      }
    </style>""")


def _rag_class(rag: str) -> str:
    return rag.replace(" ", "-")


# RAG edges in the charts' colours, badges in the tables' tints (a badge's word and symbol carry the meaning).
HOUSE_STYLES = """<style>
  [data-testid="stSidebarNav"] a:focus-visible, [data-testid="stSidebarNavLink"]:focus-visible
  {outline: 3px solid #ffdd00 !important; outline-offset: 0 !important; background-color: #ffdd00 !important;
   box-shadow: inset 0 -4px 0 #0b0c0c !important; color: #0b0c0c !important;}
  .cypp-intro {margin: 0 0 .5rem; font-size: .875rem; color: #505a5f;}
  .cypp-tiles {display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: .75rem;}
  .cypp-tile {border: 1px solid #b1b4b6; border-left-width: 6px; border-radius: .25rem; padding: .6rem .8rem;
   break-inside: avoid; page-break-inside: avoid;}
  .cypp-tile p {margin: 0 0 .35rem;}
  .cypp-tile .cypp-value {font-size: 1.75rem; font-weight: 700; line-height: 1.2;}
  .cypp-tile .cypp-small, .cypp-small {font-size: .875rem; color: #505a5f;}
  .cypp-badge {display: inline-block; padding: .05rem .5rem; border-radius: .25rem; font-weight: 600;
   color: #0b0c0c; font-size: .875rem;}
  .cypp-headline {display: grid; grid-template-columns: repeat(4, 1fr); gap: .75rem; margin: 0 0 .5rem !important;
   padding: 0 !important; list-style: none;}
  .cypp-headline > * {margin: 0; border: 1px solid #b1b4b6; border-top-width: 6px; border-radius: .25rem; padding: .5rem .8rem;}
  .cypp-headline .cypp-count {font-size: 2rem; font-weight: 700; line-height: 1.2; display: block;}
  .cypp-chart {margin: 0 0 .5rem; max-width: 100%;}
  .cypp-chart img {max-width: 100%; height: auto; display: block;}
  [data-testid="stColumn"] .cypp-chart img {width: 100%;}
  .cypp-table-wrap {overflow-x: auto;}
  .cypp-table {border-collapse: collapse; width: 100%; font-size: .875rem; line-height: 1.35;}
  .cypp-table caption {text-align: left; font-weight: 700; padding-bottom: .3rem;}
  .cypp-table th {text-align: left; vertical-align: bottom; border-bottom: 2px solid #0b0c0c; padding: .35rem .5rem;}
  .cypp-table td {vertical-align: top; border-bottom: 1px solid #b1b4b6; padding: .35rem .5rem;
   overflow-wrap: break-word;}
  .cypp-table tr {break-inside: avoid; page-break-inside: avoid;}
  .cypp-table .cypp-rag-cell {font-weight: 600; color: #0b0c0c; white-space: nowrap;}
  .cypp-facts {margin: .25rem 0 .75rem; padding-left: 1.25rem;}
  .cypp-facts li {margin: 0 0 .25rem;}
  .cypp-reason {margin: 0 0 .5rem;}
  .cypp-definitions h4 {font-size: 1.1rem; margin: 1rem 0 .3rem; padding: 0;}
  .cypp-definitions dl {display: grid; grid-template-columns: 12rem 1fr; gap: .15rem .8rem; margin: 0 !important;
   padding: 0 !important;}
  .cypp-definitions dt {font-weight: 700;}
  .cypp-definitions dd {margin: 0;}
  .cypp-overview th[scope="row"] {font-weight: 600; text-align: left; vertical-align: top; padding: .35rem .5rem;
   border-bottom: 1px solid #b1b4b6; min-width: 9rem;}
  .cypp-overview a {color: #1d70b8;}
  .cypp-overview .cypp-spark {display: block; width: 80px; height: 22px; max-width: none;}
  .cypp-overview td {white-space: normal;}
  .cypp-overview .cypp-ov-target {min-width: 7rem;}
  .cypp-overview .cypp-ov-spc {min-width: 8.5rem;}
  .cypp-overview td[data-label="Latest"] {white-space: nowrap;}
  /* A table in a narrow column (a phone, or a laptop with the sidebar open) shows each row as a card of
     "Column: value" lines rather than scrolling sideways. */
  .cypp-table-wrap {container-type: inline-size;}
  @container (max-width: 620px) {
    .cypp-table caption {display: block; width: auto;}
    .cypp-table, .cypp-table tbody, .cypp-table tr, .cypp-table th[scope="row"], .cypp-table td
    {display: block; width: auto;}
    .cypp-table thead {display: none;}
    .cypp-table tr {border: 1px solid #b1b4b6; border-radius: .25rem; margin: 0 0 .6rem; padding: .3rem 0;}
    .cypp-table td, .cypp-table th[scope="row"] {border: 0 !important; padding: .15rem .6rem;}
    .cypp-table td[data-label]::before {content: attr(data-label) ": "; font-weight: 700;}
    .cypp-overview .cypp-spark {display: inline-block; vertical-align: middle;}
  }
""" + "".join(f"  .cypp-rag-{_rag_class(r)} {{border-color: {charts.RAG_COLOURS[r]};}}\n"
              f"  .cypp-badge-{_rag_class(r)} {{background: {RAG_TINTS[r]};}}\n" for r in RAG_TINTS) + "</style>"


def house_styles() -> None:
    """The page's own styles, sent once per page as one element: a visible keyboard focus on the menu's links
    (WCAG 2.4.7; Streamlit marks only the current page; GOV.UK's focus colours, yellow and black) and the
    look of the HTML pieces below (KPI tiles, headline boxes, definitions)."""
    st.html(HOUSE_STYLES)


# --- HTML pieces: many small facts drawn as one element (a page of Streamlit elements draws slowly;
# see README Performance). Every value is escaped here; st.html also sanitises what it is given. ------

def h(value: Any) -> str:
    """Text for HTML: every value from the plan or the store escaped, so it shows as typed."""
    return html.escape("" if value is None else str(value), quote=True)


def rag_badge_html(rag: str) -> str:
    return (f'<span class="cypp-badge cypp-badge-{_rag_class(rag)}">{status.RAG_SYMBOLS[rag]} '
            f"{status.RAG_WORDS[rag]}</span>")


def headline_boxes(counts: dict[str, int]) -> None:
    """DfE-style headline boxes: how many KPIs are on track, some concern, off track, not rated."""
    boxes = "".join(f'<li class="cypp-rag-{_rag_class(r)}"><span class="cypp-count">{counts[r]}</span>'
                    f"{status.RAG_SYMBOLS[r]} {status.RAG_WORDS[r]}</li>" for r in status.RAG_WORDS)
    st.html(f'<ul class="cypp-headline" aria-label="KPIs by rating">{boxes}</ul>')


def rag_and_reason(s: status.KpiStatus) -> None:
    """A KPI's RAG badge (word, symbol and tint) and the reason for it, in plain words."""
    st.html(f'<p class="cypp-reason">{rag_badge_html(s.rag)} {h(s.reason)}</p>')


PAPER_CHART = {"width": 300, "height": 110}  # two charts side by side on A4, text still legible


def kpi_facts(s: status.KpiStatus, leave_out: tuple[str, ...] = ()) -> None:
    """What the statistics say of a KPI's latest figure (England, trend, SPC), its flags, and the note that
    came with it (shown exactly as uploaded); `leave_out` names facts said elsewhere (paper view says the
    flags once, under the summary)."""
    items = "".join(f"<li><strong>{h(name)}:</strong> {h(text)}</li>" for name, text in s.facts
                    if text and name not in leave_out)
    st.html(f'<ul class="cypp-facts">{items}</ul>')


TREND_WORDS = {"up": "↑ up on the previous figure", "down": "↓ down on the previous figure",
               "same": "→ same as the previous figure"}


def kpi_tiles(statuses: list[status.KpiStatus], intro: str = "") -> None:
    """One tile per KPI (code and name, latest figure, period and direction, RAG badge, reason), as one element."""
    tiles = []
    for s in statuses:
        when = s.period or ("no published indicator" if s.relation == "none" else "no figure yet")
        meta = " · ".join(x for x in (when, TREND_WORDS.get(s.direction, ""),
                                     f"flags: {s.flags_words}" if s.flags else "") if x)
        related = (f'<p class="cypp-small">Related indicator, not the measure itself: {h(s.relation_note)}</p>'
                   if s.relation == "related" else "")
        tiles.append(f'<section class="cypp-tile cypp-rag-{_rag_class(s.rag)}" aria-label="{h(s.code)} {h(s.kpi)}">'
                     f"<p><strong>{h(s.code)}</strong> · {h(s.kpi)}</p>"
                     f'<p class="cypp-value">{h(s.figure_text)}</p>'
                     f'<p class="cypp-small">{h(meta)}</p>{related}'
                     f"<p>{rag_badge_html(s.rag)}</p>"
                     + (f'<p class="cypp-verdict"><strong>{h(s.headline)}</strong></p>' if s.headline else "")
                     + f"<p>{h(s.reason)}</p></section>")
    st.html((f'<p class="cypp-intro">{h(intro)}</p>' if intro else "")
            + f'<div class="cypp-tiles">{"".join(tiles)}</div>')


def kpi_link(code: str) -> str:
    """The address of a KPI's detail (its partnership's page, `?kpi=CODE`), keeping the plan, area, period
    and as-at date the reader has chosen. Relative, so it works under any base path."""
    from urllib.parse import urlencode

    params = {"kpi": code, **{name: _param(name) for name in ("plan", "area", "period", "as_at", "view")
                              if _param(name)}}
    return "partnership?" + urlencode(params)


def spark_values(view: View, kpi: Kpi, points: int = 12) -> list[float]:
    """The last figures of a KPI's run (same kind of period as its latest), oldest first, for a sparkline."""
    rows = view.series(kpi, [view.area])
    rows = rows[rows["value"].notna()]
    if rows.empty:
        return []
    kinds = rows["period"].map(lambda p: parse_period(p).kind)
    return [float(v) for v in rows[kinds == kinds.iloc[-1]]["value"].tail(points)]


def overview_table(view: View, statuses: list[status.KpiStatus], caption: str,
                   columns: list[overview.Column] | None = None) -> None:
    """The Overview's table (cypp_dash.overview): one row per KPI, each opening its detail; flags said once
    under it."""
    values = {s.code: spark_values(view, view.plan.kpi(s.code)) for s in statuses}
    rows = overview.rows_for(statuses, values, view.latest_period)
    flags = overview.flags_once(statuses)
    st.html(overview.table_html(rows, lambda s: kpi_link(s.code), caption, columns)
            + (f'<p class="cypp-small">{h(flags)}</p>' if flags else ""))


POLARITY_WORDS = {"higher": "higher", "lower": "lower", "none": "not stated in the plan"}


def kpi_definitions(kpis: list[Kpi]) -> None:
    """Each KPI's definition, unit, direction, baseline, England figure, target, owner and source, as one
    element: every word on show (and in print), none behind a click."""
    parts = []
    for kpi in kpis:
        facts = [("Definition", kpi.definition), ("Unit", kpi.unit_text),
                 ("Better", POLARITY_WORDS[kpi.polarity]),
                 ("Baseline (plan's words)", kpi.baseline.text + (f" · period {kpi.baseline.period}"
                                                                   if kpi.baseline.period else "")),
                 ("England (plan's words)", kpi.england.text),
                 ("Target", f"{kpi.target.text} · rules: "
                            + (", ".join(r.type.replace("_", " ") for r in kpi.target.rules) or "none")),
                 ("Owner of baseline and target", kpi.owner), ("Source", kpi.source)]
        rows = "".join(f"<dt>{h(name)}</dt><dd>{h(value)}</dd>" for name, value in facts if value)
        parts.append(f'<h4 id="kpi-{h(kpi.code.lower())}">{h(kpi.code)} {h(kpi.name)}</h4><dl>{rows}</dl>')
    st.html(f'<div class="cypp-definitions">{"".join(parts)}</div>')


def paper_view_if_asked() -> bool:
    """For a page that does not start with `page()` (the public view): apply paper view when the address asks;
    also the menu's keyboard focus style that `page()` gives other pages."""
    house_styles()
    paper = _param("view") == "paper"
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
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the old rule
        return
    import os
    import sys

    caller = sys._getframe(2).f_globals.get("__file__")
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.session_state["cypp_deep_link_page"] = caller
        st.rerun()
    wanted = st.session_state.pop("cypp_deep_link_page", None)
    if wanted and caller and os.path.realpath(wanted) != os.path.realpath(caller):
        st.switch_page(wanted, query_params=st.query_params.to_dict())


# --- display pieces ---------------------------------------------------------------------------------

def rag_badge(rag: str) -> str:
    """Markdown for a RAG badge: colour, symbol and word (never colour alone)."""
    return f":{RAG_COLOURS[rag]}-badge[{status.RAG_SYMBOLS[rag]} {status.RAG_WORDS[rag]}]"


def illustrative_notice(statuses_or_flag) -> None:
    flag = statuses_or_flag if isinstance(statuses_or_flag, bool) else any(s.illustrative for s in statuses_or_flag)
    if flag:
        st.warning("**Illustrative data.** The quarterly figures shown here are illustrative, generated to show "
                   "how the dashboard works; they are not Worcestershire's real figures. Baselines and England "
                   "figures are the plan's own, as published.", icon="ℹ️")


def source_line(statuses: list[status.KpiStatus]) -> str:
    sources = sorted({s.source for s in statuses if s.source})
    licences = sorted({s.licence for s in statuses if s.licence})
    text = "Source: " + "; ".join(sources) if sources else "Source: the plan"
    if licences:
        text += ". " + "; ".join(licences)
    return text


def rag_table(statuses: list[status.KpiStatus], columns: dict[str, str], caption: str = "") -> pd.DataFrame:
    """A status table with RAG as word + symbol + tint, drawn as one static HTML table (every word visible at
    paper size, no scrolling cells; every cell escaped, so text from an upload shows exactly as typed).
    Returns the table as shown, for its downloads. Made once per set of figures (cached), then reused."""
    shown, body = rag_table_parts(statuses, columns, caption)
    st.html(body)
    return shown


def rag_table_parts(statuses: list[status.KpiStatus], columns: dict[str, str],
                    caption: str = "") -> tuple[pd.DataFrame, str]:
    """`rag_table`'s table as shown and its HTML, made once per set of figures (cached), drawing nothing."""
    return memo(_rag_table, statuses, columns, caption)


def _rag_table(statuses: list[status.KpiStatus], columns: dict[str, str], caption: str) -> tuple[pd.DataFrame, str]:
    df = status.status_frame(statuses)
    df["rag_label"] = [f"{status.RAG_SYMBOLS[r]} {status.RAG_WORDS[r]}" for r in df["rag"]]
    for col in ("value", "england", "baseline"):
        if col in df:
            df[col + "_fmt"] = [status.fmt(v if pd.notna(v) else None, u) for v, u in zip(df[col], df["unit"])]
    df["value_fmt"] = [s.figure_text for s in statuses]  # "suppressed", not "no figure", for a withheld figure
    shown = df[list(columns)].rename(columns=columns)
    shown = shown.astype(object).where(shown.notna(), "–")
    body = _table_body(shown, rag=list(df["rag"]) if "rag_label" in columns else None,
                       rag_column=columns.get("rag_label"), caption=caption)
    return shown, body


def table_html(df: pd.DataFrame, rag: list[str] | None = None, rag_column: str | None = None,
               caption: str = "") -> None:
    """A data frame as one static, escaped HTML table; figures to one decimal place; the RAG column tinted."""
    st.html(_table_body(df, rag, rag_column, caption))


def _table_body(df: pd.DataFrame, rag: list[str] | None, rag_column: str | None, caption: str) -> str:
    def cell(v: Any) -> str:
        return h(f"{v:.1f}" if isinstance(v, float) else v)

    head = "".join(f'<th scope="col" class="cypp-col-{h(re.sub(r"[^a-z0-9]+", "-", str(c).lower()).strip("-"))}">'
                   f"{h(c)}</th>" for c in df.columns)
    rows = []
    for i, values in enumerate(df.itertuples(index=False)):
        cells = [f'<td data-label="{h(name)}" class="cypp-badge-{_rag_class(rag[i])} cypp-rag-cell">{cell(v)}</td>'
                 if rag is not None and name == rag_column else f'<td data-label="{h(name)}">{cell(v)}</td>'
                 for name, v in zip(df.columns, values)]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    # A wide table scrolls sideways in its own box, which a keyboard user can reach and scroll (WCAG 2.1.1).
    return (f'<div class="cypp-table-wrap" tabindex="0" role="region" aria-label="{h(caption or "Table")}">'
            '<table class="cypp-table">'
            + (f"<caption>{h(caption)}</caption>" if caption else "")
            + f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# An invisible word joiner after ":" and before "." and "@": Markdown's automatic links need
# "http://", "www." or "name@host" unbroken, and escaping does not stop them.
_AUTOLINK_PARTS = re.compile(r"(:)|([.@])")
WORD_JOINER = "\u2060"


def markdown_literal(text: str | None) -> str:
    """Uploaded text for a place that renders Markdown (st.table cells): shown exactly as typed,
    never as a link, HTML or formatting (every ASCII punctuation mark backslash-escaped, and
    automatic links broken by invisible word joiners)."""
    text = _AUTOLINK_PARTS.sub(lambda m: m.group(1) + WORD_JOINER if m.group(1) else WORD_JOINER + m.group(2),
                               text or "")
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def kpi_label(kpi: Kpi) -> str:
    return f"{kpi.code} {kpi.name}"


def area_names(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return store.area_names(conn)


HISTORY_COLUMNS = {"batch_id": "Upload", "kind": "Kind", "user_name": "Loaded by", "file_name": "File",
                   "loaded_at": "Loaded (UTC)", "rows_added": "Rows added", "rows_revised": "Rows revised",
                   "rows_unchanged": "Rows unchanged", "status": "Status", "rolled_back_at": "Rolled back (UTC)",
                   "rolled_back_by": "Rolled back by", "sha256": "File fingerprint (SHA-256)"}
KIND_WORDS = {"upload": "Upload", "plan": "Bundled: the plan's own figures", "illustrative": "Bundled: illustrative",
              "fingertips": "Bundled: Fingertips"}
STATUS_WORDS = {"loaded": "Loaded", "rolled back": "Rolled back"}


def upload_history(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every upload, newest first, in words a performance manager uses: plain column names, bundled data loads
    marked as such, times to the minute, and blanks (not "None") where there is nothing to say."""
    raw = store.history(conn)
    shown = raw[[c for c in HISTORY_COLUMNS if c in raw]].copy()
    shown["kind"] = shown["kind"].map(lambda k: KIND_WORDS.get(k, k))
    shown["status"] = shown["status"].map(lambda k: STATUS_WORDS.get(k, k))
    for col in ("loaded_at", "rolled_back_at"):
        shown[col] = [f"{v:%d %b %Y %H:%M}" if pd.notna(v) else "" for v in shown[col]]
    shown = shown.astype(object).where(shown.notna(), "")
    return shown.rename(columns=HISTORY_COLUMNS)


def batch_label(row: pd.Series) -> str:
    """How an upload is named in the roll-back list: number, file, who, when, rows; bundled loads marked."""
    bundled = "" if row["kind"] == "upload" else " · BUNDLED DATA LOAD"
    return (f"Upload {row['batch_id']} · {row['file_name']} · {row['user_name']} · "
            f"{row['loaded_at']:%d %b %Y %H:%M} · {int(row['rows_added']) + int(row['rows_revised'])} rows{bundled}")


def rollback_question(row: pd.Series) -> str:
    """The confirmation a roll back asks for, naming the upload's file, user, date and rows."""
    text = (f"Roll back upload {row['batch_id']}: **{markdown_literal(str(row['file_name']))}**, loaded by "
            f"**{markdown_literal(str(row['user_name']))}** on {row['loaded_at']:%d %B %Y at %H:%M} UTC "
            f"({int(row['rows_added']):,} rows added, {int(row['rows_revised']):,} revised)? Its figures will go "
            "and the figures it revised will come back.")
    if row["kind"] != "upload":
        text += (" **This is a bundled data load** that came with the dashboard, not someone's upload: rolling it "
                 "back removes those figures from every page.")
    return text


# --- downloads next to every chart and table (files are made only when a button is pressed) ---------

def _file_stem(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-").lower() or "download"


def downloads_for_chart(chart_or_build: Any, name: str, *args: Any, **kwargs: Any) -> None:
    """PNG (2x) and SVG buttons for a chart: an Altair chart, or a cypp_dash.charts function and its
    arguments (then the chart is built only if someone asks for the file). No rerun on download."""
    from cypp_dash import export

    def chart():
        return chart_or_build(*args, **kwargs) if callable(chart_or_build) and not hasattr(
            chart_or_build, "to_dict") else chart_or_build

    stem = _file_stem(name)
    with st.container(horizontal=True, gap="small", key=f"downloads-chart-{stem}"):
        st.download_button("Chart as PNG", data=lambda: export.chart_png(chart()), file_name=f"{stem}.png",
                           mime="image/png", on_click="ignore", key=f"png-{stem}",
                           help="A picture at twice screen size, for reports and slides")
        st.download_button("Chart as SVG", data=lambda: export.chart_svg(chart()), file_name=f"{stem}.svg",
                           mime="image/svg+xml", on_click="ignore", key=f"svg-{stem}",
                           help="A picture that stays sharp at any size")


def downloads_for_table(df: pd.DataFrame, name: str, what: str = "Table") -> None:
    """CSV and Excel buttons for a table ("<what> as CSV"); text a spreadsheet could run as a formula is made safe."""
    from cypp_dash import export

    stem = _file_stem(name)
    with st.container(horizontal=True, gap="small", key=f"downloads-table-{stem}"):
        st.download_button(f"{what} as CSV", data=lambda: export.table_csv(df), file_name=f"{stem}.csv",
                           mime=export.CSV_MIME, on_click="ignore", key=f"csv-{stem}")
        st.download_button(f"{what} as Excel", data=lambda: export.table_xlsx(df), file_name=f"{stem}.xlsx",
                           mime=export.XLSX_MIME, on_click="ignore",
                           key=f"xlsx-{stem}")


def download_report(view: View, partnership_id: str) -> None:
    """The Word board report for a partnership, as the page shows it (plan, area, period, as-at date): a board
    paper with the summary table, a chart per KPI, flags, definitions, source and licence."""
    from cypp_dash import export

    base = _connection(str(store.db_path()))  # the process connection; the file is made on another thread
    cfg, plan, area, period, as_at = view.config, view.plan, view.area, view.period, view.as_at
    stem = _file_stem(f"{partnership_id}-{area}-{period or 'latest'}-board-report")

    def report() -> bytes:
        cursor = base.cursor()
        try:
            return export.board_report_bytes(cursor, cfg, plan, partnership_id, period, area=area, as_at=as_at)
        finally:
            cursor.close()

    st.download_button("Download Word report", data=report, file_name=f"{stem}.docx", mime=export.DOCX_MIME,
                       on_click="ignore", key=f"docx-{stem}", type="primary")

