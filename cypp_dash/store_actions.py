"""The actions table: each plan action's versions (an upload supersedes, never overwrites, what it
changes), read now or as at a date, and an upload of actions saved as one batch that `store.rollback`
undoes like an upload of figures. The tracker's rules are cypp_dash/actions.py's; here is only the SQL."""
from __future__ import annotations

from datetime import date, datetime

import duckdb
import pandas as pd

from cypp_dash.store_engine import as_at_clause, log_event, read_frame

HELD_COLUMNS = ["action_id", "task", "lead", "start_date", "due_date", "status", "serves", "comments"]


def actions_in_force(conn: duckdb.DuckDBPyConnection, plan_id: str,
                     as_at: date | datetime | None = None) -> pd.DataFrame:
    """The plan's actions as they stand now (or stood at the end of `as_at`), soonest due first."""
    clause, params = as_at_clause(as_at, alias="")
    return read_frame(conn, f"""SELECT action_id, task, lead, start_date, due_date, status, serves, comments,
                                       batch_id, loaded_at
                                FROM actions WHERE plan_id = ? AND {clause}
                                ORDER BY due_date NULLS LAST, action_id""",  # noqa: S608 (constant clause)
                      [plan_id, *params])


def action_versions(conn: duckdb.DuckDBPyConnection, plan_id: str) -> pd.DataFrame:
    """Every version of every action of the plan, with who loaded it and when it was replaced."""
    return read_frame(conn, """
        SELECT a.action_id, a.task, a.lead, a.start_date, a.due_date, a.status, a.serves, a.comments,
               coalesce(b.user_name, 'the plan (config)') AS loaded_by, a.loaded_at, a.batch_id,
               a.superseded_at, a.superseded_by
        FROM actions a LEFT JOIN batches b USING (batch_id)
        WHERE a.plan_id = ?
        ORDER BY a.action_id, a.loaded_at""", [plan_id])


def current_actions(cur: duckdb.DuckDBPyConnection, plan_id: str) -> list[tuple]:
    """The plan's actions in force, as rows in HELD_COLUMNS order (inside a write transaction)."""
    return cur.execute("""SELECT action_id, task, lead, start_date, due_date, status, serves, comments
                          FROM actions WHERE plan_id = ? AND superseded_at IS NULL""", [plan_id]).fetchall()


def action_ids_used(cur: duckdb.DuckDBPyConnection, plan_id: str) -> set[str]:
    """Every action id the plan has ever held (upper case), so a new action never reuses one."""
    return {str(r[0]).upper() for r in cur.execute("SELECT DISTINCT action_id FROM actions WHERE plan_id = ?",
                                                   [plan_id]).fetchall()}


def next_batch_id(cur: duckdb.DuckDBPyConnection) -> int:
    return cur.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM batches").fetchone()[0]


def supersede_action(cur: duckdb.DuckDBPyConnection, plan_id: str, action_id: str, at: datetime,
                     batch_id: int) -> None:
    cur.execute("UPDATE actions SET superseded_at = ?, superseded_by = ? WHERE plan_id = ? "
                "AND action_id = ? AND superseded_at IS NULL", [at, batch_id, plan_id, action_id])


def save_actions_batch(cur: duckdb.DuckDBPyConnection, plan_id: str, batch_id: int, *, user: str, file_name: str,
                       sha256: str, at: datetime, counts: tuple[int, int, int], writes: list[tuple]) -> None:
    """Record the upload as a batch, write each new or changed action (`writes`: (action id, row with
    task, lead, start, due, status, serves, comments)) and log it, inside the caller's transaction."""
    added, revised, unchanged = counts
    cur.execute("INSERT INTO batches VALUES (?, 'actions', ?, ?, ?, ?, ?, ?, ?, 'loaded', NULL, NULL, ?, '', FALSE)",
                [batch_id, user, file_name, sha256, at, added, revised, unchanged, f"action tracker of {plan_id}"])
    for action_id, a in writes:
        cur.execute("INSERT INTO actions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                    [plan_id, action_id, a.task, a.lead, a.start, a.due, a.status, a.serves, a.comments,
                     batch_id, at])
    log_event(cur, at, user, "actions upload", f"batch {batch_id}: {file_name} for {plan_id} ({added} added, "
                                               f"{revised} revised, {unchanged} unchanged)")
