"""The upload page in AppTest: nobody is turned away; an editor sees a bad file refused with its
row and column and nothing changed, and a good file previewed, confirmed, loaded and shown."""
from __future__ import annotations

import time

import pytest
from page_text import all_tables, texts

from cypp_dash import auth, store
from cypp_dash.web import session

GOOD = b"kpi,area,period,value,numerator,denominator,note\nEH01,Worcestershire,2026/27 Q1,93.1,931,1000,Q1 return\n"
BAD = b"kpi,area,period,value\nEH01,Worcestershire,2026/27 Q1,eighty\nZZ99,Nowhere,2026/27 Q1,5\n"


@pytest.fixture
def editor(conn):
    auth.add_user(conn, "pat", "editor", "correct horse battery", actor="test")
    return {session.SESSION_ACCOUNT: auth.Account("pat", "editor"), session.SESSION_SEEN: time.time()}




def test_nobody_signed_in_cannot_upload(app_page):
    at = app_page("upload.py")
    assert not at.exception
    assert "needs an editor or administrator account" in texts(at)
    assert not at.file_uploader


def test_a_bad_file_is_refused_with_row_and_column_and_nothing_changes(app_page, editor, conn):
    before = store.content_checksum(conn)
    at = app_page("upload.py", state=editor)
    at.file_uploader[0].set_value(("bad.csv", BAD, "text/csv")).run()
    assert not at.exception
    text = texts(at)
    assert "bad.csv was not loaded" in text
    assert 'row 2, column value: "eighty" is not a number' in text
    assert "row 3, column kpi" in text and "row 3, column area" in text
    assert not [b for b in at.button if b.key == "confirm_upload"]
    assert store.content_checksum(conn) == before


def test_a_good_file_is_previewed_then_loaded_and_shows_on_the_partnership_page(app_page, editor, conn):
    at = app_page("upload.py", state=editor)
    at.file_uploader[0].set_value(("q1.csv", GOOD, "text/csv")).run()
    assert "passed every check" in texts(at)
    assert {m.label: m.value for m in at.metric}["New figures"] == "1"
    assert conn.execute("SELECT count(*) FROM batches WHERE kind = 'upload'").fetchone()[0] == 0
    at.button(key="confirm_upload").click().run()
    assert not at.exception
    assert "Loaded q1.csv as upload" in texts(at)
    assert conn.execute("SELECT user_name FROM batches WHERE kind = 'upload'").fetchone()[0] == "pat"
    page = app_page("partnership.py", query={"partnership": "early-help"})
    assert "93.1%" in all_tables(page)[0].to_string()


@pytest.fixture
def admin(conn):
    auth.add_user(conn, "ada", "admin", "correct horse battery", actor="test")
    return {session.SESSION_ACCOUNT: auth.Account("ada", "admin"), session.SESSION_SEEN: time.time()}


def test_rollback_names_the_upload_asks_for_confirmation_and_keeps_its_result_on_screen(app_page, admin, conn):
    at = app_page("upload.py", state=admin)
    at.file_uploader[0].set_value(("q1.csv", GOOD, "text/csv")).run()
    at.button(key="confirm_upload").click().run()
    batch = int(conn.execute("SELECT batch_id FROM batches WHERE kind = 'upload'").fetchone()[0])
    at = app_page("upload.py", state=admin)
    choice = at.selectbox(key="rollback_batch")
    assert choice.value is None, "no upload is chosen until someone chooses one"
    labels = list(choice.options)  # as shown
    assert any("BUNDLED DATA LOAD" in label for label in labels)
    assert not any("BUNDLED" in label for label in labels if label.startswith(f"Upload {batch} "))
    choice.set_value(batch).run()
    question = " ".join(w.value for w in at.warning).replace("\\", "").replace("\u2060", "")  # as read
    assert f"Roll back upload {batch}" in question and "q1.csv" in question and "ada" in question
    assert "1 rows added" in question
    assert conn.execute("SELECT status FROM batches WHERE batch_id = ?", [batch]).fetchone()[0] == "loaded"
    at.button(key="rollback_go").click().run()
    assert not at.exception
    assert conn.execute("SELECT status FROM batches WHERE batch_id = ?", [batch]).fetchone()[0] == "rolled back"
    assert f"Upload {batch} (q1.csv) has been rolled back" in " ".join(s.value for s in at.success)
    assert at.selectbox(key="rollback_batch").value is None, "nothing is left chosen after a roll back"
    history = next(t for t in all_tables(at) if "Loaded by" in t.columns)
    assert "None" not in history.astype(str).to_string() and "batch_id" not in history.columns
