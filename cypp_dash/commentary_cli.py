"""The command line's `commentary` command: `python -m cypp_dash commentary list|export|import FILE
[--user NAME]` (registered in cli.py). Machine access, like `import`: no role check; NAME is recorded as
the author of the drafts an import makes."""
from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from cypp_dash import cli_files, commentary, commentary_upload, export, store
from cypp_dash.config import Config


def add_arguments(sub) -> None:
    """Register `commentary` on the command line's sub-parsers."""
    s = sub.add_parser("commentary", help="officer commentary per KPI and period, with its sign-off state")
    cs = s.add_subparsers(dest="commentary_command", required=True)
    a = cs.add_parser("list", help="the approved commentary in force and the drafts waiting")
    a.add_argument("--format", choices=["table", "csv", "json"], default="table")
    a = cs.add_parser("export", help="the same as CSV (formula-like text neutralised), to edit and import")
    a.add_argument("--out", help="write to this file instead of the screen")
    a = cs.add_parser("import", help="check a CSV of kpi, area, period, commentary and save it as drafts")
    a.add_argument("file")
    a.add_argument("--user")


def command(conn: duckdb.DuckDBPyConnection, config: Config, args, print_frame, user: str) -> int:
    """Run `commentary list|export|import` (machine access, like `import`: no role check; NAME is recorded
    as the author). import: 0 loaded, 1 refused with every problem named."""
    if args.commentary_command == "import":
        path = Path(args.file)
        upload = cli_files.checked_file(path, lambda data, name: commentary_upload.validate_csv(config, data, name))
        if upload is None:
            return 1
        result = commentary_upload.save_upload_as(conn, user, upload)
        print(f"loaded {path.name}: {result.drafts} draft(s) waiting for a lead's approval, "
              f"{result.unchanged} unchanged")
        return 0
    df = commentary.frame(commentary.current_rows(conn), store.area_names(conn))
    if args.commentary_command == "export":
        data = export.table_csv(df)
        if args.out:
            Path(args.out).write_bytes(data)
            print(f"wrote {args.out} ({len(df)} row(s))")
        else:
            sys.stdout.buffer.write(data)
        return 0
    if args.format == "table":
        one_line = df["commentary"].map(lambda t: " ".join(t.split()))
        df = df.assign(commentary=one_line.map(lambda t: t if len(t) <= 60 else t[:57] + "..."))
        df = df[["kpi", "area", "period", "state", "written_by", "decided_by", "commentary"]]
    print_frame(df if args.format != "csv" else export.safe_frame(df), args.format)
    return 0
