"""The store keeps every upload whole or not at all: revisions keep history, as-at dates show
what a board was shown, rollback undoes exactly, a failure half-way changes nothing, and
backup/restore round-trips."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta

import pandas as pd
import pytest

from cypp_dash import loading, status, store
from cypp_dash.config import ROOT

HEADER = "kpi,area,period,value,numerator,denominator,note\n"


def upload(conn, config, body: str, name="q.csv", user="tester"):
    out = loading.import_file(conn, config, (HEADER + body).encode(), name, user)
    assert out.loaded, [str(p) for p in out.validated.problems]
    return out.result


def eh01_county(conn, config, period=None, as_at=None):
    rows = status.plan_status(conn, config, config.plan(), "E10000034", period, as_at=as_at,
                              partnership_id="early-help")
    return rows[0]


def test_a_new_figure_is_added_and_shows_in_status(conn, config):
    r = upload(conn, config, "EH01,E10000034,2026/27 Q1,91.0,910,1000,\n")
    assert (r.added, r.revised, r.unchanged) == (1, 0, 0)
    s = eh01_county(conn, config)
    assert (s.period, s.value) == ("2026/27 Q1", 91.0)


def test_resending_a_figure_revises_it_and_keeps_the_old_one_in_history(conn, config):
    upload(conn, config, "EH01,E10000034,2026/27 Q1,91.0,910,1000,\n")
    r = upload(conn, config, "EH01,Worcestershire,2026/27 Q1,92.0,920,1000,corrected\n", name="q2.csv")
    assert (r.added, r.revised, r.unchanged) == (0, 1, 0)
    s = eh01_county(conn, config)
    assert s.value == 92.0 and "revised" in s.flags
    old = conn.execute("SELECT value FROM observations WHERE indicator_id='EH01' AND area_code='E10000034' "
                       "AND period='2026/27 Q1' AND superseded_at IS NOT NULL").fetchall()
    assert old == [(91.0,)]


def test_an_identical_file_changes_nothing_but_is_recorded(conn, config):
    upload(conn, config, "EH01,E10000034,2026/27 Q1,91.0,910,1000,\n")
    r = upload(conn, config, "EH01,E10000034,2026/27 Q1,91.0,910,1000,\n", name="again.csv")
    assert (r.added, r.revised, r.unchanged) == (0, 0, 1)
    assert store.history(conn)["batch_id"].iloc[0] == r.batch_id


def test_as_at_a_date_shows_the_figures_as_they_stood_then(conn, config):
    upload(conn, config, "EH01,E10000034,2026/27 Q1,91.0,910,1000,\n")
    between = store.now()
    conn.execute("UPDATE observations SET loaded_at = loaded_at - INTERVAL 2 DAY WHERE period = '2026/27 Q1'")
    conn.execute("UPDATE batches SET loaded_at = loaded_at - INTERVAL 2 DAY")
    upload(conn, config, "EH01,E10000034,2026/27 Q1,95.0,950,1000,\n", name="revision.csv")
    assert eh01_county(conn, config).value == 95.0
    then = eh01_county(conn, config, as_at=between - timedelta(days=1))
    assert then.value == 91.0
    before_anything = eh01_county(conn, config, as_at=datetime(2000, 1, 1))
    assert before_anything.value is None


def test_rollback_restores_exactly_the_previous_contents(conn, config):
    upload(conn, config, "EH01,E10000034,2026/27 Q1,91.0,910,1000,\n")
    before = store.content_checksum(conn)
    observations_before = conn.execute("SELECT * FROM observations ORDER BY obs_id").fetchall()
    r = upload(conn, config, "EH01,E10000034,2026/27 Q1,95.0,950,1000,\nEH02,E10000034,2026/27 Q1,80,,,\n",
               name="two.csv")
    store.rollback(conn, r.batch_id, "admin")
    assert conn.execute("SELECT * FROM observations ORDER BY obs_id").fetchall() == observations_before
    assert eh01_county(conn, config).value == 91.0
    hist = store.history(conn)
    assert hist.loc[hist["batch_id"] == r.batch_id, "status"].item() == "rolled back"
    assert store.content_checksum(conn) != before  # the batch record and audit line remain, by design


def test_rollback_refuses_a_batch_whose_figures_were_revised_later(conn, config):
    first = upload(conn, config, "EH01,E10000034,2026/27 Q1,91.0,910,1000,\n")
    upload(conn, config, "EH01,E10000034,2026/27 Q1,95.0,950,1000,\n", name="later.csv")
    with pytest.raises(store.StoreError, match="roll back the later upload first"):
        store.rollback(conn, first.batch_id, "admin")


@pytest.mark.parametrize("batch, words", [(999, "no upload numbered 999")])
def test_rollback_of_an_unknown_batch_says_so(conn, batch, words):
    with pytest.raises(store.StoreError, match=words):
        store.rollback(conn, batch, "admin")


def test_a_failure_half_way_through_a_load_leaves_every_table_as_it_was(conn, config, monkeypatch):
    before = store.content_checksum(conn)

    def explode(cur):
        assert cur.execute("SELECT count(*) FROM observations WHERE period = '2026/27 Q1'").fetchone()[0] == 2
        raise RuntimeError("disk pulled out mid-load")

    monkeypatch.setattr(store, "_hook_after_insert", explode)
    v = loading.validate(config, (HEADER + "EH01,E10000034,2026/27 Q1,91,910,1000,\n"
                                  "EH02,E10000034,2026/27 Q1,80,,,\n").encode(), "x.csv")
    with pytest.raises(RuntimeError, match="mid-load"):
        loading.load_validated(conn, v, "tester")
    assert store.content_checksum(conn) == before


def test_a_refused_file_changes_nothing(conn, config):
    before = store.content_checksum(conn)
    out = loading.import_file(conn, config, (HEADER + "EH01,E10000034,2026/27 Q1,eighty,,,\n").encode(),
                              "bad.csv", "tester")
    assert not out.loaded and "row 2, column value" in str(out.validated.problems[0])
    assert store.content_checksum(conn) == before


def test_backup_then_restore_round_trips_exactly(conn, config, tmp_path):
    upload(conn, config, "EH01,E10000034,2026/27 Q1,91.0,910,1000,\n")
    before = store.content_checksum(conn)
    copy = store.backup(conn, tmp_path / "backup.duckdb")
    upload(conn, config, "EH01,E10000034,2026/27 Q1,99.0,990,1000,\n", name="after-backup.csv")
    store.restore(conn, copy, "admin")
    after = store.content_checksum(conn)
    audit = conn.execute("SELECT action FROM audit ORDER BY logged_at DESC LIMIT 1").fetchone()[0]
    assert audit == "restore"
    conn.execute("DELETE FROM audit WHERE action = 'restore'")
    assert store.content_checksum(conn) == before, after
    assert eh01_county(conn, config).value == 91.0


def test_restore_refuses_a_file_that_is_not_a_store_of_this_project(conn, tmp_path):
    import duckdb

    stranger = tmp_path / "other.duckdb"
    other = duckdb.connect(str(stranger))
    other.execute("CREATE TABLE t (x INT)")
    other.close()
    text = tmp_path / "notes.duckdb"
    text.write_text("hello")
    before = store.content_checksum(conn, skip=("audit",))
    for path, words in ((stranger, "not a store of this dashboard"), (text, "is not a dashboard store")):
        with pytest.raises(store.StoreError, match=words):
            store.restore(conn, path, "admin")
    assert store.content_checksum(conn, skip=("audit",)) == before
    refused = conn.execute("SELECT detail FROM audit WHERE action = 'restore refused' ORDER BY logged_at").fetchall()
    assert [r[0].split(":")[0] for r in refused] == ["other.duckdb", "notes.duckdb"]


def _import_in_a_process(db, csv_path):
    env = {**os.environ, "CYPP_DB": str(db), "CYPP_LOCK_WAIT": "60"}
    return subprocess.Popen([sys.executable, "-m", "cypp_dash", "import", str(csv_path), "--user", "p"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_imports_at_the_same_moment_load_one_after_the_other(db_path, tmp_path):
    store.close_process_connections()
    files = []
    for i, period in enumerate(["2026/27 Q1", "2026/27 Q2"]):
        path = tmp_path / f"f{i}.csv"
        rows = "".join(f"EH0{k},{a},{period},{50 + k}\n" for k in (1, 2, 5)
                       for a in ("E10000034", "E07000234", "E07000235", "E07000236"))
        path.write_text("kpi,area,period,value\n" + rows)
        files.append(path)
    procs = [_import_in_a_process(db_path, f) for f in files]
    results = [p.communicate(timeout=240) + (p.returncode,) for p in procs]
    for _out, err, code in results:
        assert code in (0, 1), err
        assert "Traceback" not in err
        if code == 1:
            assert "busy" in err
    conn = store.connect(db_path)
    try:
        loaded = conn.execute("SELECT count(*) FROM batches WHERE kind = 'upload'").fetchone()[0]
        codes = [r[2] for r in results]
        assert loaded == codes.count(0) >= 1
        per_batch = conn.execute("SELECT rows_added FROM batches WHERE kind = 'upload'").fetchall()
        assert all(n == (12,) for n in per_batch), "each file loaded whole"
    finally:
        conn.close()


def test_preview_says_what_a_load_would_change_without_writing(conn, config):
    upload(conn, config, "EH01,E10000034,2026/27 Q1,91.0,910,1000,\n")
    before = store.content_checksum(conn)
    v = loading.validate(config, (HEADER + "EH01,E10000034,2026/27 Q1,92,920,1000,\nEH02,E10000034,2026/27 Q1,"
                                  "80,,,\nEH05,E10000034,2026/27 Q1,70,,,\n").encode(), "p.csv")
    preview = store.preview_batch(conn, v.rows)
    assert sorted(preview["change"]) == ["added", "added", "revised"]
    assert preview.loc[preview["indicator_id"] == "EH01", "old_value"].item() == 91.0
    assert store.content_checksum(conn) == before
    assert isinstance(preview, pd.DataFrame)
