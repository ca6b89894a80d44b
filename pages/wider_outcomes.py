"""Wider outcomes: every indicator held for the area that this plan's measures do not use, with
its latest value, interval, Fingertips' comparison with England, flags, source and licence."""
import streamlit as st

from cypp_dash import plan_info
from cypp_dash.web.components import wider_outcomes_html
from cypp_dash.web.downloads import downloads_for_table
from cypp_dash.web.frame import page

view = page("Wider outcomes")
st.title("Wider outcomes")
st.caption(f"{view.plan.name} · {view.area_name} · every indicator held for the area that this plan's measures "
           "do not use, latest figure each")
rows = view.wider_outcomes()
if rows.empty:
    st.info(f"No other published indicators are held for {view.area_name} yet. When the performance team adds "
            "more published figures, those this plan's measures do not use are listed here.")
    st.stop()

if (rows["flags"].str.contains("estimate")).any():
    st.warning("Some figures are **modelled or synthetic estimates** (flag: estimate). They are not counts: "
               "do not present them as fact.", icon=":material/warning:")
table = plan_info.wider_outcomes_table(rows)
st.html(wider_outcomes_html(table, view.area_name))
downloads_for_table(table, f"wider-outcomes-{view.area}")
sources = sorted({(s, li) for s, li in zip(rows["source"], rows["licence"]) if s})
st.caption("Source: " + "; ".join(f"{s}. {li}".strip() for s, li in sources) if sources else "Source: not recorded")
