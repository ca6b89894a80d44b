"""The signed-in web session (Streamlit): who is signed in to this browser tab and with which role,
the idle sign-out, the viewing gate, the sidebar's Sign out button, and an organisation's identity
provider (st.login, OIDC) when secrets.toml configures one. Accounts, passwords and the role checks
themselves are cypp_dash/auth.py."""
from __future__ import annotations

import logging
import time

import streamlit as st
from streamlit.errors import StreamlitAPIException

from cypp_dash import auth, store
from cypp_dash.web.resources import config, connection

log = logging.getLogger(__name__)

# Where this session keeps its sign-in in st.session_state.
SESSION_ACCOUNT = "cypp_account"
SESSION_SEEN = "cypp_last_seen"
SESSION_NOTICE = "cypp_sign_in_notice"


def session_expired(last_seen: float | None, now: float, idle_minutes: int) -> bool:
    """True when more than `idle_minutes` have passed since the session was last used."""
    return last_seen is not None and now - last_seen > idle_minutes * 60


def start_session(account: auth.Account, now: float | None = None) -> None:
    st.session_state[SESSION_ACCOUNT] = account
    st.session_state[SESSION_SEEN] = time.time() if now is None else now
    st.session_state.pop(SESSION_NOTICE, None)


def sign_out(notice: str | None = None) -> None:
    """End the session's sign-in (and the identity provider's cookie, when that is how they came in)."""
    account = st.session_state.pop(SESSION_ACCOUNT, None)
    st.session_state.pop(SESSION_SEEN, None)
    if notice:
        st.session_state[SESSION_NOTICE] = notice
    if account is not None:
        _audit_quietly(account.name, "sign-out", notice or "")
    if oidc_configured() and _oidc_logged_in():
        st.logout()


def _audit_quietly(user: str, action: str, detail: str) -> None:
    try:
        store.audit(connection(), user, action, detail)
    except store.StoreError:
        log.exception("could not record %s for %s", action, user)


def current_account(now: float | None = None) -> auth.Account | None:
    """Who is signed in to this session, with the role the store holds now; None after the idle
    time (the session is then signed out) or when the account has been removed."""
    settings = config().settings
    now = time.time() if now is None else now
    account = st.session_state.get(SESSION_ACCOUNT)
    if account is None:
        account = _oidc_account()
        if account is None:
            return None
        start_session(account, now)
    if session_expired(st.session_state.get(SESSION_SEEN), now, settings.idle_minutes):
        sign_out(f"You were signed out after {settings.idle_minutes} minutes without activity.")
        return None
    held = auth.find_account(connection(), account.name)
    if held is None:
        sign_out("Your account is no longer on the dashboard, so you have been signed out.")
        return None
    st.session_state[SESSION_ACCOUNT] = held
    st.session_state[SESSION_SEEN] = now
    return held


def sidebar_status() -> None:
    """Who is signed in, with a Sign out button; nothing for a visitor (the menu offers Sign in)."""
    account = current_account()
    if account is not None:
        with st.sidebar:
            st.divider()
            st.text(f"Signed in as {account.name} ({account.role})")
            if st.button("Sign out", key="cypp_sign_out", icon=":material/logout:"):
                sign_out("You have signed out.")
                st.rerun()


def gate_viewing(title: str) -> None:
    """Stop the page (headed `title`) with a sign-in prompt when this dashboard's viewing needs sign-in."""
    if not config().settings.viewing_requires_sign_in or current_account() is not None:
        return
    st.title(title)
    notice = st.session_state.get(SESSION_NOTICE)
    if notice:
        st.info(notice)
    st.warning("This dashboard is for signed-in users. Sign in to see it.", icon=":material/lock:")
    sign_in_link()
    st.stop()


SIGN_IN_PAGE = "pages/sign_in.py"


def sign_in_link() -> None:
    """A link to the sign-in page; plain words when the page runs outside the app's navigation
    (a page file under test), where Streamlit cannot make the link."""
    try:
        st.page_link(SIGN_IN_PAGE, label="Sign in", icon=":material/login:")
    except StreamlitAPIException:
        st.caption("Sign in on the Sign in page.")


# --- an organisation's identity provider (st.login, OIDC), when secrets.toml configures one -----

def oidc_configured() -> bool:
    """True when .streamlit/secrets.toml has an [auth] section for st.login."""
    try:
        return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)
    except Exception:  # a broken secrets file means no identity provider, not a crashed page
        return False


def _oidc_logged_in() -> bool:
    try:
        return bool(st.user.is_logged_in)
    except Exception:
        return False


def oidc_identity() -> str | None:
    """The email the identity provider vouched for, when someone signed in that way."""
    if not oidc_configured() or not _oidc_logged_in():
        return None
    email = st.user.get("email") or st.user.get("preferred_username")
    return auth.normalise_name(str(email)) if email else None


def _oidc_account() -> auth.Account | None:
    """The dashboard account named by the identity provider's email: the role still comes from
    the accounts table, and an identity with no account gets nothing."""
    email = oidc_identity()
    if email is None:
        return None
    account = auth.find_account(connection(), email)
    if account is not None and st.session_state.get("cypp_oidc_audited") != email:
        st.session_state["cypp_oidc_audited"] = email
        _audit_quietly(email, "sign-in", f"{account.role}, through the identity provider")
    return account
