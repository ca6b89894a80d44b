"""Reading figures from the store: a series of headline figures as at a time, the periods held, an
area's latest figure of every indicator, area names and the history of uploads. Parameterised SQL that
both engines run alike."""
from __future__ import annotations

from datetime import date, datetime

import duckdb
import pandas as pd

from cypp_dash.store_engine import as_at_clause


def series(conn: duckdb.DuckDBPyConnection, indicator_ids: list[str], area_codes: list[str],
           up_to: date | None = None, as_at: datetime | date | None = None, category: str = "") -> pd.DataFrame:
    """Every headline figure for these indicators and areas up to a period end, as at a time, oldest first."""
    if not indicator_ids or not area_codes:
        return pd.DataFrame(columns=_SERIES_COLUMNS)
    clause, params = as_at_clause(as_at)
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


def history(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every batch with who loaded it, when, and what it changed; newest first."""
    return conn.cursor().execute(
        "SELECT batch_id, kind, user_name, file_name, loaded_at, rows_added, rows_revised, rows_unchanged, status, "
        "rolled_back_at, rolled_back_by, sha256 FROM batches ORDER BY batch_id DESC").df()
