"""Readers never see half an upload, through the real server: 30 sessions at once (loopback
websockets speaking Streamlit's own protocol, bounded to 30) run the partnership page again and again
while an editor's uploads land (loaded by the command line through the running app, the same load as
the Upload page). Every run finishes without an error, and in every run the three uploaded KPIs show
the same upload's figure: the old or the new, never a mix."""
from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time

import devserver
import pytest

websockets = pytest.importorskip("websockets")
from streamlit.proto import BackMsg_pb2, ForwardMsg_pb2  # noqa: E402

ROOT = devserver.ROOT
KPIS = ("EH01", "EH02", "EH05")
QUERY = "partnership=early-help&area=E10000034&period=2024%2F25+Q1"
SESSIONS = 30
RUNS_EACH = 2


def upload(db, folder, value: float) -> None:
    path = folder / f"q-{value}.csv"
    path.write_text("kpi,area,period,value\n" + "".join(f"{k},E10000034,2024/25 Q1,{value}\n" for k in KPIS))
    out = subprocess.run([sys.executable, "-m", "cypp_dash", "import", str(path), "--user", "editor"], cwd=ROOT,
                         env={**os.environ, "CYPP_DB": str(db), "CYPP_LOCK_WAIT": "3"}, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr


async def page_run(url: str) -> tuple[list[str], list[str]]:
    """One session, one run of the partnership page: (its HTML pieces, any exception messages)."""
    async with websockets.connect(url.replace("http", "ws") + "/_stcore/stream", subprotocols=["streamlit"],
                                  max_size=None, open_timeout=120) as ws:
        back = BackMsg_pb2.BackMsg()
        back.rerun_script.query_string = QUERY
        back.rerun_script.page_name = "partnership"
        await ws.send(back.SerializeToString())
        htmls: list[str] = []
        errors: list[str] = []
        while True:
            msg = ForwardMsg_pb2.ForwardMsg()
            msg.ParseFromString(await asyncio.wait_for(ws.recv(), 300))
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                if element.WhichOneof("type") == "exception":
                    errors.append(element.exception.message)
                elif element.WhichOneof("type") == "html":
                    htmls.append(element.html.body)
            elif kind == "script_finished":
                if msg.script_finished == ForwardMsg_pb2.ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    htmls, errors = [], []  # the page asked for a rerun (e.g. to tidy its address)
                    continue
                assert msg.script_finished == ForwardMsg_pb2.ForwardMsg.FINISHED_SUCCESSFULLY
                return htmls, errors


def latest_figures(htmls: list[str]) -> tuple[str, ...]:
    table = next(h for h in htmls if "cypp-table" in h and ">EH01<" in h)
    found = []
    for code in KPIS:
        cell = r"<td[^>]*>([^<]*)</td>"  # cells carry their column's name (data-label) for narrow screens
        row = re.search(rf"<tr><td[^>]*>{code}</td>{cell}{cell}{cell}", table)
        found.append(row.group(3) if row else "?")
    return tuple(found)


async def readers(url: str, uploads_done) -> list[tuple[tuple[str, ...], list[str]]]:
    """Every session runs the page at least RUNS_EACH times, and on until the editor has finished."""
    gate = asyncio.Semaphore(SESSIONS)

    async def session() -> list:
        out = []
        while len(out) < RUNS_EACH or (not uploads_done.is_set() and len(out) < 20):
            async with gate:
                htmls, errors = await page_run(url)
            out.append((latest_figures(htmls) if not errors else (), errors))
        return out

    results = await asyncio.gather(*(session() for _ in range(SESSIONS)))
    return [r for each in results for r in each]


def run_async(coroutine):
    """asyncio.run on its own thread: Playwright's sync API (the browser fixture) keeps a loop on this one."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_30_sessions_reading_while_uploads_land_see_one_upload_each(fresh_store, serve, tmp_path):
    db = fresh_store("readers")
    with serve(db, db.parent / "streamlit.log") as url:
        run_async(page_run(url))  # the app opens its store (and its operator socket)
        upload(db, tmp_path, 40.0)
        assert latest_figures(run_async(page_run(url))[0]) == ("40.0%",) * 3

        import threading

        done = threading.Event()

        def editor() -> None:
            try:
                for value in (41.0, 42.0, 43.0):
                    time.sleep(1.0)
                    upload(db, tmp_path, value)
            finally:
                done.set()

        writer = threading.Thread(target=editor)
        writer.start()
        seen = run_async(readers(url, done))
        writer.join(300)
        final = latest_figures(run_async(page_run(url))[0])
    errors = [e for _, errs in seen for e in errs]
    assert not errors, errors[:3]
    assert len(seen) >= SESSIONS * RUNS_EACH
    assert len({f for f, _ in seen}) >= 2  # the uploads landed while the sessions were reading
    for figures, _ in seen:
        assert len(set(figures)) == 1 and figures[0] in {"40.0%", "41.0%", "42.0%", "43.0%"}, figures
    assert final == ("43.0%",) * 3
    print(f"\nfigures seen: { {f[0]: sum(1 for g, _ in seen if g == f) for f, _ in seen} }")
