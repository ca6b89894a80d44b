"""Serve the app with `streamlit run` on a free local port, for the browser tests and the browser
speed benchmark, and list the pages the dashboard's navigation (dashboard.py) offers."""
from __future__ import annotations

import ast
import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from cypp_dash.config import ROOT

START_SECONDS = 90
# A JavaScript function, true once a page is drawn (see drawn.js): the browser tests and the benchmark wait for it.
DRAWN = (Path(__file__).parent / "drawn.js").read_text(encoding="utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def navigation_pages(app: Path = ROOT / "dashboard.py") -> list[tuple[str, str]]:
    """(URL path, title) of every st.Page in dashboard.py, read from its source ("" is the default page)."""
    tree = ast.parse(app.read_text(encoding="utf-8"))
    pages = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page":
            kw = {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
            script = node.args[0].value
            pages.append(("" if kw.get("default") else kw.get("url_path", Path(script).stem),
                          kw.get("title", Path(script).stem)))
    return pages


@contextlib.contextmanager
def serve(script: str | Path, cwd: Path, env: dict, log: Path) -> Iterator[str]:
    """`streamlit run script` on a free port; yields the base URL once it answers, stops it after."""
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer within {START_SECONDS} s:\n"
                                   f"{log.read_text(errors='replace')}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def sign_in(page, url: str, name: str, password: str, drawn, timeout: float = 30_000) -> None:
    """Sign in through the app's own sign-in page (each browser test passes its own wait for a drawn page)
    and wait until the page says so."""
    page.goto(url + "/sign-in")
    drawn(page)
    page.wait_for_timeout(1000)
    drawn(page)
    page.get_by_label("Name").fill(name, timeout=20_000)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_function("() => document.body.innerText.includes('You are signed in as')", polling=100,
                           timeout=timeout)


# True once the click on a menu link has taken effect: the address is the link's page and the page shown is
# no longer the one we left (its title changed, or Streamlit has started running the new page).
_LEFT = """([href, oldTitle]) => {
    if (new URL(href, location.href).pathname !== location.pathname) return false;
    const app = document.querySelector('[data-testid="stApp"]');
    const title = document.querySelector('[data-testid="stMainBlockContainer"] h1');
    return (app && app.getAttribute('data-test-script-state') !== 'notRunning')
        || (title !== null && title.innerText !== oldTitle);
}"""


def go(page, menu_label: str, drawn, timeout: float = 30_000) -> None:
    """Move through the sidebar menu (a reload would start a new, signed-out session): click, wait until the
    new page has taken over from the old one (else a wait for "drawn" can be answered by the page we left),
    then wait for it to be drawn."""
    link = page.locator('[data-testid="stSidebarNav"] a', has=page.get_by_text(menu_label, exact=True)).first
    href = link.get_attribute("href") or "/"
    old = page.locator('[data-testid="stMainBlockContainer"] h1').first
    old_title = old.inner_text() if old.count() else ""
    link.click()
    page.wait_for_function(_LEFT, arg=[href, old_title], polling=50, timeout=timeout)
    drawn(page)
