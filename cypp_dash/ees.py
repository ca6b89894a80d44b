"""DfE explore-education-statistics (EES) open-data CSV files: the importer.

Every DfE statistics release publishes its data in one layout: `time_period, time_identifier,
geographic_level, country_code, country_name, region_code, region_name, old_la_code, new_la_code,
la_name`, then filter columns (text, e.g. `characteristic`, `breakdown`) and measure columns (figures,
or EES symbols). A file is checked like any upload (all or nothing, problems by row and column) and
each measure column, for each combination of filter values, becomes one indicator:

    ees:<file>:<measure>                      e.g. ees:d3_cpps_subsequent_plan:CPP_subsequent_percent
    ees:<file>:<measure>[<value>|<value>]     e.g. ees:la_conviction_health_outcome_cla:children_percent
                                                   [Health assessments: Children looked after all ages|
                                                    Had their annual health assessment]

`<file>` is the file name without `.csv` and without a trailing `_YYYY_to_YYYY`; the bracketed filter
values follow the file's column order. A filter column with one value across the whole file (e.g.
`category` in the d3 file) is left out of the id. Areas: England by `country_code`, regions by
`region_code`, local authorities by `new_la_code` (ONS); a row's `old_la_code` (DfE's three-digit
code) must agree with the ONS code other rows give it. EES symbols are kept as "no figure" with their
meaning in the row's note (`c` also flags it suppressed).
"""
from __future__ import annotations

import hashlib
import io
import re
from datetime import date

import numpy as np
import pandas as pd

from cypp_dash import ingest

PREFIX = "ees:"
GEOGRAPHY = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
             "region_name", "old_la_code", "new_la_code", "la_name"]
REQUIRED = ["time_period", "time_identifier", "geographic_level", "country_code"]
LEVELS = {"National": "country_code", "Regional": "region_code", "Local authority": "new_la_code"}
SYMBOLS = {"c": "suppressed (confidential)", "x": "not available", "z": "not applicable", ":": "not available",
           "low": "rounds to zero", "k": "rounds to zero", "u": "low reliability", "~": "rounds to zero",
           "": "no figure published"}
SOURCE = "Department for Education, explore education statistics open data"
LICENCE = "Open Government Licence v3.0"
_GSS = re.compile(r"^E\d{8}$")


def looks_like_ees(data: bytes) -> bool:
    head = data[:2000].decode("utf-8-sig", errors="replace").splitlines()[:1]
    cols = [c.strip().strip('"').lower() for c in head[0].split(",")] if head else []
    return all(c in cols for c in REQUIRED)


def dataset_name(file_name: str) -> str:
    stem = re.sub(r"\.csv$", "", file_name.rsplit("/", 1)[-1], flags=re.I)
    return re.sub(r"_\d{4}_to_\d{4}$", "", stem)


def period_of(time_period: str, identifier: str) -> tuple[str, date, date] | None:
    """EES periods: `202425` (academic or financial year) -> 2024/25; a four-digit `Reporting year` is the
    year to 31 March (children's social care); a `Calendar year` January to December."""
    tp = time_period.strip()
    ident = identifier.strip().lower()
    if re.fullmatch(r"\d{6}", tp):
        first = int(tp[:4])
        if int(tp[4:]) != (first + 1) % 100:
            return None
        start = date(first, 9, 1) if "academic" in ident else date(first, 4, 1)
        end = date(first + 1, 8, 31) if "academic" in ident else date(first + 1, 3, 31)
        return f"{first}/{tp[4:]}", start, end
    if re.fullmatch(r"\d{4}", tp):
        year = int(tp)
        if "calendar" in ident:
            return tp, date(year, 1, 1), date(year, 12, 31)
        return tp, date(year - 1, 4, 1), date(year, 3, 31)
    return None


def validate(data: bytes, file_name: str) -> ingest.Validated:
    """Check an EES open-data CSV; never raises. Row numbers count the header as row 1."""
    result = ingest.Validated(kind="ees", rows=ingest.empty_rows(), file_name=file_name,
                              sha256=hashlib.sha256(data).hexdigest())
    df = _read(data, file_name, result)
    if df is None:
        return result
    others = [c for c in df.columns if c not in GEOGRAPHY]
    lowered = {c: df[c].str.lower() for c in others}
    numbers = {c: pd.to_numeric(df[c].str.replace(",", "", regex=False), errors="coerce") for c in others}
    measures = [c for c in others if (numbers[c].notna() | lowered[c].isin(SYMBOLS)).all() and numbers[c].notna().any()]
    filters = [c for c in others if c not in measures]
    if not measures:
        result.problems = [ingest.Problem(None, None, "no measure column: every column after the geography "
                                                      "holds text, not figures or EES symbols")]
        return result
    kept = df["geographic_level"].isin(LEVELS)
    periods = {(t, i): period_of(t, i) for t, i in set(zip(df["time_period"], df["time_identifier"]))}
    problems: list[ingest.Problem] = []
    code = _checked_areas(df, kept, periods, problems)
    long = _long_rows(df, file_name, measures, filters, kept, code, lowered, numbers)
    dup = long.duplicated(["indicator_id", "area_code", "time"]) & long["area_code"].notna()
    for r, iid in long.loc[dup, ["row", "indicator_id"]].head(ingest.MAX_PROBLEMS).itertuples(index=False):
        problems.append(ingest.Problem(int(r), "time_period", f"repeats {iid} for this area and period "
                                                              "(already in this file)"))
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        result.problems = problems[:ingest.MAX_PROBLEMS]
        return result
    result.rows = _store_rows(long, periods)
    skipped = int((~kept).sum())
    if skipped:
        result.warnings.append(f"{skipped} rows at other geographic levels were left out (only National, "
                               "Regional and Local authority rows are kept)")
    return result


def _read(data: bytes, file_name: str, result: ingest.Validated) -> pd.DataFrame | None:
    """The file as a table of stripped text, or None with the problem in `result` (not CSV, or a required
    column missing)."""
    try:
        df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as exc:  # noqa: BLE001 - a refusal, never a traceback
        result.problems = [ingest.Problem(None, None, f"{file_name} could not be read as CSV ({type(exc).__name__})")]
        return None
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        result.problems = [ingest.Problem(None, c, "is missing (an EES open-data file starts time_period, "
                                                   "time_identifier, geographic_level, country_code, ...)")
                           for c in missing]
        return None
    return df.apply(lambda s: s.str.strip())


def _checked_areas(df: pd.DataFrame, kept: pd.Series, periods: dict, problems: list[ingest.Problem]) -> pd.Series:
    """Each row's area code by its geographic level; a problem for each kept row with a period EES does not
    write, an area code that is not ONS, or an old LA code given two ONS codes in one year."""
    rows = np.arange(len(df)) + 2

    def flag(mask, column: str, message) -> None:
        for i in np.flatnonzero(np.asarray(mask, dtype=bool))[:ingest.MAX_PROBLEMS]:
            problems.append(ingest.Problem(int(rows[i]), column, message(int(i))))

    level = df["geographic_level"]
    bad_period = kept & pd.Series([periods[(t, i)] is None for t, i in zip(df["time_period"], df["time_identifier"])])
    flag(bad_period, "time_period", lambda i: f'"{df["time_period"].iloc[i]}" is not an EES time period '
                                              "(e.g. 2025 or 202425)")
    code = pd.Series(None, index=df.index, dtype=object)
    for lvl, col in LEVELS.items():
        if col in df.columns:
            code = code.where(level != lvl, df[col])
    bad_code = kept & ~code.fillna("").str.match(_GSS)
    flag(bad_code, "new_la_code", lambda i: (f'"{code.iloc[i] or ""}" is not an ONS code for this '
                                             f'{level.iloc[i].lower()} row'))
    if "old_la_code" in df.columns:
        la = kept & (level == "Local authority") & ~bad_code
        pairs = df.loc[la, ["old_la_code", "new_la_code"]].drop_duplicates()
        pairs = pairs.assign(year=df.loc[pairs.index, "time_period"])
        clash = pairs.groupby(["old_la_code", "year"])["new_la_code"].nunique()
        clash = set(clash[clash > 1].index)
        flag([la.iloc[i] and (df["old_la_code"].iloc[i], df["time_period"].iloc[i]) in clash for i in range(len(df))],
             "old_la_code", lambda i: f'LA code {df["old_la_code"].iloc[i]} is given two ONS codes in '
                                      f'{df["time_period"].iloc[i]}')
    return code


def _long_rows(df: pd.DataFrame, file_name: str, measures: list[str], filters: list[str], kept: pd.Series,
               code: pd.Series, lowered: dict, numbers: dict) -> pd.DataFrame:
    """One row per kept row and measure: its indicator id (the filter values that vary in brackets), area,
    figure, or the EES symbol's meaning as a note (`c` flagged suppressed)."""
    rows = np.arange(len(df)) + 2
    level = df["geographic_level"]
    varying = [c for c in filters if df.loc[kept, c].nunique() > 1]
    suffix = (("[" + df[varying].agg("|".join, axis=1) + "]") if varying else pd.Series("", index=df.index))
    name = dataset_name(file_name)
    frames = []
    for m in measures:
        value = numbers[m]
        symbol = lowered[m].where(value.isna())
        note = np.where(value.isna(), "no figure: " + symbol.map(SYMBOLS).fillna("") + " (" + df[m] + ")", None)
        frames.append(pd.DataFrame({
            "indicator_id": (f"{PREFIX}{name}:{m}" + suffix).to_numpy(dtype=object), "row": rows,
            "area_code": code.to_numpy(dtype=object), "value": value.to_numpy(dtype=float), "note": note,
            "flags": np.where(symbol == "c", "suppressed", ""), "kept": kept.to_numpy(),
            "area_name": np.where(level == "Local authority", df.get("la_name", ""),
                                  np.where(level == "Regional", df.get("region_name", ""),
                                           df.get("country_name", "England"))),
            "time": list(zip(df["time_period"], df["time_identifier"]))}))
    long = pd.concat(frames, ignore_index=True)
    return long[long["kept"]]


def _store_rows(long: pd.DataFrame, periods: dict) -> pd.DataFrame:
    """The checked rows in the store's columns, each with its period's label, start and end."""
    info = long["time"].map(periods)
    return pd.DataFrame({
        "indicator_id": long["indicator_id"].to_numpy(), "area_code": long["area_code"].to_numpy(),
        "period": info.map(lambda p: p[0]).to_numpy(dtype=object),
        "period_start": info.map(lambda p: p[1]).to_numpy(dtype=object),
        "period_end": info.map(lambda p: p[2]).to_numpy(dtype=object), "category": "",
        "value": long["value"].to_numpy(), "note": long["note"].to_numpy(), "flags": long["flags"].to_numpy(),
        "area_name": long["area_name"].to_numpy(), "indicator_name": long["indicator_id"].str[len(PREFIX):].to_numpy()})


def measures_frame(rows: pd.DataFrame, file_name: str) -> pd.DataFrame:
    """Descriptions of an EES file's indicators for the published-measures table (no polarity: EES does
    not say which direction is better, so they are never ranked or banded)."""
    ids = pd.unique(rows["indicator_id"])
    return pd.DataFrame({"indicator_id": ids, "source": "ees", "short_name": [i[len(PREFIX):] for i in ids],
                         "name": [i[len(PREFIX):] for i in ids], "topic": f"EES: {dataset_name(file_name)}",
                         "polarity": "-", "unit_label": "", "decimals": 1, "year_type": "", "description": "",
                         "last_update": "", "next_update": "", "data_owner": "Department for Education",
                         "methodology": "", "no_quartile": False, "discontinued": False})
