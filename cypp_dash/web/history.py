"""The upload history as the Upload and Admin pages show it: every load in a performance manager's words,
each upload's name in the roll-back list, and the question a roll back asks."""
from __future__ import annotations

import duckdb
import pandas as pd

from cypp_dash import store
from cypp_dash.web.text import markdown_literal

HISTORY_COLUMNS = {"batch_id": "Upload", "kind": "Kind", "user_name": "Loaded by", "file_name": "File",
                   "loaded_at": "Loaded (UTC)", "rows_added": "Rows added", "rows_revised": "Rows revised",
                   "rows_unchanged": "Rows unchanged", "status": "Status", "rolled_back_at": "Rolled back (UTC)",
                   "rolled_back_by": "Rolled back by", "sha256": "File fingerprint (SHA-256)"}
KIND_WORDS = {"upload": "Upload", "plan": "Bundled: the plan's own figures", "illustrative": "Bundled: illustrative",
              "fingertips": "Bundled: Fingertips"}
STATUS_WORDS = {"loaded": "Loaded", "rolled back": "Rolled back"}


def upload_history(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every upload, newest first, in words a performance manager uses: plain column names, bundled data loads
    marked as such, times to the minute, and blanks (not "None") where there is nothing to say."""
    raw = store.history(conn)
    shown = raw[[c for c in HISTORY_COLUMNS if c in raw]].copy()
    shown["kind"] = shown["kind"].map(lambda k: KIND_WORDS.get(k, k))
    shown["status"] = shown["status"].map(lambda k: STATUS_WORDS.get(k, k))
    for col in ("loaded_at", "rolled_back_at"):
        shown[col] = [f"{v:%d %b %Y %H:%M}" if pd.notna(v) else "" for v in shown[col]]
    shown = shown.astype(object).where(shown.notna(), "")
    return shown.rename(columns=HISTORY_COLUMNS)


def batch_label(row: pd.Series) -> str:
    """How an upload is named in the roll-back list: number, file, who, when, rows; bundled loads marked."""
    bundled = "" if row["kind"] == "upload" else " · BUNDLED DATA LOAD"
    return (f"Upload {row['batch_id']} · {row['file_name']} · {row['user_name']} · "
            f"{row['loaded_at']:%d %b %Y %H:%M} · {int(row['rows_added']) + int(row['rows_revised'])} rows{bundled}")


def rollback_question(row: pd.Series) -> str:
    """The confirmation a roll back asks for, naming the upload's file, user, date and rows."""
    text = (f"Roll back upload {row['batch_id']}: **{markdown_literal(str(row['file_name']))}**, loaded by "
            f"**{markdown_literal(str(row['user_name']))}** on {row['loaded_at']:%d %B %Y at %H:%M} UTC "
            f"({int(row['rows_added']):,} rows added, {int(row['rows_revised']):,} revised)? Its figures will go "
            "and the figures it revised will come back.")
    if row["kind"] != "upload":
        text += (" **This is a bundled data load** that came with the dashboard, not someone's upload: rolling it "
                 "back removes those figures from every page.")
    return text
