"""`python -m cypp_dash stats spc|trend|interval|funnel`: the dashboard's own statistics on any series.

A thin layer: it reads the file, calls the functions the pages use (stats.xmr -> spc.spc, stats.recent_trend
-> trend.recent_trend, stats.interval_for, stats.funnel_table) and prints their rows as CONTRACT.md says.
"""
from __future__ import annotations

import io
import json
import math
import sys
from pathlib import Path

import pandas as pd

from cypp_dash import spc, stats
from cypp_dash.ingest import MISSING_MARKERS

SPC_COLUMNS = ["period", "value", "mean", "lower_limit", "upper_limit", "special_cause", "rules", "variation",
               "assurance"]
TREND_COLUMNS = ["trend", "direction", "statistic", "p_value", "points"]
INTERVAL_COLUMNS = ["value", "ci_low", "ci_high", "method"]
POLARITIES = ("higher", "lower", "none")


class UsageError(Exception):
    """A problem with the command or its file: exit 2 with the message."""


# --- reading files ---------------------------------------------------------------------------------------

def _number(text) -> float | None:
    """"87.6%", "1,204" and plain numbers; a missing or suppressed marker is None; anything else refused."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    raw = str(text).strip()
    if raw.lower() in MISSING_MARKERS:
        return None
    try:
        value = float(raw.rstrip("%").replace(",", "").strip())
    except ValueError:
        raise UsageError(f"{raw!r} is not a number") from None
    if not math.isfinite(value):
        raise UsageError(f"{raw!r} is not a number")
    return value


def read_table(path: str, required: list[str]) -> pd.DataFrame:
    """The CSV with lower-case column names, every cell as text; UsageError naming what is wrong."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"{path} does not exist")
    data = file.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise UsageError(f"{path} is not a readable CSV ({e})") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise UsageError(f"{path} needs the column(s) {', '.join(missing)}; it has {', '.join(frame.columns)}")
    return frame


def _column(frame: pd.DataFrame, name: str) -> list[float | None] | None:
    if name not in frame.columns:
        return None
    out = []
    for row, cell in enumerate(frame[name], start=2):
        try:
            out.append(_number(cell))
        except UsageError as e:
            raise UsageError(f"row {row}, column {name}: {e}") from None
    return out


# --- the four commands -------------------------------------------------------------------------------

def spc_rows(frame: pd.DataFrame, polarity: str, target: float | None, rebase: list[str],
             min_points: int = spc.MIN_POINTS) -> list[dict]:
    """The `stats spc` rows: one per point, then the summary."""
    periods = [str(p).strip() for p in frame["period"]]
    values = _column(frame, "value")
    missing = [p for p in rebase if not spc.rebase_positions(periods, [p])]
    if missing:
        raise UsageError(f"--rebase {', '.join(missing)}: not a period in the file")
    result = stats.xmr(values, polarity, target=target, min_points=min_points, periods=periods,
                       rebase=spc.rebase_positions(periods, rebase))
    rows = []
    for _, p in result.points.iterrows():
        rows.append({"period": p["period"], "value": _clean(p["value"]), "mean": _clean(p["mean"]),
                     "lower_limit": _clean(p["lower_limit"]), "upper_limit": _clean(p["upper_limit"]),
                     "special_cause": p["special_cause"], "rules": p["rules"], "variation": None,
                     "assurance": None})
    rows.append({"period": "summary", "value": None, "mean": None, "lower_limit": None, "upper_limit": None,
                 "special_cause": None, "rules": None, "variation": result.variation,
                 "assurance": result.assurance})
    return rows


def trend_row(frame: pd.DataFrame, polarity: str) -> dict:
    """The `stats trend` row."""
    periods = [str(p).strip() for p in frame["period"]]
    result = stats.recent_trend(_column(frame, "value"), polarity, numerators=_column(frame, "numerator"),
                                denominators=_column(frame, "denominator"), ci_low=_column(frame, "ci_low"),
                                ci_high=_column(frame, "ci_high"), periods=periods)
    return result.row()


INTERVAL_METHODS = {"percent": "Wilson score", "count": "exact Poisson (below 10) or Byar's",
                    "rate": "exact Poisson (below 10) or Byar's"}


def interval_row(numerator: float, denominator: float | None, unit: str, level: float) -> dict:
    """The `stats interval` object: the value, its interval and the method's name."""
    text = str(unit).strip().lower()
    per = stats.rate_multiplier(text)
    if text in ("percent", "%"):
        if denominator is None:
            raise UsageError("--unit percent needs --denominator")
        text = "percent"
        value = numerator / denominator * 100 if denominator else None
        method = "Wilson score"
    elif text == "count":
        value, method = numerator, ("exact Poisson" if numerator < stats.EXACT_BELOW else "Byar's")
    elif per is not None:
        if denominator is None:
            raise UsageError(f"--unit {unit!r} needs --denominator")
        value = numerator / denominator * per if denominator else None
        method = "exact Poisson" if numerator < stats.EXACT_BELOW else "Byar's"
    else:
        raise UsageError(f"--unit {unit!r}: use percent, count or 'rate per N' (e.g. 'rate per 100,000')")
    ci = stats.interval_for(text, value if text == "count" else None, numerator, denominator, level / 100)
    if ci is None:
        raise UsageError("no interval for these numbers (check the numerator is 0 or more and at most the "
                         "denominator, and the denominator is above 0)")
    return {"value": value, "ci_low": ci.low, "ci_high": ci.high, "method": method}


def funnel_rows(frame: pd.DataFrame, unit: str, centre: float | None) -> list[dict]:
    """The `stats funnel` rows: one per area."""
    try:
        table = stats.funnel_table([str(a).strip() for a in frame["area"]], _column(frame, "numerator"),
                                   _column(frame, "denominator"), unit, centre=centre)
    except ValueError as e:
        raise UsageError(str(e)) from None
    return [{k: _clean(v) for k, v in r.items()} for r in table.to_dict(orient="records")]


# --- output ------------------------------------------------------------------------------------------

def _clean(v):
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):
        v = v.item()
        return None if isinstance(v, float) and math.isnan(v) else v
    return v


def _print(rows: list[dict] | dict, columns: list[str], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(rows, indent=2))
        return
    frame = pd.DataFrame([rows] if isinstance(rows, dict) else rows, columns=columns)
    if fmt == "csv":
        frame.to_csv(sys.stdout, index=False, lineterminator="\n")
        return
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 250):
        print(frame.astype(object).where(frame.notna(), "").to_string(index=False))


def add_parser(sub) -> None:
    """Register `stats` and its four subcommands on the main parser's subparsers."""
    s = sub.add_parser("stats", help="the dashboard's statistics (SPC, trend, interval, funnel) on any series")
    ss = s.add_subparsers(dest="stats_command", required=True)

    def fmt(p):
        p.add_argument("--format", choices=["table", "csv", "json"], default="table")

    p = ss.add_parser("spc", help="XmR chart as NHSRplotthedots: CSV with period,value in time order")
    p.add_argument("file", nargs="?")  # optional here only so `--rebase P FILE` also works (see run)
    p.add_argument("--polarity", choices=POLARITIES, default="higher",
                   help="which way is better (default higher, as NHSRplotthedots' improvement_direction)")
    p.add_argument("--target", type=float)
    p.add_argument("--rebase", nargs="+", action="extend", default=[], metavar="PERIOD",
                   help="recalculate the limits from this period on")
    p.add_argument("--min-points", type=int, default=spc.MIN_POINTS,
                   help=f"fewest points for limits (default {spc.MIN_POINTS}, as NHSRplotthedots)")
    fmt(p)
    p = ss.add_parser("trend", help="Fingertips recent trend: CSV with period,value[,numerator,denominator]"
                                    "[,ci_low,ci_high], annual periods in time order")
    p.add_argument("file")
    p.add_argument("--polarity", choices=POLARITIES, default="none")
    fmt(p)
    p = ss.add_parser("interval", help="a 95%% or 99.8%% confidence interval")
    p.add_argument("--numerator", type=float, required=True)
    p.add_argument("--denominator", type=float)
    p.add_argument("--unit", required=True)
    p.add_argument("--level", type=float, choices=[95, 99.8], default=95)
    fmt(p)
    p = ss.add_parser("funnel", help="funnel plot limits: CSV with area,numerator,denominator")
    p.add_argument("file")
    p.add_argument("--unit", required=True)
    p.add_argument("--centre", type=float)
    fmt(p)


def run(args, config=None) -> int:
    """Run a `stats` subcommand: 0 done, 2 usage (the message on stderr)."""
    try:
        if args.stats_command == "spc":
            if args.file is None and args.rebase and Path(args.rebase[-1]).is_file():
                args.file = args.rebase.pop()  # `--rebase PERIOD FILE`: the list took the file too
            if args.file is None:
                raise UsageError("stats spc needs FILE, a CSV with period,value")
            frame = read_table(args.file, ["period", "value"])
            _print(spc_rows(frame, args.polarity, args.target, args.rebase, args.min_points), SPC_COLUMNS,
                   args.format)
        elif args.stats_command == "trend":
            frame = read_table(args.file, ["period", "value"])
            row = trend_row(frame, args.polarity)
            _print([row] if args.format == "json" else row, TREND_COLUMNS, args.format)
        elif args.stats_command == "interval":
            if args.numerator < 0 or (args.denominator is not None and args.denominator <= 0):
                raise UsageError("the numerator must be 0 or more and the denominator above 0")
            _print(interval_row(args.numerator, args.denominator, args.unit, args.level), INTERVAL_COLUMNS,
                   args.format)
        else:
            frame = read_table(args.file, ["area", "numerator", "denominator"])
            _print(funnel_rows(frame, args.unit, args.centre), stats.FUNNEL_TABLE_COLUMNS, args.format)
    except UsageError as e:
        print(f"usage error: {e}", file=sys.stderr)
        return 2
    return 0
