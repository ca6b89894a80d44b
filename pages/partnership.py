"""One partnership: its KPIs in a table with RAG and reasons, then one KPI at a time in detail (trend with
England and target, then the SPC chart). Paper view shows every KPI in turn, as a board paper would."""
import streamlit as st

from cypp_dash import charts, freshness, overview, status
from cypp_dash.web import benchmark as benchmark_ui
from cypp_dash.web import commentary_view, session
from cypp_dash.web.cache import PAPER_CHART, memo
from cypp_dash.web.components import chart, illustrative_notice, kpi_facts, rag_and_reason, rag_table, source_line
from cypp_dash.web.downloads import download_report, downloads_for_chart, downloads_for_table
from cypp_dash.web.frame import page
from cypp_dash.web.links import keep_in_url, kpi_from_link, remembered
from cypp_dash.web.text import kpi_label

view = page("Partnership")
plan = view.plan
ids = [p.id for p in plan.partnerships]
linked = kpi_from_link(plan)  # `?kpi=CODE` opens the partnership that holds the KPI
if linked is not None and st.query_params.get("partnership") != linked.partnership_id:
    st.query_params["partnership"] = linked.partnership_id
pid = remembered("partnership", ids, ids[0] if ids else None, "w_partnership")
if not ids:
    st.title("Partnerships")
    st.info("This plan has no partnerships with measures yet.")
    st.stop()
pid = st.segmented_control("Partnership", ids, key="w_partnership",
                           format_func=lambda i: plan.partnership(i).name) or pid
st.session_state["cypp_partnership"] = pid
keep_in_url(partnership=pid)
partnership = plan.partnership(pid)
statuses = view.statuses(pid)

st.title(partnership.name)
st.markdown(f":small[{plan.name} · {view.area_name} · {view.period_text}]  \n"
            f"**Priority:** {partnership.priority}  \n**Board:** {partnership.board} · reports to "
            f"{partnership.reports_to} · meets {partnership.meets}")
illustrative_notice(statuses)
if statuses:
    download_report(view, pid)
if not statuses:
    st.info(f"{partnership.name} has no measures yet" + (f": {partnership.status_note}." if partnership.status_note
                                                         else "."))
    st.stop()
commentary_view.styles()
commentary_view.show_notice()
marks = commentary_view.release_marks(view, statuses, pid)
commentary_view.narrative_block(statuses)
account = session.current_account()
approved = commentary_view.approved_for(view)
waiting = commentary_view.waiting_for(view, account)

st.header("Summary")
SUMMARY_COLUMNS = {"code": "Code", "kpi": "KPI", "baseline_text": "Baseline (plan)", "value_fmt": "Latest",
                   "period": "Period", "england_text": "England (plan)", "target": "Target", "rag_label": "RAG",
                   "reason": "Why"}
if view.paper:  # a one-page summary: the plan's baseline and England words are in each KPI's reason
    SUMMARY_COLUMNS = {k: v for k, v in SUMMARY_COLUMNS.items() if k not in ("baseline_text", "england_text")}
summary = rag_table(statuses, SUMMARY_COLUMNS,
                    caption=f"{partnership.name}: each KPI's latest figure ({view.area_name}, {view.period_text})")
downloads_for_table(summary, f"{pid}-{view.area}-{view.period or 'latest'}-summary")
st.caption(" · ".join(x for x in (overview.flags_once(statuses), source_line(statuses)) if x))
if not view.paper:  # paper view says each KPI's published figure in a line under it, to print short
    benchmark_ui.published_panel(view, [plan.kpi(s.code) for s in statuses])

st.header("Each KPI in detail")
codes = [s.code for s in statuses]
code = remembered("kpi", codes, codes[0], "w_kpi")
code = st.selectbox("KPI to show", codes, key="w_kpi", format_func=lambda c: kpi_label(plan.kpi(c)))
st.session_state["cypp_kpi"] = code
keep_in_url(kpi=code)

for s in statuses if view.paper else [s for s in statuses if s.code == code]:
    kpi = plan.kpi(s.code)
    st.subheader(kpi_label(kpi), divider="gray")
    rag_and_reason(s)
    if lag := freshness.lag_text(s.period, view.latest_period):
        st.caption(f"This KPI's figures stop at {s.period}: {lag} since.")
    if kpi.relation == "related":
        st.caption(f"Related indicator, not the measure itself: {kpi.relation_note}")
    with_england = view.series(kpi, [view.area, status.ENGLAND])  # England's own series, where held
    rows = with_england[with_england["area_code"] == view.area]
    has_chart = False
    if rows["value"].notna().any():
        target = kpi.target.value
        spc = memo(status.spc_for, kpi, rows, s, view.config.settings)
        has_spc = has_chart = bool(spc and spc[1].enough_data)
        # The KPI is named once, above: its trend and SPC charts side by side (stacked on a phone), sized so a
        # board paper prints them on A4; the downloads are the full-size charts with the KPI's name as title.
        stem = f"{kpi.code}-{view.area}-{view.period or 'latest'}"
        left, right = st.columns(2, gap="small")
        with left:
            chart(charts.trend_chart, kpi, with_england, s, view.period_text, target=target, **PAPER_CHART,
                  title="Trend")
            downloads_for_chart(charts.trend_chart, f"{stem}-trend", kpi, with_england, s, view.period_text,
                                target=target)
        with right:
            if has_spc:
                chart(charts.spc_chart, kpi, spc[0], spc[1], s, view.period_text, s.assurance_target,
                      **PAPER_CHART, title="Statistical process control")
                downloads_for_chart(charts.spc_chart, f"{stem}-spc", kpi, spc[0], spc[1], s, view.period_text,
                                    s.assurance_target)
            else:
                st.info(spc[1].reason if spc else "An SPC chart needs a run of figures; there are too few here.")
    else:
        st.info(f"No figures held for {view.area_name} yet ({kpi.baseline.text}).")
    # Paper view says the flags once (under the summary) and SPC in its chart (variation and assurance).
    kpi_facts(s, leave_out=("Flags", "Statistical process control") if view.paper and has_chart else ())
    if view.paper:
        benchmark_ui.published_line(view, kpi)
    commentary_view.kpi_commentary(view, s, approved, waiting, account, marks.get(s.code))
