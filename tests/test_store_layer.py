"""SQL lives in the store layer only: cypp_dash/store.py, store_*.py, published_store.py and pgstore.py
(the PostgreSQL connection) run queries; every other module, page and entry point calls their named
functions. Read from the source with `ast`: a call to .execute/.executemany/.sql anywhere else fails."""
from __future__ import annotations

import ast
from pathlib import Path

from cypp_dash.config import ROOT

STORE_LAYER = {"store.py", "published_store.py", "pgstore.py"}
QUERY_METHODS = {"execute", "executemany", "sql"}


def in_store_layer(path: Path) -> bool:
    return path.parent == ROOT / "cypp_dash" and (path.name in STORE_LAYER or path.name.startswith("store_"))


def queries_in(source: str) -> list[int]:
    """Line numbers of calls to a query method (conn.execute(...), cur.executemany(...), duckdb.sql(...))."""
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in QUERY_METHODS]


def test_the_reader_sees_a_query():
    assert queries_in("def f(conn):\n    return conn.cursor().execute('SELECT 1').fetchone()\n") == [2]
    assert queries_in("def f(conn):\n    return store.series(conn, [], [])\n") == []


def test_only_the_store_layer_runs_sql():
    files = [*(ROOT / "cypp_dash").rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "dashboard.py", ROOT / "app.py"]
    outside = {str(p.relative_to(ROOT)): lines for p in files if p.exists() and not in_store_layer(p)
               if (lines := queries_in(p.read_text(encoding="utf-8")))}
    assert not outside, f"SQL outside the store layer (move it into a store module): {outside}"
    assert (ROOT / "cypp_dash" / "store_accounts.py").exists()  # the layer is where this test looks
