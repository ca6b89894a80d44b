"""The Streamlit pieces for commentary, sign-off and release: the narrative at the top of a partnership,
each KPI's approved commentary (and, for editors and leads, its draft and the forms to write, approve or
return it), the "not yet signed off" marks, the Overview's mark for new commentary, and the public view's
cached reads. Every value from the store is escaped here; every write goes through cypp_dash.commentary
or cypp_dash.release, which check the role in the store as they act."""
from __future__ import annotations

from datetime import date

import streamlit as st

from cypp_dash import auth, commentary, narrative, release, status, store
from cypp_dash.web.render import render
from cypp_dash.web.resources import _config, _connection
from cypp_dash.web.styles import inject
from cypp_dash.web.view import View

NOTICE = "cypp_commentary_notice"


def styles() -> None:
    """The commentary boxes' look (cypp_dash/web/styles/commentary.css)."""
    inject("commentary")


def show_notice() -> None:
    """The result of the last write on this page (kept across the rerun that follows it)."""
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        kind, text = notice
        (st.success if kind == "ok" else st.error)(text)


# --- cached reads (keyed on the store's version, like cache.cached_plan_status) -----------------------

@st.cache_data(show_spinner=False, max_entries=128)
def cached_public(version: int, plan_id: str, area: str, as_at: date | None,
                  partnership_id: str | None = None) -> tuple[release.Release | None, list[status.KpiStatus]]:
    cfg = _config()
    conn = _connection(str(store.db_path())).cursor()
    try:
        return release.public_statuses(conn, cfg, cfg.plan(plan_id), area, as_at, partnership_id)
    finally:
        conn.close()


def approved_for(view: View, as_at=None) -> dict[tuple[str, str], commentary.Commentary]:
    """The approved commentary for the view's plan and area (as at the view's date, or `as_at`)."""
    return commentary.approved(view.conn, view.plan.id, view.area, as_at if as_at is not None else view.as_at)


# --- the narrative and the sign-off marks --------------------------------------------------------------

def narrative_block(statuses: list[status.KpiStatus]) -> None:
    """The paragraph written from the figures, labelled as such."""
    words = narrative.paragraph(statuses)
    if words:
        st.html(render("narrative.html", label=narrative.LABEL, note=narrative.LABEL_NOTE, words=words))


def release_marks(view: View, statuses: list[status.KpiStatus], partnership_id: str) -> dict[str, str]:
    """Mark figures the public view does not show yet ("not yet signed off"), with one notice saying
    which period is signed off; returns KPI code -> mark."""
    shown, public = cached_public(view.version, view.plan.id, view.area, view.as_at, partnership_id)
    marks = release.marks(statuses, public, shown)
    if marks:
        codes = ", ".join(marks)
        latest = (f"The latest period signed off for publication is {shown.words}." if shown is not None
                  else "No period of this plan has been signed off for publication yet.")
        st.warning(f"**Not yet signed off:** {codes}. These figures are for the board; the public view shows "
                   f"them once a lead signs the quarter off. {latest}", icon=":material/pending:")
    return marks


# --- commentary under each KPI -------------------------------------------------------------------------

def box(c: commentary.Commentary, heading: str, draft: bool = False, public: bool = False) -> str:
    """One commentary as an escaped HTML block: heading, text as typed, byline (dates only in public)."""
    reason = c.decision_reason if c.state == commentary.RETURNED and c.decision_reason else ""
    return str(render("commentary.html", heading=heading, draft=draft, body=c.body,
                      byline=c.public_byline if public else c.byline, reason=reason))


def kpi_commentary(view: View, s: status.KpiStatus, approved: dict, waiting: dict | None,
                   account: auth.Account | None, mark: str | None = None) -> None:
    """Under a KPI: its sign-off mark, the approved commentary on the period shown, and for editors and
    leads (not in paper view or an as-at view) the draft and the forms."""
    # Paper view says the sign-off state once, in the notice above the summary, and says nothing where there is
    # no commentary, so that a board paper prints short.
    if mark and not view.paper:
        st.html(render("mark.html", mark=mark.capitalize(), words=""))
    if s.period is None:
        return
    c = approved.get((s.code, s.period))
    if c is not None:
        st.html(box(c, f"Officer commentary on {s.period}"))
    elif not view.paper and not auth.has_role(account, "editor"):
        st.html(render("paragraph.html", text=f"No approved commentary on {s.period}.", css="cypp-small"))
    if waiting is None or view.paper or view.as_at is not None:
        return
    draft = waiting.get((s.code, view.area, s.period))
    if draft is not None:
        heading = ("Draft waiting for a lead's approval" if draft.state == commentary.DRAFT
                   else "Draft returned to its author")
        st.html(box(draft, f"{heading} (seen only by editors and leads)", draft=True))
    limit = view.config.settings.commentary_max_chars
    with st.form(f"commentary-{s.code}", border=False):
        text = st.text_area(f"Commentary on {s.code} for {s.period}", value=(draft or c).body if (draft or c) else "",
                            max_chars=limit, height=120, key=f"w_commentary_{s.code}")
        st.caption(f"Plain text, at most {limit:,} characters: what happened, why, what is being done and by "
                   "when. It is saved as a draft; the board reads it once a lead approves it.")
        if st.form_submit_button("Save draft", icon=":material/edit_note:"):
            act(lambda: commentary.write_draft(view.conn, account, view.config, s.code, view.area, s.period, text),
                 lambda r: f"Draft saved for {s.code} ({s.period})." if r is not None
                 else f"Nothing changed for {s.code}: that text is already saved.")
    if draft is not None and draft.state == commentary.DRAFT and auth.has_role(account, "lead"):
        decide_form(view, account, draft)


def decide_form(view: View, account: auth.Account | None, draft: commentary.Commentary) -> None:
    """A lead's approve or return (with a reason) for one draft."""
    with st.form(f"decide-{draft.comment_id}", border=False):
        reason = st.text_input(f"Reason, if returning draft {draft.comment_id} ({draft.kpi_code}, {draft.period})",
                               max_chars=commentary.MAX_REASON, key=f"w_reason_{draft.comment_id}")
        with st.container(horizontal=True, gap="small"):
            approve = st.form_submit_button("Approve", type="primary", icon=":material/task_alt:")
            give_back = st.form_submit_button("Return to author", icon=":material/undo:")
    if approve:
        act(lambda: commentary.approve(view.conn, account, draft.comment_id),
             lambda r: f"Approved the commentary on {draft.kpi_code} ({draft.period}): the board now reads it.")
    elif give_back:
        act(lambda: commentary.return_draft(view.conn, account, draft.comment_id, reason),
             lambda r: f"Returned the draft on {draft.kpi_code} ({draft.period}) to {draft.written_by}.")


def act(write, message) -> None:
    """Run a guarded write; keep its outcome for the rerun that shows the new state."""
    try:
        result = write()
    except (auth.PermissionDenied, commentary.CommentaryError, release.ReleaseError) as e:
        st.session_state[NOTICE] = ("error", str(e))
    else:
        st.session_state[NOTICE] = ("ok", message(result))
    st.rerun()


def waiting_for(view: View, account: auth.Account | None) -> dict | None:
    """Drafts for the view's plan and area when the reader may see them (editors and leads), else None."""
    if not auth.has_role(account, "editor"):
        return None
    try:
        return commentary.pending(view.conn, account, view.plan.id, view.area)
    except auth.PermissionDenied:
        return None


# --- the Overview's mark ------------------------------------------------------------------------------

def new_commentary_line(view: View, statuses: list[status.KpiStatus]) -> None:
    """One line under a partnership naming its KPIs with commentary approved in the last few days."""
    days = view.config.settings.commentary_new_days
    fresh = commentary.new_approvals(view.conn, view.plan.id, view.area, days, view.as_at)
    codes = [s.code for s in statuses if (s.code, s.period) in fresh]
    if codes:
        st.html(render("mark.html", mark="New commentary", words=f"approved in the last {days} days on "
                                                                 f"{', '.join(codes)}: read it on the Partnerships page."))
