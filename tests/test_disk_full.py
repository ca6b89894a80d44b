"""A disk that fills up during a load (simulated: the write fails half-way, after the new figures are
inserted) leaves the store exactly as it was, and the person is told so in plain words, in the
package and on the Upload page."""
from __future__ import annotations

import errno
import time

import duckdb
import pytest
from page_text import texts

from cypp_dash import auth, loading, store
from cypp_dash.web import session

GOOD = b"kpi,area,period,value,note\nEH01,Worcestershire,2026/27 Q1,93.1,Q1 return\n"
FAILURES = {
    "DuckDB cannot write": lambda: duckdb.IOException('IO Error: Could not write file "cypp.duckdb.wal": '
                                                      "No space left on device"),
    "the OS refuses the write": lambda: OSError(errno.ENOSPC, "No space left on device"),
}


@pytest.mark.parametrize("kind", list(FAILURES))
def test_a_load_that_fills_the_disk_changes_nothing_and_says_so(kind, conn, config, monkeypatch):
    before = store.content_checksum(conn)
    version = store.data_version(conn)

    def full(cur):
        raise FAILURES[kind]()

    monkeypatch.setattr(store, "_hook_after_insert", full)
    with pytest.raises(store.StoreError, match="the disk may be full. Nothing was changed"):
        loading.import_file(conn, config, GOOD, "q1.csv", "pat")
    assert store.content_checksum(conn) == before
    assert store.data_version(conn) == version  # readers' caches are not told of a change that did not happen
    monkeypatch.undo()
    assert loading.import_file(conn, config, GOOD, "q1.csv", "pat").loaded  # and the store still works


def test_the_upload_page_says_nothing_was_loaded_when_the_disk_is_full(app_page, conn, monkeypatch):
    auth.add_user(conn, "pat", "editor", "correct horse battery", actor="test")
    before = store.content_checksum(conn)
    editor = {session.SESSION_ACCOUNT: auth.Account("pat", "editor"), session.SESSION_SEEN: time.time()}
    at = app_page("upload.py", state=editor)
    at.file_uploader[0].set_value(("q1.csv", GOOD, "text/csv")).run()

    def full(cur):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "_hook_after_insert", full)
    at.button(key="confirm_upload").click().run()
    assert not at.exception
    assert "Nothing was loaded: the store could not be written" in texts(at)
    assert "the disk may be full" in texts(at)
    assert store.content_checksum(conn) == before
