"""The two stores give the same dashboard: `status` and `indicators` print the same for the same
data on the embedded DuckDB file and on PostgreSQL; a backup from either restores into the other
with the same content checksum; restore refuses a damaged or foreign backup on both; failed
sign-ins made at once by two app processes sharing one PostgreSQL are every one counted."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile

import pytest

from cypp_dash import auth, loading, status, store
from cypp_dash.config import ROOT

HEADER = "kpi,area,period,value,numerator,denominator,note\n"
FIRST = (HEADER + "EH01,E10000034,2026/27 Q1,91.0,910,1000,first\n"
         "EH01,E07000234,2026/27 Q1,88.5,177,200,\nEH02,E10000034,2026/27 Q1,80,,,\n"
         "MH01,E10000034,2026/27 Q1,12,,,\nSG01,E10000034,2026/27 Q1,[c],,,suppressed\n")
REVISION = HEADER + "EH01,E10000034,2026/27 Q1,92.0,920,1000,corrected\nEH05,E10000034,2026/27 Q1,70.25,,,\n"


def run_cli(*args, db) -> subprocess.CompletedProcess:
    env = {**os.environ, "CYPP_DB": str(db), "CYPP_TODAY": "2026-12-01"}
    return subprocess.run([sys.executable, "-m", "cypp_dash", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def _load(conn, config, body: str, name: str):
    out = loading.import_file(conn, config, body.encode(), name, "tester")
    assert out.loaded, [str(p) for p in out.validated.problems]
    return out.result


@pytest.fixture
def both(db_path, pg_db, config):
    """The bundled store on each back end, with the same two uploads (one revising the other)."""
    conns = {"duckdb": store.process_connection(db_path), "postgresql": store.process_connection(pg_db)}
    for conn in conns.values():
        _load(conn, config, FIRST, "first.csv")
        _load(conn, config, REVISION, "revision.csv")
    yield {"duckdb": db_path, "postgresql": pg_db, "conns": conns}


def test_the_same_uploads_give_the_same_content_on_both_back_ends(both):
    # Every table but the audit and batch records (which hold load times) is the same, row for row.
    d, p = both["conns"]["duckdb"], both["conns"]["postgresql"]
    for table in ("observations", "held_periods", "areas", "plans", "partnerships", "kpis", "indicators", "actions"):
        columns = {"observations": "indicator_id, area_code, period, value, numerator, denominator, note, flags",
                   "actions": "plan_id, action_id, task, lead, start_date, due_date, status, serves, comments"
                   }.get(table, "*")  # (load times differ)
        query = f"SELECT {columns} FROM {table}"  # noqa: S608 (constant names)
        assert sorted(map(repr, d.execute(query).fetchall())) == sorted(map(repr, p.execute(query).fetchall())), table


@pytest.mark.parametrize("args", [
    ("status", "--area", "E10000034", "--format", "csv"),
    ("status", "--area", "E10000034", "--format", "json"),
    ("status", "--area", "E10000034", "--format", "table"),
    ("status", "--area", "E07000234", "--period", "2025/26", "--format", "csv"),
    ("status", "--area", "E10000034", "--partnership", "early-help", "--format", "json"),
    ("indicators", "--area", "E10000034", "--format", "csv"),
    ("indicators", "--area", "E92000001", "--format", "json"),
    ("benchmark", "--area", "E10000034", "--format", "csv"),
    ("benchmark", "--area", "E06000019", "--format", "json"),
])
def test_the_command_line_prints_the_same_on_both_back_ends(both, args):
    store.close_process_connections()  # the DuckDB file is opened by the command's own process
    printed = {name: run_cli(*args, db=both[name]) for name in ("duckdb", "postgresql")}
    for name, done in printed.items():
        assert done.returncode == 0, (name, done.stderr)
    assert printed["duckdb"].stdout == printed["postgresql"].stdout
    assert len(printed["duckdb"].stdout.splitlines()) > 3


def test_status_rows_are_the_same_objects_on_both_back_ends(both, config):
    rows = {name: status.status_frame(status.plan_status(conn, config, config.plan(), "E10000034", None))
            for name, conn in both["conns"].items()}
    assert rows["duckdb"].equals(rows["postgresql"])
    assert (rows["duckdb"].dtypes == rows["postgresql"].dtypes).all()


def test_a_backup_of_the_embedded_store_restores_into_postgresql_and_back_with_the_same_checksum(
        db_path, pg_db, config, tmp_path):
    duck, pg = store.process_connection(db_path), store.process_connection(pg_db)
    _load(duck, config, FIRST, "first.csv")
    _load(duck, config, REVISION, "revision.csv")
    embedded = store.content_checksum(duck)
    copy = store.backup(duck, tmp_path / "from-duckdb.zip")
    with zipfile.ZipFile(copy) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["engine"] == "duckdb" and manifest["content_checksum"] == embedded

    store.restore(pg, copy, "admin")
    pg.execute("DELETE FROM audit WHERE action = 'restore'")
    assert store.content_checksum(pg) == embedded

    _load(pg, config, HEADER + "EH06,E10000034,2026/27 Q1,55.5,,,\n", "on-postgres.csv")
    on_postgres = store.content_checksum(pg)
    back = store.backup(pg, tmp_path / "from-postgresql.zip")
    store.restore(duck, back, "admin")
    duck.execute("DELETE FROM audit WHERE action = 'restore'")
    assert store.content_checksum(duck) == on_postgres
    row = status.plan_status(duck, config, config.plan(), "E10000034", None, partnership_id="early-help")
    assert {s.code: s.value for s in row}["EH06"] == 55.5


def _zip(tmp_path, name: str, files: dict[str, bytes]):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        for inner, data in files.items():
            zf.writestr(inner, data)
    return path


def test_restore_refuses_damaged_or_foreign_backups_on_either_back_end(backend_db, tmp_path):
    conn = store.process_connection(backend_db)
    good = store.backup(conn, tmp_path / "good.zip")
    with zipfile.ZipFile(good) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(parts["manifest.json"])
    tampered = dict(parts)
    tampered["tables/observations.parquet"] = parts["tables/observations.parquet"][:-40] + b"x" * 40
    foreign = {**parts, "manifest.json": json.dumps({**manifest, "project": "someone else"}).encode()}
    missing = {n: d for n, d in parts.items() if n != "tables/batches.parquet"}
    cases = [(_zip(tmp_path, "no-manifest.zip", {"a.txt": b"hello"}), "not a backup of this dashboard"),
             (_zip(tmp_path, "foreign.zip", foreign), "not a backup of this dashboard"),
             (_zip(tmp_path, "tampered.zip", tampered), "does not match its checksum"),
             (_zip(tmp_path, "missing.zip", missing), "is missing")]
    before = store.content_checksum(conn, skip=("audit",))  # (each refusal is recorded in the audit log)
    for path, words in cases:
        with pytest.raises(store.StoreError, match=words):
            store.restore(conn, path, "admin")
    assert store.content_checksum(conn, skip=("audit",)) == before


def test_a_table_that_does_not_restore_exactly_is_refused_and_nothing_changes(backend_db, tmp_path, monkeypatch):
    conn = store.process_connection(backend_db)
    good = store.backup(conn, tmp_path / "good.zip")
    with zipfile.ZipFile(good) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(parts["manifest.json"])
    manifest["tables"]["observations"]["content"] = "0" * 64  # the content recorded differs from the rows
    bad = _zip(tmp_path, "differs.zip", {**parts, "manifest.json": json.dumps(manifest).encode()})
    before = store.content_checksum(conn, skip=("audit",))
    with pytest.raises(store.StoreError, match="did not restore exactly"):
        store.restore(conn, bad, "admin")
    assert store.content_checksum(conn, skip=("audit",)) == before


SIGN_IN_TWICE = """
from cypp_dash import auth, store
conn = store.connect()
for _ in range(2):
    assert auth.sign_in(conn, "eddie", "not the password", sleep=lambda s: None) is None
"""


def test_failed_sign_ins_in_two_app_processes_at_once_are_all_counted(pg_db):
    conn = store.process_connection(pg_db)
    auth.add_user(conn, "eddie", "editor", "a long enough password", actor="test")
    env = {**os.environ, "CYPP_DB": pg_db}
    procs = [subprocess.Popen([sys.executable, "-c", SIGN_IN_TWICE], cwd=ROOT, env=env, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    assert conn.execute("SELECT failed_count, locked_until FROM users WHERE name = 'eddie'").fetchone() == (4, None)
    failed = conn.execute("SELECT count(*) FROM audit WHERE action = 'sign-in failed' AND user_name = 'eddie'")
    assert failed.fetchone()[0] == 4
    # The fifth failure, from either process, locks the account for everyone.
    assert auth.sign_in(conn, "eddie", "still wrong", sleep=lambda s: None) is None
    assert conn.execute("SELECT locked_until IS NOT NULL FROM users WHERE name = 'eddie'").fetchone()[0] is True
    assert auth.sign_in(conn, "eddie", "a long enough password", sleep=lambda s: None) is None


def test_a_postgresql_address_is_never_printed_with_its_password():
    assert store.describe("postgresql://ann:s3cret@db.example:5432/cypp") == "postgresql://ann:***@db.example:5432/cypp"


def test_an_unreachable_postgresql_store_is_a_clear_error(tmp_path):
    with pytest.raises(store.StoreError, match="cannot be reached"):
        store.connect(f"postgresql://nobody@/none?host={tmp_path}")


PAGES = [("overview.py", {}), ("overview.py", {"area": "E07000237"}),
         ("partnership.py", {"partnership": "early-help", "kpi": "EH01"}),
         ("partnership.py", {"partnership": "safeguarding", "area": "E07000238", "kpi": "SG01"}),
         ("districts.py", {"kpi": "EH01"}), ("about_data.py", {}), ("about_plan.py", {}), ("actions.py", {}),
         ("voice.py", {}), ("wider_outcomes.py", {}), ("wider_outcomes.py", {"plan": "bromley-2011-14"}),
         ("commentary.py", {}), ("benchmarking.py", {})]  # (public.py is off in config.yaml; its read is compared in the commentary test)
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}(:\d{2})?\b")  # load times differ between the two stores' builds


def _page_text(monkeypatch, target, name: str, query: dict) -> str:
    import streamlit as st
    from page_text import all_tables, chart_pictures, texts
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CYPP_DB", str(target))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, (name, target, at.exception)
    body = texts(at) + "\n".join(t.to_csv() for t in all_tables(at)) + "\n".join(chart_pictures(at))
    return _CLOCK.sub("hh:mm", body)


@pytest.mark.parametrize("name, query", PAGES, ids=[f"{n}-{'-'.join(q.values())}" for n, q in PAGES])
def test_every_page_shows_the_same_on_both_back_ends(both, monkeypatch, name, query):
    shown = {backend: _page_text(monkeypatch, both[backend], name, query) for backend in ("duckdb", "postgresql")}
    assert shown["duckdb"] == shown["postgresql"]
    assert len(shown["duckdb"]) > 200


def test_commentary_sign_off_and_a_released_quarter_read_the_same_on_both_back_ends(both, config, monkeypatch):
    from datetime import timedelta

    from cypp_dash import commentary, release
    from cypp_dash.auth import Account

    plan, period = config.plan(), "2025/26 Q4"
    at = store.now().replace(microsecond=0) + timedelta(hours=1)
    monkeypatch.setattr(store, "now", lambda: at)
    seen = {}
    for name, conn in both["conns"].items():
        for user, role in (("eddie", "editor"), ("lena", "lead")):
            auth.add_user(conn, user, role, "a long enough password", actor="test")
        eddie, lena = Account("eddie", "editor"), Account("lena", "lead")
        first = commentary.write_draft(conn, eddie, config, "EH01", "E10000034", period, "Extra clinics until March.")
        commentary.approve(conn, lena, first.comment_id)
        second = commentary.write_draft(conn, eddie, config, "EH02", "E10000034", period, "Take-up fell; see why.")
        commentary.return_draft(conn, lena, second.comment_id, "Say why it fell.")
        release.release(conn, lena, plan, period)
        shown, rows = release.public_statuses(conn, config, plan, "E10000034", partnership_id="early-help")
        seen[name] = (commentary.frame(commentary.current_rows(conn)), shown,
                      status.status_frame(rows), commentary.approved(conn, plan.id, "E10000034"))
    (d_frame, d_shown, d_rows, d_approved), (p_frame, p_shown, p_rows, p_approved) = seen["duckdb"], seen["postgresql"]
    assert d_frame.equals(p_frame) and len(d_frame) == 2
    assert d_shown == p_shown and d_shown.period == period
    assert d_rows.equals(p_rows) and len(d_rows) > 3
    assert d_approved == p_approved and d_approved[("EH01", period)].body == "Extra clinics until March."


@pytest.mark.parametrize("target_engine", ["duckdb", "postgresql"])
def test_a_backup_restores_every_table_into_a_fresh_store_published_comparators_included(
        db_path, config, tmp_path, request, target_engine):
    # The bundled store holds DfE's published figures and what they describe (measures, areas,
    # neighbours); a fresh store that never loaded them must take them all from the backup.
    bundled = store.process_connection(db_path)
    copy = store.backup(bundled, tmp_path / "bundled.zip")
    expected = store.content_checksum(bundled)
    with zipfile.ZipFile(copy) as zf:
        held = json.loads(zf.read("manifest.json"))["tables"]
    assert held["published_measures"]["rows"] > 0 and held["published_neighbours"]["rows"] > 0

    if target_engine == "duckdb":
        fresh = store.connect(tmp_path / "fresh.duckdb")
    else:
        fresh = store.connect(request.getfixturevalue("pg_server").create_database(f"cypp_fresh_{os.getpid()}"))
    store.restore(fresh, copy, "admin")
    fresh.execute("DELETE FROM audit WHERE action = 'restore'")
    for table in ("published_measures", "published_areas", "published_neighbours"):
        assert fresh.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == held[table]["rows"], table  # noqa: S608
    assert store.content_checksum(fresh) == expected
    fresh.close()
