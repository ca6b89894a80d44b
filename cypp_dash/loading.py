"""From file to store: validate with ingest, then load with store; and build a new store from
the bundled plans, baselines and data (what `init-db` and the app's first run do)."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd

from cypp_dash import ingest, store
from cypp_dash.config import ROOT, Config, Plan
from cypp_dash.periods import parse_period, quarter_containing

FINGERTIPS_SOURCE = ("OHID Fingertips (Public Health Profiles), collected by Trafford Data Lab with fingertipsR")
OGL = "Contains public sector information licensed under the Open Government Licence v3.0"


def _today() -> date:
    """Today, or the date in CYPP_TODAY (YYYY-MM-DD) so checks of "in the future" can be reproduced."""
    fixed = os.environ.get("CYPP_TODAY")
    return date.fromisoformat(fixed) if fixed else date.today()


def upload_rules(config: Config, today: date | None = None, accept_unknown: bool = False) -> ingest.UploadRules:
    """What an upload may name: every KPI of every plan and every configured area."""
    return ingest.UploadRules(indicator_units=config.indicator_units(), area_lookup=config.area_lookup(),
                              today=today or _today(), max_bytes=config.settings.upload_max_mb * 1024 * 1024,
                              accept_unknown_indicators=accept_unknown)


@dataclass
class ImportOutcome:
    """What happened to one file: loaded (with the batch) or refused (with every problem)."""

    validated: ingest.Validated
    result: store.LoadResult | None = None

    @property
    def loaded(self) -> bool:
        return self.result is not None


def validate(config: Config, data: bytes, file_name: str, today: date | None = None) -> ingest.Validated:
    from cypp_dash import ees, lait

    if ees.looks_like_ees(data):  # a DfE explore-education-statistics open-data file
        return ees.validate(data, file_name)
    if file_name.lower().endswith(".parquet"):  # a LAIT long file (bds_long_*.parquet)
        return lait.validate(data, file_name, lait.ons_codes(),
                             set(lait.read_dictionary(lait.bundled().dictionary)["short_name"]))
    v = ingest.validate_upload(data, file_name, upload_rules(config, today))
    if v.kind == "fingertips" and not v.ok:
        # A Fingertips download may hold published indicators no plan reads yet: they are kept
        # (the Wider outcomes page lists them), so only its other problems may refuse it.
        v = ingest.validate_upload(data, file_name, upload_rules(config, today, accept_unknown=True))
    return v


def load_validated(conn: duckdb.DuckDBPyConnection, v: ingest.Validated, user: str, *, source: str = "",
                   licence: str = "", illustrative: bool = False, kind: str | None = None,
                   progress: Callable[[float, str], None] | None = None) -> store.LoadResult:
    """Write a file that passed validation, as one batch."""
    area_names: dict[str, str] = {}
    indicator_names: dict[str, str] = {}
    # The quick path's rows are already in the store's types, and a contract file names no area or indicator.
    rows = v.rows if v.store_table is None else v.store_table
    if v.store_table is None and "area_name" in rows.columns:
        named = rows.dropna(subset=["area_name"]).drop_duplicates("area_code")
        area_names = dict(zip(named["area_code"], named["area_name"]))
    if v.store_table is None and "indicator_name" in rows.columns:
        named = rows.dropna(subset=["indicator_name"]).drop_duplicates("indicator_id")
        indicator_names = dict(zip(named["indicator_id"], named["indicator_name"]))
    if v.kind == "fingertips":
        source = source or FINGERTIPS_SOURCE
        licence = licence or OGL
    if v.kind in ("lait", "ees"):
        return _load_published_file(conn, v, user, progress)
    return store.load_batch(conn, rows, user=user, file_name=v.file_name, sha256=v.sha256,
                            kind=kind or v.kind, source=source, licence=licence, illustrative=illustrative,
                            area_names=area_names, indicator_names=indicator_names, progress=progress)


def _load_published_file(conn, v: ingest.Validated, user: str, progress) -> store.LoadResult:
    """A LAIT or EES file loaded from the command line or the upload page: figures as one batch (history,
    revisions, rollback as for any upload), then their descriptions in the published-measures tables."""
    from cypp_dash import ees, lait, published_store

    if v.kind == "lait":
        files = lait.bundled()
        codes = lait.ons_codes()
        measures = lait.read_dictionary(files.dictionary)
        la, sn = lait.read_neighbours(files.neighbours, codes)
        lait._describe(conn, measures, la, sn, codes, v.rows)
        names = dict(zip(measures["indicator_id"], measures["name"]))
        source, licence = lait.SOURCE, lait.LICENCE
    else:
        published_store.upsert_measures(conn, ees.measures_frame(v.rows, v.file_name))
        names = dict(zip(v.rows["indicator_id"], v.rows["indicator_name"]))
        source, licence = ees.SOURCE + f" ({v.file_name})", ees.LICENCE
    rows = v.rows
    area_names = rows.drop_duplicates("area_code").set_index("area_code")["area_name"].to_dict()
    return store.load_batch(conn, rows.drop(columns=[c for c in ("area_name", "indicator_name") if c in rows]),
                            user=user, file_name=v.file_name, sha256=v.sha256, kind=v.kind, source=source,
                            licence=licence, area_names=area_names, indicator_names=names, progress=progress)


def import_file(conn: duckdb.DuckDBPyConnection, config: Config, data: bytes, file_name: str, user: str,
                today: date | None = None, **kwargs) -> ImportOutcome:
    """Validate then load: a refused file writes nothing."""
    v = validate(config, data, file_name, today)
    if not v.ok:
        return ImportOutcome(v)
    return ImportOutcome(v, load_validated(conn, v, user, **kwargs))


# --- the bundled store ---------------------------------------------------------------------------

def plan_rows(plan: Plan) -> pd.DataFrame:
    """The plan's own published figures: its area's baselines and England's, where the seed gives them."""
    rows = []
    for k in plan.kpis:
        if k.baseline.value is not None and k.baseline.period:
            rows.append((k.indicator_id, plan.area, k.baseline.period, k.baseline.value, k.baseline.text))
        # England figures in other units (SG02: weeks) stay in the plan only: the store holds
        # each indicator's figures in one unit.
        if k.england.value is not None and k.england.period and k.england.unit == k.unit:
            rows.append((k.indicator_id, "E92000001", k.england.period, k.england.value, k.england.text))
    df = pd.DataFrame(rows, columns=["indicator_id", "area_code", "period", "value", "note"])
    df = df.drop_duplicates(["indicator_id", "area_code", "period"])
    df["period"] = df["period"].map(lambda p: parse_period(p).label)
    df["category"] = ""
    df["flags"] = ""
    return df


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_store(conn: duckdb.DuckDBPyConnection, config: Config, progress: Callable[[str], None] = print) -> None:
    """Create or refresh the store from config and data/: safe to repeat (a file loads once)."""
    with store.write_transaction(conn) as cur:
        store.sync_plans(cur, config)
        store.sync_actions(cur, config)
    for plan in config.plans:
        rows = plan_rows(plan)
        if not rows.empty:
            sha = _digest(rows.to_csv(index=False).encode())
            if store.file_already_loaded(conn, sha) is None:
                r = store.load_batch(conn, rows, user="init-db", file_name=f"{plan.file or 'config.yaml'}: {plan.id}",
                                     sha256=sha, kind="plan", source=plan.source_document or plan.name)
                progress(f"{plan.id}: plan figures loaded (batch {r.batch_id}, {r.added} added)")
        files: list[tuple[str, bool]] = [(f, False) for f in plan.data_files]
        if plan.illustrative_data:
            files.append((plan.illustrative_data, True))
        for rel, illustrative in files:
            path = ROOT / rel
            data = path.read_bytes()
            if store.file_already_loaded(conn, _digest(data)) is not None:
                continue
            v = ingest.validate_upload(data, path.name, upload_rules(config, accept_unknown=not illustrative))
            if not v.ok:
                problems = "; ".join(str(p) for p in v.problems[:5])
                raise store.StoreError(f"bundled file {rel} does not validate: {problems}")
            meta = _source_beside(path)
            r = load_validated(conn, v, "init-db", illustrative=illustrative,
                               kind="illustrative" if illustrative else None,
                               source=meta.get("source", "Illustrative figures generated by tools.demo_data "
                                               "(not real data)" if illustrative else ""),
                               licence=meta.get("licence", ""))
            progress(f"{plan.id}: {rel} loaded (batch {r.batch_id}, {r.added} added)")
    _load_published(conn, progress)
    store.refresh_statistics(conn)


def _load_published(conn: duckdb.DuckDBPyConnection, progress: Callable[[str], None]) -> None:
    """DfE's published figures for every English local authority (LAIT), when bundled in data/lait."""
    from cypp_dash import lait

    if lait.bundled().data.exists():
        lait.import_lait(conn, progress=progress)


def _source_beside(path: Path) -> dict[str, str]:
    """Read `source:` and `licence:` lines from a SOURCE.md beside a bundled data file, if any."""
    meta: dict[str, str] = {}
    for candidate in (path.with_suffix(".source.md"), path.parent / "SOURCE.md"):
        if candidate.exists():
            for line in candidate.read_text(encoding="utf-8").splitlines():
                key, _, value = line.partition(":")
                if key.strip().lower() in ("source", "licence") and value.strip():
                    meta.setdefault(key.strip().lower(), value.strip())
            break
    return meta


def ensure_store(conn: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Build the store on first run; afterwards only refresh the plan tables from config."""
    if store.is_empty(conn):
        with store.build_lock(conn):  # replicas sharing one PostgreSQL build it once
            if store.is_empty(conn):
                build_store(conn, config, progress=lambda m: None)


# --- the upload template ------------------------------------------------------------------------

TEMPLATE_COLUMNS = ["kpi", "area", "period", "value", "numerator", "denominator", "note"]


def upload_template(config: Config, plan: Plan, today: date | None = None) -> pd.DataFrame:
    """The upload format with one example row: the plan's first KPI, its area, the last full quarter."""
    today = today or date.today()
    last_quarter = quarter_containing(quarter_containing(today).start.replace(day=1) - pd.Timedelta(days=1))
    kpi = next((k for k in plan.kpis if k.unit == "percent"), plan.kpis[0] if plan.kpis else None)
    example = {"kpi": kpi.code if kpi else "", "area": plan.area, "period": last_quarter.label,
               "value": "87.6" if kpi and kpi.unit == "percent" else "120", "numerator": "876" if kpi and
               kpi.unit == "percent" else "", "denominator": "1000" if kpi and kpi.unit == "percent" else "",
               "note": "Example row: replace with your figures"}
    return pd.DataFrame([example], columns=TEMPLATE_COLUMNS)


def template_reference(config: Config, plan: Plan) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What may go in the `kpi` and `area` columns, for the template's other sheets."""
    kpis = pd.DataFrame([{"kpi": k.code, "name": k.name, "unit": k.unit_text,
                          "rules": "0-100" if k.unit == "percent" else "whole number, 0 or more"
                          if k.unit == "count" else "0 or more"} for k in plan.kpis])
    areas = pd.DataFrame([{"area": a, "name": config.area_name(a)} for a in (plan.area, *plan.districts,
                                                                            *plan.comparators)])
    return kpis, areas
