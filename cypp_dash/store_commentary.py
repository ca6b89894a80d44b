"""The commentary table: every version of the officer commentary on a KPI for an area and period, with
its state (draft, returned, approved, replaced) and who wrote and decided it when. The sign-off rules
are cypp_dash/commentary.py's; here is only the SQL. Functions taking `cur` write inside the caller's
write transaction."""
from __future__ import annotations

from datetime import datetime

import duckdb

from cypp_dash.store_engine import read_rows

FIELDS = ["comment_id", "plan_id", "kpi_code", "area_code", "period", "body", "state", "written_by", "written_at",
          "decided_by", "decided_at", "decision_reason", "superseded_at", "source"]
_SELECT = f"SELECT {', '.join(FIELDS)} FROM commentary"  # noqa: S608 (constant column names)


def _rows(conn: duckdb.DuckDBPyConnection, where: str, params: list) -> list[tuple]:
    return read_rows(conn, f"{_SELECT} WHERE {where} "  # noqa: S608 (constant SQL)
                     "ORDER BY kpi_code, area_code, period, written_at, comment_id", params)


def approved_rows(conn: duckdb.DuckDBPyConnection, plan_id: str, area_code: str,
                  at: datetime | None = None) -> list[tuple]:
    """Approved versions in force now (or at the moment `at`) for a plan and area, in FIELDS order."""
    if at is None:
        return _rows(conn, "plan_id = ? AND area_code = ? AND state = 'approved' AND superseded_at IS NULL",
                     [plan_id, area_code])
    return _rows(conn, "plan_id = ? AND area_code = ? AND state = 'approved' AND decided_at <= ? "
                       "AND (superseded_at IS NULL OR superseded_at > ?)", [plan_id, area_code, at, at])


def waiting_rows(conn: duckdb.DuckDBPyConnection, plan_id: str, area_code: str | None = None) -> list[tuple]:
    """Drafts and returned drafts not yet replaced, for a plan (and an area)."""
    where, params = "plan_id = ? AND state IN ('draft', 'returned') AND superseded_at IS NULL", [plan_id]
    if area_code is not None:
        where, params = where + " AND area_code = ?", [*params, area_code]
    return _rows(conn, where, params)


def versions_of(conn: duckdb.DuckDBPyConnection, plan_id: str, kpi_code: str, area_code: str,
                period: str) -> list[tuple]:
    """Every version of one commentary."""
    return _rows(conn, "plan_id = ? AND kpi_code = ? AND area_code = ? AND period = ?",
                 [plan_id, kpi_code, area_code, period])


def plan_rows(conn: duckdb.DuckDBPyConnection, plan_id: str) -> list[tuple]:
    """Every version of every commentary of a plan."""
    return _rows(conn, "plan_id = ?", [plan_id])


def in_force_or_waiting_rows(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    """The approved commentary in force and the drafts waiting, for every plan."""
    return _rows(conn, "superseded_at IS NULL AND state IN ('draft', 'returned', 'approved')", [])


def live_versions(cur: duckdb.DuckDBPyConnection, plan_id: str, kpi_code: str, area_code: str,
                  period: str) -> list[tuple]:
    """The versions of one commentary not yet superseded or replaced (the one in force, the one waiting)."""
    return cur.execute(f"{_SELECT} WHERE plan_id = ? AND kpi_code = ? AND area_code = ? AND period = ? "  # noqa: S608 (constant SQL)
                       "AND superseded_at IS NULL AND state <> 'replaced'",
                       [plan_id, kpi_code, area_code, period]).fetchall()


def commentary_by_id(cur: duckdb.DuckDBPyConnection, comment_id: int) -> tuple | None:
    return cur.execute(f"{_SELECT} WHERE comment_id = ?", [int(comment_id)]).fetchone()  # noqa: S608 (constant SQL)


def mark_replaced(cur: duckdb.DuckDBPyConnection, comment_id: int, at: datetime) -> None:
    cur.execute("UPDATE commentary SET state = 'replaced', superseded_at = ? WHERE comment_id = ?", [at, comment_id])


def save_draft(cur: duckdb.DuckDBPyConnection, plan_id: str, kpi_code: str, area_code: str, period: str, body: str,
               user: str, at: datetime, source: str) -> int:
    """Write a new draft; its number."""
    comment_id = cur.execute("SELECT coalesce(max(comment_id), 0) + 1 FROM commentary").fetchone()[0]
    cur.execute("INSERT INTO commentary VALUES (?, ?, ?, ?, ?, ?, 'draft', ?, ?, NULL, NULL, NULL, NULL, ?)",
                [comment_id, plan_id, kpi_code, area_code, period, body, user, at, source])
    return comment_id


def save_approval(cur: duckdb.DuckDBPyConnection, comment_id: int, plan_id: str, kpi_code: str, area_code: str,
                  period: str, lead: str, at: datetime) -> None:
    """The draft becomes the approved commentary in force; the one approved before it stops being in force."""
    cur.execute("UPDATE commentary SET superseded_at = ? WHERE plan_id = ? AND kpi_code = ? AND area_code = ? "
                "AND period = ? AND state = 'approved' AND superseded_at IS NULL",
                [at, plan_id, kpi_code, area_code, period])
    cur.execute("UPDATE commentary SET state = 'approved', decided_by = ?, decided_at = ? WHERE comment_id = ?",
                [lead, at, comment_id])


def save_return(cur: duckdb.DuckDBPyConnection, comment_id: int, lead: str, at: datetime, reason: str) -> None:
    cur.execute("UPDATE commentary SET state = 'returned', decided_by = ?, decided_at = ?, decision_reason = ? "
                "WHERE comment_id = ?", [lead, at, reason, comment_id])
