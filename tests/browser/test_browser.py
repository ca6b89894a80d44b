"""The dashboard in a real browser (headless Chromium driven by Playwright): every page in the
navigation opens, in normal and paper view, without an exception and with what a board member needs;
no serious or critical axe-core accessibility problem; deep links restore their view; a chart
downloads as PNG and SVG, a table as CSV, a partnership as a Word report. A full-page screenshot of
every page is left in artifacts/screenshots/ for people to look at."""
from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from devserver import DRAWN, navigation_pages

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (tests/run.sh does) to run the browser tests",
                allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
pytest.importorskip("axe_playwright_python", reason="the axe-playwright-python package is not installed")

pytestmark = pytest.mark.browser

RAG_WORDS = ("On track", "Some concern", "Off track", "Not rated")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
# Parts of Streamlit's own frame that the app cannot change, left out of the axe check. Each one is named
# in the accessibility statement (pages/accessibility.py). Keep this list short and exact.
AXE_EXCLUDE: list[list[str]] = []
# What each screen must show besides its title (by URL path; "" is the default page).
EXPECTED_TEXT = {
    "": ["Illustrative data", *RAG_WORDS],
    "partnership": ["Illustrative data", "Summary"],
    "districts": ["Illustrative data", "Districts compared"],
    "about-data": ["How RAG is decided"],
    "accessibility": ["Known issues", "How we tested", "Feedback and contact"],
    "benchmarking": ["The plan's measures", "148 of 151", "Statistical neighbours of Worcestershire"],
}


PAGES = navigation_pages()


def wait_until_drawn(page) -> None:
    """Wait until the page is drawn (see DRAWN), then a moment for the last paint."""
    page.wait_for_function(DRAWN, polling=100)
    page.wait_for_timeout(300)


def open_page(page, url: str) -> None:
    page.goto(url)
    wait_until_drawn(page)


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def full_screenshot(page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main area, so the window is made as tall as the content."""
    height = page.evaluate("""() => Math.max(document.documentElement.scrollHeight,
        ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')]
            .map(e => e.scrollHeight))""")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 16000)})
    page.wait_for_timeout(400)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)


def serious_axe_problems(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    context = {"exclude": AXE_EXCLUDE} if AXE_EXCLUDE else None
    results = Axe().run(page, context=context,
                        options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]})
    return [f"{v['id']} ({v['impact']}): {v['help']} at " + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def slug(path: str) -> str:
    return path or "overview"


# --- deep links -----------------------------------------------------------------------------------------

def test_a_deep_link_opened_first_after_a_restart_goes_through_the_app_and_restores_its_view(served_app):
    # Left alone, Streamlit would run pages/partnership.py on its own (without dashboard.py's menu and page
    # settings) for the first visitor after a restart; conftest's first visitor came by this deep link.
    first = served_app["first_visit"]
    assert first["h1"] == "Safeguarding Children"
    assert "Partnerships" in first["menu"] and "Overview" in first["menu"]
    # The old rule's menu would name the files ("dashboard", "about data", "overview").
    assert not {"about data", "overview"} & set(first["menu"].split("\n"))
    assert "Worcester ·" in first["body"]
    assert "partnership=safeguarding" in first["url"] and "area=E07000237" in first["url"]


@pytest.mark.parametrize("address, title, shown", [
    ("/partnership?partnership=safeguarding&area=E07000237", "Safeguarding Children",
     ["Worcester ·", "SG01 Repeat child protection plans within 2 years"]),
    ("/partnership?partnership=send&period=2024/25 Q2", "All Age Disability 0-25 (SEND)", ["figures to 2024/25 Q2"]),
    ("/districts?kpi=MH03", "Districts compared: Worcestershire", ["MH03 Health assessments for children looked after"]),
    ("/?area=E07000238&period=2024/25 Q4", "Worcestershire Children and Young People's Plan 2022-24",
     ["Wychavon · figures to 2024/25 Q4"]),
    ("/partnership?partnership=early-help&as_at=2025-01-01", "Early Help", ["as at 01 January 2025"]),
])
def test_a_deep_link_restores_its_view(page, app_url, address, title, shown):
    open_page(page, app_url + address.replace(" ", "%20"))
    assert page.locator("h1").first.inner_text() == title
    body = main_text(page)
    for text in shown:
        assert text in body
    # The address keeps the view, so it can be copied and shared.
    kept = parse_qs(urlsplit(page.url).query)
    for name, value in parse_qs(urlsplit(address).query).items():
        assert kept.get(name) == value, f"{name} lost from {page.url}"


def test_a_deep_link_connects_at_the_first_try_and_back_returns_to_it_after_the_menu(page, app_url):
    """The page's HTML says where the server is (cypp_dash/serving.py), so Streamlit's front end does not
    first probe /districts/_stcore/health and wait (Streamlit issue #7074); moving on through the menu
    still gives each page its own address, and one press of Back returns to the deep link's view."""
    probes = []
    page.on("request", lambda r: "_stcore/health" in r.url and probes.append(urlsplit(r.url).path))
    open_page(page, f"{app_url}/districts?kpi=MH03")
    assert probes == ["/_stcore/health"]
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="About the data").click()
    page.wait_for_url(re.compile(r"/about-data"))
    wait_until_drawn(page)
    assert page.locator("h1").first.inner_text() == "About the data"
    assert probes == ["/_stcore/health"], "moving through the menu keeps the same connection"
    page.go_back()
    page.wait_for_url(re.compile(r"/districts\?kpi=MH03$"))
    wait_until_drawn(page)
    assert page.locator("h1").first.inner_text() == "Districts compared: Worcestershire"
    assert "MH03" in page.locator("h2").first.inner_text()


def test_the_sidebar_says_what_is_shown_and_its_choices_change_the_view(page, app_url):
    open_page(page, f"{app_url}/partnership?partnership=early-help")
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert re.search(r"Area: Worcestershire\b", sidebar.inner_text())
    sidebar.get_by_role("button", name="Change plan, area or period").click()
    page.get_by_role("combobox", name="Area").click()
    page.get_by_role("option", name="Worcester", exact=True).click()
    page.wait_for_function("() => new URL(location.href).searchParams.get('area') === 'E07000237'")
    wait_until_drawn(page)
    assert "Worcester ·" in main_text(page)
    assert re.search(r"Area: Worcester\b", sidebar.inner_text())
    assert parse_qs(urlsplit(page.url).query)["partnership"] == ["early-help"]


# --- every page, normal and paper view ---------------------------------------------------------------

def test_the_menu_lists_every_page_of_app_py(page, app_url):
    open_page(page, app_url)
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    for _path, title in PAGES:
        assert title in nav


@pytest.mark.parametrize("paper", [False, True], ids=["normal", "paper"])
@pytest.mark.parametrize("path, title", PAGES, ids=[slug(p) for p, _ in PAGES])
def test_every_page_opens_without_an_exception_shows_its_content_and_passes_axe(
        page, app_url, screenshots, path, title, paper):
    open_page(page, f"{app_url}/{path}" + ("?view=paper" if paper else ""))
    assert page.locator('[data-testid="stException"]').count() == 0, main_text(page)[:2000]
    assert page.locator("h1").first.is_visible()
    body = main_text(page)
    for text in EXPECTED_TEXT.get(path, []):
        assert text in body, f"{text!r} missing from the {title} page"
    if not paper and path == "partnership":
        assert page.get_by_role("button", name="Download Word report").is_visible()
    if paper:
        # Streamlit loads the code that draws st.html lazily, so the paper-view style can land a moment
        # after the rest of the page: wait (up to 15 s) for the sidebar to go before checking the rest.
        page.locator('[data-testid="stSidebar"]').wait_for(state="hidden", timeout=15_000)
        page.wait_for_timeout(200)
        assert not page.locator('header[data-testid="stHeader"]').is_visible()
        assert all(not b.is_visible() for b in page.locator(".stDownloadButton").all())
        width = page.locator('[data-testid="stMainBlockContainer"]').bounding_box()["width"]
        assert width <= 800, f"paper view is {width} px wide"
    problems = serious_axe_problems(page)
    full_screenshot(page, screenshots / f"{slug(path)}-{'paper' if paper else 'normal'}.png")
    assert not problems, "\n".join(problems)


# --- downloads ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def early_help(browser, app_url):
    """The Early Help page, opened once for the download tests (a download does not rerun the page)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True, locale="en-GB")
    tab = context.new_page()
    tab.set_default_timeout(90_000)
    open_page(tab, f"{app_url}/partnership?partnership=early-help")
    yield tab
    context.close()


def download(page, button_text: str) -> bytes:
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name=button_text).first.click()
    return Path(info.value.path()).read_bytes()


def test_a_chart_downloads_as_a_png_picture_and_an_svg_with_title_and_source(early_help):
    from PIL import Image

    png = download(early_help, "Chart as PNG")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    picture = Image.open(io.BytesIO(png))
    assert picture.width >= 1200  # drawn at twice screen size
    svg = download(early_help, "Chart as SVG").decode("utf-8")
    assert "<svg" in svg and "EH01" in svg and "Source" in svg and "ILLUSTRATIVE" in svg
    # The download did not rerun the page: nothing is running and no error is shown.
    assert early_help.locator('[data-testid="stStatusWidget"]').count() == 0
    assert early_help.locator('[data-testid="stException"]').count() == 0


def test_a_table_downloads_as_csv_with_the_rag_words(early_help):
    text = download(early_help, "Table as CSV").decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Code,KPI")
    assert "EH01" in text and any(word in text for word in RAG_WORDS)


def test_the_word_report_downloads_with_its_summary_table_and_a_chart_per_kpi(early_help, built_store):
    import docx

    from cypp_dash import status, store
    from cypp_dash.config import load_config

    config = load_config()
    plan = config.plan()
    conn = store.connect(built_store)
    try:
        statuses = status.plan_status(conn, config, plan, plan.area, partnership_id="early-help")
    finally:
        conn.close()
    report = docx.Document(io.BytesIO(download(early_help, "Download Word report")))
    summary = report.tables[0]
    assert [c.text for c in summary.rows[0].cells] == ["KPI", "Baseline", "Latest", "England", "Target", "RAG",
                                                        "Reason"]
    assert len(summary.rows) == 1 + len(statuses)
    # A trend chart per KPI with figures, each with its SPC chart beside it where there are enough figures.
    assert report.element.xml.count('descr="Line chart of') == sum(s.value is not None for s in statuses)
    assert "Early Help: performance report" in report.paragraphs[0].text
