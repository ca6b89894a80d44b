"""About the plan: vision, outcomes, priorities, the governance chain with the next quarterly
report, and who owns each measure (and how it relates to the published figures shown)."""
from datetime import date

import pandas as pd
import streamlit as st

from cypp_dash import plan_info
from cypp_dash.web.components import table_html
from cypp_dash.web.downloads import downloads_for_table
from cypp_dash.web.frame import page

view = page("About the plan", needs_area=False)
plan = view.plan
st.title(plan.name)
st.caption(f"{plan.council} · {plan.source_document or 'the plan'}")

if plan.vision:
    st.header("Vision", divider="gray")
    st.markdown(f"> {plan.vision}")
if plan.outcomes:
    st.header("Outcomes", divider="gray")
    st.markdown("\n".join(f"- {o}" for o in plan.outcomes))
st.header("Priorities", divider="gray")
if plan.priorities:
    st.markdown("\n".join(f"- {p}" for p in plan.priorities))
else:
    st.markdown("\n".join(f"- **{p.name}**: {p.priority}" for p in plan.partnerships if p.priority)
                or "The plan lists no priorities.")
if plan.notes:
    st.markdown(plan.notes)

st.header("Governance", divider="gray")
st.markdown(f"**{plan.board or 'The plan board'}** reports to **{plan.reports_to or 'no board named in the plan'}** · "
            f"meets: {plan.meets or 'not stated'}")
governance = pd.DataFrame(plan_info.governance_rows(plan))
table_html(governance, caption="Each partnership: its board, whom it reports to and how often")
downloads_for_table(governance, f"{plan.id}-governance")
report = plan_info.next_quarterly_report(plan, date.today())
if not plan_info.reports_quarterly(plan.meets, *[p.meets for p in plan.partnerships]):
    st.info(f"The plan does not say it reports quarterly (meets: {plan.meets or 'not stated'}), so no quarterly "
            "report date is worked out.")
elif report is None:
    st.info(f"This plan ran to {date.fromisoformat(plan.end):%d %B %Y}: no further quarterly report falls due.")
else:
    st.success(f"**Next quarterly report:** {report.text}.")

st.header("Measures and who owns them", divider="gray")
if not plan.kpis:
    st.info("This plan has no measures yet.")
else:
    st.caption("The agency that owns each measure's baseline and target, and whether the published figures shown "
               "are the measure itself, only related to it, or absent.")
    ownership = pd.DataFrame(plan_info.kpi_ownership_rows(plan))
    table_html(ownership, caption="Each measure: who owns its baseline and target")
    downloads_for_table(ownership, f"{plan.id}-measures-and-owners")
    words = {"related": "related indicator, not the measure itself.", "none": "no published indicator."}
    notes = [f"- **{kpi.code}: {words[kpi.relation]}** {kpi.relation_note}" for kpi in plan.kpis if kpi.relation in words]
    if notes:
        st.warning("\n".join(notes), icon=":material/link:")

if plan.data_files:
    st.header("Where the figures come from", divider="gray")
    sources = sorted({(k.source, k.licence) for k in plan.kpis if k.licence})
    for source, licence in sources:
        st.markdown(f"- {source}. {licence}")
    st.caption("Bundled data files: " + ", ".join(plan.data_files) + ". Real published figures, not illustrative.")
