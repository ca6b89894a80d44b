"""Officer commentary per KPI, area and period: an editor writes a draft (on the partnership page or by
CSV upload), a lead approves it or returns it with a reason, and the board reads the approved text with
its author, approver and dates. Every version is kept; a change after approval is a new draft and the
approved text stays in force until the new one is approved. Each write checks the role in the store as
it acts (cypp_dash.auth.authorise) and is written to the audit log.

Sign-off is plan-wide: any account with the `lead` role (a partnership lead or the board's chair; an
admin holds every right) may approve or return any draft, but never their own draft, so that every
approved commentary has been read by a second person.

A CSV of commentary is checked and saved by cypp_dash.commentary_upload, through the same key check
(check_cells) and draft writer (save_draft) as the page."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

from cypp_dash import auth, store, store_commentary
from cypp_dash.config import Config
from cypp_dash.periods import PeriodError, is_future, parse_period

COLUMNS = ("kpi", "area", "period", "commentary")
MAX_REASON = 500
DRAFT, RETURNED, APPROVED, REPLACED = "draft", "returned", "approved", "replaced"
STATE_WORDS = {DRAFT: "draft, waiting for a lead's approval", RETURNED: "returned to the author",
               APPROVED: "approved", REPLACED: "replaced by a later draft"}
# Tab and line breaks are part of plain text; other control characters are not.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class CommentaryError(ValueError):
    """A commentary that cannot be saved or decided; the message says why in plain words."""


@dataclass(frozen=True)
class Commentary:
    """One version of the commentary on a KPI for an area and period."""

    comment_id: int
    plan_id: str
    kpi_code: str
    area_code: str
    period: str
    body: str
    state: str
    written_by: str
    written_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    superseded_at: datetime | None = None
    source: str = ""

    @property
    def byline(self) -> str:
        """Who wrote it and who approved or returned it, with dates, as the board reads it."""
        text = f"Written by {self.written_by} on {self.written_at:%d %B %Y}"
        if self.state == APPROVED and self.decided_at is not None:
            text += f"; approved by {self.decided_by} on {self.decided_at:%d %B %Y}"
        elif self.state == RETURNED and self.decided_at is not None:
            text += f"; returned by {self.decided_by} on {self.decided_at:%d %B %Y}"
        return text + "."

    @property
    def public_byline(self) -> str:
        """The dates without account names (the public view: names may be email addresses)."""
        text = f"Written on {self.written_at:%d %B %Y}"
        if self.state == APPROVED and self.decided_at is not None:
            text += f"; approved on {self.decided_at:%d %B %Y}"
        return text + "."


def _row(values) -> Commentary:
    d = dict(zip(store_commentary.FIELDS, values))
    for key in ("decided_by", "decided_at", "decision_reason", "superseded_at"):
        if d[key] is not None and not isinstance(d[key], str) and pd.isna(d[key]):
            d[key] = None
    d["source"] = d["source"] or ""
    return Commentary(**d)


# --- checking what is written ---------------------------------------------------------------------

def clean_text(text: str | None, max_chars: int) -> str:
    """The commentary as it will be stored (surrounding spaces and Windows line ends tidied), or
    CommentaryError saying what is wrong: empty, longer than `max_chars`, or holding control characters."""
    body = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise CommentaryError("the commentary is empty: write what happened, why, what is being done and by when")
    if len(body) > max_chars:
        raise CommentaryError(f"the commentary is {len(body):,} characters; at most {max_chars:,}")
    if _CONTROL.search(body):
        raise CommentaryError("the commentary holds control characters; write plain text")
    return body


@dataclass(frozen=True)
class Key:
    """What a commentary is about: a KPI of a plan, an area and a period."""

    plan_id: str
    kpi_code: str
    area_code: str
    period: str


def resolve_key(config: Config, kpi: str, area: str, period: str, today: date | None = None) -> Key:
    """The KPI code (any case), area (code, name or alias) and period checked against the plans, or
    CommentaryError naming the first that is wrong."""
    try:
        return check_cells(config, str(kpi or ""), str(area or ""), str(period or ""), today)
    except CellProblems as e:
        raise CommentaryError(str(e)) from None


class CellProblems(Exception):
    """Every bad column of one row (kpi, area, period) at once, as (column, message) pairs."""

    def __init__(self, items: list[tuple[str, str]]):
        super().__init__("; ".join(m for _, m in items))
        self.items = items


def check_cells(config: Config, kpi: str, area: str, period: str, today: date | None) -> Key:
    """The key of one row, or CellProblems naming each bad column (kpi, area, period) at once."""
    items: list[tuple[str, str]] = []
    code = kpi.strip().upper()
    found = next(((p, k) for p in config.plans for k in p.kpis if k.code.upper() == code), None)
    if found is None:
        items.append(("kpi", f'"{kpi.strip()[:40]}" is not a KPI in any plan' if code else "no KPI given"))
    area_code = config.area_lookup().get(re.sub(r"\s+", " ", area).strip().lower())
    if area_code is None:
        items.append(("area", f'"{area.strip()[:40]}" is not a known area' if area.strip() else "no area given"))
    label = None
    try:
        p = parse_period(period)
        if is_future(p, today):
            items.append(("period", f'"{p.label}" is in the future'))
        label = p.label
    except PeriodError as e:
        items.append(("period", str(e) if period.strip() else "no period given"))
    if items:
        raise CellProblems(items)
    return Key(found[0].id, found[1].code, area_code, label)


# --- reading ------------------------------------------------------------------------------------------

def approved(conn: duckdb.DuckDBPyConnection, plan_id: str, area_code: str,
             as_at: date | datetime | None = None) -> dict[tuple[str, str], Commentary]:
    """The approved commentary in force for each (KPI code, period) of a plan and area: now, or as it
    stood at `as_at` (a date means the end of that day). Drafts and returned drafts are never here."""
    at = None if as_at is None else store.end_of(as_at)
    rows = store_commentary.approved_rows(conn, plan_id, area_code, at)
    return {(c.kpi_code, c.period): c for c in map(_row, rows)}


def pending(conn: duckdb.DuckDBPyConnection, account, plan_id: str,
            area_code: str | None = None) -> dict[tuple[str, str, str], Commentary]:
    """Drafts and returned drafts not yet replaced, by (KPI code, area, period): for editors and leads
    only (checked against the store now; anyone else gets PermissionDenied)."""
    auth.authorise(conn, account, "editor", "read draft commentary")
    return {(c.kpi_code, c.area_code, c.period): c
            for c in map(_row, store_commentary.waiting_rows(conn, plan_id, area_code))}


def new_approvals(conn: duckdb.DuckDBPyConnection, plan_id: str, area_code: str, days: int,
                  as_at: date | datetime | None = None) -> set[tuple[str, str]]:
    """(KPI code, period) whose approved commentary in force was approved within `days` of now (or of
    the end of `as_at`): what the Overview marks as new."""
    at = store.end_of(as_at) if as_at is not None else store.now()
    since = at - timedelta(days=days)
    return {k for k, c in approved(conn, plan_id, area_code, as_at).items()
            if c.decided_at is not None and since <= c.decided_at <= at}


def history(conn: duckdb.DuckDBPyConnection, key: Key) -> list[Commentary]:
    """Every version of one commentary, oldest first (for editors and leads: it holds drafts)."""
    return [_row(r) for r in store_commentary.versions_of(conn, key.plan_id, key.kpi_code, key.area_code,
                                                          key.period)]


def versions(conn: duckdb.DuckDBPyConnection, account, plan_id: str) -> list[Commentary]:
    """Every version of every commentary of a plan, drafts and returned ones too (editors and leads only,
    checked in the store now)."""
    auth.authorise(conn, account, "editor", "read the history of commentary")
    return [_row(r) for r in store_commentary.plan_rows(conn, plan_id)]


def current_rows(conn: duckdb.DuckDBPyConnection) -> list[Commentary]:
    """The approved commentary in force and the drafts waiting, for every plan (the command line's list)."""
    return [_row(r) for r in store_commentary.in_force_or_waiting_rows(conn)]


def frame(rows: list[Commentary], area_names: dict[str, str] | None = None) -> pd.DataFrame:
    """Commentary rows as a table in the upload's columns first, then state, author, approver and dates."""
    names = area_names or {}
    out = pd.DataFrame([{
        "kpi": c.kpi_code, "area": c.area_code, "period": c.period, "commentary": c.body, "state": c.state,
        "area_name": names.get(c.area_code, c.area_code), "plan": c.plan_id, "written_by": c.written_by,
        "written_at": c.written_at, "decided_by": c.decided_by or "", "decided_at": c.decided_at,
        "reason": c.decision_reason or "", "comment_id": c.comment_id} for c in rows],
        columns=["kpi", "area", "period", "commentary", "state", "area_name", "plan", "written_by", "written_at",
                 "decided_by", "decided_at", "reason", "comment_id"])
    return out


# --- writing (each step checks the role in the store as it acts, and is audited) ---------------------

def save_draft(cur: duckdb.DuckDBPyConnection, key: Key, body: str, user: str, at: datetime,
                source: str) -> Commentary | None:
    """Write one draft inside a transaction, with no role check (write_draft and the CSV upload check first);
    None when the text is what is already waiting or, with
    nothing waiting, what is already approved (nothing to sign off)."""
    held = [_row(r) for r in store_commentary.live_versions(cur, key.plan_id, key.kpi_code, key.area_code,
                                                            key.period)]
    waiting = next((c for c in held if c.state in (DRAFT, RETURNED)), None)
    in_force = next((c for c in held if c.state == APPROVED), None)
    if waiting is not None and waiting.state == DRAFT and waiting.body == body:
        return None
    if waiting is None and in_force is not None and in_force.body == body:
        return None
    if waiting is not None:
        store_commentary.mark_replaced(cur, waiting.comment_id, at)
    comment_id = store_commentary.save_draft(cur, key.plan_id, key.kpi_code, key.area_code, key.period, body, user,
                                             at, source)
    return Commentary(comment_id, key.plan_id, key.kpi_code, key.area_code, key.period, body, DRAFT, user, at,
                      source=source)


def _subject(key: Key | Commentary) -> str:
    return f"{key.kpi_code} {key.area_code} {key.period}"


def write_draft(conn: duckdb.DuckDBPyConnection, account, config: Config, kpi: str, area: str, period: str,
                text: str) -> Commentary | None:
    """Save an editor's commentary as a draft (editor, lead or admin, checked in the store now). A draft
    waiting for approval is replaced (kept in the history); approved text stays in force until the new
    draft is approved. None when the text is unchanged."""
    account = auth.authorise(conn, account, "editor", "write commentary")
    key = resolve_key(config, kpi, area, period)
    body = clean_text(text, config.settings.commentary_max_chars)
    with store.write_transaction(conn) as cur:
        at = store.now()
        saved = save_draft(cur, key, body, account.name, at, "page")
        if saved is not None:
            store.log_event(cur, at, account.name, "commentary draft",
                            f"{_subject(key)} (#{saved.comment_id}, {len(body):,} characters)")
    return saved


def _waiting(cur: duckdb.DuckDBPyConnection, comment_id: int) -> Commentary:
    row = store_commentary.commentary_by_id(cur, comment_id)
    if row is None:
        raise CommentaryError(f"there is no commentary numbered {comment_id}")
    c = _row(row)
    if c.state != DRAFT or c.superseded_at is not None:
        raise CommentaryError(f"commentary {comment_id} is not a draft waiting for approval (it is "
                              f"{STATE_WORDS.get(c.state, c.state)})")
    return c


def approve(conn: duckdb.DuckDBPyConnection, account, comment_id: int) -> Commentary:
    """A lead approves a draft (not their own): it becomes the approved commentary the board reads, and
    the one approved before it is kept in the history, no longer in force."""
    account = auth.authorise(conn, account, "lead", "approve commentary")
    with store.write_transaction(conn) as cur:
        c = _waiting(cur, comment_id)
        if c.written_by == account.name:
            raise CommentaryError("you wrote this draft, so another lead approves it (sign-off is a second "
                                  "person's reading)")
        at = store.now()
        store_commentary.save_approval(cur, c.comment_id, c.plan_id, c.kpi_code, c.area_code, c.period,
                                       account.name, at)
        store.log_event(cur, at, account.name, "commentary approved",
                        f"{_subject(c)} (#{c.comment_id}, written by {c.written_by})")
    return Commentary(**{**c.__dict__, "state": APPROVED, "decided_by": account.name, "decided_at": at})


def return_draft(conn: duckdb.DuckDBPyConnection, account, comment_id: int, reason: str) -> Commentary:
    """A lead returns a draft to its author with a reason; the approved text (if any) stays in force."""
    account = auth.authorise(conn, account, "lead", "return commentary")
    reason = (reason or "").strip()
    if not reason:
        raise CommentaryError("say why the draft is returned, so its author knows what to change")
    if len(reason) > MAX_REASON or _CONTROL.search(reason):
        raise CommentaryError(f"the reason must be plain text of at most {MAX_REASON} characters")
    with store.write_transaction(conn) as cur:
        c = _waiting(cur, comment_id)
        at = store.now()
        store_commentary.save_return(cur, c.comment_id, account.name, at, reason)
        store.log_event(cur, at, account.name, "commentary returned", f"{_subject(c)} (#{c.comment_id}): {reason}")
    return Commentary(**{**c.__dict__, "state": RETURNED, "decided_by": account.name, "decided_at": at,
                         "decision_reason": reason})
