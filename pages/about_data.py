"""About the data: each KPI's definition, source, unit, baseline, target and how RAG is decided."""
import streamlit as st

from cypp_dash import rag_rules, stats
from cypp_dash.web.components import kpi_definitions
from cypp_dash.web.frame import page

view = page("About the data", needs_area=False)
plan, s = view.plan, view.config.settings
st.title("About the data")
st.markdown(f"**{plan.name}** · {plan.source_document}")

st.header("How RAG is decided", divider="gray")
st.markdown("Each KPI's target in the plan is turned into one or more rules; the rating is the worst of them. "
            "RAG is always written as a word and a symbol as well as a colour: **✔ On track** (green), "
            "**▲ Some concern** (amber), **✖ Off track** (red), **– Not rated**.\n\n"
            + "\n".join(f"- {e.markdown(s)}" for e in rag_rules.explanations()))

st.header("How the statistics are worked out", divider="gray")
st.markdown("The same code draws the charts, the ratings and the `python -m cypp_dash stats` command.")
for note in stats.method_notes(s.trend_points, s.spc_min_points):
    st.subheader(note.name)
    st.markdown(note.plain)
    st.caption(f"Source: {note.source}")

st.header("The measures", divider="gray")
for partnership in plan.partnerships:
    st.subheader(partnership.name)
    kpi_definitions(partnership.kpis)
