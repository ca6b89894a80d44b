"""Commentary and sign-off: the drafts waiting for a lead, a CSV upload of commentary (kpi, area, period,
commentary), and the quarters a lead has signed off for the public view (sign off, withdraw, history)."""
import pandas as pd
import streamlit as st

from cypp_dash import auth, commentary, commentary_upload, export, release, store
from cypp_dash.web import commentary_view, session
from cypp_dash.web.cache import cached_periods
from cypp_dash.web.components import table_html
from cypp_dash.web.downloads import downloads_for_table
from cypp_dash.web.frame import page

view = page("Commentary and sign-off", needs_area=False)
plan = view.plan
st.title("Commentary and sign-off")
st.caption(f"{plan.name} · editors write commentary on each KPI's figure; a lead approves it (or returns it "
           "with a reason) before the board reads it; a lead signs off each quarter before the public view "
           "shows it")
commentary_view.styles()
commentary_view.show_notice()
account = session.current_account()
names = store.area_names(view.conn)

st.header("Quarters signed off for the public view", divider="gray")
shown = release.public_release(view.conn, plan.id, view.as_at)
if shown is None:
    st.info("No period of this plan has been signed off yet, so the public view shows nothing of it.")
else:
    st.success(f"The public view shows figures up to {shown.words}"
               + (f" (as at the end of {view.as_at:%d %B %Y})." if view.as_at else "."))
history = release.releases(view.conn, plan.id, include_withdrawn=True)
if history:
    table = pd.DataFrame([{"Period": r.period, "Signed off by": r.released_by,
                           "Signed off (UTC)": f"{r.released_at:%d %b %Y %H:%M}", "Withdrawn by": r.withdrawn_by or "–",
                           "Withdrawn (UTC)": f"{r.withdrawn_at:%d %b %Y %H:%M}" if r.withdrawn_at else "–",
                           "Reason for withdrawal": r.withdrawal_reason or "–"} for r in history])
    table_html(table, caption="Every sign-off and withdrawal")

if auth.has_role(account, "lead") and view.as_at is None:
    periods = cached_periods(view.version, tuple(sorted({k.indicator_id for k in plan.kpis}))) if plan.kpis else []
    in_force = [r.period for r in release.releases(view.conn, plan.id)]
    with st.form("release", border=True):
        period = st.selectbox("Period to sign off", [p for p in periods if p not in in_force] or ["(none)"])
        st.caption("Signing off publishes the figures at or before this period, as they stand now, with their "
                   "approved commentary. Later uploads and revisions wait for the next sign-off.")
        if st.form_submit_button("Sign off for the public view", type="primary", icon=":material/verified:"):
            commentary_view.act(lambda: release.release(view.conn, account, plan, period),
                                        lambda r: f"Signed off {r.period}: the public view now shows it.")
    if in_force:
        with st.form("withdraw", border=True):
            gone = st.selectbox("Period to withdraw", in_force)
            reason = st.text_input("Reason for withdrawing", max_chars=500)
            if st.form_submit_button("Withdraw the release", icon=":material/unpublished:"):
                commentary_view.act(lambda: release.withdraw(view.conn, account, plan, gone, reason),
                                            lambda r: f"Withdrew {r.period}: the public view no longer shows it.")
else:
    st.caption("A lead signs off each quarter; sign in with a lead account to do so.")

st.header("Approved commentary", divider="gray")
rows = [c for c in commentary.current_rows(view.conn) if c.plan_id == plan.id and c.state == commentary.APPROVED]
if view.as_at is not None:
    rows = [c for area in sorted({*names}) for c in commentary.approved(view.conn, plan.id, area, view.as_at).values()]
approved_table = commentary.frame(rows, names)
if approved_table.empty:
    st.info("No commentary has been approved yet.")
else:
    approved_table["decided_at"] = approved_table["decided_at"].map(lambda t: f"{t:%d %b %Y %H:%M}")
    shown_table = approved_table[["kpi", "area_name", "period", "commentary", "written_by", "decided_by", "decided_at"]]
    shown_table = shown_table.rename(columns={"kpi": "KPI", "area_name": "Area", "period": "Period",
                                              "commentary": "Commentary", "written_by": "Written by",
                                              "decided_by": "Approved by", "decided_at": "Approved (UTC)"})
    table_html(shown_table, caption="Approved commentary in force")
    downloads_for_table(shown_table, f"{plan.id}-commentary", what="Commentary")

if not auth.has_role(account, "editor"):
    st.caption("Editors and leads see drafts here and upload commentary; sign in to do so.")
    st.stop()

st.header("Drafts waiting for sign-off", divider="gray")
waiting = commentary.pending(view.conn, account, plan.id)
if not waiting:
    st.info("No drafts are waiting.")
for c in waiting.values():
    state = "waiting for a lead" if c.state == commentary.DRAFT else "returned to its author"
    st.html(commentary_view.box(c, f"{c.kpi_code} · {names.get(c.area_code, c.area_code)} · {c.period} "
                                f"({state}, draft {c.comment_id})", draft=True))
    if c.state == commentary.DRAFT and auth.has_role(account, "lead") and view.as_at is None:
        commentary_view.decide_form(view, account, c)

with st.expander("History: every version of every commentary"):
    every = commentary.frame(commentary.versions(view.conn, account, plan.id), names)
    st.dataframe(every, hide_index=True, width="stretch")
    downloads_for_table(every, f"{plan.id}-commentary-history", what="History")

st.header("Upload commentary", divider="gray")
st.caption(f"A CSV with the columns kpi, area, period and commentary (any order, any case); plain text of at most "
           f"{view.config.settings.commentary_max_chars:,} characters per commentary. Each row becomes a draft for a "
           "lead to approve. A file with any problem loads nothing; every problem names its row and column.")
st.download_button("Commentary template (CSV)",
                   export.table_csv(pd.DataFrame({"kpi": [k.code for k in plan.kpis], "area": plan.area,
                                                  "period": "", "commentary": ""})),
                   f"{plan.id}-commentary-template.csv", export.CSV_MIME, on_click="ignore",
                   icon=":material/download:")
uploaded = st.file_uploader("CSV of commentary", type=["csv"],
                            key=f"commentary_upload_{st.session_state.get('cypp_commentary_uploads', 0)}")
if uploaded is not None:
    checked = commentary_upload.validate_csv(view.config, uploaded.getvalue(), uploaded.name)
    if not checked.ok:
        st.error(f"{uploaded.name} was refused: {len(checked.problems)} problem(s); nothing was changed.")
        st.text("\n".join(str(p) for p in checked.problems[:200]))
    else:
        for w in checked.warnings:
            st.caption(f"Note: {w}")
        preview = pd.DataFrame([{"row": r.row, "kpi": r.key.kpi_code, "area": names.get(r.key.area_code),
                                 "period": r.key.period, "commentary": r.body} for r in checked.rows])
        st.dataframe(preview, hide_index=True, width="stretch")
        if st.button("Save as drafts", type="primary"):
            st.session_state["cypp_commentary_uploads"] = st.session_state.get("cypp_commentary_uploads", 0) + 1
            commentary_view.act(lambda: commentary_upload.save_upload(view.conn, account, checked),
                                        lambda r: f"Saved {uploaded.name}: {r.drafts} draft(s) for a lead to "
                                                  f"approve, {r.unchanged} unchanged.")
