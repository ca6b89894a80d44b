"""Overview: the whole plan on one screen: headline counts, then one row per KPI (latest figure, trend
picture, change, England, target, RAG, SPC), partnership by partnership, or the KPIs that need attention
first. Each KPI's name opens its detail."""
import streamlit as st

from cypp_dash import overview, status
from cypp_dash.web import benchmark as benchmark_ui
from cypp_dash.web import commentary_view
from cypp_dash.web.components import headline_boxes, illustrative_notice, overview_table, paragraph, source_line
from cypp_dash.web.downloads import downloads_for_table
from cypp_dash.web.frame import page
from cypp_dash.web.links import keep_in_url, remembered

view = page("Overview")
statuses = view.statuses()

st.title(view.plan.name)
st.caption(f"{view.area_name} · {view.period_text} · RAG is shown by word and symbol as well as colour"
           + ("" if view.paper else " · select a KPI's name to open its detail"))
illustrative_notice(statuses)
commentary_view.styles()
if not statuses:
    st.info("This plan has no measures yet: see About the plan for its priorities and Actions for its tracker.")
    st.stop()
headline_boxes(status.rag_counts(statuses))
if unrated := overview.not_rated_summary(statuses):
    st.info(unrated, icon=":material/info:")

SHOW = {"all": "Every KPI, by partnership", "attention": "Needs attention first"}
show = remembered("show", list(SHOW), "all", "w_show")
show = st.segmented_control("Show", list(SHOW), key="w_show", format_func=SHOW.get) or show
st.session_state["cypp_show"] = show
keep_in_url(show=show)

if show == "attention":
    flagged = overview.needs_attention(statuses)
    st.header("Needs attention")
    st.caption("Off track first, then significantly worse than England and getting worse, then special cause "
               "of concern on the SPC chart.")
    if flagged:
        overview_table(view, flagged, f"KPIs that need attention ({view.area_name}, {view.period_text})",
                       [overview.OVERVIEW_COLUMNS[0], overview.Column("Why", overview.why_text),
                           *overview.OVERVIEW_COLUMNS[1:]])
    else:
        st.success("No KPI is off track, significantly worse than England and getting worse, or showing "
                   "special cause of concern.")
else:
    for partnership in view.plan.partnerships:
        mine = [s for s in statuses if s.partnership_id == partnership.id]
        counts = status.rag_counts(mine)
        st.header(partnership.name)
        paragraph(f"{partnership.priority} · reports to {partnership.reports_to or view.plan.board} · "
                  + " · ".join(f"{status.RAG_SYMBOLS[r]} {status.RAG_WORDS[r]}: {counts[r]}" for r in counts)
                  + (f" · {partnership.status_note}" if partnership.status_note else ""), css="cypp-intro")
        if mine:
            overview_table(view, mine, f"{partnership.name}: each KPI ({view.area_name}, {view.period_text})")
            commentary_view.new_commentary_line(view, mine)
        else:
            st.info(f"{partnership.name} has no measures yet"
                    + (f": {partnership.status_note}." if partnership.status_note else "."))

downloads_for_table(status.status_frame(statuses)[status.CONTRACT_COLUMNS],
                    f"{view.plan.id}-{view.area}-{view.latest_period or 'latest'}-status", what="All these figures")
st.caption(source_line(statuses))

# Real published figures (DfE LAIT) for the KPIs that have a published measure: a separate section.
benchmark_ui.published_panel(view, view.plan.kpis)
