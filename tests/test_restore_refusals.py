"""A restore from a corrupt, truncated, foreign or crafted backup is refused in plain words, on the
command line (exit 1, no traceback) and on the Administration page (a message, no error box); the
store is left as it was and the attempt is in the audit log. Command-line CSV is neutralised
against formula injection like the downloads."""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys

import duckdb
import pytest
from test_auth import _restore_on_page, signed_in

from cypp_dash import auth, loading, store
from cypp_dash.config import ROOT


@pytest.fixture(scope="module")
def backups(tmp_path_factory, _built_store_file):
    """One real backup and every kind of bad one made from it."""
    folder = tmp_path_factory.mktemp("backups")
    good = folder / "good.duckdb"
    shutil.copyfile(_built_store_file, good)
    data = good.read_bytes()
    made = {}
    made["truncated"] = data[: len(data) // 3]
    made["header only"] = data[:4096]
    flipped = bytearray(data)
    for i in range(len(flipped) // 4, len(flipped) // 2):
        flipped[i] ^= 0x5A
    made["corrupt"] = bytes(flipped)
    made["text"] = b"kpi,area,period,value\nEH01,Worcester,2023/24 Q1,50\n"
    made["empty"] = b""
    for name, content in made.items():
        (folder / f"{name.replace(' ', '-')}.duckdb").write_bytes(content)
    foreign = folder / "foreign.duckdb"
    c = duckdb.connect(str(foreign))
    c.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
    c.execute("INSERT INTO meta VALUES ('project', 'cypp-dashboard')")
    c.execute("CREATE TABLE observations (x VARCHAR)")
    c.execute("INSERT INTO observations VALUES ('<script>')")
    c.close()
    crafted = folder / "crafted.duckdb"
    shutil.copyfile(good, crafted)
    c = duckdb.connect(str(crafted))
    c.execute("ALTER TABLE observations ALTER period_start TYPE VARCHAR")
    c.execute("UPDATE observations SET period_start = 'not a date'")
    c.execute('CREATE TABLE "x""; DROP TABLE users; --" (a INT)')
    c.close()
    return {p.stem.replace("-", " "): p for p in folder.glob("*.duckdb") if p.stem != "good"}


BAD = ["truncated", "header only", "corrupt", "text", "empty", "foreign", "crafted"]


@pytest.mark.parametrize("kind", BAD)
def test_a_bad_backup_is_refused_by_the_library_with_the_store_unchanged_and_audited(kind, conn, backups):
    before = store.content_checksum(conn, skip=("audit",))
    with pytest.raises(store.StoreError, match="nothing was replaced|not a dashboard store|does not exist"):
        store.restore(conn, backups[kind], "operator")
    assert store.content_checksum(conn, skip=("audit",)) == before
    log = store.audit_log(conn)
    assert (log.iloc[0]["user_name"], log.iloc[0]["action"]) == ("operator", "restore refused")
    assert log.iloc[0]["detail"].startswith(backups[kind].name)


@pytest.mark.parametrize("kind", ["truncated", "corrupt", "foreign", "crafted"])
def test_a_bad_backup_is_refused_on_the_command_line_without_a_traceback(kind, db_path, backups):
    before = _checksum(db_path)
    out = subprocess.run([sys.executable, "-m", "cypp_dash", "restore", str(backups[kind])], cwd=ROOT,
                         env={**os.environ, "CYPP_DB": str(db_path)}, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert out.stderr.startswith("error: ") and "Traceback" not in out.stderr, out.stderr
    assert _checksum(db_path) == before
    c = duckdb.connect(str(db_path), read_only=True)
    try:
        assert c.execute("SELECT action FROM audit ORDER BY logged_at DESC LIMIT 1").fetchone()[0] == "restore refused"
    finally:
        c.close()


def _checksum(path) -> str:
    c = duckdb.connect(str(path), read_only=True)
    try:
        return store.content_checksum(c, skip=("audit",))
    finally:
        c.close()


@pytest.mark.parametrize("kind", ["corrupt", "crafted"])
def test_a_bad_backup_is_refused_on_the_admin_page(kind, app_page, db_path, backups, monkeypatch):
    conn = store.process_connection(db_path)
    auth.add_user(conn, "ada", "admin", "admin password three", actor="test")
    before = store.content_checksum(conn, skip=("audit",))
    at = _restore_on_page(app_page("admin.py", state=signed_in("admin")), backups[kind].name,
                          backups[kind].read_bytes())
    assert not at.exception
    assert "nothing was replaced" in at.error[0].value or "not a dashboard store" in at.error[0].value
    assert store.content_checksum(conn, skip=("audit",)) == before
    log = store.audit_log(conn)
    assert (log.iloc[0]["user_name"], log.iloc[0]["action"]) == ("ada", "restore refused")


def test_command_line_csv_is_neutralised_like_the_downloads(db_path, config):
    conn = store.connect(db_path)
    try:
        outcome = loading.import_file(conn, config, b"kpi,area,period,value,note\nEH01,Worcester,2023/24 Q1,50,x\n",
                                      "=HYPERLINK(\"http://evil\")", "@SUM(A1)")
        assert outcome.loaded
    finally:
        conn.close()
    out = subprocess.run([sys.executable, "-m", "cypp_dash", "history", "--format", "csv"], cwd=ROOT,
                         env={**os.environ, "CYPP_DB": str(db_path)}, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    mine = next(r for r in rows if "HYPERLINK" in r["file_name"])
    assert mine["file_name"] == "'=HYPERLINK(\"http://evil\")"
    assert mine["user_name"] == "'@SUM(A1)"
    assert mine["rows_added"].isdigit() and mine["batch_id"].isdigit()  # numbers stay numbers
    for row in rows:
        assert not any(str(v).startswith(("=", "+", "@", "\t", "\r")) for v in row.values())
