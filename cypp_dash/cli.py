"""The command line (`python -m cypp_dash ...`): a thin layer over the package for scripts and checks."""
from __future__ import annotations

import argparse
import getpass
import json
import math
import os
import sys
from pathlib import Path

import pandas as pd

from cypp_dash import auth, cli_files, loading, stats_cli, status, store
from cypp_dash.config import ConfigError, load_config
from cypp_dash.periods import PeriodError, parse_period

STATUS_EXTRA = ["area_name", "england_period", "baseline", "baseline_period", "note", "illustrative", "source",
                "licence", "comparison_text", "trend_text", "spc_text", "numerator", "denominator",
                "england_out_of_date", "compared_with_parent", "headline", "spc_rebase"]


def _print_frame(df: pd.DataFrame, fmt: str) -> None:
    if fmt == "csv":
        # Operators redirect this into files they open in Excel: text that could start a formula gets a
        # leading apostrophe, as in the dashboard's downloads (numbers stay numbers).
        from cypp_dash.export import safe_frame

        safe_frame(df).to_csv(sys.stdout, index=False, lineterminator="\n")
    elif fmt == "json":
        records = df.to_dict(orient="records")
        print(json.dumps([{k: _json_value(v) for k, v in r.items()} for r in records], indent=2, default=str))
    else:
        if df.empty:
            print("(nothing to show)")
            return
        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 250,
                               "display.max_colwidth", 60):
            print(df.to_string(index=False))


def _json_value(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NaT or (not isinstance(v, (list, dict, str)) and pd.isna(v)):
        return None
    return v


def cmd_init_db(args, config) -> int:
    conn = _conn if _conn is not None else _connect()
    loading.build_store(conn, config)
    print(f"store ready: {store.describe()}")
    return 0


def cmd_status(args, config) -> int:
    try:
        plan = config.plan(args.plan)
    except KeyError:
        return _usage(f"there is no plan {args.plan!r}; plans: {', '.join(p.id for p in config.plans)}")
    if args.partnership and args.partnership not in {p.id for p in plan.partnerships}:
        return _usage(f"there is no partnership {args.partnership!r} in {plan.id}; partnerships: "
                      + ", ".join(p.id for p in plan.partnerships))
    if args.area not in {a.code for a in config.areas}:
        return _usage(f"{args.area!r} is not a known area code")
    if args.period:
        try:
            args.period = parse_period(args.period).label
        except PeriodError as e:
            return _usage(str(e))
    conn = _open(config)
    rows = status.plan_status(conn, config, plan, args.area, args.period, partnership_id=args.partnership)
    df = status.status_frame(rows)
    if args.format == "table":
        df = df[["code", "kpi", "area", "period", "value", "unit", "england", "rag", "reason"]]
    else:
        df = df.reindex(columns=status.CONTRACT_COLUMNS + STATUS_EXTRA)  # a plan with no KPIs yet: no rows
    _print_frame(df, args.format)
    return 0


def cmd_indicators(args, config) -> int:
    conn = _open(config)
    df = store.indicators_for_area(conn, args.area)
    cols = ["indicator_id", "name", "period", "value", "ci_low", "ci_high", "compared_with_england", "flags"]
    df = df.assign(compared_with_england=df["compared_with_england"].fillna("not compared"))
    _print_frame(df[cols + ["source", "licence"]] if args.format != "table" else df[cols], args.format)
    return 0


def cmd_import(args, config) -> int:
    path = Path(args.file)
    v = cli_files.checked_file(path, lambda data, name: loading.validate(config, data, name))
    if v is None:
        return 1
    conn = _open(config)
    r = loading.load_validated(conn, v, args.user or getpass.getuser())
    print(f"loaded {path.name} as batch {r.batch_id}: {r.added} added, {r.revised} revised, "
          f"{r.unchanged} unchanged")
    return 0


def cmd_history(args, config) -> int:
    _print_frame(store.history(_open(config)), args.format)
    return 0


def cmd_rollback(args, config) -> int:
    store.rollback(_open(config), args.batch, args.user or getpass.getuser())
    print(f"rolled back batch {args.batch}")
    return 0


def cmd_backup(args, config) -> int:
    out = store.backup(_open(config), args.file)
    print(f"backed up to {out}")
    return 0


def cmd_restore(args, config) -> int:
    store.restore(_open(config), args.file, args.user or getpass.getuser())  # refuses (and audits) a bad file
    print(f"restored from {args.file}")
    return 0


def cmd_report(args, config) -> int:
    from cypp_dash import export

    plan = config.plan(args.plan)
    if args.partnership not in {p.id for p in plan.partnerships}:
        return _usage(f"there is no partnership {args.partnership!r} in {plan.id}; partnerships: "
                      + ", ".join(p.id for p in plan.partnerships))
    period = parse_period(args.period).label if args.period else None
    out = export.board_report(_open(config), config, plan, args.partnership, args.out, period=period)
    print(f"wrote {out}")
    return 0


def cmd_commentary(args, config) -> int:
    from cypp_dash import commentary_cli

    return commentary_cli.command(_open(config), config, args, _print_frame, getattr(args, "user", None)
                              or getpass.getuser())


def cmd_users(args, config) -> int:
    return auth.users_command(_open(config), args)


_conn = None
_ready = False
# Commands that open the store: when the running dashboard has it open, they are sent to it
# (cypp_dash/operator_channel.py).
STORE_COMMANDS = {"init-db", "status", "indicators", "import", "history", "rollback", "backup", "restore", "report",
                  "users", "benchmark", "commentary"}


def _connect():
    global _conn
    _conn = store.connect()
    return _conn


def _open(config):
    """The one connection of this process, with the store built on first use."""
    global _ready
    if _conn is None:
        _connect()
    if not _ready:
        loading.ensure_store(_conn, config)
        _ready = True
    return _conn


def _through_the_dashboard(argv: list[str], args) -> int | None:
    """When the store file is held by the running dashboard and it answers on its operator socket, run
    the command there and return its exit code; None to open the store here (waiting as usual)."""
    from cypp_dash import operator_channel

    db = store.db_path()
    if str(db).startswith(("postgresql://", "postgres://")) or not operator_channel.available(db):
        return None
    try:
        _connect_now()
        return None  # the file was free after all: work on it directly
    except store.StoreBusy:
        pass
    stdin_text = ""
    if args.command == "users" and args.users_command in ("add", "passwd"):
        from cypp_dash import auth

        try:
            stdin_text = auth.read_password() + "\n"  # prompted here, at the operator's terminal
        except auth.AccountError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    try:
        return operator_channel.forward(argv, db, stdin_text)
    except OSError:
        return None  # nothing answered (a socket left behind): wait for the file as usual


def _connect_now():
    global _conn
    _conn = store.connect(wait_seconds=0)


def _usage(message: str) -> int:
    print(f"usage error: {message}", file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cypp_dash",
                                description="CYPP performance dashboard: store, status and exports.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("init-db", help="create the store and load the bundled plans, baselines and data")
    s = sub.add_parser("status", help="one row per KPI for an area")
    s.add_argument("--area", required=True)
    s.add_argument("--period")
    s.add_argument("--plan")
    s.add_argument("--partnership")
    s.add_argument("--format", choices=["table", "csv", "json"], default="table")
    s = sub.add_parser("indicators", help="every indicator held for an area")
    s.add_argument("--area", required=True)
    s.add_argument("--format", choices=["table", "csv", "json"], default="table")
    s = sub.add_parser("import", help="validate and load an upload or a Fingertips download")
    s.add_argument("file")
    s.add_argument("--user")
    s = sub.add_parser("history", help="uploads with who, when and rows")
    s.add_argument("--format", choices=["table", "csv", "json"], default="table")
    s = sub.add_parser("rollback", help="undo one upload exactly")
    s.add_argument("batch", type=int)
    s.add_argument("--user")
    s = sub.add_parser("report", help="write the Word board report for a partnership")
    s.add_argument("--partnership", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--period")
    s.add_argument("--plan")
    s = sub.add_parser("backup", help="copy the whole store to a file")
    s.add_argument("file")
    s = sub.add_parser("restore", help="replace the store with a backup")
    s.add_argument("file")
    s.add_argument("--user")
    s = sub.add_parser("users", help="sign-in accounts and their roles")
    us = s.add_subparsers(dest="users_command", required=True)
    a = us.add_parser("add")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=["viewer", "editor", "lead", "admin"])
    us.add_parser("list")
    a = us.add_parser("remove")
    a.add_argument("name")
    a = us.add_parser("passwd")
    a.add_argument("name")
    from cypp_dash import benchmark_cli

    benchmark_cli.add_parser(sub)
    stats_cli.add_parser(sub)
    from cypp_dash import commentary_cli  # loads the Word export only when the command line is built

    commentary_cli.add_arguments(sub)
    return p


COMMANDS = {"init-db": cmd_init_db, "status": cmd_status, "indicators": cmd_indicators, "import": cmd_import,
            "history": cmd_history, "rollback": cmd_rollback, "backup": cmd_backup, "restore": cmd_restore,
            "report": cmd_report, "users": cmd_users, "commentary": cmd_commentary,
            "stats": stats_cli.run, "benchmark": lambda a, c: _benchmark(a, c)}


def _benchmark(args, config) -> int:
    from cypp_dash import benchmark_cli

    return benchmark_cli.run(args, _open(config), _print_frame, _usage)


def main(argv: list[str] | None = None, *, connection=None, cwd: str | None = None) -> int:
    """Run one command. `connection` and `cwd` are given when the running dashboard runs a command sent
    over its operator socket: its own connection, and the caller's folder for relative file names."""
    global _conn, _ready
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    if connection is not None:
        _conn, _ready = connection, True
        for name in ("file", "out"):
            value = getattr(args, name, None)
            if isinstance(value, str) and cwd:
                setattr(args, name, os.path.join(cwd, value))
    try:
        config = load_config()
        if connection is None and args.command in STORE_COMMANDS:
            forwarded = _through_the_dashboard(argv, args)
            if forwarded is not None:
                return forwarded
        return COMMANDS[args.command](args, config)
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 1
    except (store.StoreError, PeriodError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader stopped early (`status ... | head`): no traceback; send what is left nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    finally:
        if _conn is not None:
            _conn.close()
            _conn = None
        _ready = False
