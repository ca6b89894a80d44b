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
from cypp_dash.store_engine import read_frame

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


def measures(conn: duckdb.DuckDBPyConnection, indicator_ids: list[str] | None = None) -> pd.DataFrame:
    """Every published measure's description (or only those asked for), by topic then name."""
    if indicator_ids is None:
        return read_frame(conn, "SELECT * FROM published_measures ORDER BY topic, name", [])
    return read_frame(conn, """SELECT m.* FROM published_measures m
                           JOIN (SELECT DISTINCT unnest(?::VARCHAR[]) AS indicator_id) w USING (indicator_id)
                           ORDER BY topic, name""", [list(indicator_ids)])


def areas(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Local authorities, regions and England as the published data knows them."""
    return read_frame(conn, "SELECT * FROM published_areas ORDER BY kind, name", [])


def neighbours(conn: duckdb.DuckDBPyConnection, area_code: str) -> pd.DataFrame:
    """An authority's statistical neighbours, closest first, with their names."""
    return read_frame(conn, """SELECT n.position, n.neighbour_code AS code, coalesce(a.name, n.neighbour_code) AS name,
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
    return read_frame(conn, sql, params)


def area_benchmarks(conn: duckdb.DuckDBPyConnection, area_code: str, region_code: str | None,
                    indicator_ids: list[str] | None = None) -> pd.DataFrame:
    """An area's benchmarks worked out in SQL, one row per measure the area has a figure for: its latest
    row (`period, year, value, note, source, licence`) and the figure before it (`previous`); England's,
    its region's, London's and its neighbours' mean figure for that period; its rank among local
    authorities in the measure's latest year (`rank`, `rank_of`) and that year's quantiles `q0..q4`; and
    whether its region (a London half) has a figure in the measure's latest year (`region_has_latest`).

    The rules are LAIT's, as `benchmark` states them: ranks by polarity with ties sharing the lower rank
    (RANK() over the figures, no figure no rank); R's type 7 quantiles computed as R computes them,
    x[lo] * (1 - h) + x[hi] * h only where x[hi] differs, on the same IEEE doubles (so bands agree to
    the last bit with `benchmark.quantiles`); neighbours' mean over those with a figure. One statement (one
    round trip on either engine), so one long function: its named CTEs are the steps."""
    wanted = ("JOIN (SELECT DISTINCT unnest(?::VARCHAR[]) AS indicator_id) w USING (indicator_id)"
              if indicator_ids is not None else "")
    params: list = [list(indicator_ids)] if indicator_ids is not None else []
    sql = f"""WITH cur AS (
                  SELECT o.indicator_id, o.area_code, o.period, o.period_end, o.value, o.note, o.batch_id,
                         a.kind, CAST(EXTRACT(YEAR FROM o.period_start) AS INTEGER) AS year, m.polarity
                  FROM observations o
                  JOIN published_measures m USING (indicator_id)
                  {wanted}
                  JOIN published_areas a ON a.code = o.area_code
                  WHERE o.superseded_at IS NULL AND o.category = ''),
              la_latest AS (SELECT indicator_id, max(year) AS y FROM cur WHERE kind = 'la' GROUP BY indicator_id),
              any_latest AS (SELECT indicator_id, max(year) AS y FROM cur GROUP BY indicator_id),
              national AS (
                  SELECT c.indicator_id, c.area_code, c.value, c.polarity,
                         RANK() OVER (PARTITION BY c.indicator_id
                                      ORDER BY CASE WHEN c.polarity = 'High' THEN -c.value ELSE c.value END
                                      NULLS LAST) AS rank,
                         COUNT(c.value) OVER (PARTITION BY c.indicator_id) AS rank_of
                  FROM cur c JOIN la_latest l ON l.indicator_id = c.indicator_id AND c.year = l.y
                  WHERE c.kind = 'la'),
              ordered AS (
                  SELECT indicator_id, value,
                         ROW_NUMBER() OVER (PARTITION BY indicator_id ORDER BY value) - 1 AS pos,
                         COUNT(*) OVER (PARTITION BY indicator_id) AS n
                  FROM national WHERE value IS NOT NULL),
              probs (k, p) AS (VALUES (0, CAST(0 AS DOUBLE PRECISION)), (1, CAST(0.25 AS DOUBLE PRECISION)),
                                      (2, CAST(0.5 AS DOUBLE PRECISION)), (3, CAST(0.75 AS DOUBLE PRECISION)),
                                      (4, CAST(1 AS DOUBLE PRECISION))),
              points AS (
                  SELECT o.indicator_id, pr.k, CAST(o.n - 1 AS DOUBLE PRECISION) * pr.p AS i
                  FROM (SELECT DISTINCT indicator_id, n FROM ordered) o CROSS JOIN probs pr),
              quantiles AS (
                  SELECT x.indicator_id,
                         max(CASE WHEN x.k = 0 THEN x.q END) AS q0, max(CASE WHEN x.k = 1 THEN x.q END) AS q1,
                         max(CASE WHEN x.k = 2 THEN x.q END) AS q2, max(CASE WHEN x.k = 3 THEN x.q END) AS q3,
                         max(CASE WHEN x.k = 4 THEN x.q END) AS q4
                  FROM (SELECT pt.indicator_id, pt.k,
                               CASE WHEN pt.i > floor(pt.i) AND hi.value <> lo.value
                                    THEN (1 - (pt.i - floor(pt.i))) * lo.value + (pt.i - floor(pt.i)) * hi.value
                                    ELSE lo.value END AS q
                        FROM points pt
                        JOIN ordered lo ON lo.indicator_id = pt.indicator_id AND lo.pos = floor(pt.i)
                        JOIN ordered hi ON hi.indicator_id = pt.indicator_id AND hi.pos = ceil(pt.i)) x
                  GROUP BY x.indicator_id),
              own AS (
                  SELECT c.*, ROW_NUMBER() OVER (PARTITION BY c.indicator_id
                                                 ORDER BY c.year DESC, c.period_end) AS recency
                  FROM cur c WHERE c.area_code = ?),
              mine AS (SELECT * FROM own WHERE recency = 1),
              peers AS (
                  SELECT m.indicator_id,
                         max(CASE WHEN c.area_code = 'E92000001' THEN c.value END) AS england,
                         max(CASE WHEN c.area_code = ? THEN c.value END) AS region,
                         max(CASE WHEN c.area_code = 'E12000007' THEN c.value END) AS london
                  FROM mine m JOIN cur c ON c.indicator_id = m.indicator_id AND c.period = m.period
                  WHERE c.area_code IN ('E92000001', 'E12000007', ?)
                  GROUP BY m.indicator_id),
              sn AS (
                  SELECT m.indicator_id, avg(c.value) AS neighbours_average
                  FROM mine m JOIN cur c ON c.indicator_id = m.indicator_id AND c.period = m.period
                  JOIN published_neighbours pn ON pn.neighbour_code = c.area_code AND pn.area_code = ?
                  GROUP BY m.indicator_id),
              region_latest AS (
                  SELECT DISTINCT c.indicator_id FROM cur c JOIN any_latest l ON l.indicator_id = c.indicator_id
                  WHERE c.area_code = ? AND c.year = l.y AND c.value IS NOT NULL)
              SELECT m.indicator_id, m.period, m.year, m.value, m.note, b.source, b.licence,
                     prev.value AS previous, p.england, p.region, p.london, sn.neighbours_average,
                     CASE WHEN nat.value IS NOT NULL THEN nat.rank END AS rank, cnt.rank_of,
                     q.q0, q.q1, q.q2, q.q3, q.q4,
                     rl.indicator_id IS NOT NULL AS region_has_latest
              FROM mine m
              LEFT JOIN own prev ON prev.indicator_id = m.indicator_id AND prev.recency = 2
              LEFT JOIN batches b ON b.batch_id = m.batch_id
              LEFT JOIN peers p ON p.indicator_id = m.indicator_id
              LEFT JOIN sn ON sn.indicator_id = m.indicator_id
              LEFT JOIN national nat ON nat.indicator_id = m.indicator_id AND nat.area_code = m.area_code
              LEFT JOIN (SELECT DISTINCT indicator_id, rank_of FROM national) cnt ON cnt.indicator_id = m.indicator_id
              LEFT JOIN quantiles q ON q.indicator_id = m.indicator_id
              LEFT JOIN region_latest rl ON rl.indicator_id = m.indicator_id
              ORDER BY m.indicator_id
              """  # noqa: S608 (constant SQL)
    region = region_code or ""
    return read_frame(conn, sql, [*params, area_code, region, region, area_code, region])


def has_published(conn: duckdb.DuckDBPyConnection, area_code: str) -> bool:
    return bool(read_frame(conn, "SELECT count(*) AS n FROM published_areas WHERE code = ?", [area_code])["n"].iloc[0])
