"""DfE's Local Authority Interactive Tool (LAIT) data: the importer.

`bds_long_0.parquet` (one row per measure, area and year) is checked like any upload: all or
nothing, every problem named by row and column. Each measure becomes the indicator
`lait:<Short Desc>` (e.g. `lait:LACHealth%`); DfE's three-digit LA numbers become ONS codes
through the EES files (which carry both); `-`, `c`, `..`, `x` and blanks are kept as rows with no
figure, as LAIT reads them. The data dictionary gives each measure's name, topic, polarity and
next update; `sn_may_2025.xlsx` gives each authority's ten statistical neighbours.
"""
from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from cypp_dash import ingest, published_store, store
from cypp_dash.config import ROOT

LAIT_DIR = ROOT / "data" / "lait"
EES_DIR = ROOT / "data" / "ees"
DATA_FILE = "bds_long_0.parquet"
DICTIONARY_FILE = "lait_data_dictionary.csv"
NEIGHBOURS_FILE = "sn_may_2025.xlsx"
PREFIX = "lait:"
SOURCE = ("Department for Education, Local Authority Interactive Tool (LAIT) "
          "(dfe-analytical-services/local-authority-interactive-tool, 01_data/02_prod)")
LICENCE = "Open Government Licence v3.0"

REQUIRED_COLUMNS = ["Short Desc", "Years", "LA and Regions", "Values", "LA Number"]
# What LAIT's global.R reads as "no figure" (`-`, `c`, `..`, missing), and the EES symbols.
NO_FIGURE = {"": "no figure published", "-": "no figure published", "c": "suppressed (confidential)",
             "..": "not available", "x": "not available", ":": "not available", "z": "not applicable",
             "low": "rounds to zero", "u": "low reliability"}
ENGLAND_NUMBER = 970  # LAIT: LA numbers of 970 and above are England and the regions
ENGLAND = "E92000001"
# ONS codes of England, the regions and London's two halves, by the names LAIT gives them.
REGION_CODES = {"England": ENGLAND, "North East": "E12000001", "North West": "E12000002",
                "Yorkshire and the Humber": "E12000003", "East Midlands": "E12000004", "West Midlands": "E12000005",
                "East of England": "E12000006", "London": "E12000007", "South East": "E12000008",
                "South West": "E12000009", "London (Inner)": "E13000001", "London (Outer)": "E13000002"}


class LaitError(ValueError):
    """The LAIT files cannot be read (the message says which and why)."""


# --- areas and neighbours --------------------------------------------------------------------

def ons_codes(ees_dir: Path = EES_DIR) -> dict[int, str]:
    """DfE LA number -> ONS code, from the EES files (they carry both; the latest year's code wins,
    e.g. North Yorkshire 815 -> E06000065 since 2023)."""
    frames = []
    for path in sorted(Path(ees_dir).glob("*.csv")):
        head = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
        if {"old_la_code", "new_la_code", "time_period"} <= set(head):
            frames.append(pd.read_csv(path, usecols=["old_la_code", "new_la_code", "time_period"], dtype=str,
                                      encoding="utf-8-sig"))
    if not frames:
        raise LaitError(f"no EES file in {ees_dir} carries old_la_code and new_la_code (the LA code list)")
    df = pd.concat(frames).dropna()
    df = df[df["old_la_code"].str.fullmatch(r"\d{3}") & df["new_la_code"].str.fullmatch(r"E\d{8}")]
    df = df.assign(year=df["time_period"].str[:4].astype(int)).sort_values("year")
    return {int(k): v for k, v in df.drop_duplicates("old_la_code", keep="last")[["old_la_code", "new_la_code"]]
            .itertuples(index=False)}


def read_neighbours(path: Path, codes: dict[int, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(authorities with their region as the neighbour file names it, neighbours in order of closeness)
    from DfE's statistical neighbour workbook (sheet "LA SN Groups", two layout rows above the header)."""
    raw = pd.read_excel(path, sheet_name="LA SN Groups", header=None, dtype=str)
    header_row = next((i for i in range(min(6, len(raw))) if str(raw.iloc[i, 0]).strip() == "LA num"), None)
    if header_row is None:
        raise LaitError(f"{path.name}: no header row starting 'LA num' in sheet 'LA SN Groups'")
    header = [str(h).strip() for h in raw.iloc[header_row]]
    body = raw.iloc[header_row + 1:].reset_index(drop=True)
    body = body[body.iloc[:, 0].notna() & body.iloc[:, 0].str.strip().str.fullmatch(r"\d{3}")]
    la = pd.DataFrame({"la_number": body.iloc[:, 0].astype(int).to_numpy(),
                       "name": body.iloc[:, header.index("LA Name")].str.strip().to_numpy(),
                       "region_name": body.iloc[:, header.index("GOReg")].str.strip().to_numpy()})
    rows = []
    sn_positions = [i for i, h in enumerate(header) if re.fullmatch(r"SN\d+", h)]
    for (_, r), number in zip(body.iterrows(), la["la_number"]):
        for rank, i in enumerate(sn_positions, start=1):
            cell = r.iloc[i]
            if cell is None or str(cell).strip() in ("", "nan"):
                continue
            closeness = str(r.iloc[i + 1]).strip() if i + 1 < len(header) and header[i + 1] == "SNP" else ""
            rows.append((number, rank, int(float(cell)), closeness))
    sn = pd.DataFrame(rows, columns=["la_number", "position", "neighbour_number", "closeness"])
    unknown = sorted({n for n in (*la["la_number"], *sn["neighbour_number"]) if n not in codes})
    if unknown:
        raise LaitError(f"{path.name}: LA numbers with no ONS code in the EES files: {unknown[:10]}")
    sn = pd.DataFrame({"area_code": sn["la_number"].map(codes), "position": sn["position"],
                       "neighbour_code": sn["neighbour_number"].map(codes), "closeness": sn["closeness"]})
    return la, sn


# --- the data dictionary ----------------------------------------------------------------------

def _excel_month(text) -> str:
    """The dictionary's update dates: Excel serial numbers shown as "Month YYYY" (as LAIT does); words kept."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = str(text).strip()
    if re.fullmatch(r"\d+(\.0)?", s):
        return (date(1899, 12, 30) + pd.Timedelta(days=int(float(s)))).strftime("%B %Y")
    return s


def read_dictionary(path: Path) -> pd.DataFrame:
    """One row per measure (`Short Desc`), as LAIT keeps it: discontinued rows set aside, a measure
    listed under two topics shows both ("A / B"), the first row's polarity and banding rule kept."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in ("Measure_short", "Measure", "Topic", "Polarity") if c not in raw.columns]
    if missing:
        raise LaitError(f"{path.name}: columns missing: {', '.join(missing)}")
    raw["Measure_short"] = raw["Measure_short"].str.strip()
    raw["discontinued"] = raw.get("Table_status", pd.Series("", index=raw.index)).str.contains("DISCONTINUE")
    raw = raw.sort_values("discontinued", kind="stable")
    topics = raw.groupby("Measure_short", sort=False)["Topic"].agg(lambda t: " / ".join(dict.fromkeys(t)))
    first = raw.drop_duplicates("Measure_short").set_index("Measure_short")

    def col(name: str) -> pd.Series:
        return first[name] if name in first.columns else pd.Series("", index=first.index)

    polarity = col("Polarity").str.strip().where(col("Polarity").str.strip().isin(["High", "Low"]), "-")
    decimals = pd.to_numeric(col("dps"), errors="coerce").fillna(1).astype(int)
    return pd.DataFrame({
        "indicator_id": PREFIX + first.index, "source": "lait", "short_name": first.index,
        "name": col("Measure").str.strip(), "topic": topics.reindex(first.index).to_numpy(), "polarity": polarity,
        "unit_label": col("y_axis_name"), "decimals": decimals, "year_type": col("Year_Type"),
        "description": col("Description"), "last_update": col("Last Update").map(_excel_month),
        "next_update": col("Next Update").map(_excel_month),
        "data_owner": col("Data Owner (DO) /Supplier and Contact Details"), "methodology": col("Methodology"),
        "no_quartile": col("No_Quartile").str.strip().eq("N"), "discontinued": col("discontinued").astype(bool),
    }).reset_index(drop=True)


# --- periods ------------------------------------------------------------------------------------

def period_dates(label: str) -> tuple[date, date] | None:
    """Start and end of a LAIT year label, in the order LAIT sorts them (by the first four digits):
    `2025` or `2025 (Rev)` a calendar year; `2024/25` or `2024-25 (OT)` April to March; `2014-16` three
    calendar years; `2013/14-15/16` April 2013 to March 2016. LAIT holds one row at year "0"."""
    label = label.strip()
    if label == "0":
        return date(1, 1, 1), date(1, 12, 31)
    m = re.match(r"^(\d{4})(?:[/-](\d{2}))?(?:-(\d{2})(?:/(\d{2}))?)?(?:\s*\(.*\))?$", label)
    if not m:
        return None
    first = int(m.group(1))
    century = first // 100 * 100
    if m.group(4):  # 2013/14-15/16: financial or academic years
        return date(first, 4, 1), date(century + int(m.group(4)), 3, 31)
    if m.group(2) and m.group(3) is None:
        second = century + int(m.group(2))
        if second == first + 1:  # 2024/25, 2024-25
            return date(first, 4, 1), date(second, 3, 31)
        return date(first, 1, 1), date(second, 12, 31)  # 2014-16: a span of calendar years
    if m.group(2) is None and m.group(3) is None:
        return date(first, 1, 1), date(first, 12, 31)
    return None


# --- validation -------------------------------------------------------------------------------

@dataclass
class LaitFiles:
    """What an import of LAIT reads: the figures, and what describes them."""

    data: Path
    dictionary: Path
    neighbours: Path
    ees_dir: Path = EES_DIR


def bundled() -> LaitFiles:
    return LaitFiles(LAIT_DIR / DATA_FILE, LAIT_DIR / DICTIONARY_FILE, LAIT_DIR / NEIGHBOURS_FILE)


def validate(data: bytes, file_name: str, codes: dict[int, str], known_measures: set[str] | None = None
             ) -> ingest.Validated:
    """Check a LAIT long file (parquet or CSV) row by row; never raises. Row numbers count the header
    as row 1, as a spreadsheet shows the same rows."""
    result = ingest.Validated(kind="lait", rows=ingest.empty_rows(), file_name=file_name,
                              sha256=hashlib.sha256(data).hexdigest())
    df = _read(data, file_name, result)
    if df is None:
        return result
    limit = ingest.MAX_PROBLEMS if hasattr(ingest, "MAX_PROBLEMS") else 50
    problems: list[ingest.Problem] = []
    columns = _checked_columns(df, codes, known_measures, problems, limit)
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        result.problems = problems[:limit] + ([ingest.Problem(
            None, None, f"... and {len(problems) - limit:,} more problems not listed; nothing was loaded")]
            if len(problems) > limit else [])
        return result
    result.rows = _store_rows(**columns)
    return result


def _read(data: bytes, file_name: str, result: ingest.Validated) -> pd.DataFrame | None:
    """The file as a table (parquet or CSV), or None with the problem in `result` (unreadable, or a required
    column missing)."""
    try:
        if file_name.lower().endswith(".parquet"):
            df = pd.read_parquet(io.BytesIO(data))
        else:
            df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as exc:  # noqa: BLE001 - a refusal, never a traceback
        result.problems = [ingest.Problem(None, None, f"{file_name} could not be read ({type(exc).__name__})")]
        return None
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        result.problems = [ingest.Problem(None, c, "is missing (a LAIT file has Short Desc, Years, LA and Regions, "
                                                   "Values, LA Number)") for c in missing]
        return None
    return df


def _checked_columns(df: pd.DataFrame, codes: dict[int, str], known_measures: set[str] | None,
                     problems: list[ingest.Problem], limit: int) -> dict:
    """Each column read and checked (measure, year, LA number to ONS code, value, repeats), a problem added
    for every bad cell; the columns the store's rows are made from."""
    rows = np.arange(len(df)) + 2

    def flag(mask: np.ndarray, column: str, message: Callable[[int], str]) -> None:
        for i in np.flatnonzero(mask)[:limit]:
            problems.append(ingest.Problem(int(rows[i]), column, message(int(i))))

    short = df["Short Desc"].astype("string").fillna("").str.strip()
    flag((short == "").to_numpy(), "Short Desc", lambda i: "is blank (the measure is not named)")
    if known_measures is not None:
        unknown = ~short.isin(known_measures) & (short != "")
        flag(unknown.to_numpy(), "Short Desc",
             lambda i: f'"{short.iloc[i]}" is not a measure in the LAIT data dictionary')
    years = df["Years"].astype("string").fillna("").str.strip()
    labels = pd.unique(years)
    dates = {y: period_dates(y) for y in labels}
    bad_year = years.map(lambda y: dates[y] is None).to_numpy(dtype=bool)
    flag(bad_year, "Years", lambda i: f'"{years.iloc[i]}" is not a LAIT year (e.g. 2025, 2024/25, 2023-24 (OT))')
    number = pd.to_numeric(df["LA Number"], errors="coerce")
    bad_number = number.isna() | (number % 1 != 0)
    flag(bad_number.to_numpy(), "LA Number", lambda i: f'"{df["LA Number"].iloc[i]}" is not a DfE LA number')
    name = df["LA and Regions"].astype("string").fillna("").str.strip()
    region_code = name.map(REGION_CODES)
    is_la = (number < ENGLAND_NUMBER).fillna(False)
    code = pd.Series(np.where(is_la, number.map(lambda n: codes.get(int(n)) if n == n else None), region_code),
                     index=df.index)
    no_code = code.isna() & ~bad_number
    flag(no_code.to_numpy(), "LA Number",
         lambda i: (f"LA number {int(number.iloc[i])} ({name.iloc[i]}) has no ONS code in the EES files"
                    if is_la.iloc[i] else f'"{name.iloc[i]}" is not England or a region LAIT names'))
    text = df["Values"].astype("string").fillna("").str.strip()
    value = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
    marker = text.str.lower().isin(NO_FIGURE)
    bad_value = (value.isna() & ~marker).to_numpy()
    flag(bad_value, "Values", lambda i: f'"{text.iloc[i][:40]}" is not a number or a no-figure marker '
                                        "(-, c, .., x, :, z, low, u)")
    key = pd.DataFrame({"s": short, "c": code, "y": years})
    dup = key.duplicated(keep="first").to_numpy() & ~no_code.to_numpy()
    flag(dup, "Years", lambda i: f"repeats {short.iloc[i]} for {name.iloc[i]} in {years.iloc[i]} (already in this file)")
    return {"short": short, "years": years, "dates": dates, "code": code, "text": text, "value": value, "name": name}


def _store_rows(short: pd.Series, years: pd.Series, dates: dict, code: pd.Series, text: pd.Series,
                value: pd.Series, name: pd.Series) -> pd.DataFrame:
    """The checked rows in the store's columns; a no-figure marker kept as a note (`c` flagged suppressed)."""
    start = years.map(lambda y: dates[y][0])
    end = years.map(lambda y: dates[y][1])
    meaning = text.str.lower().map(NO_FIGURE)
    note = np.where(value.isna(), "no figure: " + meaning.fillna("") + " (" + text + ")", None)
    flags = np.where(text.str.lower() == "c", "suppressed", "")
    return pd.DataFrame({
        "indicator_id": (PREFIX + short).to_numpy(dtype=object), "area_code": code.to_numpy(dtype=object),
        "period": years.to_numpy(dtype=object), "period_start": start.to_numpy(dtype=object),
        "period_end": end.to_numpy(dtype=object), "category": "", "value": value.to_numpy(dtype=float),
        "note": note, "flags": flags, "area_name": name.to_numpy(dtype=object)})


# --- loading ------------------------------------------------------------------------------------

def import_lait(conn, files: LaitFiles | None = None, user: str = "init-db",
                progress: Callable[[str], None] = print) -> store.LoadResult | None:
    """Validate and load LAIT's figures and their descriptions; None when this exact file is already
    loaded. A newer file revises figures like any upload (history, as-at, rollback)."""
    files = files or bundled()
    data = files.data.read_bytes()
    codes = ons_codes(files.ees_dir)
    measures = read_dictionary(files.dictionary)
    la, sn = read_neighbours(files.neighbours, codes)
    sha = hashlib.sha256(data).hexdigest()
    if store.file_already_loaded(conn, sha) is not None:
        _describe(conn, measures, la, sn, codes, None)
        return None
    v = validate(data, files.data.name, codes, set(measures["short_name"]))
    if not v.ok:
        raise store.StoreError(f"{files.data.name} does not validate: " + "; ".join(str(p) for p in v.problems[:5]))
    _describe(conn, measures, la, sn, codes, v.rows)
    rows = v.rows
    names = rows.drop_duplicates("area_code").set_index("area_code")["area_name"].to_dict()
    r = store.load_batch(conn, rows.drop(columns=["area_name"]), user=user, file_name=files.data.name,
                         sha256=sha, kind="lait", source=SOURCE, licence=LICENCE, area_names=names,
                         indicator_names=dict(zip(measures["indicator_id"], measures["name"])))
    progress(f"LAIT: {files.data.name} loaded (batch {r.batch_id}, {r.added:,} added, {r.revised:,} revised)")
    return r


def _describe(conn, measures: pd.DataFrame, la: pd.DataFrame, sn: pd.DataFrame, codes: dict[int, str],
              rows: pd.DataFrame | None) -> None:
    """Write the measure, area and neighbour tables (the same every time for the same files)."""
    la_rows = pd.DataFrame({"code": la["la_number"].map(codes), "la_number": la["la_number"], "name": la["name"],
                            "kind": "la", "region_name": la["region_name"], "la_type": ""})
    extra = []
    if rows is not None:
        held = rows.drop_duplicates("area_code")[["area_code", "area_name"]]
        inverse = {v: k for k, v in codes.items()}
        for code, name in held.itertuples(index=False):
            if code in set(la_rows["code"]):
                continue
            if code in REGION_CODES.values():
                kind = "country" if code == ENGLAND else "region"
                extra.append((code, None, name, kind, name if kind == "region" else "", ""))
            else:  # an authority in the figures but not in the neighbour model (e.g. one since reorganised)
                extra.append((code, inverse.get(code), name, "la", "", ""))
    else:
        existing = published_store.areas(conn)
        extra = [tuple(r) for r in existing[~existing["code"].isin(la_rows["code"])][published_store.AREA_COLUMNS]
                 .itertuples(index=False)]
    areas = pd.concat([la_rows, pd.DataFrame(extra, columns=published_store.AREA_COLUMNS)], ignore_index=True)
    areas["la_number"] = areas["la_number"].astype("Int64")
    published_store.replace_metadata(conn, "lait", measures, areas, sn)
