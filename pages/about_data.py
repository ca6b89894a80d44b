"""About the data: each KPI's definition, source, unit, baseline, target and how RAG is decided."""
import streamlit as st

from cypp_dash import stats, ui

view = ui.page("About the data", needs_area=False)
plan, s = view.plan, view.config.settings
st.title("About the data")
st.markdown(f"**{plan.name}** · {plan.source_document}")

st.header("How RAG is decided", divider="gray")
st.markdown(f"""
Each KPI's target in the plan is turned into one or more rules; the rating is the worst of them.
RAG is always written as a word and a symbol as well as a colour:
**✔ On track** (green), **▲ Some concern** (amber), **✖ Off track** (red), **– Not rated**.

- **Above the England average**: on track when the area's 95% confidence interval lies wholly on the better side of
  England's figure, some concern when it includes England's figure, off track when wholly on the worse side. Without
  an interval (no numerator and denominator) the point figures are compared, allowing {s.in_line_tolerance:g}
  points either way, and the reason says "no confidence interval".
- **In line with the England average**: on track when not significantly different from England (or better); some
  concern when worse by up to {s.in_line_tolerance * s.amber_multiple:g} points; off track beyond that.
- **An improving trend against the baseline**: on track when the latest figure is better than the baseline by more
  than {s.improvement_threshold:.0%} of the baseline; some concern within that; off track when worse.
- **An improving trend against a target** (e.g. the HWICS target): on track when the target is met; some concern
  when better than the baseline but short of the target; off track otherwise.
- **An improving trend**: for yearly figures, the Fingertips recent trend over the last {s.trend_points} years
  (significant at 99.8%); for quarterly figures, the SPC verdict on the latest point.
- **Small numbers**: where a figure has a 95% confidence interval that includes the baseline or target it is
  compared with, the rule gives neither green nor red and the reason says "too few to tell".
- **Districts**: the plan's baseline and target are for the plan's area. A district is rated by its interval
  against England (same period) or, failing that, against the plan's area; a district with a better figure is
  never shown with a worse rating than one with a worse figure.
- **An absolute target** (e.g. 100% of schools): on track when met; some concern within {s.absolute_amber_gap:g}
  points; off track beyond.
- **Not rated** when there is no figure, no comparator, or the comparator is in different units (the reason says
  which).
""")

st.header("How the statistics are worked out", divider="gray")
st.markdown("The same code draws the charts, the ratings and the `python -m cypp_dash stats` command.")
for note in stats.method_notes(s.trend_points, s.spc_min_points):
    st.subheader(note.name)
    st.markdown(note.plain)
    st.caption(f"Source: {note.source}")

st.header("The measures", divider="gray")
for partnership in plan.partnerships:
    st.subheader(partnership.name)
    ui.kpi_definitions(partnership.kpis)
