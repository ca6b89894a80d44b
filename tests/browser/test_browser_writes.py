"""Writing through the real browser: a viewer is refused the upload and admin screens; an editor
signs in, sees a bad file refused with its row and column, loads a good one and finds it on the
partnership page; and notes holding script, HTML and `javascript:` links never run on any page."""
from __future__ import annotations

from pathlib import Path

import devserver
import pytest
from devserver import DRAWN
from security_payloads import BROWSER_CHECK_JS, load_payloads

if not Path("/usr/bin/chromium").exists():
    pytest.skip("/usr/bin/chromium is missing (tests/run.sh installs it)", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"
GOOD = b"kpi,area,period,value,numerator,denominator,note\nEH05,Worcestershire,2026/27 Q1,93.1,931,1000,Q1\n"
BAD = b"kpi,area,period,value\nEH01,Worcestershire,2026/27 Q1,eighty\n"


@pytest.fixture(scope="module")
def writes_app(fresh_store, serve):
    """A server whose store holds a viewer, an editor and the hostile notes."""
    from cypp_dash import auth, store
    from cypp_dash.config import load_config

    db = fresh_store("writes")
    conn = store.connect(db)
    try:
        for name, role in (("vera", "viewer"), ("eddie", "editor")):
            auth.add_user(conn, name, role, PASSWORD, actor="browser-test")
        outcome = load_payloads(conn, load_config())
        assert outcome.loaded, [str(p) for p in outcome.validated.problems]
    finally:
        conn.close()
    with serve(db, db.parent / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module", autouse=True)
def first_visit(browser, writes_app):
    """Streamlit treats a server's first visitor specially (see web.frame._through_app_navigation): make that
    visit to the front page, so each test starts like any later visitor."""
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(120_000)
    tab.goto(writes_app)
    drawn(tab)
    context.close()


def drawn(page) -> None:
    page.wait_for_function(DRAWN, polling=100)
    page.wait_for_timeout(300)


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def sign_in(page, url: str, name: str) -> None:
    page.goto(url + "/sign-in")
    drawn(page)
    # A first visit by a deep link reruns through app.py; wait until nothing on the page is inert.
    page.wait_for_timeout(1000)
    drawn(page)
    try:
        page.get_by_label("Name").fill(name, timeout=20_000)
    except Exception:
        page.screenshot(path="artifacts/sign_in_failure.png")
        raise
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_function("() => document.body.innerText.includes('You are signed in as')", polling=100)


def go(page, menu_label: str) -> None:
    devserver.go(page, menu_label, drawn)


def choose_file(page, name: str, data: bytes) -> None:
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}])


def test_a_viewer_is_refused_the_upload_and_admin_screens(page, writes_app):
    sign_in(page, writes_app, "vera")
    go(page, "Upload figures")
    assert "needs an editor or administrator account" in main_text(page)
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
    go(page, "Administration")
    assert "This page is for administrators" in main_text(page)


def test_an_editor_is_refused_a_bad_file_then_loads_a_good_one_that_shows_on_the_partnership_page(
        page, writes_app):
    sign_in(page, writes_app, "eddie")
    go(page, "Upload figures")
    choose_file(page, "bad.csv", BAD)
    page.wait_for_function("() => document.body.innerText.includes('was not loaded')", polling=100)
    drawn(page)
    assert 'row 2, column value: "eighty" is not a number' in main_text(page)
    go(page, "Overview")
    go(page, "Upload figures")  # a fresh upload box
    choose_file(page, "q1.csv", GOOD)
    try:
        page.wait_for_function("() => document.body.innerText.includes('passed every check')", polling=100,
                               timeout=30_000)
    except Exception:
        page.screenshot(path="artifacts/upload_failure.png")
        raise
    drawn(page)
    page.get_by_role("button", name="Load 1 rows").click()
    page.wait_for_function("() => document.body.innerText.includes('Loaded q1.csv as upload')", polling=100)
    go(page, "Partnerships")
    if "93.1%" not in main_text(page):
        page.screenshot(path="artifacts/after_upload.png", full_page=True)
    assert "93.1%" in main_text(page)


def test_hostile_notes_never_run_on_any_page(browser, writes_app):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(90_000)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        for path in ("", "/partnership?partnership=early-help", "/districts?kpi=EH01", "/upload", "/admin",
                     "/about-data", "/wider-outcomes"):
            page.goto(writes_app + path)
            drawn(page)
            found = page.evaluate(BROWSER_CHECK_JS)
            assert found["javascript_links"] == 0 and found["images_with_handlers"] == 0, (path, found)
            assert found["scripts_from_notes"] == 0 and found["links_from_notes"] == 0, (path, found)
        assert dialogs == []
    finally:
        context.close()
