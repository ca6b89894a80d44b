"""District drill-down: one KPI for the county, its six districts and England, side by side."""
import streamlit as st

from cypp_dash import charts, ui

view = ui.page("Districts", needs_area=False)
plan = view.plan
codes = [k.code for k in plan.kpis]
st.title("Districts compared")
if not codes or not plan.districts:
    st.info("This plan has no measures with district figures.")
    st.stop()
code = ui.remembered("kpi", codes, codes[0])
code = st.selectbox("KPI", codes, index=codes.index(code), key="w_kpi",
                    format_func=lambda c: ui.kpi_label(plan.kpi(c)))
st.session_state["cypp_kpi"] = code
ui.keep_in_url(kpi=code)
kpi = plan.kpi(code)
rows = view.districts(kpi)
st.caption(f"{plan.name} · {view.config.area_name(plan.area)} and districts · period: {view.period_text} · "
           "the same RAG rules as the county; sorted best first")
ui.illustrative_notice(rows)

ordered = sorted(rows, key=lambda r: (r.value is None, (r.value or 0) * (-1 if kpi.polarity != "lower" else 1)))
ui.rag_table(ordered, {"area_name": "Area", "value_text": "Latest", "period": "Period", "ci_low": "95% CI low",
                       "ci_high": "95% CI high", "compared_with_england": "Compared with England",
                       "rag_label": "RAG", "reason": "Why", "note": "Note"})
if any(r.value is not None for r in rows):
    st.altair_chart(charts.district_chart(kpi, rows, view.period_text), width="content")
st.caption(ui.source_line(rows))
