"""The releases table: each quarter a lead signed off for public release, and its withdrawal (dated,
never deleted). The release rules are cypp_dash/release.py's; here is only the SQL. Functions taking
`cur` write inside the caller's write transaction."""
from __future__ import annotations

from datetime import date, datetime

import duckdb

from cypp_dash.store_engine import read_rows

FIELDS = ["release_id", "plan_id", "period", "period_end", "released_by", "released_at", "withdrawn_by",
          "withdrawn_at", "withdrawal_reason"]
_SELECT = f"SELECT {', '.join(FIELDS)} FROM releases"  # noqa: S608 (constant column names)


def release_rows(conn: duckdb.DuckDBPyConnection, plan_id: str, at: datetime | None = None,
                 include_withdrawn: bool = False) -> list[tuple]:
    """The plan's releases in force now (or at the moment `at`), latest period first, in FIELDS order;
    with `include_withdrawn`, every release ever made."""
    if include_withdrawn:
        where, params = "plan_id = ?", [plan_id]
    elif at is None:
        where, params = "plan_id = ? AND withdrawn_at IS NULL", [plan_id]
    else:
        where, params = ("plan_id = ? AND released_at <= ? AND (withdrawn_at IS NULL OR withdrawn_at > ?)",
                         [plan_id, at, at])
    return read_rows(conn, f"{_SELECT} WHERE {where} "  # noqa: S608 (constant SQL)
                     "ORDER BY period_end DESC, released_at DESC", params)


def release_in_force(cur: duckdb.DuckDBPyConnection, plan_id: str, period: str) -> tuple | None:
    """The period's release not withdrawn (inside a write transaction), or None."""
    return cur.execute(f"{_SELECT} WHERE plan_id = ? AND period = ? AND withdrawn_at IS NULL",  # noqa: S608 (constant SQL)
                       [plan_id, period]).fetchone()


def save_release(cur: duckdb.DuckDBPyConnection, plan_id: str, period: str, period_end: date, lead: str,
                 at: datetime) -> int:
    """Record a sign-off; its number."""
    release_id = cur.execute("SELECT coalesce(max(release_id), 0) + 1 FROM releases").fetchone()[0]
    cur.execute("INSERT INTO releases VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
                [release_id, plan_id, period, period_end, lead, at])
    return release_id


def save_withdrawal(cur: duckdb.DuckDBPyConnection, release_id: int, lead: str, at: datetime, reason: str) -> None:
    cur.execute("UPDATE releases SET withdrawn_by = ?, withdrawn_at = ?, withdrawal_reason = ? WHERE release_id = ?",
                [lead, at, reason, release_id])
