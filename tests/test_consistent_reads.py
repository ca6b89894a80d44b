"""Readers never see half an upload: each page run reads one version of the store (a read
transaction opened by `frame.page`, used by every cached read keyed on that version), so 30 readers
running while an editor uploads again and again each see the old figures or the new, never a mix,
and no cache entry holds figures newer than its key."""
from __future__ import annotations

import threading
import time

from cypp_dash import loading, store
from cypp_dash.web import cache

KPIS = ["EH01", "EH02", "EH05"]


def upload(value: float) -> bytes:
    rows = "".join(f"{k},E10000034,2024/25 Q1,{value}\n{k},E07000237,2024/25 Q1,{value}\n" for k in KPIS)
    return ("kpi,area,period,value\n" + rows).encode()


def _figures(reader) -> tuple[int, tuple]:
    """(version, the six uploaded figures) as one reader sees them, read in several queries."""
    version = store.data_version(reader)
    seen = []
    for k in KPIS:
        rows = store.series(reader, [k], ["E10000034", "E07000237"])
        rows = rows[rows["period"] == "2024/25 Q1"]
        seen.extend(rows["value"].tolist())
        time.sleep(0.002)  # give the writer a chance to commit between the queries
    return version, tuple(seen)


def test_30_readers_during_repeated_uploads_each_see_one_version(conn, config):
    indicator = {k: config.plans[0].kpi(k).indicator_id for k in KPIS}
    assert all(indicator[k] == k for k in KPIS)
    loading.import_file(conn, config, upload(10.0), "start.csv", "editor")
    stop = threading.Event()
    seen: list[tuple[int, tuple]] = []
    errors: list[BaseException] = []
    gate = threading.Semaphore(30)  # bounded: 30 readers at once

    def reader() -> None:
        while not stop.is_set():
            with gate:
                snap = store.snapshot(conn)
                try:
                    seen.append(_figures(snap))
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)
                    return
                finally:
                    snap.release()

    threads = [threading.Thread(target=reader) for _ in range(30)]
    for t in threads:
        t.start()
    for i in range(1, 9):
        assert loading.import_file(conn, config, upload(10.0 + i), f"q{i}.csv", "editor").loaded
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    assert len(seen) >= 30
    by_version: dict[int, tuple] = {}
    for version, figures in seen:
        assert len(figures) == 6 and len(set(figures)) == 1, figures  # all old or all new, never a mix
        assert by_version.setdefault(version, figures) == figures  # one version, one set of figures
    assert len({f[0] for f in by_version.values()}) >= 2  # the readers did see uploads land


def test_a_page_runs_cached_reads_use_the_runs_version_even_if_an_upload_lands_meanwhile(db_path, conn, config):
    import streamlit as st

    st.cache_data.clear()
    loading.import_file(conn, config, upload(20.0), "before.csv", "editor")
    out: dict = {}

    def page_run() -> None:
        snap = cache.pin_run()
        out["version"] = store.data_version(snap)
        loaded.set()
        landed.wait(30)
        out["rows"] = cache.cached_series(out["version"], tuple(KPIS), ("E10000034",), "2024/25 Q1", None)

    loaded, landed = threading.Event(), threading.Event()
    run = threading.Thread(target=page_run)
    run.start()
    loaded.wait(30)
    loading.import_file(conn, config, upload(21.0), "during.csv", "editor")
    landed.set()
    run.join(60)
    rows = out["rows"]
    assert set(rows[rows["period"] == "2024/25 Q1"]["value"]) == {20.0}
    assert store.data_version(conn) > out["version"]
    st.cache_data.clear()
