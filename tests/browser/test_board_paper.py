"""Issue 17 in a real browser: nothing is fetched from any host but the app's own; paper view prints like a
board paper (page counts measured with Chromium's print to PDF at A4); an Overview row opens its KPI; the
board's pages at 1400, 820 and 390 px wide have no sideways scrolling. Screenshots of each are left in
artifacts/screenshots/ (board-*.png) for people to look at."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from devserver import DRAWN, navigation_pages

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
pytestmark = pytest.mark.browser

PAGES = navigation_pages()


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function(DRAWN, polling=100)
    page.wait_for_timeout(300)


def pdf_pages(page) -> int:
    page.emulate_media(media="print")
    data = page.pdf(format="A4", print_background=True)
    page.emulate_media(media="screen")
    return len(re.findall(rb"/Type\s*/Page(?!s)", data))


@pytest.mark.parametrize("paper", [False, True], ids=["normal", "paper"])
def test_no_page_asks_any_host_but_the_apps_own(page, app_url, paper):
    own = urlsplit(app_url).netloc
    elsewhere: list[str] = []
    page.on("request", lambda r: urlsplit(r.url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(r.url).netloc != own and elsewhere.append(r.url))
    for path, _title in PAGES:
        open_page(page, f"{app_url}/{path}" + ("?view=paper" if paper else ""))
        page.wait_for_timeout(500)  # late requests (fonts, icons) after the page is drawn
    assert elsewhere == []


def test_a_partnership_of_six_kpis_prints_on_at_most_six_a4_pages_and_the_overview_on_three(page, app_url):
    open_page(page, f"{app_url}/partnership?partnership=early-help&view=paper")
    assert page.locator("h1").first.inner_text() == "Early Help"
    assert len(page.locator("h3").all()) == 6, "six KPIs, each named once as a heading"
    assert pdf_pages(page) <= 6
    open_page(page, f"{app_url}/?view=paper")
    assert pdf_pages(page) <= 3


def test_an_overview_row_opens_that_kpis_detail_in_its_own_partnership(page, app_url):
    open_page(page, f"{app_url}/?area=E07000238")
    page.get_by_role("link", name=re.compile(r"^MH03 ")).click()
    page.wait_for_url(re.compile(r"/partnership\?"))
    page.wait_for_function(DRAWN, polling=100)
    assert page.locator("h1").first.inner_text() == "Emotional Wellbeing and Mental Health"
    assert page.locator("h3").first.inner_text().startswith("MH03 ")
    assert "Wychavon" in page.locator('[data-testid="stMain"]').inner_text()
    assert "partnership=mental-health" in page.url and "kpi=MH03" in page.url


BOARD_VIEWS = [("overview", "/"), ("partnership", "/partnership?partnership=early-help"),
               ("districts", "/districts?kpi=EH03")]


@pytest.mark.parametrize("width", [1400, 820, 390])
@pytest.mark.parametrize("name, address", BOARD_VIEWS, ids=[n for n, _ in BOARD_VIEWS])
def test_the_board_views_fit_the_window_and_are_kept_as_screenshots(browser, app_url, screenshots, name, address,
                                                                     width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    tab = context.new_page()
    tab.set_default_timeout(90_000)
    try:
        for paper in (False, True):
            open_page(tab, app_url + address + (("&" if "?" in address else "?") + "view=paper" if paper else ""))
            sideways = tab.evaluate("""() => [...document.querySelectorAll('[data-testid="stMain"] *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                             && !e.closest('.cypp-table-wrap')).length""")
            if not paper or width >= 820:  # paper view is A4 wide by design
                assert sideways == 0, f"{name} at {width} px has content beyond the window"
            height = tab.evaluate("""() => Math.max(document.documentElement.scrollHeight,
                ...[...document.querySelectorAll('[data-testid="stMain"]')].map(e => e.scrollHeight))""")
            tab.set_viewport_size({"width": width, "height": min(max(height, 900), 16000)})
            tab.wait_for_timeout(400)
            tab.screenshot(path=str(screenshots / f"board-{name}-{'paper' if paper else 'normal'}-{width}.png"),
                           full_page=True)
            tab.set_viewport_size({"width": width, "height": 900})
    finally:
        context.close()
