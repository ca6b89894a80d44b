"""Overview: the whole plan at a glance, partnership by partnership."""
import streamlit as st

from cypp_dash import status, ui
from cypp_dash.web import benchmark as benchmark_ui
from cypp_dash.web import commentary_view

view = ui.page("Overview")
statuses = view.statuses()

st.title(view.plan.name)
st.caption(f"{view.area_name} · period: {view.period_text} · RAG is shown by word and symbol as well as colour")
ui.illustrative_notice(statuses)
commentary_view.styles()
if not statuses:
    st.info("This plan has no measures yet: see About the plan for its priorities and Actions for its tracker.")
else:
    ui.headline_boxes(status.rag_counts(statuses))

for partnership in view.plan.partnerships:
    mine = [s for s in statuses if s.partnership_id == partnership.id]
    counts = status.rag_counts(mine)
    st.header(partnership.name)
    ui.kpi_tiles(mine, intro=f"{partnership.priority} · reports to {partnership.reports_to or view.plan.board} · "
                 + " · ".join(f"{status.RAG_SYMBOLS[r]} {status.RAG_WORDS[r]}: {counts[r]}" for r in counts)
                 + (f" · {partnership.status_note}" if partnership.status_note else ""))
    commentary_view.new_commentary_line(view, mine)

if statuses:
    ui.downloads_for_table(status.status_frame(statuses)[status.CONTRACT_COLUMNS],
                           f"{view.plan.id}-{view.area}-{view.period or 'latest'}-status", what="All these figures")
st.caption(ui.source_line(statuses))

# Real published figures (DfE LAIT) for the KPIs that have a published measure: a separate section.
benchmark_ui.published_panel(view, view.plan.kpis)
