"""The `benchmark` command: published figures for an area against England, its region and its
statistical neighbours (columns as in the contract), one row per measure at its latest year."""
from __future__ import annotations

from cypp_dash import benchmark


def add_parser(sub) -> None:
    s = sub.add_parser("benchmark", help="published figures for an area against England, region and neighbours")
    s.add_argument("--area", required=True, help="ONS code of an English local authority, e.g. E10000034")
    s.add_argument("--indicator", help='one measure, e.g. "lait:LACHealth%%" (default: every measure held)')
    s.add_argument("--format", choices=["table", "csv", "json"], default="table")


def run(args, conn, print_frame, usage) -> int:
    try:
        rows = benchmark.benchmark_rows(conn, args.area, [args.indicator] if args.indicator else None)
    except benchmark.BenchmarkError as e:
        return usage(str(e))
    if args.format == "table":
        rows = rows[["indicator_id", "period", "value", "england", "region", "neighbours_average", "rank",
                     "rank_of", "quartile_band", "polarity", "change_from_previous"]]
    else:
        rows = rows[benchmark.COLUMNS + ["topic", "region_name", "why_no_rank", "next_update", "source", "licence"]]
    rows = rows.astype(object).where(rows.notna(), None)
    print_frame(rows, args.format)
    return 0
