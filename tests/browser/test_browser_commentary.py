"""Commentary, sign-off and the public view in a real browser: the public view (no sign-in) shows only
the quarter signed off with its approved commentary; the Partnerships page marks later figures "not yet
signed off", shows the narrative and approved commentary to everyone and the draft only to an editor.
Screenshots (normal, paper view, 820 and 390 px) go to artifacts/screenshots/ to be looked at."""
from __future__ import annotations

import os

import devserver
import pytest
import yaml
from devserver import DRAWN
from security_payloads import BROWSER_CHECK_JS

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

PASSWORD = "a long enough password"
COUNTY = "E10000034"
RELEASED, LATEST = "2025/26 Q3", "2025/26 Q4"
WORDS = {
    ("EH01", RELEASED): "Reviews recovered after the summer: two extra clinics ran in Redditch and Wyre Forest. "
                        "Health visiting will keep the Saturday clinics until March.",
    ("EH01", LATEST): "A dip in December as families cancelled over the holidays.\nCatch-up sessions are booked "
                      "for January; the lead expects the figure back above 88% by the end of Q1.",
    ("EH03", LATEST): "Reception obesity is lower than last year. The school nursing team continues the "
                      "healthy-lunchbox programme in 40 schools to July.",
}
DRAFT = "DRAFT TEXT: take-up rose after text reminders began in February."


@pytest.fixture(scope="module")
def public_app(fresh_store, tmp_path_factory, config, browser):
    from cypp_dash import auth, commentary, release, store
    from cypp_dash.auth import Account
    from cypp_dash.config import ROOT

    db = fresh_store("commentary")
    conn = store.connect(db)
    for name, role in (("eddie", "editor"), ("lena", "lead")):
        auth.add_user(conn, name, role, PASSWORD, actor="browser-test")
    eddie, lena = Account("eddie", "editor"), Account("lena", "lead")
    for (kpi, period), text in WORDS.items():
        c = commentary.write_draft(conn, eddie, config, kpi, COUNTY, period, text)
        commentary.approve(conn, lena, c.comment_id)
    commentary.write_draft(conn, eddie, config, "EH02", COUNTY, LATEST, DRAFT)
    release.release(conn, lena, config.plan(), RELEASED)
    conn.execute("CHECKPOINT")
    conn.close()
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["settings"]["public_view"] = True
    raw["plan_files"] = str(ROOT / "plans")
    folder = tmp_path_factory.mktemp("public-config")
    (folder / "config.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    env = {**os.environ, "CYPP_DB": str(db), "CYPP_CONFIG": str(folder / "config.yaml")}
    with devserver.serve("app.py", ROOT, env, db.parent / "streamlit.log") as url:
        # The server's first visitor is treated specially (web.frame._through_app_navigation): make that visit here.
        context = browser.new_context()
        tab = context.new_page()
        tab.set_default_timeout(120_000)
        tab.goto(url)
        tab.wait_for_function(DRAWN, polling=100)
        context.close()
        yield url


def drawn(page) -> None:
    page.wait_for_function(DRAWN, polling=100)
    page.wait_for_timeout(500)


def open_page(page, url: str) -> str:
    page.goto(url)
    drawn(page)
    return page.locator('[data-testid="stMain"]').inner_text()


def shot(page, path, height: int = 2600) -> None:
    """The page as a reader scrolls it: Streamlit scrolls inside its own box, so a tall window shows more."""
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": height})
    drawn(page)
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": width, "height": 900})


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


def test_the_public_view_shows_only_the_signed_off_quarter_and_its_commentary(public_app, page, screenshots):
    text = open_page(page, public_app + "/public")
    assert f"published figures up to {RELEASED}" in text
    assert WORDS[("EH01", RELEASED)] in text
    assert WORDS[("EH01", LATEST)].split("\n")[0] not in text and DRAFT not in text
    assert "Written from the figures" in text
    assert "eddie" not in text and "lena" not in text
    assert page.evaluate(BROWSER_CHECK_JS)["javascript_links"] == 0
    assert "Overview" in page.locator('[data-testid="stSidebarNav"]').inner_text()  # the app's own menu
    shot(page, screenshots / "public-view.png")
    for width in (820, 390):
        page.set_viewport_size({"width": width, "height": 900})
        drawn(page)
        assert no_sideways_scroll(page), width
        shot(page, screenshots / f"public-view-{width}.png")


def test_the_partnership_page_shows_narrative_commentary_and_the_sign_off_mark(public_app, page, screenshots):
    address = f"{public_app}/partnership?partnership=early-help&area={COUNTY}&kpi=EH01"
    text = open_page(page, address)
    assert "Not yet signed off" in text
    assert "Written from the figures" in text
    assert WORDS[("EH01", LATEST)].split("\n")[0] in text and "approved by lena" in text
    assert DRAFT not in text
    shot(page, screenshots / "partnership-commentary.png")
    text = open_page(page, address + "&view=paper")
    assert WORDS[("EH03", LATEST)] in text  # paper view: every KPI, each with its commentary
    page.screenshot(path=str(screenshots / "partnership-commentary-paper.png"), full_page=True)
    for width in (820, 390):
        page.set_viewport_size({"width": width, "height": 900})
        open_page(page, address)
        assert no_sideways_scroll(page), width
        shot(page, screenshots / f"partnership-commentary-{width}.png")


def sign_in(page, url: str, name: str) -> None:
    devserver.sign_in(page, url, name, PASSWORD, drawn)


def test_an_editor_sees_the_draft_and_the_form(public_app, page, screenshots):
    sign_in(page, public_app, "eddie")
    devserver.go(page, "Partnerships", drawn)
    page.get_by_label("KPI to show").click()
    page.keyboard.type("EH02")
    page.keyboard.press("Enter")
    drawn(page)
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert DRAFT in text and "Draft waiting for a lead's approval" in text
    assert "at most 1,500 characters" in text
    page.get_by_text("Draft waiting for a lead's approval").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "partnership-commentary-editor.png"))


def test_a_lead_sees_the_drafts_waiting_and_the_sign_off_on_the_commentary_page(public_app, page, screenshots):
    sign_in(page, public_app, "lena")
    devserver.go(page, "Commentary and sign-off", drawn)
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert f"The public view shows figures up to {RELEASED}" in text
    assert DRAFT in text and "Sign off for the public view" in text
    shot(page, screenshots / "commentary-sign-off-lead.png")
    page.set_viewport_size({"width": 390, "height": 900})
    drawn(page)
    assert no_sideways_scroll(page)
