"""Sign in and sign out: name and password, or the organisation's identity provider when configured."""
import streamlit as st

from cypp_dash import auth
from cypp_dash.web import session
from cypp_dash.web.frame import page

view = page("Sign in", needs_area=False, gated=False)
cfg, conn = view.config, view.conn
account = session.current_account()

st.title("Sign in")
notice = st.session_state.get(session.SESSION_NOTICE)
if notice and account is None:
    st.info(notice)

if account is not None:
    st.success(f"You are signed in as {account.name} ({account.role}: {auth.ROLE_WORDS[account.role]}).")
    st.caption(f"You will be signed out after {cfg.settings.idle_minutes} minutes without activity, "
               "or when you close or reload this tab.")
    if st.button("Sign out", key="sign_in_page_sign_out", icon=":material/logout:"):
        session.sign_out("You have signed out.")
        st.rerun()
    st.stop()

viewing = ("Viewing this dashboard needs an account." if cfg.settings.viewing_requires_sign_in else
           "Anyone may view this dashboard; an account is needed to upload figures or to manage it.")
st.caption(viewing)

if session.oidc_configured():
    if st.button("Sign in with your organisation account", icon=":material/badge:"):
        st.login()
    identity = session.oidc_identity()
    if identity:
        st.warning(f"Your organisation account {identity} has no account on this dashboard. "
                   "Ask an administrator to add one.")
    st.caption("Or sign in with a dashboard name and password:")

with st.form("sign_in", enter_to_submit=True):
    name = st.text_input("Name", autocomplete="username", max_chars=64)
    password = st.text_input("Password", type="password", autocomplete="current-password",
                             max_chars=auth.MAX_PASSWORD)
    submitted = st.form_submit_button("Sign in", type="primary")

if submitted:
    signed_in = auth.sign_in(conn, name, password, settings=cfg.settings)
    if signed_in is None:
        st.error(auth.SIGN_IN_FAILED)
    else:
        session.start_session(signed_in)
        st.rerun()

st.caption("Accounts are made by an administrator. Forgotten your password? Ask an administrator to set a new one.")
