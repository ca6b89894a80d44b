"""The store: schema, one connection per process, all-or-nothing loads, revisions, as-at queries,
rollback, backup and restore. Every query here is parameterised. The embedded DuckDB file is the
default; CYPP_DB=postgresql://... runs the same functions on PostgreSQL (cypp_dash/pgstore.py holds
that back end's connection; the few SQL differences are chosen here by `backend(conn)`)."""
from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import time
import warnings
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cypp_dash import pgstore
from cypp_dash.config import ROOT, Config
from cypp_dash.periods import parse_period

SCHEMA_VERSION = "1"
PROJECT_MARK = "cypp-dashboard"
DEFAULT_DB = ROOT / "data" / "cypp.duckdb"

OBSERVATION_COLUMNS = ["indicator_id", "area_code", "period", "period_start", "period_end", "category", "value",
                       "numerator", "denominator", "ci_low", "ci_high", "ci99_low", "ci99_high", "note", "flags",
                       "compared_with_england"]
_COMPARED = ["value", "numerator", "denominator", "ci_low", "ci_high", "ci99_low", "ci99_high", "note", "flags",
             "compared_with_england"]

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

_write_lock = threading.RLock()
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
    for statement in SCHEMA + (PG_INDEXES if backend(conn) == "postgresql" else []):
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
    with _write_lock:
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


# --- the plan ---------------------------------------------------------------------------------

def sync_plans(cur: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Write areas, plans, partnerships and KPIs from the configuration (replacing what was there)."""
    for a in config.areas:
        cur.execute("INSERT INTO areas VALUES (?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET name = excluded.name, "
                    "type = excluded.type, parent = excluded.parent", [a.code, a.name, a.type, a.parent])
    cur.execute("DELETE FROM plans")
    cur.execute("DELETE FROM partnerships")
    cur.execute("DELETE FROM kpis")
    for plan in config.plans:
        cur.execute("INSERT INTO plans VALUES (?, ?, ?, ?, ?)", [plan.id, plan.name, plan.council, plan.area,
                                                                  plan.file])
        for p in plan.partnerships:
            cur.execute("INSERT INTO partnerships VALUES (?, ?, ?, ?, ?, ?)",
                        [plan.id, p.id, p.name, p.board, p.reports_to, p.meets])
            for k in p.kpis:
                cur.execute("INSERT INTO kpis VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [plan.id, k.code, p.id, k.name, k.unit, k.polarity, k.indicator_id,
                             k.baseline.value, k.baseline.period, k.baseline.text, k.england.value,
                             k.england.period, k.england.unit, k.england.text, k.target.text, k.source])


def sync_actions(cur: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Load each plan's configured actions once (later edits come as uploads, kept with history)."""
    for plan in config.plans:
        have = cur.execute("SELECT count(*) FROM actions WHERE plan_id = ?", [plan.id]).fetchone()[0]
        if have or not plan.actions:
            continue
        for a in plan.actions:
            cur.execute("INSERT INTO actions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL, NULL)",
                        [plan.id, a.id, a.task, a.lead, a.start, a.due, a.status, a.serves, a.comments, now()])


# --- loading figures ------------------------------------------------------------------------

@dataclass(frozen=True)
class LoadResult:
    batch_id: int
    added: int
    revised: int
    unchanged: int


def _incoming_frame(rows: pd.DataFrame) -> pa.Table:
    """The rows in the store's column types, as an Arrow table: DuckDB reads Arrow in parallel without a
    Python object per cell, which was most of a million-row load. Periods and dates repeat, so each
    distinct one is worked out once."""
    n = len(rows)

    def column(name: str) -> pd.Series:
        return rows[name].reset_index(drop=True) if name in rows.columns else pd.Series([None] * n, dtype=object)

    def text(values: pd.Series, blank_as: str | None) -> pa.Array:
        try:
            array = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)  # None, NaN: NULL
        except (pa.ArrowException, TypeError):  # not all text (e.g. a number in a category): as text
            array = pa.array(values.astype(object).where(values.notna(), None).map(
                lambda v: v if v is None else str(v)).to_numpy(dtype=object), type=pa.string())
        return array if blank_as is None else pc.fill_null(array, blank_as)

    def dates(values: pd.Series) -> pa.Array:
        codes, distinct = pd.factorize(values, use_na_sentinel=False)
        days = pd.to_datetime(pd.Series(distinct, dtype=object)).dt.date.tolist()
        return pa.array(days, type=pa.date32()).take(pa.array(codes))

    period = column("period")
    start, end = column("period_start"), column("period_end")
    if start.isna().any() or end.isna().any():
        codes, labels = pd.factorize(period.astype(str))
        parsed = [parse_period(label) for label in labels]
        start = pd.Series(np.asarray([p.start for p in parsed] or [None], dtype=object)[codes], dtype=object)
        end = pd.Series(np.asarray([p.end for p in parsed] or [None], dtype=object)[codes], dtype=object)
    arrays = {"indicator_id": text(column("indicator_id"), None), "area_code": text(column("area_code"), None),
              "period": text(period, None), "period_start": dates(start), "period_end": dates(end),
              "category": text(column("category"), "")}
    for col in ("value", "numerator", "denominator", "ci_low", "ci_high", "ci99_low", "ci99_high"):
        numbers = pd.to_numeric(column(col), errors="coerce").astype("float64").to_numpy()
        arrays[col] = pa.array(numbers, type=pa.float64(), from_pandas=True)  # NaN is "no figure": NULL
    arrays["note"] = text(column("note"), None)
    arrays["flags"] = text(column("flags"), "")
    arrays["compared_with_england"] = text(column("compared_with_england"), None)
    return pa.table([arrays[c] for c in OBSERVATION_COLUMNS], names=OBSERVATION_COLUMNS)


def preview_batch(conn: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> pd.DataFrame:
    """What a load would do, row by row, without writing: `change` is added / revised / unchanged."""
    cur = conn.cursor()
    try:
        cur.register("incoming", _incoming_frame(rows))
        return cur.execute(_CLASSIFY + " SELECT i.*, c.change, c.old_value FROM incoming i JOIN classified c "  # noqa: S608 (constant SQL / catalogue names, no user input)
                           "USING (indicator_id, area_code, period, category) ORDER BY i.indicator_id, "
                           "i.area_code, i.period_end").df()
    finally:
        cur.close()


_CLASSIFY = """
WITH cur AS (
    SELECT * FROM observations WHERE superseded_at IS NULL
), classified AS (
    SELECT i.*, o.value AS old_value, o.obs_id AS old_id,
        CASE WHEN o.obs_id IS NULL THEN 'added'
             WHEN i.value IS NOT DISTINCT FROM o.value AND i.numerator IS NOT DISTINCT FROM o.numerator
              AND i.denominator IS NOT DISTINCT FROM o.denominator AND i.ci_low IS NOT DISTINCT FROM o.ci_low
              AND i.ci_high IS NOT DISTINCT FROM o.ci_high AND i.ci99_low IS NOT DISTINCT FROM o.ci99_low
              AND i.ci99_high IS NOT DISTINCT FROM o.ci99_high AND i.note IS NOT DISTINCT FROM o.note
              AND i.flags IS NOT DISTINCT FROM regexp_replace(regexp_replace(o.flags, '(^|,)revised', ''), '^,', '')
              AND i.compared_with_england IS NOT DISTINCT FROM o.compared_with_england
             THEN 'unchanged' ELSE 'revised' END AS change
    FROM incoming i LEFT JOIN cur o USING (indicator_id, area_code, period, category)
)
"""


def load_batch(conn: duckdb.DuckDBPyConnection, rows: pd.DataFrame | pa.Table, *, user: str, file_name: str, sha256: str,
               kind: str = "upload", source: str = "", licence: str = "", illustrative: bool = False,
               area_names: dict[str, str] | None = None, indicator_names: dict[str, str] | None = None,
               progress: Callable[[float, str], None] | None = None) -> LoadResult:
    """Load validated rows as one batch in one transaction: all of it, or (on any error) none of it. `rows`
    is a frame, or an Arrow table already in the store's column types (`OBSERVATION_COLUMNS`), which
    the store reads as it is."""
    progress = progress or (lambda f, m: None)
    incoming = rows.select(OBSERVATION_COLUMNS) if isinstance(rows, pa.Table) else _incoming_frame(rows)
    incoming = incoming.append_column("n", pa.array(np.arange(incoming.num_rows), pa.int64()))  # a row's place
    with write_transaction(conn) as cur:
        progress(0.1, "Comparing with the figures already stored")
        cur.register("incoming", incoming)
        # Only the incoming figures that meet a current one are kept aside, by their place `n` (none for a
        # new quarter); every other row is added, written straight from the Arrow table with no join on text.
        cur.execute("CREATE OR REPLACE TEMP TABLE classified_rows AS " + _CLASSIFY  # noqa: S608 (constant SQL / catalogue names, no user input)
                    + " SELECT n, old_id, change FROM classified WHERE change <> 'added'")
        counts = dict(cur.execute("SELECT change, count(*) FROM classified_rows GROUP BY change").fetchall())
        counts["added"] = incoming.num_rows - sum(counts.values())
        batch_id = cur.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM batches").fetchone()[0]
        first_id = cur.execute("SELECT coalesce(max(obs_id), 0) FROM observations").fetchone()[0]
        at = now()
        cur.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'loaded', NULL, NULL, ?, ?, ?)",
                    [batch_id, kind, user, file_name, sha256, at, counts.get("added", 0), counts.get("revised", 0),
                     counts.get("unchanged", 0), source, licence, illustrative])
        progress(0.4, "Marking revised figures as superseded")
        cur.execute("""UPDATE observations SET superseded_at = ?, superseded_by = ?
                       WHERE superseded_at IS NULL AND obs_id IN
                       (SELECT old_id FROM classified_rows WHERE change = 'revised')""", [at, batch_id])
        progress(0.6, "Writing the new figures")
        # Each clause only when it has rows to act on: a new quarter is written as a plain scan of the table.
        flags = (f"CASE WHEN n IN (SELECT n FROM classified_rows WHERE change = 'revised') THEN "  # noqa: S608 (constant SQL fragments)
                 f"{_REVISED_FLAGS[backend(cur)]} ELSE flags END" if counts.get("revised") else "flags")
        keep = " WHERE n NOT IN (SELECT n FROM classified_rows WHERE change = 'unchanged')" \
            if counts.get("unchanged") else ""
        cur.execute(f"""INSERT INTO observations
            SELECT ? + row_number() OVER (), indicator_id, area_code, period, period_start, period_end,
                   category, value, numerator, denominator, ci_low, ci_high, ci99_low, ci99_high, note, {flags},
                   compared_with_england, ?, ?, NULL, NULL
            FROM incoming{keep}""", [first_id, batch_id, at])  # noqa: S608 (constant SQL fragments, no user input)
        cur.execute("""INSERT INTO held_periods SELECT indicator_id, period, max(period_start), max(period_end)
                       FROM observations WHERE batch_id = ? GROUP BY indicator_id, period
                       ON CONFLICT DO NOTHING""", [batch_id])
        _hook_after_insert(cur)
        progress(0.85, "Recording areas and indicators")
        for code, name in (area_names or {}).items():
            cur.execute("INSERT INTO areas VALUES (?, ?, 'other', NULL) ON CONFLICT DO NOTHING", [code, name or code])
        for iid, name in (indicator_names or {}).items():
            cur.execute("INSERT INTO indicators VALUES (?, ?, NULL, ?, ?) ON CONFLICT (indicator_id) DO UPDATE "
                        "SET name = excluded.name, source = excluded.source, licence = excluded.licence",
                        [iid, name, source, licence])
        cur.execute("INSERT INTO audit VALUES (?, ?, 'upload', ?)",
                    [at, user, f"batch {batch_id}: {file_name} ({counts.get('added', 0)} added, "
                               f"{counts.get('revised', 0)} revised, {counts.get('unchanged', 0)} unchanged)"])
        cur.execute("DROP TABLE classified_rows")
        cur.unregister("incoming")
        progress(1.0, "Done")
    return LoadResult(batch_id, counts.get("added", 0), counts.get("revised", 0), counts.get("unchanged", 0))


# A revised figure's flags gain `revised`: sorted, distinct, comma-separated, in each engine's words.
_REVISED_FLAGS = {
    "duckdb": "array_to_string(list_sort(list_distinct(list_filter(string_split(flags, ','), lambda x: x <> '') "
              "|| ['revised'])), ',')",
    "postgresql": "array_to_string(ARRAY(SELECT DISTINCT f FROM unnest(string_to_array(flags, ',') "
                  "|| ARRAY['revised']) AS f WHERE f <> '' ORDER BY f), ',')",
}


def _hook_after_insert(cur: duckdb.DuckDBPyConnection) -> None:
    """A seam for tests that force a failure half-way through a load."""


def file_already_loaded(conn: duckdb.DuckDBPyConnection, sha256: str) -> int | None:
    row = conn.cursor().execute("SELECT max(batch_id) FROM batches WHERE sha256 = ? AND status = 'loaded'",
                                [sha256]).fetchone()
    return row[0] if row and row[0] is not None else None


def history(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every batch with who loaded it, when, and what it changed; newest first."""
    return conn.cursor().execute(
        "SELECT batch_id, kind, user_name, file_name, loaded_at, rows_added, rows_revised, rows_unchanged, status, "
        "rolled_back_at, rolled_back_by, sha256 FROM batches ORDER BY batch_id DESC").df()


def rollback(conn: duckdb.DuckDBPyConnection, batch_id: int, user: str) -> None:
    """Undo one batch exactly: its figures go, the figures it revised come back."""
    with write_transaction(conn) as cur:
        row = cur.execute("SELECT status FROM batches WHERE batch_id = ?", [batch_id]).fetchone()
        if row is None:
            raise StoreError(f"there is no upload numbered {batch_id} (see `history`)")
        if row[0] != "loaded":
            raise StoreError(f"upload {batch_id} was already rolled back")
        later = cur.execute("""SELECT DISTINCT superseded_by FROM (
                                   SELECT batch_id, superseded_by FROM observations
                                   UNION ALL SELECT batch_id, superseded_by FROM actions) AS written
                               WHERE batch_id = ? AND superseded_by IS NOT NULL ORDER BY 1""", [batch_id]).fetchall()
        if later:
            ids = ", ".join(str(r[0]) for r in later)
            raise StoreError(f"upload {batch_id} cannot be rolled back on its own: upload {ids} has since revised "
                             "some of its figures; roll back the later upload first")
        cur.execute("DELETE FROM observations WHERE batch_id = ?", [batch_id])
        cur.execute("UPDATE observations SET superseded_at = NULL, superseded_by = NULL WHERE superseded_by = ?",
                    [batch_id])
        refresh_held_periods(cur)
        # An upload of actions (cypp_dash/actions.py) is a batch too: undone the same way.
        cur.execute("DELETE FROM actions WHERE batch_id = ?", [batch_id])
        cur.execute("UPDATE actions SET superseded_at = NULL, superseded_by = NULL WHERE superseded_by = ?",
                    [batch_id])
        at = now()
        cur.execute("UPDATE batches SET status = 'rolled back', rolled_back_at = ?, rolled_back_by = ? "
                    "WHERE batch_id = ?", [at, user, batch_id])
        cur.execute("INSERT INTO audit VALUES (?, ?, 'rollback', ?)", [at, user, f"batch {batch_id}"])


def audit(conn: duckdb.DuckDBPyConnection, user: str, action: str, detail: str = "") -> None:
    with write_transaction(conn) as cur:
        cur.execute("INSERT INTO audit VALUES (?, ?, ?, ?)", [now(), user, action, detail])


def audit_log(conn: duckdb.DuckDBPyConnection, limit: int = 500) -> pd.DataFrame:
    return conn.cursor().execute("SELECT logged_at, user_name, action, detail FROM audit ORDER BY logged_at DESC LIMIT ?",
                                 [limit]).df()


# --- reading figures --------------------------------------------------------------------------

def _as_at_clause(as_at: datetime | date | None) -> tuple[str, list]:
    if as_at is None:
        return "o.superseded_at IS NULL", []
    if isinstance(as_at, date) and not isinstance(as_at, datetime):
        as_at = datetime.combine(as_at, datetime.max.time())
    return "o.loaded_at <= ? AND (o.superseded_at IS NULL OR o.superseded_at > ?)", [as_at, as_at]


def series(conn: duckdb.DuckDBPyConnection, indicator_ids: list[str], area_codes: list[str],
           up_to: date | None = None, as_at: datetime | date | None = None, category: str = "") -> pd.DataFrame:
    """Every headline figure for these indicators and areas up to a period end, as at a time, oldest first."""
    if not indicator_ids or not area_codes:
        return pd.DataFrame(columns=_SERIES_COLUMNS)
    clause, params = _as_at_clause(as_at)
    # Joining the wanted codes (a few rows) lets DuckDB push them into the table scan as a filter;
    # `list_contains(?, column)` or a long `IN` list was a join against every row: several times slower
    # on a national store (see benchmarks/bench.py).
    sql = f"""SELECT o.indicator_id, o.area_code, o.period, o.period_start, o.period_end, o.value, o.numerator,
                     o.denominator, o.ci_low, o.ci_high, o.ci99_low, o.ci99_high, o.note, o.flags,
                     o.compared_with_england, o.batch_id, o.loaded_at, b.illustrative, b.source, b.licence, b.kind
              FROM observations o
              JOIN (SELECT DISTINCT unnest(?::VARCHAR[]) AS indicator_id) wanted_i USING (indicator_id)
              JOIN (SELECT DISTINCT unnest(?::VARCHAR[]) AS area_code) wanted_a USING (area_code)
              LEFT JOIN batches b USING (batch_id)
              WHERE {clause} AND o.category = ? AND o.period_end <= ?
              ORDER BY o.indicator_id, o.area_code, o.period_end, o.period_start DESC"""  # noqa: S608 (constant clause)
    cur = conn.cursor()
    try:
        return cur.execute(sql, [list(indicator_ids), list(area_codes), *params, category,
                                 up_to or date(9999, 12, 31)]).df()
    finally:
        cur.close()


_SERIES_COLUMNS = ["indicator_id", "area_code", "period", "period_start", "period_end", "value", "numerator",
                   "denominator", "ci_low", "ci_high", "ci99_low", "ci99_high", "note", "flags",
                   "compared_with_england", "batch_id", "loaded_at", "illustrative", "source", "licence", "kind"]


def periods_held(conn: duckdb.DuckDBPyConnection, indicator_ids: list[str]) -> list[str]:
    """Period labels with any figure for these indicators, newest first."""
    cur = conn.cursor()
    rows = cur.execute("""SELECT period, max(period_end) AS e, max(period_start) AS s FROM held_periods
                          JOIN (SELECT DISTINCT unnest(?::VARCHAR[]) AS indicator_id) wanted USING (indicator_id)
                          GROUP BY period ORDER BY e DESC, s DESC""", [list(indicator_ids)]).fetchall()
    return [r[0] for r in rows]


def indicators_for_area(conn: duckdb.DuckDBPyConnection, area_code: str) -> pd.DataFrame:
    """The latest headline figure of every indicator held for an area (plan KPIs and wider ones)."""
    # Plain SQL that both engines run alike (no QUALIFY, no any_value: PostgreSQL 15 has neither).
    return conn.cursor().execute("""
        SELECT indicator_id, name, period, value, ci_low, ci_high, compared_with_england, flags, numerator,
               denominator, note, source, licence, illustrative FROM (
        SELECT o.indicator_id, coalesce(i.name, k.name) AS name, o.period, o.value, o.ci_low, o.ci_high,
               o.compared_with_england, o.flags, o.numerator, o.denominator, o.note, b.source, b.licence,
               b.illustrative,
               row_number() OVER (PARTITION BY o.indicator_id ORDER BY o.period_end DESC, o.period_start DESC) AS nth
        FROM observations o
        LEFT JOIN indicators i USING (indicator_id)
        LEFT JOIN (SELECT indicator_id, min(name) AS name FROM kpis GROUP BY indicator_id) k USING (indicator_id)
        LEFT JOIN batches b USING (batch_id)
        WHERE o.superseded_at IS NULL AND o.area_code = ? AND o.category = '') AS latest
        WHERE nth = 1
        ORDER BY indicator_id""", [area_code]).df()


def area_names(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(conn.cursor().execute("SELECT code, name FROM areas").fetchall())


# --- whole-store copies -----------------------------------------------------------------------
# A backup is one zip: manifest.json (this project's mark, the schema version, the engine it came from,
# each table's columns, rows, Parquet file digest and content digest, and the whole store's content
# checksum) and one Parquet file per table. Neither engine's own file format is in it, so a backup of
# the embedded store restores into PostgreSQL and back, and the checksums prove nothing changed.

BACKUP_FORMAT = "cypp-dashboard backup 1"
_SCHEMA_NAME = {"duckdb": "main", "postgresql": "public"}


def _tables(cur) -> list[str]:
    return [r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
                                      "AND table_catalog = current_database() AND table_type = 'BASE TABLE' "
                                      "ORDER BY table_name",
                                      [_SCHEMA_NAME[backend(cur)]]).fetchall()]


def _columns(cur, table: str) -> list[str]:
    return [r[0] for r in cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                                      "AND table_catalog = current_database() AND table_name = ? "
                                      "ORDER BY ordinal_position",
                                      [_SCHEMA_NAME[backend(cur)], table]).fetchall()]


def _table_digest(cur, table: str) -> str:
    """The digest of one table's rows, whatever their order (meta's data_version is a cache counter, not
    content): the sum, modulo 2^256, of each row's SHA-256, read in chunks so a national table never sits
    in memory whole as Python rows."""
    total, count = 0, 0
    where = " WHERE key <> 'data_version'" if table == "meta" else ""
    result = cur.execute(f'SELECT * FROM "{table}"{where}')  # noqa: S608 (catalogue names only)
    while chunk := result.fetchmany(50_000):
        for r in chunk:
            total += int.from_bytes(hashlib.sha256(repr(r).encode()).digest(), "big")
        count += len(chunk)
    return f"{count}:{total % (1 << 256):064x}"


def _checksum_of(digests: dict[str, str]) -> str:
    whole = hashlib.sha256()
    for table in sorted(digests):
        whole.update(f"{table}:{digests[table]}\n".encode())
    return whole.hexdigest()


def _digests(cur) -> dict[str, str]:
    return {t: _table_digest(cur, t) for t in _tables(cur)}


def content_checksum(conn: duckdb.DuckDBPyConnection, skip: tuple[str, ...] = ()) -> str:
    """A digest of every table's content, the same on either engine for the same content (to prove
    that a refused upload changed nothing, and that a backup restored whole); tables named in `skip`
    (e.g. the audit log, which records the refusal) are left out."""
    cur = conn.cursor()
    try:
        return _checksum_of({t: d for t, d in _digests(cur).items() if t not in skip})
    finally:
        cur.close()


def _arrow(cur, table: str) -> pa.Table:
    result = cur.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (catalogue names only)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DuckDB notes the extra copy of a DB-API result: fine for a backup
        return result.to_arrow_table()


def backup(conn: duckdb.DuckDBPyConnection, target: str | os.PathLike) -> Path:
    """Copy the whole store, as it stands at one moment, to one zip file (see above)."""
    target = Path(target).resolve()
    with _write_lock:
        cur = conn.cursor()
        try:
            # One snapshot of every table: DuckDB's transaction, PostgreSQL's repeatable read.
            cur.execute("BEGIN TRANSACTION" if backend(cur) == "duckdb"
                        else "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            tables = {}
            manifest = {"format": BACKUP_FORMAT, "project": PROJECT_MARK, "schema_version": SCHEMA_VERSION,
                        "engine": backend(cur), "made_at": now().isoformat(timespec="seconds"), "tables": tables}
            partial = target.with_name(target.name + ".partial")
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as zf:
                for t in _tables(cur):
                    data = _arrow(cur, t)
                    buffer = io.BytesIO()
                    pq.write_table(data, buffer, compression="zstd")
                    name = f"tables/{t}.parquet"
                    zf.writestr(name, buffer.getvalue())
                    tables[t] = {"file": name, "rows": data.num_rows, "columns": data.column_names,
                                 "sha256": hashlib.sha256(buffer.getvalue()).hexdigest(),
                                 "content": _table_digest(cur, t)}
                manifest["content_checksum"] = _checksum_of({t: v["content"] for t, v in tables.items()})
                zf.writestr("manifest.json", json.dumps(manifest, indent=1))
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        finally:
            cur.close()
    partial.replace(target)
    return target


@dataclass
class _Backup:
    tables: dict[str, pa.Table]
    digests: dict[str, str]  # each table's content digest, from the manifest (empty for an old DuckDB file)
    checksum: str


def _read_zip_backup(path: Path) -> _Backup:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise StoreError(f"{path.name} is not a dashboard backup") from None
    with zf:
        try:
            manifest = json.loads(zf.read("manifest.json"))
        except (KeyError, ValueError, UnicodeDecodeError):
            raise StoreError(f"{path.name} is a zip file but not a backup of this dashboard (no manifest); "
                             "nothing was replaced") from None
        if not isinstance(manifest, dict) or manifest.get("project") != PROJECT_MARK \
                or manifest.get("format") != BACKUP_FORMAT or not isinstance(manifest.get("tables"), dict):
            raise StoreError(f"{path.name} is a zip file but not a backup of this dashboard; nothing was replaced")
        tables, digests = {}, {}
        for t, entry in manifest["tables"].items():
            try:
                raw = zf.read(entry["file"])
            except (KeyError, TypeError):
                raise StoreError(f"{path.name} is damaged: the table {t!r} is missing; nothing was replaced") from None
            if hashlib.sha256(raw).hexdigest() != entry.get("sha256"):
                raise StoreError(f"{path.name} is damaged: the table {t!r} does not match its checksum; "
                                 "nothing was replaced")
            try:
                tables[t] = pq.read_table(io.BytesIO(raw))
            except (pa.ArrowException, OSError):
                raise StoreError(f"{path.name} is damaged: the table {t!r} cannot be read; nothing was replaced") \
                    from None
            digests[t] = str(entry.get("content", ""))
        return _Backup(tables, digests, str(manifest.get("content_checksum", "")))


def _read_duckdb_backup(path: Path) -> _Backup:
    """A backup made before the zip format: a copy of the DuckDB file."""
    check_backup(path)
    probe = duckdb.connect(str(path), read_only=True)
    try:
        return _Backup({t: _arrow(probe, t) for t in _tables(probe)}, {}, "")
    finally:
        probe.close()


def check_backup(path: str | os.PathLike) -> None:
    """Refuse anything that is not a store of this project."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"{path} does not exist")
    if zipfile.is_zipfile(path):
        _read_zip_backup(path)
        return
    try:
        probe = duckdb.connect(str(path), read_only=True)
    except Exception:
        raise StoreError(f"{path.name} is not a dashboard store or backup (neither a backup zip nor a DuckDB "
                         "file)") from None
    try:
        mark = probe.execute("SELECT value FROM meta WHERE key = 'project'").fetchone()
    except Exception:
        mark = None
    finally:
        probe.close()
    if not mark or mark[0] != PROJECT_MARK:
        raise StoreError(f"{path.name} is a DuckDB file but not a store of this dashboard; nothing was replaced")


def _insert_arrow(cur, table: str, data: pa.Table) -> None:
    if backend(cur) == "postgresql":
        pgstore.copy_arrow(cur._connection(), f'public."{table}"', data)
        return
    cur.register("restore_rows", data)
    try:
        names = ", ".join(f'"{c}"' for c in data.column_names)
        cur.execute(f'INSERT INTO main."{table}" ({names}) SELECT {names} FROM restore_rows')  # noqa: S608 (catalogue names only)
    finally:
        cur.unregister("restore_rows")


def restore(conn: duckdb.DuckDBPyConnection, source: str | os.PathLike, user: str = "",
            keep: tuple[str, ...] = ()) -> None:
    """Replace every table's content with the backup's, in one transaction; tables named in
    `keep` (e.g. users and audit, for a restore from the web) stay as they are. Each restored table's
    content must match the digest the backup recorded. A file that is not a usable backup (corrupt,
    truncated, foreign, crafted) is refused with a plain StoreError, the store is left as it was, and
    the attempt is recorded in the audit log."""
    source = Path(source).resolve()
    try:
        _restore(conn, source, user, keep)
    except (StoreError, duckdb.Error, pgstore.DatabaseError, pa.ArrowException) as exc:
        reason = str(exc) if isinstance(exc, StoreError) else (
            f"{source.name} is not a usable backup of this dashboard (its tables do not match this store's: "
            f"{type(exc).__name__}); nothing was replaced")
        try:
            audit(conn, user, "restore refused", f"{source.name}: {reason}"[:500])
        except (duckdb.Error, pgstore.DatabaseError):
            pass  # the refusal itself still reaches the person
        raise StoreError(reason) from None


def _restore(conn: duckdb.DuckDBPyConnection, source: Path, user: str, keep: tuple[str, ...]) -> None:
    check_backup(source)
    found = _read_zip_backup(source) if zipfile.is_zipfile(source) else _read_duckdb_backup(source)
    with write_transaction(conn) as wcur:
        # Only this store's own tables and columns: a crafted file's names never reach SQL.
        own = _tables(wcur)
        for t in [t for t in own if t in found.tables and t not in keep and t != "meta"]:
            columns = _columns(wcur, t)
            data = found.tables[t]
            strange = [c for c in data.column_names if c not in columns]
            if strange:
                raise StoreError(f"{source.name}: the table {t} has columns this store does not know "
                                 f"({', '.join(strange[:5])}); nothing was replaced")
            wcur.execute(f'DELETE FROM "{t}"')  # noqa: S608 (catalogue names only)
            _insert_arrow(wcur, t, data)
            if found.digests.get(t) and _table_digest(wcur, t) != found.digests[t]:
                raise StoreError(f"{source.name}: the table {t} did not restore exactly; nothing was replaced")
        refresh_held_periods(wcur)  # a backup from before held_periods existed has none
        wcur.execute("INSERT INTO audit VALUES (?, ?, 'restore', ?)", [now(), user, source.name])
    if backend(conn) == "postgresql":
        cur = conn.cursor()
        try:
            cur.execute("ANALYZE")  # fresh planner statistics after every table was replaced
        finally:
            cur.close()
