"""The action tracker: each plan action rated by its due date and status, the current actions and
their history in the store, and editors' uploads of a CSV of actions (checked row by row, loaded
as one batch that supersedes, never overwrites, what it changes)."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace

import duckdb
import pandas as pd

from cypp_dash import auth, export, store, store_actions
from cypp_dash.config import ACTION_STATUSES, Plan, Settings
from cypp_dash.ingest.checked import Problem, Validated
from cypp_dash.ingest.read import data_rows, header_columns, read_records
from cypp_dash.status import RAG_SYMBOLS, RAG_WORDS

COLUMNS = ("id", "task", "lead", "start", "due", "status", "serves", "comments")
REQUIRED = ("task", "lead", "status")
# Other ways people write a status in a spreadsheet -> the tracker's word.
STATUS_WORDS = {s: s for s in ACTION_STATUSES} | {
    "completed": "complete", "done": "complete", "finished": "complete",
    "in-progress": "in progress", "ongoing": "in progress", "underway": "in progress", "under way": "in progress",
    "not yet started": "not started", "not-started": "not started", "to do": "not started",
    "on-hold": "on hold", "paused": "on hold", "canceled": "cancelled", "dropped": "cancelled",
}
MAX_TEXT = {"id": 40, "task": 500, "lead": 200, "serves": 200, "comments": 2000}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_UK_DATE = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")
FRAME_COLUMNS = ["action_id", "task", "lead", "start_date", "due_date", "status", "serves", "comments", "batch_id",
                 "loaded_at"]


# --- rating -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rating:
    """An action's RAG and the reason, in words a board reads."""

    rag: str
    reason: str

    @property
    def label(self) -> str:
        return f"{RAG_SYMBOLS[self.rag]} {RAG_WORDS[self.rag]}"


def _day(value) -> date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # NaT is a datetime too
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _when(days: int) -> str:
    if days == 0:
        return "today"
    if days > 0:
        return f"in {days:,} day{'s' if days != 1 else ''}"
    return f"{-days:,} day{'s' if days != -1 else ''} ago"


def rate(status: str, start, due, today: date, settings: Settings) -> Rating:
    """Rate one action. Complete is green; cancelled is not rated; past its due date and not
    complete is red (the reason says how late); due within `action_due_soon_days` and not
    started, past its start date and not started, or on hold, is amber; otherwise green."""
    start, due = _day(start), _day(due)
    soon = settings.action_due_soon_days
    if status == "complete":
        return Rating("green", "Complete.")
    if status == "cancelled":
        return Rating("not rated", "Not rated: cancelled, so no longer tracked.")
    if due is None:
        if status == "on hold":
            return Rating("amber", "On hold, with no due date set.")
        return Rating("not rated", f"Not rated: no due date set ({status}).")
    days = (due - today).days
    due_text = f"{due:%d %B %Y}"
    if days < 0:
        return Rating("red", f"Overdue: was due {due_text}, {_when(days)}, and is {status}, not complete.")
    if status == "on hold":
        return Rating("amber", f"On hold; due {due_text} ({_when(days)}).")
    if status == "not started":
        if days <= soon:
            return Rating("amber", f"Due {due_text} ({_when(days)}) and not started: within the {soon}-day warning.")
        if start is not None and start < today:
            return Rating("amber", f"Should have started on {start:%d %B %Y} but has not started; due {due_text} "
                                   f"({_when(days)}).")
        if start is not None and start >= today:
            return Rating("green", f"Not due to start until {start:%d %B %Y}; due {due_text} ({_when(days)}).")
        return Rating("green", f"Not started; due {due_text} ({_when(days)}), more than {soon} days away.")
    return Rating("green", f"In progress; due {due_text} ({_when(days)}).")


def rated(frame: pd.DataFrame, today: date, settings: Settings) -> pd.DataFrame:
    """Current actions with their rating (rag, rag_label, reason), worst first, then by due date."""
    out = frame.copy()
    ratings = [rate(s, st, du, today, settings) for s, st, du in
               zip(out["status"], out["start_date"], out["due_date"])]
    out["rag"] = [r.rag for r in ratings]
    out["rag_label"] = [r.label for r in ratings]
    out["reason"] = [r.reason for r in ratings]
    order = {"red": 0, "amber": 1, "green": 2, "not rated": 3}
    out["_order"] = out["rag"].map(order)
    out["_due"] = pd.to_datetime(out["due_date"])
    return out.sort_values(["_order", "_due", "action_id"], na_position="last").drop(columns=["_order", "_due"]) \
        .reset_index(drop=True)


def counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many rated actions of each RAG."""
    return {r: int((frame["rag"] == r).sum()) if "rag" in frame else 0 for r in ("green", "amber", "red", "not rated")}


# --- reading the store -----------------------------------------------------------------------------

def current(conn: duckdb.DuckDBPyConnection, plan_id: str, as_at: date | datetime | None = None) -> pd.DataFrame:
    """The plan's actions as they stand now (or stood at the end of `as_at`)."""
    df = store_actions.actions_in_force(conn, plan_id, as_at)
    return df if not df.empty else pd.DataFrame(columns=FRAME_COLUMNS)


def history(conn: duckdb.DuckDBPyConnection, plan_id: str) -> pd.DataFrame:
    """Every version of every action of the plan, with who loaded it and when it was replaced."""
    return store_actions.action_versions(conn, plan_id)


# --- an upload of actions ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ActionRow:
    """One action as uploaded (id may be empty: a new action, numbered when saved)."""

    id: str
    task: str
    lead: str
    start: date | None
    due: date | None
    status: str
    serves: str
    comments: str
    row: int


def parse_date(text: str) -> date | None:
    """2011-03-31 or 31/03/2011 (how Excel writes a UK date) -> a date; raise ValueError otherwise."""
    text = text.strip()
    if m := _UK_DATE.match(text):
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    if re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", text):
        return date.fromisoformat(text)
    raise ValueError(text)


def validate_csv(data: bytes, file_name: str, max_bytes: int = 50 * 1024 * 1024) -> Validated:
    """Check a CSV of actions. Columns (any case, any order): task, lead, status required; id,
    start, due, serves, comments optional. Every problem names its row (header = 1) and column."""
    out = Validated(kind="actions", file_name=file_name, sha256=hashlib.sha256(data).hexdigest())
    problems = out.problems
    records = read_records(data, out, max_bytes)
    if records is None:
        return out
    columns = header_columns(records[0], COLUMNS, REQUIRED,
                             "task, lead and status (and may have id, start, due, serves, comments)", out)
    if problems:
        return out
    if len(records) == 1:
        problems.append(Problem(1, None, "the file has a header row but no actions"))
        return out
    first_row: dict[str, int] = {}
    for number, cells in data_rows(records, out):

        def cell(name: str, cells=cells) -> str:
            i = columns.get(name)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        # A leading ' is how our own download neutralises a formula-like cell: take it off again.
        values = {name: re.sub(r"^'(?=[=+\-@])", "", cell(name)) for name in COLUMNS}
        row = _checked_row(number, values, first_row, problems)
        if row is not None:
            out.rows.append(row)
    if not problems and not out.rows:
        problems.append(Problem(None, None, "the file has no actions"))
    if problems:
        out.rows = []
    problems.sort(key=lambda p: (p.row is not None, p.row or 0, p.column or ""))
    return out


def _checked_row(number: int, values: dict[str, str], first_row: dict[str, int],
                 problems: list[Problem]) -> ActionRow | None:
    """One row's action, or None with a problem added for each bad cell (task, lead, text lengths, status, dates,
    id; `first_row` remembers the row each id was first on)."""
    bad = False
    for name in ("task", "lead"):
        if not values[name]:
            problems.append(Problem(number, name, f"no {name} given"))
            bad = True
    for name, limit in MAX_TEXT.items():
        if len(values[name]) > limit:
            problems.append(Problem(number, name, f"is {len(values[name]):,} characters; at most {limit:,}"))
            bad = True
    status = STATUS_WORDS.get(re.sub(r"\s+", " ", values["status"].lower()))
    if status is None:
        shown = values["status"][:40]
        problems.append(Problem(number, "status", ("no status given" if not shown else f'"{shown}" is not a status')
                                + " (use " + ", ".join(ACTION_STATUSES) + ")"))
        bad = True
    days: dict[str, date | None] = {}
    for name in ("start", "due"):
        try:
            days[name] = parse_date(values[name]) if values[name] else None
        except ValueError:
            problems.append(Problem(number, name, f'"{values[name][:40]}" is not a date (write it like '
                                                  '2011-03-31 or 31/03/2011)'))
            bad = True
            days[name] = None
    if days["start"] and days["due"] and days["start"] > days["due"]:
        problems.append(Problem(number, "due", f"{days['due']} is before the start, {days['start']}"))
        bad = True
    action_id = values["id"]
    if action_id and not _ID.match(action_id):
        problems.append(Problem(number, "id", f'"{action_id[:40]}" must be letters, digits, "-", "_" or "." only'))
        bad = True
    elif action_id:
        if action_id.upper() in first_row:
            problems.append(Problem(number, "id", f'"{action_id}" is already on row {first_row[action_id.upper()]}'))
            bad = True
        first_row.setdefault(action_id.upper(), number)
    if bad:
        return None
    return ActionRow(action_id, values["task"], values["lead"], days["start"], days["due"], status, values["serves"],
                     values["comments"], number)


@dataclass(frozen=True)
class SaveResult:
    batch_id: int
    added: int
    revised: int
    unchanged: int


def preview(conn: duckdb.DuckDBPyConnection, plan_id: str, upload: Validated) -> pd.DataFrame:
    """What saving would do, row by row, without writing: change is added / revised / unchanged."""
    now = current(conn, plan_id)
    held = {str(r.action_id).upper(): r for r in now.itertuples()}
    rows = []
    for a in upload.rows:
        old = held.get(a.id.upper()) if a.id else None
        change = "added" if old is None else ("unchanged" if _same(old, a) else "revised")
        rows.append({"row": a.row, "change": change, "id": a.id or "(new)", "task": a.task, "lead": a.lead,
                     "start": a.start, "due": a.due, "status": a.status, "serves": a.serves,
                     "comments": a.comments})
    return pd.DataFrame(rows)


def _same(old, a: ActionRow) -> bool:
    def text(v) -> str:
        return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)

    return (text(old.task), text(old.lead), _day(old.start_date), _day(old.due_date), text(old.status),
            text(old.serves), text(old.comments)) == (a.task, a.lead, a.start, a.due, a.status, a.serves, a.comments)


def save(conn: duckdb.DuckDBPyConnection, account, plan: Plan, upload: Validated) -> SaveResult:
    """Load a checked file of actions as one batch, for a signed-in editor or admin only (checked
    against the store's accounts now). Changed actions are superseded, never overwritten."""
    user = auth.authorise(conn, account, "editor", "change the action tracker").name
    if not upload.ok:
        raise ValueError("this file did not pass the checks, so nothing can be loaded from it")
    with store.write_transaction(conn) as cur:
        now_held = {str(r[0]).upper(): r for r in store_actions.current_actions(cur, plan.id)}
        taken = store_actions.action_ids_used(cur, plan.id)
        batch_id = store_actions.next_batch_id(cur)
        at = store.now()
        added = revised = unchanged = 0
        writes: list[tuple[str, ActionRow]] = []
        for a in upload.rows:
            old = now_held.get(a.id.upper()) if a.id else None
            if old is None:
                action_id = a.id or _next_id(taken)
                taken.add(action_id.upper())
                added += 1
                writes.append((action_id, a))
                continue
            old_row = SimpleNamespace(**dict(zip(store_actions.HELD_COLUMNS, old)))
            if _same(old_row, a):
                unchanged += 1
                continue
            revised += 1
            store_actions.supersede_action(cur, plan.id, old[0], at, batch_id)
            writes.append((old[0], a))
        store_actions.save_actions_batch(cur, plan.id, batch_id, user=user, file_name=upload.file_name,
                                         sha256=upload.sha256, at=at, counts=(added, revised, unchanged),
                                         writes=writes)
    return SaveResult(batch_id, added, revised, unchanged)


def _next_id(taken: set[str]) -> str:
    n = 1
    while f"A-{n:03d}" in taken:
        n += 1
    return f"A-{n:03d}"


# --- the file an editor downloads, edits and uploads back ------------------------------------------

def _cell_text(value) -> str:
    """Text for a spreadsheet cell, neutralised like every export (a leading = + - @ is not a formula)."""
    return export.neutralise("" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value))


def to_csv(frame: pd.DataFrame) -> bytes:
    """The current actions in the upload's own columns (dates ISO), safe to open in Excel."""
    out = pd.DataFrame({
        "id": frame["action_id"], "task": frame["task"], "lead": frame["lead"],
        "start": [d.isoformat() if (d := _day(v)) else "" for v in frame["start_date"]],
        "due": [d.isoformat() if (d := _day(v)) else "" for v in frame["due_date"]],
        "status": frame["status"], "serves": frame["serves"], "comments": frame["comments"],
    }, columns=list(COLUMNS))
    for col in ("id", "task", "lead", "status", "serves", "comments"):
        out[col] = out[col].map(_cell_text)
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


TEMPLATE_HEADER = ",".join(COLUMNS)
