"""Overview: the whole plan at a glance, partnership by partnership."""
import streamlit as st

from cypp_dash import status, ui

view = ui.page("Overview")
statuses = view.statuses()

st.title(view.plan.name)
st.caption(f"{view.area_name} · period: {view.period_text} · RAG is shown by word and symbol as well as colour")
ui.illustrative_notice(statuses)
if not statuses:
    st.info("This plan has no measures yet: see About the plan for its priorities and Actions for its tracker.")

counts = status.rag_counts(statuses)
cols = st.columns(4)
for col, rag in zip(cols, ("green", "amber", "red", "not rated")):
    col.metric(f"{status.RAG_SYMBOLS[rag]} {status.RAG_WORDS[rag]}", counts[rag], border=True)

for partnership in view.plan.partnerships:
    mine = [s for s in statuses if s.partnership_id == partnership.id]
    c = status.rag_counts(mine)
    st.header(partnership.name, divider="gray")
    st.caption(f"{partnership.priority} · reports to {partnership.reports_to or view.plan.board} · "
               + " · ".join(f"{status.RAG_SYMBOLS[r]} {status.RAG_WORDS[r]}: {c[r]}" for r in c)
               + (f" · {partnership.status_note}" if partnership.status_note else ""))
    tiles = st.columns(3)
    for i, s in enumerate(mine):
        with tiles[i % 3].container(border=True):
            st.markdown(f"**{s.code}** · {s.kpi}")
            st.markdown(f"### {status.fmt(s.value, s.unit)}")
            if s.relation == "related":
                st.caption(f"Related indicator, not the measure itself: {s.relation_note}")
            arrow = {"up": "↑ up on the previous figure", "down": "↓ down on the previous figure",
                     "same": "→ same as the previous figure"}.get(s.direction, "")
            st.caption(f"{s.period or ('no published indicator' if s.relation == 'none' else 'no figure yet')} {('· ' + arrow) if arrow else ''}"
                       f"{(' · flags: ' + s.flags.replace(',', ', ')) if s.flags else ''}")
            st.markdown(ui.rag_badge(s.rag))
            st.text(s.reason)

if statuses:
    ui.downloads_for_table(status.status_frame(statuses)[status.CONTRACT_COLUMNS],
                           f"{view.plan.id}-{view.area}-{view.period or 'latest'}-status", what="All these figures")
st.caption(ui.source_line(statuses))
