"""Operators work while the dashboard runs: with `streamlit run app.py` holding the embedded store,
every command-line command (users, history, status, report, backup, import, rollback) works within
seconds, answered by the dashboard's process over its operator socket (0600, beside the store),
and a backup taken again and again while browsers read succeeds every time."""
from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
import time
import zipfile

import devserver
import pyarrow.parquet as pq

from cypp_dash import operator_channel, store

ROOT = devserver.ROOT
UPLOAD = b"kpi,area,period,value,note\nEH02,E10000034,2024/25 Q1,71.5,=cmd|' /C calc'!A0\n"


def cli(*args, db, cwd, stdin: str | None = None) -> tuple[subprocess.CompletedProcess, float]:
    # A short wait for the file: the command must go through the dashboard, not outwait it.
    env = {**os.environ, "CYPP_DB": str(db), "CYPP_LOCK_WAIT": "3", "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "cypp_dash", *args], cwd=cwd, env=env, input=stdin,
                         capture_output=True, text=True, timeout=300)
    return out, time.monotonic() - started


def test_every_command_and_repeated_backups_work_while_the_app_serves(fresh_store, serve, page, tmp_path):
    db = fresh_store("operations")
    with serve(db, db.parent / "streamlit.log") as url:
        page.goto(url + "/partnership?partnership=early-help&area=E10000034")
        page.wait_for_function(devserver.DRAWN, polling=100)
        sock = operator_channel.socket_path(db)
        assert sock.exists()
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
        # The store file really is held by the app: opening it here is refused at once.
        try:
            store.connect(db, wait_seconds=0).close()
            raise AssertionError("the store file was not held by the app")
        except store.StoreBusy:
            pass

        timings = {}
        out, timings["users add"] = cli("users", "add", "opsadmin", "--role", "admin", db=db, cwd=tmp_path,
                                        stdin="a long operator passphrase\n")
        assert out.returncode == 0 and "added opsadmin (admin)" in out.stdout, out.stderr
        out, timings["users list"] = cli("users", "list", db=db, cwd=tmp_path)
        assert out.returncode == 0 and "opsadmin" in out.stdout, out.stderr
        (tmp_path / "upload.csv").write_bytes(UPLOAD)
        out, timings["import"] = cli("import", "upload.csv", "--user", "ops", db=db, cwd=tmp_path)  # relative name
        assert out.returncode == 0 and "loaded upload.csv as batch" in out.stdout, out.stdout + out.stderr
        batch = int(out.stdout.split("as batch ")[1].split(":")[0])
        out, timings["history"] = cli("history", "--format", "csv", db=db, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        rows = list(csv.DictReader(io.StringIO(out.stdout)))
        assert rows[0]["batch_id"] == str(batch) and rows[0]["user_name"] == "ops"
        out, timings["status"] = cli("status", "--area", "E10000034", "--period", "2024/25 Q1", "--format", "json",
                                     db=db, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        assert next(r for r in json.loads(out.stdout) if r["code"] == "EH02")["value"] == 71.5
        out, timings["report"] = cli("report", "--partnership", "early-help", "--out", "board.docx", db=db,
                                     cwd=tmp_path)
        assert out.returncode == 0 and (tmp_path / "board.docx").stat().st_size > 0, out.stderr
        out, timings["rollback"] = cli("rollback", str(batch), db=db, cwd=tmp_path)
        assert out.returncode == 0 and f"rolled back batch {batch}" in out.stdout, out.stderr

        # A scheduled backup, again and again, while a browser reads pages in between.
        for i in range(4):
            page.goto(url + ("/partnership?partnership=safeguarding&area=E07000237" if i % 2 else "/"))
            out, timings[f"backup {i + 1}"] = cli("backup", f"nightly-{i}.zip", db=db, cwd=tmp_path)
            assert out.returncode == 0, out.stderr
            page.wait_for_function(devserver.DRAWN, polling=100)
            copy = tmp_path / f"nightly-{i}.zip"
            store.check_backup(copy)  # a whole, readable backup: manifest, every table, its digests
            with zipfile.ZipFile(copy) as zf:
                users = pq.read_table(io.BytesIO(zf.read("tables/users.parquet"))).column("name").to_pylist()
            assert users.count("opsadmin") == 1
        # A usage error still comes back as one.
        out, _ = cli("rollback", "999999", db=db, cwd=tmp_path)
        assert out.returncode == 1 and out.stderr.startswith("error: there is no upload numbered 999999")
        assert "Traceback" not in out.stderr
        print("\n" + "\n".join(f"{name}: {seconds:.1f} s" for name, seconds in timings.items()))
        # Generous bounds for a shared two-core machine; the wait for the store itself is under a second.
        assert max(timings.values()) < 60
    # With the app gone the socket is left behind, and the command line opens the file directly.
    out, _ = cli("users", "list", db=db, cwd=tmp_path)
    assert out.returncode == 0 and "opsadmin" in out.stdout
