"""Public view (no sign-in; switched on by `public_view` in config.yaml): the quarters a lead has signed off,
as the store held them at sign-off, with their approved commentary and the paragraph written from the
figures. Never a draft, never an upload waiting for sign-off. Account names are not shown here (they may be
email addresses): the public reads dates."""
from datetime import date

import streamlit as st

from cypp_dash import commentary, store
from cypp_dash.web import commentary_view
from cypp_dash.web.components import illustrative_notice, rag_table, source_line
from cypp_dash.web.frame import open_page
from cypp_dash.web.resources import config, connection

paper = open_page()
cfg = config()
commentary_view.styles()
if not cfg.settings.public_view:
    st.title("Public view")
    st.info("The public view is switched off for this dashboard. An administrator switches it on with "
            "`public_view: true` in config.yaml.", icon=":material/public_off:")
    st.stop()

conn = connection()
version = store.data_version(conn)
plans = {p.id: p for p in cfg.plans}
with st.container(horizontal=True, gap="medium"):
    plan = plans[st.selectbox("Plan", list(plans), format_func=lambda i: plans[i].name, key="w_public_plan")]
    area = st.selectbox("Area", [plan.area, *plan.districts], format_func=cfg.area_name, key="w_public_area")
raw = st.query_params.get("as_at")
try:
    asked = date.fromisoformat(raw) if raw else None
except ValueError:
    asked = None
as_at = None
if st.toggle("Show what was published on a past date", value=asked is not None, key="w_public_past"):
    as_at = st.date_input("Published as at", value=asked or date.today(), max_value=date.today(),
                          format="DD/MM/YYYY", key="w_public_as_at")

shown, rows = commentary_view.cached_public(version, plan.id, area, as_at)
st.title(plan.name)
if shown is None:
    st.info("No figures of this plan have been published yet: each quarter appears here once the partnership "
            "has signed it off." + (f" (As at the end of {as_at:%d %B %Y}.)" if as_at else ""))
    st.stop()
st.caption(f"{cfg.area_name(area)} · published figures up to {shown.period}, signed off on "
           f"{shown.released_at:%d %B %Y}" + (f" · as published at the end of {as_at:%d %B %Y}" if as_at else "")
           + " · RAG is shown by word and symbol as well as colour")
illustrative_notice(rows)
approved = commentary.approved(conn, plan.id, area, shown.released_at)
for partnership in plan.partnerships:
    mine = [s for s in rows if s.partnership_id == partnership.id]
    if not mine:
        continue
    st.header(partnership.name, divider="gray")
    commentary_view.narrative_block(mine)
    rag_table(mine, {"code": "Code", "kpi": "KPI", "value_fmt": "Latest", "period": "Period",
                     "england_text": "England (plan)", "target": "Target", "rag_label": "RAG", "reason": "Why"},
              caption=f"{partnership.name}: each KPI's published figure ({cfg.area_name(area)}, up to {shown.period})")
    for s in mine:
        c = approved.get((s.code, s.period))
        if c is not None:
            st.html(commentary_view.box(c, f"{s.code} {s.kpi}: officer commentary on {s.period}", public=True))
st.caption(source_line(rows))
