"""A bounded load test: many Streamlit sessions at once against a running dashboard (one server or a
balancer over replicas), each opening pages over Streamlit's own websocket protocol as a browser does
(BackMsg rerun_script in, ForwardMsg deltas out), timing each page run from the request to the server's
`script_finished`, and counting errors (a failed or closed session, a run that did not finish, or an
exception drawn on the page). It draws nothing, so the figures are the server side's.

    python -m benchmarks.load_test http://127.0.0.1:8500 --sessions 60 --views 5

Not run by CI. Prints p50, p95, max and the error count, and writes JSON (--out).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

PAGES = ["", "partnership", "districts", "about-data", "wider-outcomes", "actions", "about-plan"]


async def _page_run(ws, page: str, query: str) -> tuple[float, str | None]:
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = BackMsg()
    msg.rerun_script.query_string = query
    msg.rerun_script.page_name = page
    msg.rerun_script.page_script_hash = ""
    started = time.perf_counter()
    await ws.send(msg.SerializeToString())
    error = None
    while True:
        raw = await asyncio.wait_for(ws.recv(), timeout=120)
        if isinstance(raw, str):
            continue
        fwd = ForwardMsg()
        fwd.ParseFromString(raw)
        kind = fwd.WhichOneof("type")
        if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element" \
                and fwd.delta.new_element.WhichOneof("type") == "exception":
            error = f"exception on /{page}: {fwd.delta.new_element.exception.message[:200]}"
        elif kind == "script_finished":
            if fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                continue  # the page asked for a rerun (e.g. a first visit through the app's navigation): wait for it
            if fwd.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                error = error or f"/{page} ended with {fwd.script_finished}"
            return (time.perf_counter() - started) * 1000, error


async def _session(url: str, number: int, views: int, times: list, errors: list) -> None:
    import websockets

    ws_url = url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
    try:
        async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None,
                                      origin=url.rstrip("/"), open_timeout=60) as ws:
            for view in range(views):
                page = PAGES[(number + view) % len(PAGES)]
                ms, error = await _page_run(ws, page, "")
                times.append(ms)
                if error:
                    errors.append(error)
    except Exception as e:  # a refused or dropped session is an error of the test, counted
        errors.append(f"session {number}: {type(e).__name__}: {e}")


async def run(url: str, sessions: int, views: int) -> dict:
    times: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    await asyncio.gather(*(_session(url, i, views, times, errors) for i in range(sessions)))
    elapsed = time.perf_counter() - started
    ordered = sorted(times)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1) if ordered else float("nan")

    return {"url": url, "sessions": sessions, "views_per_session": views, "page_runs": len(times),
            "p50_ms": round(statistics.median(ordered), 1) if ordered else None, "p95_ms": pct(0.95),
            "max_ms": round(max(ordered), 1) if ordered else None, "errors": len(errors),
            "error_examples": errors[:10], "seconds": round(elapsed, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load_test", description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the dashboard's address, e.g. http://127.0.0.1:8500 (the balancer)")
    parser.add_argument("--sessions", type=int, default=60)
    parser.add_argument("--views", type=int, default=5, help="page views per session, one after another")
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.url, args.sessions, args.views))
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
