"""District drill-down: one KPI for the county, its six districts and England, side by side."""
import streamlit as st

from cypp_dash import charts, status, ui

view = ui.page("Districts", needs_area=False)
plan = view.plan
codes = [k.code for k in plan.kpis]
st.title("Districts compared")
if not codes or not plan.districts:
    st.info("This plan has no measures with district figures.")
    st.stop()
code = ui.remembered("kpi", codes, codes[0], "w_kpi")
code = st.selectbox("KPI", codes, key="w_kpi",
                    format_func=lambda c: ui.kpi_label(plan.kpi(c)))
st.session_state["cypp_kpi"] = code
ui.keep_in_url(kpi=code)
kpi = plan.kpi(code)
st.header(ui.kpi_label(kpi))  # the KPI named in words too: paper view hides the selector
rows = view.districts(kpi)
st.caption(f"{plan.name} · {view.config.area_name(plan.area)} and districts · period: {view.period_text} · "
           "the same RAG rules as the county; sorted best first")
ui.illustrative_notice(rows)

ordered = status.best_first(rows, kpi)
table = ui.rag_table(ordered, {"area_name": "Area", "value_fmt": "Latest", "period": "Period", "ci_low": "95% CI low",
                       "ci_high": "95% CI high", "compared_with_england": "Compared with England",
                       "rag_label": "RAG", "reason": "Why", "note": "Note"},
                       caption=f"{kpi.code} by area ({view.period_text})")
ui.downloads_for_table(table, f"{code}-districts-{view.period or 'latest'}")
if any(r.value is not None for r in rows):
    ui.chart(charts.district_chart, kpi, rows, view.period_text)
    ui.downloads_for_chart(charts.district_chart, f"{code}-districts-{view.period or 'latest'}", kpi, rows,
                           view.period_text)
centre = status.funnel_centre(rows, plan.area)
if centre and ui.chart(charts.funnel_chart, kpi, rows, centre[0], centre[1], view.period_text):
    ui.downloads_for_chart(charts.funnel_chart, f"{code}-funnel-{view.period or 'latest'}", kpi, rows, centre[0],
                           centre[1], view.period_text)
    st.caption("A district outside the 95% lines differs from the county by more than chance would usually "
               "explain; outside the 99.8% lines, almost certainly.")
else:
    st.info("No funnel plot: funnels are drawn for percentages and rates with each area's numerator and "
            "denominator, not for plain counts or where those are not held.")
st.caption(ui.source_line(rows))
