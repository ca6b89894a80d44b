"""The accounts table: who may sign in, with which role, their password hash and their sign-in state
(failures in a row, a lock in force). The rules (roles, hashing, when to lock) are cypp_dash/auth.py's;
here is only the SQL. Functions taking `cur` write inside the caller's write transaction, so a
sign-in's read of the lock and its write of the outcome are one atomic step on either engine."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from cypp_dash.store_engine import log_event, read_frame


@dataclass(frozen=True)
class HeldAccount:
    """One account's row as the store holds it."""

    name: str
    role: str
    password_hash: str | None
    failed_count: int
    locked_until: datetime | None


def held_account(cur: duckdb.DuckDBPyConnection, name: str) -> HeldAccount | None:
    """The account of this (normalised) name as it stands in the store, or None."""
    row = cur.execute("SELECT name, role, password_hash, failed_count, locked_until FROM users WHERE name = ?",
                      [name]).fetchone()
    return HeldAccount(row[0], row[1], row[2], row[3] or 0, row[4]) if row else None


def find_account(conn: duckdb.DuckDBPyConnection, name: str) -> HeldAccount | None:
    """`held_account` on a cursor of its own (outside any write)."""
    cur = conn.cursor()
    try:
        return held_account(cur, name)
    finally:
        cur.close()


def save_new_account(cur: duckdb.DuckDBPyConnection, name: str, role: str, password_hash: str, at: datetime,
                     actor: str) -> None:
    cur.execute("INSERT INTO users VALUES (?, ?, ?, ?, 0, NULL, NULL)", [name, role, password_hash, at])
    log_event(cur, at, actor, "account added", f"{name} ({role})")


def delete_account(cur: duckdb.DuckDBPyConnection, name: str, role: str, at: datetime, actor: str) -> None:
    cur.execute("DELETE FROM users WHERE name = ?", [name])
    log_event(cur, at, actor, "account removed", f"{name} ({role})")


def save_password(cur: duckdb.DuckDBPyConnection, name: str, password_hash: str, at: datetime, actor: str) -> None:
    """A new password hash; any lockout is lifted and the count of failures starts again."""
    cur.execute("UPDATE users SET password_hash = ?, failed_count = 0, locked_until = NULL WHERE name = ?",
                [password_hash, name])
    log_event(cur, at, actor, "password set", name)


def accounts(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every account with its role and sign-in state (never the password hash)."""
    return read_frame(conn, "SELECT name, role, created_at, last_sign_in, failed_count, locked_until FROM users "
                            "ORDER BY name", [])


def record_failed_sign_in(cur: duckdb.DuckDBPyConnection, name: str, failures: int,
                          locked_until: datetime | None) -> None:
    """Count one more failure in a row; with `locked_until`, lock the account and start a fresh count."""
    if locked_until is not None:
        cur.execute("UPDATE users SET failed_count = 0, locked_until = ? WHERE name = ?", [locked_until, name])
    else:
        cur.execute("UPDATE users SET failed_count = ? WHERE name = ?", [failures, name])


def record_sign_in(cur: duckdb.DuckDBPyConnection, name: str, role: str, password_hash: str, at: datetime) -> None:
    """A successful sign-in: failures cleared, any past lock lifted, the (perhaps re-hashed) password kept."""
    cur.execute("UPDATE users SET failed_count = 0, locked_until = NULL, last_sign_in = ?, "
                "password_hash = ? WHERE name = ?", [at, password_hash, name])
    log_event(cur, at, name, "sign-in", role)


def log_failed_sign_in(cur: duckdb.DuckDBPyConnection, at: datetime, name: str, detail: str) -> None:
    log_event(cur, at, name, "sign-in failed", detail)
