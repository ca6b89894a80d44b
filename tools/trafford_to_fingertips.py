"""Real published Fingertips data for the bundled plans: the converter from the Trafford Data Lab
files (8 columns) to Fingertips' own 26-column download. A developer's tool: the dashboard reads
the files it writes (data/fingertips/), never this module.

Run `python -m tools.trafford_to_fingertips` from the repository root to rebuild `data/fingertips/` from
`../shared/data/fingertips/trafford_dashboard_children/`; the output is the same every time.
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
from dataclasses import dataclass
from pathlib import Path

from cypp_dash.config import ROOT
from cypp_dash.periods import PeriodError, parse_period

SOURCE_DIR = ROOT.parent / "shared" / "data" / "fingertips" / "trafford_dashboard_children"
OUT_DIR = ROOT / "data" / "fingertips"

# Fingertips' "download data" header, in its order (see ../shared/data/fingertips/README.md).
HEADER = ["Indicator ID", "Indicator Name", "Parent Code", "Parent Name", "Area Code", "Area Name", "Area Type",
          "Sex", "Age", "Category Type", "Category", "Time period", "Value", "Lower CI 95.0 limit",
          "Upper CI 95.0 limit", "Lower CI 99.8 limit", "Upper CI 99.8 limit", "Count", "Denominator",
          "Value note", "Recent Trend", "Compared to England value or percentiles",
          "Compared to Region value or percentiles", "Time period Sortable", "New data", "Compared to goal"]
TRAFFORD_COLUMNS = ["area_code", "area_name", "period", "value", "indicator", "measure", "unit", "significance"]


@dataclass(frozen=True)
class TraffordFile:
    """One Trafford file: the Fingertips indicator it holds, the age group its definition names and
    the area type it covers (both from the file's metadata.md and the data README)."""

    name: str
    indicator_id: str
    age: str
    area_type: str


DISTRICTS_AND_UAS = "Districts & UAs (pre 4/19)"
COUNTIES_AND_UAS = "Counties & UAs (pre 4/19)"
FILES = (
    TraffordFile("excess_weight_reception.csv", "20601", "4-5 yrs", DISTRICTS_AND_UAS),
    TraffordFile("excess_weight_year6.csv", "20602", "10-11 yrs", DISTRICTS_AND_UAS),
    TraffordFile("low_income_families.csv", "10101", "<16 yrs", DISTRICTS_AND_UAS),
    TraffordFile("dental_decay.csv", "92441", "5 yrs", DISTRICTS_AND_UAS),
    TraffordFile("admissions_self_harm_young_people.csv", "90813", "10-24 yrs", COUNTIES_AND_UAS),
    TraffordFile("children_in_care.csv", "90803", "<18 yrs", COUNTIES_AND_UAS),
    TraffordFile("child_protection_plans.csv", "90886", "<18 yrs", COUNTIES_AND_UAS),
    TraffordFile("neets.csv", "93203", "16-17 yrs", COUNTIES_AND_UAS),
    TraffordFile("school_readiness_fsm.csv", "90632", "5 yrs", COUNTIES_AND_UAS),
)

# The areas the bundled plans need, each with the parent Fingertips would list it under.
# West Midlands is asked for but the Trafford files hold no region rows: the converter says so.
ENGLAND = "E92000001"
KEPT_AREAS: dict[str, tuple[str, str]] = {
    ENGLAND: ("", ""),
    "E12000005": (ENGLAND, "England"),                          # West Midlands (not in the files)
    "E10000034": ("E12000005", "West Midlands region"),         # Worcestershire
    "E07000234": ("E10000034", "Worcestershire"),               # Bromsgrove
    "E07000235": ("E10000034", "Worcestershire"),               # Malvern Hills
    "E07000236": ("E10000034", "Worcestershire"),               # Redditch
    "E07000237": ("E10000034", "Worcestershire"),               # Worcester
    "E07000238": ("E10000034", "Worcestershire"),               # Wychavon
    "E07000239": ("E10000034", "Worcestershire"),               # Wyre Forest
    "E06000019": ("E12000005", "West Midlands region"),         # Herefordshire
    "E09000006": ("E12000007", "London region"),                # Bromley
}
_MISSING = {"", "na", "n/a"}


class ConversionError(ValueError):
    """A Trafford file is not in the shape the converter expects (the message names file and row)."""


@dataclass
class Converted:
    """One converted file: its rows (in Fingertips' header order) and what the conversion left out."""

    name: str
    rows: list[list[str]]
    dropped_no_value: int
    areas_absent: list[str]

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(self.rows)
        return out.getvalue()


def sortable_period(label: str) -> str:
    """Fingertips' "Time period Sortable": the first year then four zeros ("2016/17" -> "20160000")."""
    return f"{parse_period(label).start.year}0000"


def convert(path: Path, spec: TraffordFile, areas: dict[str, tuple[str, str]] | None = None) -> Converted:
    """Rows of one Trafford file for the kept areas, written as a Fingertips download.

    Values, periods, names and Fingertips' own comparison with England are copied as published;
    the columns the Trafford files do not carry (intervals, counts, trend) stay empty rather
    than being worked out here. Rows with no published value (NA) are left out.
    """
    areas = KEPT_AREAS if areas is None else areas
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header != TRAFFORD_COLUMNS:
        raise ConversionError(f"{path.name}: row 1: expected the columns {', '.join(TRAFFORD_COLUMNS)}")
    rows: list[list[str]] = []
    seen: set[str] = set()
    dropped = 0
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(TRAFFORD_COLUMNS):
            raise ConversionError(f"{path.name}: row {number}: {len(cells)} cells, expected {len(TRAFFORD_COLUMNS)}")
        rec = dict(zip(TRAFFORD_COLUMNS, (c.strip() for c in cells)))
        if rec["area_code"] not in areas:
            continue
        try:
            sortable = sortable_period(rec["period"])
        except PeriodError as e:
            raise ConversionError(f"{path.name}: row {number}, column period: {e}") from None
        if rec["value"].lower() in _MISSING:
            dropped += 1
            continue
        try:
            float(rec["value"])
        except ValueError:
            raise ConversionError(f'{path.name}: row {number}, column value: "{rec["value"]}" is not a number') from None
        seen.add(rec["area_code"])
        parent_code, parent_name = areas[rec["area_code"]]
        area_type = "England" if rec["area_code"] == ENGLAND else spec.area_type
        # Trafford's `unit` column holds the sex ("Persons"); `significance` is Fingertips' comparison.
        rows.append([spec.indicator_id, rec["indicator"], parent_code, parent_name, rec["area_code"],
                     rec["area_name"], area_type, rec["unit"], spec.age, "", "", rec["period"], rec["value"],
                     "", "", "", "", "", "", "", "", rec["significance"], "", sortable, "", ""])
    rows.sort(key=lambda r: (r[4] != ENGLAND, r[4], r[23], r[11]))
    absent = [code for code in areas if code not in seen]
    return Converted(spec.name, rows, dropped, absent)


def convert_all(source: Path = SOURCE_DIR, out: Path = OUT_DIR, areas: dict[str, tuple[str, str]] | None = None,
                log=print) -> list[Converted]:
    """Convert every Trafford file into `out`; return what was written (the same bytes every run)."""
    out.mkdir(parents=True, exist_ok=True)
    done = []
    for spec in FILES:
        result = convert(source / spec.name, spec, areas)
        (out / spec.name).write_text(result.csv_text(), encoding="utf-8", newline="")
        log(f"{spec.name}: {len(result.rows)} rows for indicator {spec.indicator_id}; "
            f"{result.dropped_no_value} with no published value left out; "
            f"no rows for {', '.join(result.areas_absent) or '(none missing)'}")
        done.append(result)
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.trafford_to_fingertips",
                                     description="Rebuild data/fingertips/ from the Trafford Data Lab files.")
    parser.add_argument("--source", type=Path, default=SOURCE_DIR, help="folder of the Trafford files")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="folder to write the Fingertips downloads to")
    args = parser.parse_args(argv)
    try:
        convert_all(args.source, args.out)
    except (ConversionError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
