"""District drill-down: every KPI for each district against the county (the matrix), then one KPI for the
county, its districts and England side by side, and each district's trend beside the county's."""
import streamlit as st

from cypp_dash import charts, districts, status
from cypp_dash.web.cache import cached_district_matrix, cached_district_trends
from cypp_dash.web.components import chart, district_matrix, illustrative_notice, rag_table, source_line
from cypp_dash.web.downloads import downloads_for_chart, downloads_for_table
from cypp_dash.web.frame import page
from cypp_dash.web.links import keep_in_url, remembered
from cypp_dash.web.text import kpi_label

view = page("Districts")
plan = view.plan
codes = [k.code for k in plan.kpis]
chosen = view.area if view.area in plan.districts else None
st.title(f"Districts compared: {view.area_name}")
if not codes or not plan.districts:
    st.info("This plan has no measures with district figures.")
    st.stop()
st.caption(f"{plan.name} · {view.config.area_name(plan.area)} and districts · {view.period_text}"
           + (f" · {view.area_name} is marked in each table and chart" if chosen else ""))
illustrative_notice(view.statuses())

code = remembered("kpi", codes, codes[0], "w_kpi")
code = st.selectbox("KPI", codes, key="w_kpi",
                    format_func=lambda c: kpi_label(plan.kpi(c)))
st.session_state["cypp_kpi"] = code
keep_in_url(kpi=code)
kpi = plan.kpi(code)
st.header(kpi_label(kpi))  # the KPI named in words too: paper view hides the selector
rows = view.districts(kpi)
st.caption("The same RAG rules as the county; sorted best first")

ordered = status.best_first(rows, kpi)
table = rag_table(ordered, {"area_name": "Area", "value_fmt": "Latest", "period": "Period", "ci_low": "95% CI low",
                       "ci_high": "95% CI high", "compared_with_england": "Compared with England",
                       "rag_label": "RAG", "reason": "Why", "note": "Note"},
                       caption=f"{kpi.code} by area ({view.period_text})")
downloads_for_table(table, f"{code}-districts-{view.period or 'latest'}")
if any(r.value is not None for r in rows):
    chart(charts.district_chart, kpi, rows, view.period_text)
    downloads_for_chart(charts.district_chart, f"{code}-districts-{view.period or 'latest'}", kpi, rows,
                        view.period_text)
trends = cached_district_trends(view.version, plan.id, code, view.period, view.as_at)
source = source_line(rows)
illustrative = any(r.illustrative for r in rows)
if chart(charts.district_trends_chart, kpi, trends, plan.area, view.period_text, source, illustrative):
    downloads_for_chart(charts.district_trends_chart, f"{code}-district-trends-{view.period or 'latest'}", kpi,
                        trends, plan.area, view.period_text, source, illustrative)
centre = status.funnel_centre(rows, plan.area)
if centre and chart(charts.funnel_chart, kpi, rows, centre[0], centre[1], view.period_text):
    downloads_for_chart(charts.funnel_chart, f"{code}-funnel-{view.period or 'latest'}", kpi, rows, centre[0],
                        centre[1], view.period_text)
    st.caption("A district outside the 95% lines differs from the county by more than chance would usually "
               "explain; outside the 99.8% lines, almost certainly.")
else:
    st.info("No funnel plot: funnels are drawn for percentages and rates with each area's numerator and "
            "denominator, not for plain counts or where those are not held.")
st.caption(source)

st.header(f"Every KPI: each district against {view.config.area_name(plan.area)}")
st.caption(f"Each district's latest figure compared with {view.config.area_name(plan.area)}'s for the same period "
           "by its 95% confidence interval (as Fingertips compares a district with its county): better or worse "
           "when the whole interval lies on one side, similar when it includes the county's figure.")
cells = cached_district_matrix(view.version, plan.id, view.period, view.as_at)
district_matrix(cells, plan, view.config, f"Districts against {view.config.area_name(plan.area)} ({view.period_text})",
                chosen)
downloads_for_table(districts.matrix_frame(cells, plan, view.config),
                    f"{plan.id}-districts-matrix-{view.period or 'latest'}")
