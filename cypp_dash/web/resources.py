"""The process's two shared resources, made once and cached by Streamlit: the validated configuration
and the store connection (built from the bundled data on first run). Every page reaches them through
`config()` and `connection()`; the signed-in session reads them here."""
from __future__ import annotations

import duckdb
import streamlit as st

from cypp_dash import loading, operator_channel, store
from cypp_dash.config import Config, ConfigError, load_config


@st.cache_resource(show_spinner=False)
def _config() -> Config:
    return load_config()


@st.cache_resource(show_spinner="Building the store from the bundled data (first run only)…")
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    conn = store.process_connection(path)
    loading.ensure_store(conn, _config())
    # The command line works while the dashboard holds the store: it is answered here, over a private
    # socket beside the store file (cypp_dash/operator_channel.py). A PostgreSQL store has no file to hold:
    # the command line opens it itself, beside every replica.
    if store.backend(conn) == "duckdb":
        operator_channel.serve(path, lambda argv, cwd: _run_command(path, argv, cwd))
    return conn


def _run_command(path: str, argv: list, cwd: str) -> int:
    from cypp_dash import cli

    return cli.main(argv, connection=store.process_connection(path).cursor(), cwd=cwd)


def config() -> Config:
    """The validated configuration; a broken one stops the page with a message naming the key."""
    try:
        return _config()
    except ConfigError as e:
        st.error(f"The dashboard cannot start because its configuration is wrong: {e}")
        st.stop()


def connection() -> duckdb.DuckDBPyConnection:
    """A cursor on the process's one connection, for this run of this session."""
    config()
    try:
        return _connection(str(store.db_path())).cursor()
    except store.StoreError as e:
        st.error(f"The store cannot be opened: {e}")
        st.stop()
