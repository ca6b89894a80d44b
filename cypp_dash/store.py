"""The store: loading figures (all or nothing, each upload one batch that supersedes, never overwrites,
the figures it revises), writing the plan from the configuration, and rolling an upload back. Every
query here is parameterised. The rest of the store layer, all reachable as `store.<name>`:
cypp_dash/store_engine.py (schema, connections, transactions, the audit log), store_reads.py (reading
figures), store_backup.py (backup and restore); and for the other tables store_accounts.py,
store_actions.py, store_commentary.py, store_releases.py and published_store.py. The embedded DuckDB file
is the default; CYPP_DB=postgresql://... runs the same functions on PostgreSQL (cypp_dash/pgstore.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cypp_dash import store_reads
from cypp_dash.config import Config
from cypp_dash.periods import parse_period
from cypp_dash.store_backup import BACKUP_FORMAT, backup, check_backup, content_checksum, restore  # noqa: F401
from cypp_dash.store_engine import (  # noqa: F401 (the store's names, one import away for callers)
    DEFAULT_DB,
    PG_INDEXES,
    PROJECT_MARK,
    PUBLISHED_SCHEMA,
    SCHEMA,
    SCHEMA_VERSION,
    Snapshot,
    StoreBusy,
    StoreError,
    _after_write,
    audit,
    audit_log,
    backend,
    build_lock,
    close_process_connections,
    connect,
    data_version,
    db_path,
    describe,
    end_of,
    ensure_schema,
    is_empty,
    log_event,
    now,
    off_write,
    on_write,
    process_connection,
    refresh_held_periods,
    refresh_statistics,
    snapshot,
    write_transaction,
)

OBSERVATION_COLUMNS = ["indicator_id", "area_code", "period", "period_start", "period_end", "category", "value",
                       "numerator", "denominator", "ci_low", "ci_high", "ci99_low", "ci99_high", "note", "flags",
                       "compared_with_england"]
_COMPARED = ["value", "numerator", "denominator", "ci_low", "ci_high", "ci99_low", "ci99_high", "note", "flags",
             "compared_with_england"]


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


# Does any incoming (indicator, period) already have figures? held_periods lists every pair with current
# figures (kept by load_batch, rebuilt after a rollback or a restore): a lookup in a small table.
_ANY_HELD = """SELECT count(*) FROM (SELECT DISTINCT indicator_id, period FROM incoming) i
               JOIN held_periods h USING (indicator_id, period)"""
_MEETS = _CLASSIFY + " SELECT n, old_id, change FROM classified WHERE change <> 'added'"  # noqa: S608 (constant)
_NONE_CLASSIFIED = "SELECT n, CAST(NULL AS BIGINT) AS old_id, CAST(NULL AS VARCHAR) AS change FROM incoming WHERE 1 = 0"


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
        # Only the incoming figures that meet a current one are kept aside, by their place `n`; every other row
        # is added, written straight from the Arrow table with no join on text. A file none of whose
        # (indicator, period) pairs is held yet (a new quarter) meets no current figure: no comparison at all.
        meets = _MEETS if cur.execute(_ANY_HELD).fetchone()[0] else _NONE_CLASSIFIED
        cur.execute("CREATE OR REPLACE TEMP TABLE classified_rows AS " + meets)  # noqa: S608 (constant SQL)
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
        log_event(cur, at, user, "rollback", f"batch {batch_id}")



# Reading figures (cypp_dash/store_reads.py), one name away for callers like the rest of the store.
series, periods_held, indicators_for_area, area_names, history = (
    store_reads.series, store_reads.periods_held, store_reads.indicators_for_area, store_reads.area_names,
    store_reads.history)
