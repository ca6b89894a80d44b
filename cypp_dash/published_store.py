"""The store's side of published comparator data (LAIT and EES): what each published measure is
(topic, polarity, next update), which areas are local authorities, regions or England, and each
authority's statistical neighbours. The figures themselves are ordinary observations (history,
revisions and rollback as for any upload); these tables describe them. Every query is parameterised, in
SQL that DuckDB and PostgreSQL both run (the store's two back ends). The tables are part of every store's
schema (store_engine.PUBLISHED_SCHEMA, created when a store is opened), so a restore always has them."""
from __future__ import annotations

import duckdb
import pandas as pd

from cypp_dash import store

MEASURE_COLUMNS = ["indicator_id", "source", "short_name", "name", "topic", "polarity", "unit_label", "decimals",
                   "year_type", "description", "last_update", "next_update", "data_owner", "methodology",
                   "no_quartile", "discontinued"]
AREA_COLUMNS = ["code", "la_number", "name", "kind", "region_name", "la_type"]
NEIGHBOUR_COLUMNS = ["area_code", "position", "neighbour_code", "closeness"]


def replace_metadata(conn: duckdb.DuckDBPyConnection, source: str, measures: pd.DataFrame,
                     areas: pd.DataFrame | None = None, neighbours: pd.DataFrame | None = None) -> None:
    """Replace one source's measure descriptions (and, when given, the area and neighbour lists) at once."""
    with store.write_transaction(conn) as cur:
        cur.register("incoming_measures", measures[MEASURE_COLUMNS])
        cur.execute("DELETE FROM published_measures WHERE source = ?", [source])
        cur.execute("INSERT INTO published_measures SELECT * FROM incoming_measures ON CONFLICT DO NOTHING")
        cur.unregister("incoming_measures")
        if areas is not None:
            cur.register("incoming_areas", areas[AREA_COLUMNS])
            cur.execute("DELETE FROM published_areas")
            cur.execute("INSERT INTO published_areas SELECT * FROM incoming_areas")
            cur.unregister("incoming_areas")
            for code, name, kind in areas[["code", "name", "kind"]].itertuples(index=False):
                cur.execute("INSERT INTO areas VALUES (?, ?, ?, NULL) ON CONFLICT DO NOTHING",
                            [code, name, {"la": "local authority"}.get(kind, kind)])
        if neighbours is not None:
            cur.register("incoming_neighbours", neighbours[NEIGHBOUR_COLUMNS])
            cur.execute("DELETE FROM published_neighbours")
            cur.execute("INSERT INTO published_neighbours SELECT * FROM incoming_neighbours")
            cur.unregister("incoming_neighbours")


def _frame(conn: duckdb.DuckDBPyConnection, sql: str, params: list) -> pd.DataFrame:
    cur = conn.cursor()
    try:
        return cur.execute(sql, params).df()
    finally:
        cur.close()


def measures(conn: duckdb.DuckDBPyConnection, indicator_ids: list[str] | None = None) -> pd.DataFrame:
    """Every published measure's description (or only those asked for), by topic then name."""
    if indicator_ids is None:
        return _frame(conn, "SELECT * FROM published_measures ORDER BY topic, name", [])
    return _frame(conn, """SELECT m.* FROM published_measures m
                           JOIN (SELECT DISTINCT unnest(?::VARCHAR[]) AS indicator_id) w USING (indicator_id)
                           ORDER BY topic, name""", [list(indicator_ids)])


def areas(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Local authorities, regions and England as the published data knows them."""
    return _frame(conn, "SELECT * FROM published_areas ORDER BY kind, name", [])


def neighbours(conn: duckdb.DuckDBPyConnection, area_code: str) -> pd.DataFrame:
    """An authority's statistical neighbours, closest first, with their names."""
    return _frame(conn, """SELECT n.position, n.neighbour_code AS code, coalesce(a.name, n.neighbour_code) AS name,
                                  n.closeness
                           FROM published_neighbours n LEFT JOIN published_areas a ON a.code = n.neighbour_code
                           WHERE n.area_code = ? ORDER BY n.position""", [area_code])


def upsert_measures(conn: duckdb.DuckDBPyConnection, measures: pd.DataFrame) -> None:
    """Add or replace these measures' descriptions (an EES file's indicators), leaving the others."""
    with store.write_transaction(conn) as cur:
        cur.register("incoming_measures", measures[MEASURE_COLUMNS])
        cur.execute("DELETE FROM published_measures WHERE indicator_id IN (SELECT indicator_id FROM incoming_measures)")
        cur.execute("INSERT INTO published_measures SELECT * FROM incoming_measures")
        cur.unregister("incoming_measures")


def figures(conn: duckdb.DuckDBPyConnection, indicator_ids: list[str] | None = None) -> pd.DataFrame:
    """The current published figures of these measures (or every measure of a source) for every area the
    published data knows, with each area's kind: the input to ranks, quartiles and averages."""
    wanted = ("JOIN (SELECT DISTINCT unnest(?::VARCHAR[]) AS indicator_id) w USING (indicator_id)"
              if indicator_ids is not None else "")
    params: list = [list(indicator_ids)] if indicator_ids is not None else []
    sql = f"""SELECT o.indicator_id, o.area_code, o.period, o.period_start, o.period_end, o.value, o.note,
                     o.flags, a.kind, b.source, b.licence
              FROM observations o
              JOIN published_measures m USING (indicator_id)
              {wanted}
              JOIN published_areas a ON a.code = o.area_code
              LEFT JOIN batches b USING (batch_id)
              WHERE o.superseded_at IS NULL AND o.category = ''
              ORDER BY o.indicator_id, o.area_code, o.period_end"""  # noqa: S608 (constant SQL)
    return _frame(conn, sql, params)


def figures_around(conn: duckdb.DuckDBPyConnection, area_codes: list[str],
                   indicator_ids: list[str] | None = None) -> pd.DataFrame:
    """What an area's benchmarks need, and no more: every year of these areas (the area, England, its
    region, its neighbours) and every local authority's figure in each measure's latest year."""
    wanted = ("JOIN (SELECT DISTINCT unnest(?::VARCHAR[]) AS indicator_id) w USING (indicator_id)"
              if indicator_ids is not None else "")
    params: list = [list(indicator_ids)] if indicator_ids is not None else []
    sql = f"""WITH cur AS (
                  SELECT o.indicator_id, o.area_code, o.period, o.period_start, o.period_end, o.value, o.note,
                         o.flags, a.kind, o.batch_id
                  FROM observations o
                  JOIN published_measures m USING (indicator_id)
                  {wanted}
                  JOIN published_areas a ON a.code = o.area_code
                  WHERE o.superseded_at IS NULL AND o.category = ''),
              latest AS (SELECT indicator_id, max(EXTRACT(YEAR FROM period_start)) AS y FROM cur
                         WHERE kind = 'la' GROUP BY indicator_id)
              SELECT c.indicator_id, c.area_code, c.period, c.period_start, c.period_end, c.value, c.note, c.flags,
                     c.kind, b.source, b.licence
              FROM cur c LEFT JOIN latest l USING (indicator_id) LEFT JOIN batches b USING (batch_id)
              WHERE c.area_code IN (SELECT unnest(?::VARCHAR[]))
                 OR (c.kind = 'la' AND EXTRACT(YEAR FROM c.period_start) = l.y)
              ORDER BY c.indicator_id, c.area_code, c.period_end
              """  # noqa: S608 (constant SQL; the order makes averages sum alike on every engine and run)
    return _frame(conn, sql, [*params, list(area_codes)])


def has_published(conn: duckdb.DuckDBPyConnection, area_code: str) -> bool:
    return bool(_frame(conn, "SELECT count(*) AS n FROM published_areas WHERE code = ?", [area_code])["n"].iloc[0])
