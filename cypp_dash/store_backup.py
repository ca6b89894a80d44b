"""Whole-store copies: backup to one zip (a manifest and one Parquet file per table), the check that
a file is a backup of this dashboard, restore in one transaction, and the content checksum that proves a
copy (or a refused change) left every table as it was. Works on either engine, and across them."""
from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from cypp_dash import pgstore, store_engine
from cypp_dash.store_engine import (
    PROJECT_MARK,
    SCHEMA_VERSION,
    StoreError,
    audit,
    backend,
    log_event,
    now,
    refresh_held_periods,
    refresh_statistics,
    write_transaction,
)

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
    with store_engine.write_lock:
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
        log_event(wcur, now(), user, "restore", source.name)
    refresh_statistics(conn)  # every table was replaced
