"""Administration (admins only, checked on the server): accounts, the audit log, upload history
with rollback, and backup and restore."""
import streamlit as st

from cypp_dash import auth, store
from cypp_dash.web import session
from cypp_dash.web.downloads import downloads_for_table
from cypp_dash.web.frame import page
from cypp_dash.web.history import batch_label, rollback_question, upload_history

ROLLBACK_LIST = 50

view = page("Administration", needs_area=False)
conn = view.conn
account = session.current_account()

st.title("Administration")
if not auth.has_role(account, "admin"):
    st.error("This page is for administrators. " + ("Sign in with an admin account to use it." if account is None
                                                     else f"You are signed in as {account.role}."))
    if account is None:
        session.sign_in_link()
    st.stop()


def report(action, success: str) -> None:
    """Run one guarded action; show its refusal or problem as a message instead of a crash."""
    try:
        action()
    except (auth.PermissionDenied, auth.AccountError, store.StoreError, ValueError) as e:
        st.session_state["admin_message"] = ("error", str(e))
    else:
        st.session_state["admin_message"] = ("success", success)
    st.rerun()


kind, text = st.session_state.pop("admin_message", (None, None))
if kind == "error":
    st.error(text, icon=":material/block:")
elif kind == "success":
    st.success(text, icon=":material/check_circle:")

accounts_tab, audit_tab, uploads_tab, backup_tab = st.tabs(["Accounts", "Audit log", "Uploads", "Backup and restore"])

with accounts_tab:
    users = auth.list_users(conn)
    st.dataframe(users, hide_index=True, width="stretch", column_config={
        "name": "Name", "role": "Role", "created_at": "Created (UTC)", "last_sign_in": "Last sign-in (UTC)",
        "failed_count": "Failed sign-ins", "locked_until": "Locked until (UTC)"})
    downloads_for_table(users, "accounts")
    st.caption(" · ".join(f"{role}: {words}" for role, words in auth.ROLE_WORDS.items()))
    names = users["name"].tolist()
    add_col, change_col = st.columns(2)
    with add_col, st.form("add_account", clear_on_submit=True):
        st.subheader("Add an account")
        new_name = st.text_input("Name (letters, digits, . _ - @; an email address works)", max_chars=64)
        new_role = st.selectbox("Role", auth.ROLES)
        new_password = st.text_input("Password", type="password", autocomplete="new-password",
                                     help=f"At least {auth.MIN_PASSWORD} characters")
        if st.form_submit_button("Add account", type="primary"):
            report(lambda: auth.web_add_user(conn, account, new_name, new_role, new_password),
                   f"Account {auth.normalise_name(new_name)} added as {new_role}.")
    with change_col:
        with st.form("set_password", clear_on_submit=True):
            st.subheader("Set a password")
            who = st.selectbox("Account", names, key="password_for")
            password = st.text_input("New password", type="password", autocomplete="new-password",
                                     help="This also lifts a lockout after failed sign-ins")
            if st.form_submit_button("Set password") and who:
                report(lambda: auth.web_set_password(conn, account, who, password), f"Password set for {who}.")
        with st.form("remove_account"):
            st.subheader("Remove an account")
            gone = st.selectbox("Account", [n for n in names if n != account.name], key="remove_who")
            sure = st.checkbox("Yes, remove this account")
            if st.form_submit_button("Remove account") and gone:
                if sure:
                    report(lambda: auth.web_remove_user(conn, account, gone), f"Account {gone} removed.")
                else:
                    st.warning("Tick the box to confirm.")

with audit_tab:
    st.caption("Sign-ins, failed sign-ins, uploads, rollbacks, restores and account changes, newest first "
               "(times in UTC). Passwords are never recorded.")
    audit = store.audit_log(conn)
    st.dataframe(audit, hide_index=True, width="stretch", column_config={
        "logged_at": "When (UTC)", "user_name": "Who", "action": "What", "detail": "Detail"})
    downloads_for_table(audit, "audit-log")

with uploads_tab:
    history = store.history(conn)
    st.caption("Every upload, newest first. Rolling back an upload removes its figures and brings back the ones "
               "it revised; it is kept in this list as rolled back.")
    shown = upload_history(conn)
    st.dataframe(shown, hide_index=True, width="stretch")
    downloads_for_table(shown, "uploads")
    pending = st.session_state.get("admin_rollback")
    loaded = history[history["status"] == "loaded"]
    if len(loaded) > ROLLBACK_LIST:
        st.caption(f"The {ROLLBACK_LIST} newest uploads can be rolled back here; older ones with "
                   "`python -m cypp_dash rollback BATCH` on the server.")
    for batch in loaded.head(ROLLBACK_LIST).itertuples():
        with st.container(border=True):
            info, action = st.columns([4, 1], vertical_alignment="center")
            row = loaded.loc[batch.Index]
            info.text(batch_label(row))
            if pending == batch.batch_id:
                info.warning(rollback_question(row), icon=":material/warning:")
                if action.button("Yes, roll back", key=f"confirm_{batch.batch_id}", type="primary"):
                    st.session_state.pop("admin_rollback", None)
                    report(lambda b=batch.batch_id: auth.rollback(conn, account, b),
                           f"Upload {batch.batch_id} rolled back.")
                if action.button("Cancel", key=f"cancel_{batch.batch_id}"):
                    st.session_state.pop("admin_rollback", None)
                    st.rerun()
            elif action.button("Roll back", key=f"rollback_{batch.batch_id}"):
                st.session_state["admin_rollback"] = batch.batch_id
                st.rerun()

with backup_tab:
    st.subheader("Download a backup")
    st.caption("A copy of the whole store as one zip file (a table per Parquet file; it restores into the "
               "embedded store or PostgreSQL alike), including the accounts' password hashes: keep it as safely "
               "as the server.")
    st.download_button("Download backup", data=lambda: auth.backup(store.process_connection(), account),
                       file_name="cypp-backup.zip", mime="application/zip", icon=":material/download:")
    st.subheader("Restore from a backup")
    st.caption("Replaces every figure, upload and plan table with the backup's. Today's accounts and audit log "
               "are kept, and the restore is recorded in the audit log.")
    with st.form("restore", clear_on_submit=True):
        backup_file = st.file_uploader("Backup file", type=["zip", "duckdb"])
        sure = st.checkbox("Yes, replace the figures with this backup's")
        if st.form_submit_button("Restore") and backup_file is not None:
            if sure:
                report(lambda: auth.restore_uploaded(conn, account, backup_file.getvalue(), backup_file.name),
                       f"Restored from {backup_file.name}.")
            else:
                st.warning("Tick the box to confirm.")
