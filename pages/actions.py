"""Actions: the plan's action tracker, each action rated by its due date and status, with its
history; editors update it by uploading a CSV of actions."""
from datetime import date

import streamlit as st

from cypp_dash import actions, auth, charts, status
from cypp_dash.web import session
from cypp_dash.web.components import rag_badge
from cypp_dash.web.downloads import downloads_for_table
from cypp_dash.web.frame import page

view = page("Actions", needs_area=False)
plan = view.plan
today = date.today()
st.title("Actions")
st.caption(f"{plan.name} · rated on {today:%d %B %Y}"
           + (f" · as the tracker stood at the end of {view.as_at:%d %B %Y}" if view.as_at else "")
           + f" · an action past its due date and not complete is off track; one due within "
             f"{view.config.settings.action_due_soon_days} days and not started is some concern")

notice = st.session_state.pop("cypp_actions_notice", None)
if notice:
    st.success(notice)
held = actions.current(view.conn, plan.id, view.as_at)
if held.empty:
    st.info("No actions are recorded for this plan yet. When the partnership agrees its actions, each is shown "
            "here with its lead, due date and progress.")
else:
    rows = actions.rated(held, today, view.config.settings)
    counts = actions.counts(rows)
    cols = st.columns(4)
    for col, rag in zip(cols, ("green", "amber", "red", "not rated")):
        col.metric(f"{status.RAG_SYMBOLS[rag]} {status.RAG_WORDS[rag]}", counts[rag], border=True)

    late = rows[rows["rag"] == "red"]
    if not late.empty:
        st.subheader("Off track", divider="red")
        for r in late.itertuples():
            st.markdown(rag_badge(r.rag))
            st.text(f"{r.action_id} · {r.task} · lead: {r.lead}\n{r.reason}")

    st.subheader("All actions", divider="gray")
    shown = rows.rename(columns={"action_id": "ID", "task": "Task", "lead": "Lead", "start_date": "Start",
                                 "due_date": "Due", "status": "Status", "serves": "Serves", "rag_label": "RAG",
                                 "reason": "Why", "comments": "Comments"})
    shown = shown[["ID", "Task", "Lead", "Start", "Due", "Status", "RAG", "Why", "Serves", "Comments"]]

    def tint(col):
        return [f"background-color: {charts.RAG_TINTS[r]}; color: #0b0c0c" for r in rows.loc[col.index, "rag"]]

    st.dataframe(shown.style.apply(tint, subset=["RAG"]), hide_index=True, width="stretch",
                 column_config={"Start": st.column_config.DateColumn(format="DD MMM YYYY"),
                                "Due": st.column_config.DateColumn(format="DD MMM YYYY")})
    downloads_for_table(shown, f"{plan.id}-actions")
    st.download_button("Download the actions (CSV, to edit and upload back)", actions.to_csv(held),
                       file_name=f"actions_{plan.id}.csv", mime="text/csv")
    with st.expander("History: every version of every action"):
        action_history = actions.history(view.conn, plan.id)
        st.dataframe(action_history, hide_index=True, width="stretch")
        downloads_for_table(action_history, f"{plan.id}-actions-history")

st.header("Update the actions", divider="gray")
account = session.current_account()
if not auth.has_role(account, "editor"):
    st.info("Editors update the tracker by uploading a CSV of actions. Sign in with an editor account to do so.")
    st.stop()
st.caption("Columns (any order, any case): task, lead and status are required; id, start, due (2011-03-31 or "
           "31/03/2011), serves and comments are optional. A row with an id already held revises that action "
           "(the old version is kept in the history); a row without an id adds a new action. Statuses: "
           + ", ".join(actions.ACTION_STATUSES) + ".")
upload = st.file_uploader("CSV of actions", type=["csv"],
                          key=f"actions_upload_{st.session_state.get('cypp_actions_uploads', 0)}")
if upload is not None:
    checked = actions.validate_csv(upload.getvalue(), upload.name,
                                   view.config.settings.upload_max_mb * 1024 * 1024)
    if not checked.ok:
        st.error(f"{upload.name} was refused: {len(checked.problems)} problem(s); nothing was changed.")
        st.text("\n".join(str(p) for p in checked.problems))
    else:
        for w in checked.warnings:
            st.caption(f"Note: {w}")
        st.dataframe(actions.preview(view.conn, plan.id, checked), hide_index=True, width="stretch")
        if st.button("Save these actions", type="primary"):
            try:
                result = actions.save(view.conn, account, plan, checked)
            except auth.PermissionDenied as e:
                st.error(str(e))
            else:
                st.session_state["cypp_actions_notice"] = (
                    f"Saved {upload.name} as upload {result.batch_id}: {result.added} added, {result.revised} "
                    f"revised, {result.unchanged} unchanged.")
                # A new uploader key empties it, so the saved file is not offered again.
                st.session_state["cypp_actions_uploads"] = st.session_state.get("cypp_actions_uploads", 0) + 1
                st.rerun()
