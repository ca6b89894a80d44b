"""Generate the ILLUSTRATIVE quarterly series for a plan's county and districts, reproducibly.

These are not real figures: they exist so that every page, chart and export can be shown and
tested before a council uploads its own. Every page that shows them says "illustrative".
Run `python -m tools.demo_data` to rewrite data/illustrative/ (same seed, same file).
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from cypp_dash.config import ROOT, Config, Kpi, load_config
from cypp_dash.periods import quarters_between

SEED = 20220401
FIRST_QUARTER, LAST_QUARTER = "2022/23 Q1", "2025/26 Q4"
# Share of the county's children in each district (roughly the ONS mid-year estimates' shares).
DISTRICT_SHARE = {"E07000234": 0.17, "E07000235": 0.12, "E07000236": 0.15, "E07000237": 0.18,
                  "E07000238": 0.22, "E07000239": 0.16}
# County-wide quarterly denominators (children in the cohort each quarter) and the story each
# series tells: drift per quarter in the KPI's unit, and an optional sustained shift.
SHAPES = {
    "EH01": dict(denominator=1500, drift=0.10, start_offset=0.0),
    "EH02": dict(denominator=1700, drift=0.55, start_offset=0.0),
    "EH03": dict(denominator=1450, drift=-0.05, start=10.2),
    "EH04": dict(denominator=1550, drift=0.02, start=21.8),
    "EH05": dict(denominator=420, drift=0.05, start_offset=0.0),
    "EH06": dict(denominator=240, drift=1.2, start=78.0),
    "MH01": dict(drift=-3.0, start_offset=0.0),
    "MH02": dict(drift=6.0, start_offset=0.0),
    "MH03": dict(denominator=210, drift=0.1, start_offset=0.0, shift_at=8, shift=9.0),
    "MH04": dict(drift=120.0, start_offset=0.0),
    "SD01": dict(denominator=260, drift=1.1, start_offset=0.0),
    "SD02": dict(denominator=1300, drift=0.05, start_offset=0.0),
    "SD03": dict(denominator=120, drift=0.6, start_offset=0.0, shift_at=9, shift=12.0),
    "SD04": dict(denominator=1300, drift=0.03, start_offset=0.0),
    "SG01": dict(denominator=140, drift=-0.1, start_offset=0.0),
    "SG02": dict(denominator=35, drift=1.4, start=8.0),
}


def _county_level(kpi: Kpi, shape: dict, q: int) -> float:
    start = shape.get("start", (kpi.baseline.value if kpi.baseline.value is not None else kpi.england.value or 50.0)
                      + shape.get("start_offset", 0.0))
    level = start + shape["drift"] * q
    if "shift_at" in shape and q >= shape["shift_at"]:
        level += shape["shift"]
    return level


def generate(config: Config, plan_id: str | None = None, seed: int = SEED) -> list[dict]:
    """Rows in the upload format (kpi, area, period, value, numerator, denominator, note)."""
    plan = config.plan(plan_id)
    rng = np.random.default_rng(seed)
    quarters = quarters_between(FIRST_QUARTER, LAST_QUARTER)
    rows: list[dict] = []
    for kpi in plan.kpis:
        shape = SHAPES.get(kpi.code)
        if shape is None or not kpi.illustrative:
            continue
        offsets = {d: rng.normal(0, 3.0 if kpi.unit == "percent" else 0.08) for d in plan.districts}
        for q, quarter in enumerate(quarters):
            level = _county_level(kpi, shape, q)
            note = "Provisional: illustrative figure for the latest quarter" if q == len(quarters) - 1 else ""
            total_num = total_den = 0.0
            total_count = 0
            for district in plan.districts:
                share = DISTRICT_SHARE.get(district, 1 / len(plan.districts))
                if kpi.unit == "percent":
                    den = max(5, int(rng.poisson(shape["denominator"] * share)))
                    p = min(0.995, max(0.005, (level + offsets[district]) / 100))
                    num = int(rng.binomial(den, p))
                    total_num, total_den = total_num + num, total_den + den
                    rows.append(dict(kpi=kpi.code, area=district, period=quarter, value=f"{100 * num / den:.1f}",
                                     numerator=num, denominator=den, note=note))
                else:
                    mean = level * shape.get("quarterly_share", 1.0) * share * (1 + offsets[district])
                    count = int(rng.poisson(max(mean, 0.5)))
                    total_count += count
                    rows.append(dict(kpi=kpi.code, area=district, period=quarter, value=str(count),
                                     numerator="", denominator="", note=note))
            if kpi.unit == "percent":
                rows.append(dict(kpi=kpi.code, area=plan.area, period=quarter,
                                 value=f"{100 * total_num / total_den:.1f}", numerator=int(total_num),
                                 denominator=int(total_den), note=note))
            else:
                rows.append(dict(kpi=kpi.code, area=plan.area, period=quarter, value=str(total_count),
                                 numerator="", denominator="", note=note))
    return rows


def write(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["kpi", "area", "period", "value", "numerator", "denominator", "note"])
        w.writeheader()
        w.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    config = load_config()
    plan = config.plan(args.plan)
    out = Path(args.out) if args.out else ROOT / (plan.illustrative_data or "data/illustrative/demo.csv")
    rows = generate(config, plan.id)
    write(rows, out)
    print(f"wrote {len(rows)} illustrative rows to {out}")


if __name__ == "__main__":
    main()
