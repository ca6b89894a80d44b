"""Fixtures for the real-browser tests: the app served by `streamlit run` on a free port from its own
temporary store, and one headless Chromium (Debian's, at /usr/bin/chromium) for the whole session."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import devserver
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
START_SECONDS = 90


def build_store(path: Path) -> None:
    """The bundled store, built by the command line as a user would (`init-db`)."""
    env = {**os.environ, "CYPP_DB": str(path)}
    subprocess.run([sys.executable, "-m", "cypp_dash", "init-db"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)


def _serve_app(db: Path, log: Path, script: str = "app.py", cwd: Path = ROOT):
    """`streamlit run` on a free port against the store `db`; yields the base URL once it answers."""
    return devserver.serve(script, cwd, {**os.environ, "CYPP_DB": str(db)}, log)


@pytest.fixture(scope="session")
def built_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("browser-store") / "cypp.duckdb"
    build_store(path)
    return path


@pytest.fixture(scope="session")
def fresh_store(tmp_path_factory, built_store) -> Callable[[str], Path]:
    """A new copy of the built store for each server (a server holds its store's lock)."""
    def copy(name: str) -> Path:
        target = tmp_path_factory.mktemp(name) / "cypp.duckdb"
        shutil.copyfile(built_store, target)
        return target
    return copy


# The first visitor after the server starts arrives by a deep link: Streamlit treats that first request
# specially (see web.frame._through_app_navigation), so the session's server records what that visitor saw.
FIRST_VISIT = "/partnership?partnership=safeguarding&area=E07000237"


@pytest.fixture(scope="session")
def served_app(fresh_store, browser) -> Iterator[dict]:
    """The dashboard, served once for the whole browser session from its own temporary store; its first
    visitor opens FIRST_VISIT, and what they saw is kept as `first_visit` (h1, menu, body text, address)."""
    db = fresh_store("app")
    with _serve_app(db, db.parent / "streamlit.log") as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        tab = context.new_page()
        tab.set_default_timeout(120_000)
        tab.goto(url + FIRST_VISIT)
        tab.wait_for_function(devserver.DRAWN, polling=100)
        first = {"h1": tab.locator("h1").first.inner_text(),
                 "menu": tab.locator('[data-testid="stSidebarNav"]').inner_text(),
                 "body": tab.locator('[data-testid="stMain"]').inner_text(), "url": tab.url}
        context.close()
        yield {"url": url, "first_visit": first}


@pytest.fixture(scope="session")
def app_url(served_app) -> str:
    return served_app["url"]


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (its own Streamlit session) at a laptop's window size."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True, locale="en-GB")
    tab = context.new_page()
    tab.set_default_timeout(90_000)
    yield tab
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def serve() -> Callable:
    """`serve(db, log)`: a context manager serving the app from another store (e.g. with accounts)."""
    return _serve_app
