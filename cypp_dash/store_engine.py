"""The store's engine room: the schema, one connection per process (a DuckDB file by default, or
PostgreSQL when CYPP_DB=postgresql://...: cypp_dash/pgstore.py holds that back end's connection), the
all-or-nothing write transaction, read snapshots and the audit log. The few SQL differences between the
engines are chosen here (and in the other store modules) by `backend(conn)`, never by callers."""
from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import duckdb
import pandas as pd

from cypp_dash import pgstore
from cypp_dash.config import ROOT

SCHEMA_VERSION = "1"
PROJECT_MARK = "cypp-dashboard"
DEFAULT_DB = ROOT / "data" / "cypp.duckdb"


SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE IF NOT EXISTS areas (code VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, type VARCHAR,
        parent VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS plans (id VARCHAR PRIMARY KEY, name VARCHAR, council VARCHAR, area VARCHAR,
        file VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS partnerships (plan_id VARCHAR, id VARCHAR, name VARCHAR, board VARCHAR,
        reports_to VARCHAR, meets VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS kpis (plan_id VARCHAR, code VARCHAR, partnership_id VARCHAR, name VARCHAR,
        unit VARCHAR, polarity VARCHAR, indicator_id VARCHAR, baseline_value DOUBLE, baseline_period VARCHAR,
        baseline_text VARCHAR, england_value DOUBLE, england_period VARCHAR, england_unit VARCHAR,
        england_text VARCHAR, target_text VARCHAR, source VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS indicators (indicator_id VARCHAR PRIMARY KEY, name VARCHAR, unit VARCHAR,
        source VARCHAR, licence VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS batches (batch_id INTEGER PRIMARY KEY, kind VARCHAR, user_name VARCHAR,
        file_name VARCHAR, sha256 VARCHAR, loaded_at TIMESTAMP, rows_added INTEGER, rows_revised INTEGER,
        rows_unchanged INTEGER, status VARCHAR, rolled_back_at TIMESTAMP, rolled_back_by VARCHAR,
        source VARCHAR, licence VARCHAR, illustrative BOOLEAN)""",
    """CREATE TABLE IF NOT EXISTS observations (obs_id BIGINT, indicator_id VARCHAR, area_code VARCHAR,
        period VARCHAR, period_start DATE, period_end DATE, category VARCHAR, value DOUBLE, numerator DOUBLE,
        denominator DOUBLE, ci_low DOUBLE, ci_high DOUBLE, ci99_low DOUBLE, ci99_high DOUBLE, note VARCHAR,
        flags VARCHAR, compared_with_england VARCHAR, batch_id INTEGER, loaded_at TIMESTAMP,
        superseded_at TIMESTAMP, superseded_by INTEGER)""",
    # Which periods hold a current figure of each indicator: kept by every write of observations, so the
    # sidebar's period list never scans the whole observations table (ten million rows nationally).
    """CREATE TABLE IF NOT EXISTS held_periods (indicator_id VARCHAR, period VARCHAR, period_start DATE,
        period_end DATE, PRIMARY KEY (indicator_id, period))""",
    """CREATE TABLE IF NOT EXISTS users (name VARCHAR PRIMARY KEY, role VARCHAR, password_hash VARCHAR,
        created_at TIMESTAMP, failed_count INTEGER DEFAULT 0, locked_until TIMESTAMP, last_sign_in TIMESTAMP)""",
    "CREATE TABLE IF NOT EXISTS audit (logged_at TIMESTAMP, user_name VARCHAR, action VARCHAR, detail VARCHAR)",
    """CREATE TABLE IF NOT EXISTS actions (plan_id VARCHAR, action_id VARCHAR, task VARCHAR, lead VARCHAR,
        start_date DATE, due_date DATE, status VARCHAR, serves VARCHAR, comments VARCHAR, batch_id INTEGER,
        loaded_at TIMESTAMP, superseded_at TIMESTAMP, superseded_by INTEGER)""",
    # Officer commentary (cypp_dash/commentary.py): every version kept; state draft, returned, approved or
    # replaced; an approved version stays in force until a newer one is approved (superseded_at).
    """CREATE TABLE IF NOT EXISTS commentary (comment_id BIGINT, plan_id VARCHAR, kpi_code VARCHAR,
        area_code VARCHAR, period VARCHAR, body VARCHAR, state VARCHAR, written_by VARCHAR, written_at TIMESTAMP,
        decided_by VARCHAR, decided_at TIMESTAMP, decision_reason VARCHAR, superseded_at TIMESTAMP, source VARCHAR)""",
    # Quarters a lead signed off for release (cypp_dash/release.py); a withdrawal is dated, never deleted.
    """CREATE TABLE IF NOT EXISTS releases (release_id BIGINT, plan_id VARCHAR, period VARCHAR, period_end DATE,
        released_by VARCHAR, released_at TIMESTAMP, withdrawn_by VARCHAR, withdrawn_at TIMESTAMP,
        withdrawal_reason VARCHAR)""",
]


# What the published comparator data (LAIT, EES) say of their measures, areas and neighbours
# (published_store.py reads and writes them). Part of every store, so that a backup holding them always
# restores them, into a fresh store or the other engine.
PUBLISHED_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS published_measures (indicator_id VARCHAR PRIMARY KEY, source VARCHAR,
        short_name VARCHAR, name VARCHAR, topic VARCHAR, polarity VARCHAR, unit_label VARCHAR, decimals INTEGER,
        year_type VARCHAR, description VARCHAR, last_update VARCHAR, next_update VARCHAR, data_owner VARCHAR,
        methodology VARCHAR, no_quartile BOOLEAN, discontinued BOOLEAN)""",
    """CREATE TABLE IF NOT EXISTS published_areas (code VARCHAR PRIMARY KEY, la_number INTEGER, name VARCHAR,
        kind VARCHAR, region_name VARCHAR, la_type VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS published_neighbours (area_code VARCHAR, position INTEGER,
        neighbour_code VARCHAR, closeness VARCHAR, PRIMARY KEY (area_code, position))""",
]


# PostgreSQL finds rows by index where DuckDB scans columns (DuckDB keeps no indexes: they would slow its loads).
PG_INDEXES = [
    # One index of the current figures serves both readers: a series (areas and indicators) and an area's
    # indicators; each index costs every load (a 1M-row upload pays seconds per index).
    """CREATE INDEX IF NOT EXISTS observations_current ON observations (area_code, indicator_id, period_end)
        WHERE superseded_at IS NULL""",
    "CREATE INDEX IF NOT EXISTS observations_batch ON observations (batch_id)",
    "CREATE INDEX IF NOT EXISTS observations_superseded_by ON observations (superseded_by)",
    "CREATE INDEX IF NOT EXISTS actions_plan ON actions (plan_id)",
]


class StoreError(Exception):
    """A problem with the store that a person can act on (the message says what to do)."""


class StoreBusy(StoreError):
    """Another process or session is writing to the store."""


def db_path() -> Path | str:
    """The store CYPP_DB names: a DuckDB file's path, or a postgresql:// address (kept as text)."""
    target = os.environ.get("CYPP_DB") or DEFAULT_DB
    return target if pgstore.is_address(target) else Path(target)


def describe(target: str | os.PathLike | None = None) -> str:
    """The store's name for messages: a file's path, or a PostgreSQL address without its password."""
    target = target or db_path()
    return pgstore.safe_address(str(target)) if pgstore.is_address(str(target)) else str(target)


def backend(conn) -> str:
    """`duckdb` or `postgresql`: which engine a connection (or cursor) talks to."""
    return getattr(conn, "backend", "duckdb") if not isinstance(conn, duckdb.DuckDBPyConnection) else "duckdb"


def now() -> datetime:
    """UTC now, without tzinfo (how the store keeps times)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


# --- connections ----------------------------------------------------------------------------

write_lock = threading.RLock()
_process_connections: dict[str, duckdb.DuckDBPyConnection] = {}
_process_lock = threading.RLock()  # re-entered when a PostgreSQL pool is made for a process connection
_pools: dict[str, pgstore.Pool] = {}


def _lock_wait() -> float:
    return float(os.environ.get("CYPP_LOCK_WAIT", "30"))


def _pg_connect(address: str) -> pgstore.PgConnection:
    with _process_lock:
        pool = _pools.get(address)
        if pool is None:
            try:
                pool = _pools[address] = pgstore.Pool(address)
            except pgstore.PgError as e:
                raise StoreError(str(e)) from None
    conn = pgstore.PgConnection(pool)
    ensure_schema(conn)
    return conn


def connect(path: str | os.PathLike | None = None, wait_seconds: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open (creating if need be) the store file; wait for another process's lock, then say busy.
    A postgresql:// address opens that database instead (credentials from the environment)."""
    target = path or db_path()
    if pgstore.is_address(str(target)):
        return _pg_connect(str(target))
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    wait = _lock_wait() if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        try:
            conn = duckdb.connect(str(path))
            break
        except duckdb.IOException as e:
            if "lock" not in str(e).lower():
                raise StoreError(f"the store {path} cannot be opened: {e}") from None
            if time.monotonic() >= deadline:
                raise StoreBusy("the store is busy: another program (an upload or the running dashboard) is using "
                                f"{path.name}; try again when it has finished") from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    ensure_schema(conn)
    return conn


def process_connection(path: str | os.PathLike | None = None) -> duckdb.DuckDBPyConnection:
    """The one connection this process keeps to a store file (sessions take cursors from it)."""
    target = path or db_path()
    # On PostgreSQL each cursor of it borrows a database connection of its own from the process's pool.
    key = str(target) if pgstore.is_address(str(target)) else str(Path(target).resolve())
    with _process_lock:
        conn = _process_connections.get(key)
        if conn is None:
            conn = connect(key)
            _process_connections[key] = conn
        return conn


def close_process_connections() -> None:
    with _process_lock:
        for conn in _process_connections.values():
            conn.close()
        _process_connections.clear()
        for pool in _pools.values():
            pool.close()
        _pools.clear()


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    if backend(conn) == "postgresql":
        # Replicas starting together would race on CREATE TABLE: one at a time, under the write lock.
        with write_transaction(conn, bump=False) as cur:
            _create_schema(cur)
        return
    _create_schema(conn)


def _create_schema(conn) -> None:
    for statement in SCHEMA + PUBLISHED_SCHEMA + (PG_INDEXES if backend(conn) == "postgresql" else []):
        conn.execute(statement)
    conn.execute("INSERT INTO meta VALUES ('project', ?) ON CONFLICT DO NOTHING", [PROJECT_MARK])
    conn.execute("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING", [SCHEMA_VERSION])
    conn.execute("INSERT INTO meta VALUES ('data_version', '0') ON CONFLICT DO NOTHING")
    cur = conn if backend(conn) == "postgresql" else conn.cursor()  # DuckDB: closed at once (an open result would block CHECKPOINT)
    try:
        if (cur.execute("SELECT count(*) FROM held_periods").fetchall()[0][0] == 0
                and cur.execute("SELECT count(*) FROM (SELECT 1 FROM observations LIMIT 1) AS one").fetchall()[0][0]):
            refresh_held_periods(cur)  # a store made before the table existed
    finally:
        if cur is not conn:
            cur.close()


def refresh_statistics(conn) -> None:
    """After a bulk load or restore, fresh planner statistics on PostgreSQL (without them a freshly built
    database is planned as if empty: nested loops over 640,000 published figures). DuckDB keeps its own."""
    if backend(conn) != "postgresql":
        return
    cur = conn.cursor()
    try:
        cur.execute("ANALYZE")
    finally:
        cur.close()


def refresh_held_periods(cur: duckdb.DuckDBPyConnection) -> None:
    """Work out held_periods afresh from the current figures (after a rollback or a restore)."""
    cur.execute("DELETE FROM held_periods")
    cur.execute("""INSERT INTO held_periods SELECT indicator_id, period, max(period_start), max(period_end)
                   FROM observations WHERE superseded_at IS NULL GROUP BY indicator_id, period""")


_after_write: list[Callable[[], None]] = []


def on_write(listener: Callable[[], None]) -> None:
    """Call `listener()` after every committed write in this process (once each, however often added).
    The web layer's background preparation of the default views listens here (cypp_dash/web/prepare.py);
    a listener must be quick and must not raise: it runs on the writer's thread."""
    if listener not in _after_write:
        _after_write.append(listener)


def off_write(listener: Callable[[], None]) -> None:
    if listener in _after_write:
        _after_write.remove(listener)


@contextmanager
def write_transaction(conn: duckdb.DuckDBPyConnection, bump: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """One all-or-nothing write: other writers in this process wait; any error rolls back. On
    PostgreSQL the transaction first takes the database's write lock (an advisory lock), so writers in
    every process and on every machine take turns; one that waits longer than CYPP_LOCK_WAIT seconds
    is refused as busy. After the commit, the `on_write` listeners hear of it."""
    with write_lock:
        cur = conn.cursor()
        cur.execute("BEGIN TRANSACTION")
        try:
            if backend(cur) == "postgresql":
                try:
                    cur.lock_for_write(_lock_wait())
                except pgstore.LockTimeout:
                    raise StoreBusy("the store is busy: another upload or change is being written; try again "
                                    "when it has finished") from None
            yield cur
            if bump:
                _bump_version(cur)
            cur.execute("COMMIT")
        except BaseException as exc:
            try:
                cur.execute("ROLLBACK")
            except (duckdb.Error, pgstore.DatabaseError):
                pass  # a COMMIT that failed has already ended the transaction
            if isinstance(exc, (duckdb.IOException, OSError, pgstore.DiskFull)) and not isinstance(exc, StoreError):
                # e.g. the disk filled up during the write: nothing of it was kept.
                raise StoreError(f"the store could not be written ({_first_line(exc)}); the disk may be full. "
                                 "Nothing was changed: the store is as it was before") from exc
            raise
        finally:
            cur.close()
    for listener in tuple(_after_write):
        listener()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _bump_version(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute("UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) WHERE key = 'data_version'")


class Snapshot:
    """One version of the store to read from: a cursor inside a read transaction, so every read on it sees
    the version `data_version` gives on it, whatever commits meanwhile. It stands in for a connection in
    the read functions here: their `conn.cursor()` gives the snapshot itself (a real cursor would be a new
    connection, outside the transaction) and their `close()` leaves it open; `release()` ends it. For
    reading only, on one thread at a time."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self._cur = conn.cursor()
        self._cur.execute("BEGIN TRANSACTION")

    def cursor(self) -> Snapshot:
        return self

    def close(self) -> None:
        """Kept open: the reader that asked for a cursor is done, the snapshot is not."""

    def release(self) -> None:
        try:
            self._cur.close()
        except duckdb.Error:
            pass

    def __getattr__(self, name: str):
        return getattr(self._cur, name)


def snapshot(conn: duckdb.DuckDBPyConnection) -> Snapshot:
    return Snapshot(conn)


def data_version(conn: duckdb.DuckDBPyConnection) -> int:
    """A number that changes with every write: the key for cached reads."""
    cur = conn.cursor()
    try:
        return int(cur.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()[0])
    finally:
        cur.close()


def is_empty(conn: duckdb.DuckDBPyConnection) -> bool:
    return conn.cursor().execute("SELECT count(*) FROM plans").fetchone()[0] == 0


@contextmanager
def build_lock(conn) -> Iterator[None]:
    """Held while a new store is built from the bundled data: on PostgreSQL a database-wide lock, so
    replicas that start together build it once; one DuckDB file has one writing process anyway."""
    if backend(conn) == "postgresql":
        holder = conn.cursor()
        try:
            with holder.build_lock():
                yield
        finally:
            holder.close()
    else:
        yield


# --- reading on a cursor of one's own ----------------------------------------------------------

def read_rows(conn: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[tuple]:
    """The rows of one parameterised query, read on a cursor of its own (closed at once)."""
    cur = conn.cursor()
    try:
        return cur.execute(sql, params).fetchall()
    finally:
        cur.close()


def read_frame(conn: duckdb.DuckDBPyConnection, sql: str, params: list) -> pd.DataFrame:
    """`read_rows` as a table."""
    cur = conn.cursor()
    try:
        return cur.execute(sql, params).df()
    finally:
        cur.close()


# --- the audit log ----------------------------------------------------------------------------

def log_event(cur: duckdb.DuckDBPyConnection, at: datetime, user: str, action: str, detail: str = "") -> None:
    """Write one line of the audit log inside a write transaction the caller holds."""
    cur.execute("INSERT INTO audit VALUES (?, ?, ?, ?)", [at, user, action, detail])


def audit(conn: duckdb.DuckDBPyConnection, user: str, action: str, detail: str = "") -> None:
    """Write one line of the audit log in a transaction of its own."""
    with write_transaction(conn) as cur:
        log_event(cur, now(), user, action, detail)


def audit_log(conn: duckdb.DuckDBPyConnection, limit: int = 500) -> pd.DataFrame:
    return conn.cursor().execute("SELECT logged_at, user_name, action, detail FROM audit ORDER BY logged_at DESC LIMIT ?",
                                 [limit]).df()


def end_of(as_at: date | datetime) -> datetime:
    """The moment an as-at view stands at: a date means the end of that day."""
    return as_at if isinstance(as_at, datetime) else datetime.combine(as_at, datetime.max.time())


def as_at_clause(as_at: datetime | date | None, alias: str = "o.") -> tuple[str, list]:
    """The WHERE clause (and its parameters) for rows current now, or in force at the end of `as_at`
    (a date means the end of that day), on a table with loaded_at and superseded_at columns."""
    if as_at is None:
        return f"{alias}superseded_at IS NULL", []
    as_at = end_of(as_at)
    return f"{alias}loaded_at <= ? AND ({alias}superseded_at IS NULL OR {alias}superseded_at > ?)", [as_at, as_at]
