"""The Benchmarking page in headless Chromium at a tablet's and a phone's width: it opens without an
exception, passes axe, scrolls only downwards (no sideways scrolling) and its two charts are drawn."""
from __future__ import annotations

import pytest

from tests.browser.test_browser import full_screenshot, main_text, open_page, serious_axe_problems

pytest.importorskip("axe_playwright_python", reason="the axe-playwright-python package is not installed")
pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [820, 390])
def test_benchmarking_fits_narrow_screens_and_passes_axe(browser, app_url, screenshots, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        open_page(page, f"{app_url}/benchmarking")
        assert page.locator('[data-testid="stException"]').count() == 0, main_text(page)[:2000]
        body = main_text(page)
        assert "148 of 151" in body and "Every published measure" in body
        assert page.locator("figure.cypp-chart, .cypp-chart").count() >= 2
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"the page scrolls sideways by {overflow} px at {width} px"
        problems = serious_axe_problems(page)
        full_screenshot(page, screenshots / f"benchmarking-{width}.png")
        assert not problems, "\n".join(problems)
    finally:
        context.close()


def test_benchmarking_for_another_authoritys_plan(browser, app_url, screenshots):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        open_page(page, f"{app_url}/benchmarking?plan=herefordshire-2019-23")
        body = main_text(page)
        assert "Statistical neighbours of Herefordshire" in body
        assert page.locator('[data-testid="stException"]').count() == 0
        full_screenshot(page, screenshots / "benchmarking-herefordshire.png")
    finally:
        context.close()
