"""A CSV of commentary (kpi, area, period, commentary): checked into the one checked-file type
(ingest.Validated, kind "commentary", its rows UploadRow), then saved as drafts all or nothing (by an editor,
lead or admin on the page; as a named author from the command line)."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date

import duckdb

from cypp_dash import auth, commentary, store
from cypp_dash.config import Config
from cypp_dash.ingest import Problem, Validated
from cypp_dash.ingest.read import data_rows, header_columns, read_records


@dataclass(frozen=True)
class UploadRow:
    key: commentary.Key
    body: str
    row: int


def validate_csv(config: Config, data: bytes, file_name: str, today: date | None = None) -> Validated:
    """Check a CSV of commentary. Columns (any case, any order): kpi, area, period, commentary. Every
    problem names its row (header = 1) and column; a file with any problem loads nothing."""
    out = Validated(kind="commentary", file_name=file_name, sha256=hashlib.sha256(data).hexdigest())
    problems = out.problems
    records = read_records(data, out, config.settings.upload_max_mb * 1024 * 1024)
    if records is None:
        return out
    columns = header_columns(records[0], commentary.COLUMNS, commentary.COLUMNS, "kpi, area, period and commentary",
                             out)
    if problems:
        return out
    seen: dict[commentary.Key, int] = {}
    max_chars = config.settings.commentary_max_chars
    for number, cells in data_rows(records, out):

        def cell(name: str, cells=cells) -> str:
            i = columns[name]
            return cells[i] if i < len(cells) else ""

        key = None
        bad = False
        try:
            key = commentary.check_cells(config, cell("kpi"), cell("area"), cell("period"), today)
        except commentary.CellProblems as e:
            for column, message in e.items:
                problems.append(Problem(number, column, message))
            bad = True
        # A leading ' is how our own download neutralises a formula-like cell: take it off again.
        raw = re.sub(r"^'(?=[=+\-@])", "", cell("commentary").strip())
        try:
            body = commentary.clean_text(raw, max_chars)
        except commentary.CommentaryError as e:
            problems.append(Problem(number, "commentary", str(e)))
            bad = True
        if key is not None:
            if key in seen:
                problems.append(Problem(number, "kpi", f"{key.kpi_code}, {key.area_code}, {key.period} is already "
                                                       f"on row {seen[key]}"))
                bad = True
            seen.setdefault(key, number)
        if not bad:
            out.rows.append(UploadRow(key, body, number))
    if not problems and not out.rows:
        problems.append(Problem(1, None, "the file has a header row but no commentary"))
    if problems:
        out.rows = []
    problems.sort(key=lambda p: (p.row is not None, p.row or 0, p.column or ""))
    return out


@dataclass(frozen=True)
class ImportResult:
    drafts: int
    unchanged: int


def save_upload_as(conn: duckdb.DuckDBPyConnection, user: str, upload: Validated) -> ImportResult:
    """Save a checked file as drafts by `user` with no role check: for the command line (machine access,
    like `import`), and for `save_upload` once it has checked the role."""
    if not upload.ok:
        raise commentary.CommentaryError("this file did not pass the checks, so nothing can be loaded from it")
    with store.write_transaction(conn) as cur:
        at = store.now()
        saved = [commentary.save_draft(cur, r.key, r.body, user, at, upload.file_name) for r in upload.rows]
        drafts = sum(s is not None for s in saved)
        store.log_event(cur, at, user, "commentary upload",
                        f"{upload.file_name}: {drafts} draft(s), {len(saved) - drafts} unchanged")
    return ImportResult(drafts, len(saved) - drafts)


def save_upload(conn: duckdb.DuckDBPyConnection, account, upload: Validated) -> ImportResult:
    """Save a checked file of commentary as drafts, all or nothing (editor, lead or admin, checked in the
    store now)."""
    account = auth.authorise(conn, account, "editor", "upload commentary")
    return save_upload_as(conn, account.name, upload)
