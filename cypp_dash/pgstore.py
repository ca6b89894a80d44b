"""The store's PostgreSQL back end (CYPP_DB=postgresql://...): a connection that answers the calls
cypp_dash/store.py makes of a DuckDB connection (cursor, execute, fetchone, fetchall, df, register,
close), through psycopg 3. Only the store layer imports it; every back-end difference lives here or
in store.py: placeholders, DDL types, temporary tables, bulk loads (COPY), result frames, locks.

Credentials never come from config.yaml: the address may name the user, host, port and database,
and libpq reads the password from PGPASSWORD or the file named by PGPASSFILE (~/.pgpass by default)."""
from __future__ import annotations

import io
import re
import threading
from contextlib import contextmanager
from decimal import Decimal
from typing import Iterator

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

try:  # psycopg is needed only for a PostgreSQL store; the embedded default runs without it.
    import psycopg
    from psycopg import pq
    from psycopg.adapt import Loader
except ImportError:  # pragma: no cover - reported when a postgresql:// address is used
    psycopg = None

# What a failed statement raises on PostgreSQL (the store catches it where it catches duckdb.Error).
DatabaseError = psycopg.Error if psycopg is not None else type("DatabaseError", (Exception,), {})
DiskFull = psycopg.errors.DiskFull if psycopg is not None else type("DiskFull", (Exception,), {})
SCHEMES = ("postgresql://", "postgres://")
# Advisory lock keys (any two fixed 64-bit numbers): one for writes, one for building a new store.
WRITE_LOCK_KEY = 7_366_550_020_001
BUILD_LOCK_KEY = 7_366_550_020_002


def is_address(target: object) -> bool:
    return isinstance(target, str) and target.startswith(SCHEMES)


def safe_address(address: str) -> str:
    """The address without any password in it (for messages and logs)."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", address)


class PgError(Exception):
    """Raised with a message a person can act on; store.py turns it into a StoreError."""


class LockTimeout(Exception):
    """Another process held the write lock for longer than the wait allowed."""


if psycopg is not None:
    class _NumericLoader(Loader):
        """numeric (e.g. sum of integers) as int or float, as DuckDB gives it, never Decimal."""

        def load(self, data):
            d = Decimal(bytes(data).decode())
            return int(d) if d == d.to_integral_value() else float(d)


# Result columns to Arrow types, by PostgreSQL type oid (so frames match DuckDB's column for column).
_ARROW_TYPES = {16: pa.bool_(), 20: pa.int64(), 21: pa.int16(), 23: pa.int32(), 25: pa.string(),
                1043: pa.string(), 19: pa.string(), 1042: pa.string(), 700: pa.float32(), 701: pa.float64(),
                1082: pa.date32(), 1114: pa.timestamp("us"), 1184: pa.timestamp("us", tz="UTC")}
_SQL_TYPES = [(pa.types.is_string, "VARCHAR"), (pa.types.is_large_string, "VARCHAR"),
              (pa.types.is_float64, "DOUBLE PRECISION"), (pa.types.is_float32, "REAL"),
              (pa.types.is_int64, "BIGINT"), (pa.types.is_int32, "INTEGER"), (pa.types.is_int16, "SMALLINT"),
              (pa.types.is_boolean, "BOOLEAN"), (pa.types.is_date32, "DATE"), (pa.types.is_timestamp, "TIMESTAMP"),
              (pa.types.is_null, "VARCHAR")]

_converter: list = []  # one in-memory DuckDB per process (opening one costs tens of ms); a cursor per call
_converter_lock = threading.Lock()


def _to_pandas(table: pa.Table):
    """An Arrow table as DuckDB's .df() would give it (same dtypes on both back ends)."""
    with _converter_lock:
        if not _converter:
            _converter.append(duckdb.connect())
        cur = _converter[0].cursor()
    try:
        return cur.from_arrow(table).df()
    finally:
        cur.close()


def translate(sql: str) -> str:
    """DuckDB-style SQL to psycopg's: `?` placeholders become `%s` and a literal `%` becomes `%%`
    (quoted text and identifiers are left alone except for the `%`); DDL's DOUBLE becomes DOUBLE PRECISION."""
    out = []
    quote = None
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    text = "".join(out)
    if text.lstrip().upper().startswith("CREATE TABLE"):
        text = re.sub(r"\bDOUBLE\b(?! PRECISION)", "DOUBLE PRECISION", text)
    return text


_REPLACE_TEMP = re.compile(r"^\s*CREATE\s+OR\s+REPLACE\s+TEMP(?:ORARY)?\s+TABLE\s+(\w+)", re.IGNORECASE)


class Pool:
    """Open psycopg connections to one database, reused by the cursors this process hands out."""

    def __init__(self, address: str):
        if psycopg is None:
            raise PgError("CYPP_DB names a PostgreSQL database but psycopg is not installed "
                          "(pip install -r requirements.txt)")
        self.address = address
        self._free: list = []
        self._lock = threading.Lock()
        self._all: list = []
        self.take().close_to(self)  # fail now, with a clear message, if the database cannot be reached

    def _open(self):
        try:
            raw = psycopg.connect(self.address, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as e:
            raise PgError(f"the PostgreSQL store {safe_address(self.address)} cannot be reached: "
                          f"{str(e).strip().splitlines()[0] if str(e).strip() else e}") from None
        raw.adapters.register_loader("numeric", _NumericLoader)
        raw.execute("SET TIME ZONE 'UTC'")
        return raw

    def take(self) -> "_Lease":
        with self._lock:
            raw = self._free.pop() if self._free else None
        if raw is None or raw.closed or raw.broken:
            raw = self._open()
            with self._lock:
                self._all.append(raw)
        return _Lease(raw)

    def give(self, raw) -> None:
        if raw.closed or raw.broken:  # (a restarted server): the next cursor opens a fresh connection
            if not raw.closed:
                raw.close()
            return
        status = raw.info.transaction_status
        if status != pq.TransactionStatus.IDLE:
            try:
                raw.execute("ROLLBACK")
            except psycopg.Error:
                raw.close()
                return
        with self._lock:
            self._free.append(raw)

    def close(self) -> None:
        with self._lock:
            for raw in self._all:
                if not raw.closed:
                    raw.close()
            self._all.clear()
            self._free.clear()


class _Lease:
    def __init__(self, raw):
        self.raw = raw

    def close_to(self, pool: Pool) -> None:
        pool.give(self.raw)


class PgConnection:
    """One cursor-like handle: it borrows a database connection from the pool on first use and gives
    it back on close, so each session's run (and each write) has a connection of its own, as with
    DuckDB's cursors. Temporary tables (register) live on that connection."""

    backend = "postgresql"

    def __init__(self, pool: Pool):
        self._pool = pool
        self._raw = None
        self._cur = None

    # -- DuckDB-like API --------------------------------------------------------------------------
    def cursor(self) -> "PgConnection":
        return PgConnection(self._pool)

    def _connection(self):
        if self._raw is None or self._raw.closed:
            self._raw = self._pool.take().raw
        return self._raw

    def execute(self, sql: str, params=None) -> "PgConnection":
        raw = self._connection()
        match = _REPLACE_TEMP.match(sql)
        if match:
            raw.execute(f'DROP TABLE IF EXISTS pg_temp."{match.group(1)}"')
            sql = "CREATE TEMP TABLE" + sql[match.end() - len(match.group(1)) - 1:]
        stripped = sql.strip().upper()
        if stripped == "CHECKPOINT":
            self._cur = None
            return self
        try:
            self._cur = raw.execute(translate(sql), tuple(params) if params is not None else ())
        except psycopg.errors.LockNotAvailable as e:
            raise LockTimeout(str(e)) from None
        return self

    def fetchone(self):
        return self._cur.fetchone()

    def fetchall(self):
        return self._cur.fetchall()

    def fetchmany(self, size: int):
        return self._cur.fetchmany(size)

    def arrow(self) -> pa.Table:
        cur = self._cur
        names = [d.name for d in cur.description]
        rows = cur.fetchall()
        columns = list(zip(*rows)) if rows else [()] * len(names)
        arrays = []
        for d, values in zip(cur.description, columns):
            kind = _ARROW_TYPES.get(d.type_code)
            if d.type_code == 1700:
                kind = pa.float64() if any(isinstance(v, float) for v in values) else pa.int64()
            arrays.append(pa.array(list(values), type=kind) if kind is not None else pa.array(list(values)))
        return pa.table(arrays, names=names)

    to_arrow_table = arrow

    def df(self):
        return _to_pandas(self.arrow())

    def register(self, name: str, table) -> None:
        """A temporary table `name` holding the Arrow table (or pandas frame), loaded with COPY."""
        if not isinstance(table, pa.Table):
            table = pa.Table.from_pandas(table, preserve_index=False)
        raw = self._connection()
        columns = []
        for field in table.schema:
            sql_type = next((t for test, t in _SQL_TYPES if test(field.type)), None)
            if sql_type is None:
                raise PgError(f"no PostgreSQL type for column {field.name} ({field.type})")
            columns.append(f'"{field.name}" {sql_type}')
        raw.execute(f'DROP TABLE IF EXISTS pg_temp."{name}"')
        raw.execute(f'CREATE TEMP TABLE "{name}" ({", ".join(columns)})')
        copy_arrow(raw, f'pg_temp."{name}"', table)

    def unregister(self, name: str) -> None:
        self._connection().execute(f'DROP TABLE IF EXISTS pg_temp."{name}"')

    def close(self) -> None:
        raw, self._raw, self._cur = self._raw, None, None
        if raw is not None:
            self._pool.give(raw)

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: S110 (interpreter shutdown: nothing to give back to)
            pass

    # -- PostgreSQL's own guarantees ---------------------------------------------------------------
    def lock_for_write(self, wait_seconds: float) -> None:
        """Inside a transaction: wait (up to wait_seconds) for the one write lock of the database,
        held until commit or rollback, so writers in every process and on every machine take turns."""
        raw = self._connection()
        raw.execute(f"SET LOCAL lock_timeout = '{int(max(wait_seconds, 0.001) * 1000)}ms'")
        try:
            raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
        except psycopg.errors.LockNotAvailable as e:
            raise LockTimeout(str(e)) from None
        raw.execute("SET LOCAL lock_timeout = 0")

    @contextmanager
    def build_lock(self) -> Iterator[None]:
        """A session lock while a new store is built, so replicas starting together build it once."""
        raw = self._connection()
        raw.execute("SELECT pg_advisory_lock(%s)", (BUILD_LOCK_KEY,))
        try:
            yield
        finally:
            raw.execute("SELECT pg_advisory_unlock(%s)", (BUILD_LOCK_KEY,))


def copy_arrow(raw, target: str, table: pa.Table) -> None:
    """Bulk-load an Arrow table into `target` (columns in the table's order) with COPY ... CSV.
    Every non-null value is quoted, so an empty text is '' and only a missing one is NULL."""
    if table.num_rows == 0:
        return
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, quoting_style="all_valid"))
    names = ", ".join(f'"{n}"' for n in table.column_names)
    with raw.cursor().copy(f"COPY {target} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
        view = buffer.getbuffer()
        for start in range(0, len(view), 1 << 20):
            copy.write(view[start:start + (1 << 20)])
