"""Shared fixtures: a configuration, and stores built in temporary files (never the user's)."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from cypp_dash import loading, store
from cypp_dash.config import ROOT, load_config

PAGES = ROOT / "pages"
sys.path.insert(0, str(Path(__file__).parent))  # tests/pgserver.py


@pytest.fixture(scope="session")
def config():
    return load_config()


@pytest.fixture(scope="session")
def _built_store_file(tmp_path_factory, config) -> Path:
    """The bundled store, built once per test session and copied for each test that needs it."""
    path = tmp_path_factory.mktemp("built") / "bundled.duckdb"
    conn = store.connect(path)
    loading.build_store(conn, config, progress=lambda m: None)
    conn.execute("CHECKPOINT")
    conn.close()
    return path


@pytest.fixture
def db_path(tmp_path, monkeypatch, _built_store_file) -> Path:
    """A private copy of the bundled store, named by CYPP_DB for code that reads the environment."""
    path = tmp_path / "cypp.duckdb"
    shutil.copyfile(_built_store_file, path)
    monkeypatch.setenv("CYPP_DB", str(path))
    yield path
    store.close_process_connections()


@pytest.fixture
def conn(db_path):
    """The process connection to the test's private store."""
    return store.process_connection(db_path)


@pytest.fixture
def empty_db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "empty.duckdb"
    monkeypatch.setenv("CYPP_DB", str(path))
    yield path
    store.close_process_connections()


# --- the PostgreSQL back end: one throw-away server per test session, one database per test ----------

@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server on a Unix socket in a temporary folder (tests/pgserver.py), or a skip that
    says why there cannot be one here."""
    import pgserver

    try:
        server = pgserver.start()
    except pgserver.Unavailable as e:
        pytest.skip(str(e))
    yield server
    store.close_process_connections()
    server.stop()


@pytest.fixture(scope="session")
def _built_pg_template(pg_server, config) -> str:
    """The bundled store built once in a PostgreSQL database that each test's database copies."""
    address = pg_server.create_database("cypp_built")
    conn = store.connect(address)
    loading.build_store(conn, config, progress=lambda m: None)
    conn.close()
    store.close_process_connections()  # a template database must have no connections
    return "cypp_built"


_pg_databases = iter(range(1, 1_000_000))


@pytest.fixture
def pg_db(request, monkeypatch) -> str:
    """A private PostgreSQL copy of the bundled store, named by CYPP_DB."""
    server = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("_built_pg_template")
    name = f"cypp_test_{next(_pg_databases)}"
    address = server.create_database(name, template=template)
    monkeypatch.setenv("CYPP_DB", address)
    yield address
    store.close_process_connections()
    server.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["duckdb", "postgresql"])
def store_backend(request) -> str:
    """Run the test on each back end: the embedded DuckDB file and PostgreSQL."""
    return request.param


@pytest.fixture
def backend_db(store_backend, request):
    """The test's private copy of the bundled store on the back end being tested (a path or an address)."""
    return request.getfixturevalue("db_path" if store_backend == "duckdb" else "pg_db")


@pytest.fixture
def app_page(db_path):
    """Open a page under AppTest against the test's store, with Streamlit's caches cleared."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    st.cache_resource.clear()

    def open_page(name: str, query: dict | None = None, state: dict | None = None, timeout: float = 60):
        at = AppTest.from_file(str(PAGES / name), default_timeout=timeout)
        for k, v in (query or {}).items():
            at.query_params[k] = v
        for k, v in (state or {}).items():
            at.session_state[k] = v
        return at.run()

    yield open_page
    st.cache_data.clear()
    st.cache_resource.clear()


def pytest_sessionfinish(session, exitstatus):
    """Close every store connection before the interpreter exits, so DuckDB shuts down cleanly."""
    import gc

    import streamlit as st

    store.close_process_connections()
    st.cache_resource.clear()
    st.cache_data.clear()
    gc.collect()


@pytest.fixture
def public_view_on(tmp_path, monkeypatch) -> Path:
    """A copy of config.yaml with the public view switched on, named by CYPP_CONFIG."""
    import yaml

    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["settings"]["public_view"] = True
    raw["plan_files"] = str(ROOT / "plans")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("CYPP_CONFIG", str(path))
    return path
